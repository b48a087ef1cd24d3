"""The gallery's rule for claims (tutorials/verdicts.py): mean ± sd over seeds, and a
difference inside the spread is a tie."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `tutorials` imports when this file runs alone, too
    sys.path.insert(0, str(ROOT))

from tutorials.verdicts import count_seeds, seeds_note, show, spread, verdict  # noqa: E402


def test_spread_is_the_mean_and_sample_sd_over_seeds():
    assert spread([1.0, 2.0, 3.0]) == (2.0, 1.0, 3)
    assert spread(0.5) == (0.5, 0.0, 1) and spread([0.5]) == (0.5, 0.0, 1)
    with pytest.raises(ValueError, match="at least one seed"):
        spread([])


def test_a_difference_inside_the_spread_is_a_tie():
    # 0.933 ± 0.001 against 0.929 ± 0.002: intervals apart -> a real difference
    assert verdict([0.932, 0.933, 0.934], [0.927, 0.929, 0.931]) == "holds"
    assert verdict([0.927, 0.929, 0.931], [0.932, 0.933, 0.934]) == "does not hold"
    # overlapping intervals: |0.933 - 0.931| = 0.002 <= 0.001 + 0.002
    assert verdict([0.932, 0.933, 0.934], [0.929, 0.931, 0.933]) == "tie"
    # "lower is better" turns it round; a fixed reference (PCA, a paper) has sd 0
    assert verdict([2.9, 2.95, 3.0], 3.2, better="lower") == "holds"
    assert verdict([2.9, 3.0, 3.1], 3.0, better="lower") == "tie"
    with pytest.raises(ValueError, match="higher"):
        verdict([1.0], [2.0], better="bigger")


def test_one_seed_has_no_spread_and_says_so():
    assert verdict([0.91], [0.90]) == "holds"  # any difference counts...
    assert seeds_note([0.91], 0.90) == " (1 seed: no spread)"  # ...and the note says why
    assert seeds_note([0.91, 0.92], 0.90) == ""  # a plain number is a reference, not a seed
    assert show([0.9331, 0.9329, 0.9330]) == "0.933 ± 0.000" and show(0.5, 2) == "0.50"
    assert count_seeds([1, 2, 3], [4, 5]) == "2–3 seeds" and count_seeds([1]) == "1 seed"
