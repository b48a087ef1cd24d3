"""Conv and pooling geometry: window sizes, SAME/VALID pads, transposed-conv sizes.

Pure shape arithmetic on Python ints, shared by the layers (``layers/conv.py``,
``layers/pooling.py``) and every kernel module, so that each size is computed by one function.

Notation (used by every conv and pooling docstring in this package)::

    N          batch size
    C, OC      input and output channels
    H, W       input height and width
    KH, KW     kernel (or pooling window PH, PW) height and width
    SH, SW     strides
    pt, pb     zero rows added at the top and bottom      pads = (pt, pb, pl, pr)
    pl, pr     zero columns added at the left and right
    OH, OW     output height and width

Sizes, along one axis (the same rule for W with KW, SW, pl, pr)::

    any pads:   OH = (H + pt + pb - KH) // SH + 1                    output_size
    "valid":    pt = pb = 0, so OH = (H - KH) // SH + 1  (a remainder row is dropped)
    "same":     OH = ceil(H / SH); the total pad (OH-1)*SH + KH - H is split with the odd
                row at the bottom (TensorFlow's rule)                 same_pads
    transposed: the inverse map, OH_t = H_t*SH + max(KH - SH, 0) ("valid") or H_t*SH
                ("same"), with Keras' output_padding rule             transpose_geometry
"""

from __future__ import annotations

import numpy as np


def output_size(size: int, k: int, s: int, pad_before: int, pad_after: int) -> int:
    """Number of window positions along one axis: ``(size + pads - k) // s + 1``."""
    out = (size + pad_before + pad_after - k) // s + 1
    if out < 1:
        raise ValueError(
            f"window of size {k} (padding {pad_before}+{pad_after}) does not fit in an input of "
            f"size {size}"
        )
    return out


def output_hw(x_shape, kernel, stride, pads) -> tuple[int, int]:
    """``(OH, OW)`` for an input of shape ``(N, C, H, W)``."""
    _, _, h, w = x_shape
    (kh, kw), (sh, sw), (pt, pb, pl, pr) = kernel, stride, pads
    return output_size(h, kh, sh, pt, pb), output_size(w, kw, sw, pl, pr)


def pair(value, name: str = "value") -> tuple[int, int]:
    """``3 -> (3, 3)``; ``(3, 1) -> (3, 1)``; both entries must be positive."""
    if isinstance(value, (int, np.integer)):
        value = (value, value)
    try:
        a, b = (int(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}") from None
    if a < 1 or b < 1:
        raise ValueError(f"{name} must be positive, got {value!r}")
    return a, b


def pair_or_zero(value) -> tuple[int, int]:
    """Like :func:`pair` but allows zeros (for ``output_padding``)."""
    if isinstance(value, (int, np.integer)):
        value = (value, value)
    a, b = (int(v) for v in value)
    if a < 0 or b < 0:
        raise ValueError(f"output_padding must be non-negative, got {value!r}")
    return a, b


def same_pads(size: int, k: int, s: int) -> tuple[int, int]:
    """Keras/TF "same" padding along one axis: the output has ``ceil(size / s)`` positions.

    The total padding is split with the odd one at the END (bottom/right), which is what
    TensorFlow does -- and what matters for even kernels or strides, where it cannot be split
    evenly.
    """
    out = -(-size // s)
    total = max((out - 1) * s + k - size, 0)
    return total // 2, total - total // 2


def resolve_pads(padding, hw, kernel, stride) -> tuple[int, int, int, int]:
    """``(pt, pb, pl, pr)`` from "same", "valid", an int, a pair or an explicit 4-tuple."""
    (h, w), (kh, kw), (sh, sw) = hw, kernel, stride
    if isinstance(padding, str):
        mode = padding.lower()
        if mode == "valid":
            return 0, 0, 0, 0
        if mode == "same":
            return (*same_pads(h, kh, sh), *same_pads(w, kw, sw))
        raise ValueError(f"padding must be 'same', 'valid' or ints, got {padding!r}")
    if isinstance(padding, (int, np.integer)):
        pads = (padding,) * 4
    elif len(padding) == 2:
        pads = (padding[0], padding[0], padding[1], padding[1])
    elif len(padding) == 4:
        pads = tuple(padding)
    else:
        raise ValueError(f"padding must be 'same', 'valid', an int, 2 or 4 ints; got {padding!r}")
    pads = tuple(int(p) for p in pads)
    if min(pads) < 0:
        raise ValueError(f"padding must be non-negative, got {padding!r}")
    return pads


def check_padding(padding, allowed_ints: bool = True):
    """Validate a layer's ``padding`` argument at construction; returns it (strings lowered)."""
    if isinstance(padding, str) and padding.lower() not in ("same", "valid"):
        raise ValueError(f"padding must be 'same' or 'valid', got {padding!r}")
    if not isinstance(padding, str) and not allowed_ints:
        raise ValueError(f"padding must be 'same' or 'valid', got {padding!r}")
    if not isinstance(padding, str):
        resolve_pads(padding, (1, 1), (1, 1), (1, 1))  # validates the ints now, not at forward
    if isinstance(padding, str):
        return padding.lower()
    # ints as a tuple, so that a list read back from a model file's JSON is the same padding
    return int(padding) if isinstance(padding, (int, np.integer)) else tuple(map(int, padding))


def transpose_geometry(size: int, k: int, s: int, padding: str, output_padding=None):
    """Output length and ``(pad_before, pad_after)`` of a transposed convolution along one axis.

    The length follows Keras' ``deconv_output_length``::

        output_padding None, "valid":  size*s + max(k - s, 0)   (= (size-1)*s + k when k >= s)
        output_padding None, "same":   size*s
        output_padding p:              (size-1)*s + k - 2*pad + p,  pad = k//2 ("same") or 0

    The pads are those of the forward convolution that maps the output length back to ``size``
    (TensorFlow's rule), so the transposed layer is exactly that convolution's adjoint.
    """
    if output_padding is None:
        out = size * s + max(k - s, 0) if padding == "valid" else size * s
    else:
        pad = k // 2 if padding == "same" else 0
        out = (size - 1) * s + k - 2 * pad + int(output_padding)
    before, after = same_pads(out, k, s) if padding == "same" else (0, 0)
    if out < 1 or (out + before + after - k) // s + 1 != size:
        raise ValueError(
            f"Conv2DTranspose: kernel {k}, stride {s}, padding {padding!r}, output_padding "
            f"{output_padding!r} gives output length {out}, which a convolution does not map "
            f"back to the input length {size} (Keras requires output_padding < stride)"
        )
    return out, (before, after)
