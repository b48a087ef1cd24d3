"""Mean ± spread over training seeds, and the verdict a comparison earns.

One training run gives one draw of a number: train again from other random weights and it
moves. So each claim of the gallery is measured on several seeds (3 by default) and shown as
``mean ± sd``, sd being the sample standard deviation over the seeds. Two results differ only
when their ± intervals do not overlap:

    tie            |mean_a - mean_b| <= sd_a + sd_b      (the difference is inside the spread)
    holds          otherwise, and a is the better one (higher or lower, as the claim says)
    does not hold  otherwise, and b is the better one

A fixed reference (PCA, which draws no random weights; a number from a paper) has sd 0. With
a single seed there is no spread, and the verdict says so. The lessons print these verdicts
and tutorials/summary.py writes them into tutorials/README.md, from the same functions.
"""

from __future__ import annotations

import statistics

HOLDS, TIE, FAILS = "holds", "tie", "does not hold"


def values_of(x) -> list[float]:
    """A number or a list of per-seed numbers, as a list of floats."""
    if isinstance(x, (int, float)):
        return [float(x)]
    out = [float(v) for v in x]
    if not out:
        raise ValueError("no values: a result needs at least one seed")
    return out


def spread(x) -> tuple[float, float, int]:
    """``(mean, sd, n)`` of a number or per-seed list; sd is 0.0 for a single value."""
    v = values_of(x)
    return statistics.fmean(v), statistics.stdev(v) if len(v) > 1 else 0.0, len(v)


def show(x, digits: int = 3) -> str:
    """``"0.933 ± 0.002"`` for several seeds, ``"0.933"`` for one value."""
    mean, sd, n = spread(x)
    return f"{mean:.{digits}f}" if n == 1 else f"{mean:.{digits}f} ± {sd:.{digits}f}"


def verdict(a, b, better: str = "higher") -> str:
    """Is ``a`` better than ``b``? "holds", "tie" (inside the spread) or "does not hold".

    a, b: numbers or per-seed lists. better: "higher" or "lower" (which way is better).
    """
    if better not in ("higher", "lower"):
        raise ValueError(f'better must be "higher" or "lower", got {better!r}')
    (ma, sa, _), (mb, sb, _) = spread(a), spread(b)
    diff = ma - mb
    if abs(diff) <= sa + sb:
        return TIE
    return HOLDS if (diff > 0) == (better == "higher") else FAILS


def seeds_note(*results) -> str:
    """" (1 seed: no spread)" when a per-seed list holds one value, else "" (a plain number
    is a fixed reference, which has no seeds)."""
    lists = [r for r in results if not isinstance(r, (int, float))]
    return " (1 seed: no spread)" if any(len(r) == 1 for r in lists) else ""


def count_seeds(*results) -> str:
    """"3 seeds" (or "2–3 seeds" when the results differ) for a table cell."""
    ns = sorted({spread(r)[2] for r in results})
    word = "seed" if ns == [1] else "seeds"
    return f"{ns[0]} {word}" if len(ns) == 1 else f"{ns[0]}–{ns[-1]} {word}"
