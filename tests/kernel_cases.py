"""Geometries shared by the kernel tests (test_kernels.py) and the GPU kernel tests (test_gpu.py).

Plain data, no test dependencies beyond NumPy, so that test_gpu.py can import it on a bare GPU
machine (no hypothesis there).
"""

# (x_shape, kernel, stride, pads): odd/even sizes, non-square kernels, strides 1-3, uneven pads
CASES = [
    ((2, 3, 5, 5), (3, 3), (1, 1), (1, 1, 1, 1)),
    ((1, 2, 6, 7), (2, 3), (2, 1), (0, 1, 1, 1)),
    ((3, 1, 4, 4), (2, 2), (2, 2), (0, 0, 0, 0)),
    ((2, 2, 7, 5), (3, 1), (2, 3), (2, 0, 0, 2)),
    ((1, 1, 1, 1), (1, 1), (1, 1), (0, 0, 0, 0)),
    ((2, 2, 5, 6), (5, 6), (1, 1), (0, 0, 0, 0)),
]
