"""benchmarks/step_breakdown.py: the per-layer timer the README's Performance section quotes."""

import importlib.util
import re
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "step_breakdown.py"


@pytest.fixture
def breakdown():
    spec = importlib.util.spec_from_file_location("step_breakdown", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_layer_is_timed_and_the_parts_add_up_to_the_step(breakdown, capsys):
    assert breakdown.main(["stacked@16", "--backend", "numpy", "--steps", "20",
                           "--warmup", "2"]) == 0
    out = capsys.readouterr().out
    us = {m[1].strip(): float(m[2]) for m in re.finditer(r"^  (.+?)\s+([0-9.]+)$", out, re.M)}
    # stacked: 4 Dense, 3 SELU and a Sigmoid, each forward and backward
    assert len([k for k in us if k.startswith(("F ", "B "))]) == 16
    parts = ("zero_grad", "forward", "loss", "backward", "guard+optimizer")
    assert all(us[p] > 0 for p in parts)
    # printed to 0.1 us: six roundings (five parts and the whole) of up to 0.05 each
    assert sum(us[p] for p in parts) == pytest.approx(us["whole step"], abs=0.35)
    # the layers' own time is inside the forward and backward parts
    assert sum(v for k, v in us.items() if k.startswith("F ")) <= us["forward"]
    assert re.search(r"samples/s: [0-9,]+$", out, re.M)
