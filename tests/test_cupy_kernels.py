"""scratch_ae/kernels/cupy_kernels.py: the CUDA kernels' source, checked without a GPU (fake_cupy
lets the module import). They are run only on a GPU: tests/test_fast_paths.py and
tests/test_gpu.py, skipped (unverified) here."""

import re


def test_cuda_bodies_have_no_local_named_n(fake_cupy):
    """The CuPy kernels' CUDA code never declares or uses a name ``n``.

    CuPy wraps each elementwise body in code of its own, and has documented ``n`` as one of its
    names (the element count), so a local ``n`` could clash with it in some CuPy version. The
    image index is ``img``. Read from the module's own strings.
    """
    from scratch_ae.kernels import cupy_kernels  # noqa: PLC0415

    specs = [v for k, v in vars(cupy_kernels).items() if k.isupper() and isinstance(v, tuple)
             and len(v) == 3 and all(isinstance(s, str) for s in v)]
    assert len(specs) == 4, "expected the four kernels: im2col, col2im, maxpool fwd/bwd"
    for in_params, out_params, body in specs:
        code = re.sub(r"//[^\n]*", "", body)  # comments may say what they like
        params = re.findall(r"(\w+)\s*(?:,|$)", f"{in_params}, {out_params}")
        assert "n" not in params, f"a kernel parameter is called n: {in_params}"
        assert not re.search(r"\bn\b", code), f"a CUDA body uses the name n:\n{body}"


def test_the_four_kernels_are_registered_for_both_float_types(fake_cupy):
    from scratch_ae.kernels import cupy_kernels  # noqa: PLC0415

    assert set(cupy_kernels.FAST) == {(op, dt) for op in ("im2col", "col2im", "maxpool_forward",
                                                          "maxpool_backward") for dt in "fd"}
