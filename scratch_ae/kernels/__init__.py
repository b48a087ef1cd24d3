"""Fast paths: faster versions of named pieces of the layers' code, one backend each.

The layers hold the reference code, and the numpy backend runs it and nothing else. Where a
backend can compute a piece of it faster, a module here defines a function with the arguments
of that piece and registers it in its ``FAST`` table under the piece's name and a dtype::

    FAST = {("selu", "f"): selu_forward, ("selu", "d"): selu_forward, ...}

A layer asks ``backend.fast("selu", x)`` and runs what it gets, or its own code when it gets
None. tests/test_fast_paths.py proves every registered function equal to the code it replaces.

* :mod:`.numba_conv` -- im2col, col2im, max pooling, and conv layers run in pieces on all cores;
* :mod:`.numba_elementwise` -- one-pass activations, the BCE loss and gradient, optimizer steps;
* :mod:`.numba_math32` -- the float32 exp and log those loops inline;
* :mod:`.cupy_kernels` -- CUDA kernels for im2col, col2im and max pooling.

Layers never import these modules; :mod:`scratch_ae.backend` loads them on first use.
"""
