"""Backend-specific loops, and nothing else.

Every kernel module exposes the same functions with the same signatures:

* ``im2col(x, kernel, stride, pads) -> col``                        col: (C*KH*KW, N*OH*OW)
* ``col2im(col, x_shape, kernel, stride, pads) -> x``               the adjoint of im2col
* ``maxpool_forward(x, pool, stride, pads) -> (y, argmax)``
* ``maxpool_backward(dy, argmax, x_shape, pool, stride, pads) -> dx``
* ``conv_chunk(n)`` and ``map_pieces(fn, *pieces)``: how many images a conv layer sends
  through im2col at once, and how it runs ``fn`` on each piece (in order; side by side on
  Numba's threads)
* the layouts around a conv layer's GEMM: ``channel_major``, ``channels_first``,
  ``channel_sums``, ``conv_output``, ``conv_grad_output``
* elementwise passes: ``selu_forward``, ``sigmoid_forward``, ``sigmoid_backward``,
  ``bce_forward``, the optimizer updates ``sgd_update`` and ``rmsprop_update``, and ``total``
  (the numerical guard's sum of the gradients)

``kernel``/``pool`` and ``stride`` are ``(height, width)`` pairs; ``pads`` is
``(top, bottom, left, right)``. Layers never import a kernel module directly: they ask
``scratch_ae.backend.kernels(xp)``, which picks :mod:`.numpy_kernels` (the readable reference),
:mod:`.numba_kernels` or :mod:`.cupy_kernels`.
"""
