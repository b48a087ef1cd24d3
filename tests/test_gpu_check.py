"""The GPU check's contract, pinned on the CPU (a GPU session is short: it must not find bugs).

``scripts/gpu_check.sh`` runs on a lent GPU machine for a few minutes; everything it needs
must work the first time. What can be checked without a GPU is checked here, cheaply:

* the script parses (``bash -n``), runs the required steps before the optional ones, and
  copies at most 5 loose files next to its tgz (the machine returns 8 files);
* ``benchmarks/cpu_vs_gpu.py`` records a PyTorch contender that fails (a translation whose
  outputs differ from ours, an error while timing) as skipped with its reason, and keeps the
  other contenders' numbers; a failing scratch_ae backend makes its exit status 1;
* ``scripts/gpu_warmup.py`` passes on fake_cupy and fails when a GPU kernel is wrong;
* ``scripts/gpu_report.py`` judges the bar right (met, not met, missing, rehearsal).

The whole script is rehearsed on fake_cupy by hand (docs/GPU.md), not here: it takes minutes.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "gpu_check.sh"


def _load(relpath: str, name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / relpath)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling look modules up by name
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def bench(monkeypatch):
    module = _load("benchmarks/cpu_vs_gpu.py", "cpu_vs_gpu_under_test")
    yield module
    sys.modules.pop("cpu_vs_gpu_under_test", None)


# --------------------------------------------------------------------------------------------
# the shell script


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_script_parses():
    subprocess.run(["bash", "-n", str(SCRIPT)], check=True)


def test_script_runs_required_steps_before_optional_ones():
    text = SCRIPT.read_text()
    steps = re.findall(r"^\s*step (\w+) (\d+) (\d+) ", text, flags=re.MULTILINE)
    names = [s[0] for s in steps]
    assert names[:7] == ["versions", "warmup", "test_gpu", "bench_gpu", "bench_numba_2cores",
                         "bench_zoo_gpu", "bench_cpu"], names
    # The 2-core baseline of the bar comes before everything optional...
    optional_from = text.index("OPTIONAL=1")
    assert text.index("step bench_numba_2cores") < optional_from < text.index("step bench_cpu")
    assert optional_from < text.index("step bench_zoo_gpu")
    # ...and the caps of the required steps fit in the deadline with the merge and report.
    caps = dict((n, int(c)) for n, c, _ in steps)
    deadline = int(re.search(r"DEADLINE_S:-\$\(\((\d+) \* SCALE\)\)", text).group(1))
    assert deadline + 20 + 10 + 20 + 10 < 8 * 60  # merge (+ SIGINT grace), report, packing
    # A required step may not eat the time reserved for the required steps after it.
    reserve = {n: int(r) for n, _, r in steps}
    required = ["warmup", "test_gpu", "bench_gpu", "bench_numba_2cores"]
    for i, name in enumerate(required[:-1]):
        later_floor = sum(min(caps[m], 40) for m in required[i + 1:])
        assert reserve[name] >= later_floor, (name, reserve[name], later_floor)


def test_script_defaults_and_outputs():
    text = SCRIPT.read_text()
    assert 'PY=${PYTHON:-python3}' in text
    assert 'export PYTHONPATH="$ROOT' in text  # the repository in place, no install
    loose = re.search(r"^LOOSE=\((.*)\)$", text, flags=re.MULTILINE).group(1).split()
    assert len(loose) <= 5  # plus gpu_check.tgz: 6 of the 8 files the machine returns
    assert "gpu_check.tgz" in text
    assert "NOT GPU evidence" in text  # a rehearsal says so in its last line


# --------------------------------------------------------------------------------------------
# benchmarks/cpu_vs_gpu.py: a failing contender is skipped with its reason


def _bench_args(tmp_path, *backends):
    return ["--models", "stacked", "--batches", "8", "--backends", *backends, "--repeats", "1",
            "--warmup", "1", "--min-time", "0.001", "--layer-models", "stacked",
            "--out", str(tmp_path)]


def _only(bench, monkeypatch, **usable):
    """Pretend exactly these backends are usable (torch too, even where it is not installed:
    the stand-ins below replace it; the environment report leaves it out)."""
    table = {b: "not in this test" for b in bench.ALL_BACKENDS}
    table.update(usable)
    monkeypatch.setattr(bench, "usable_backends", lambda: table)
    real = bench.environment
    monkeypatch.setattr(bench, "environment",
                        lambda backends: real([b for b in backends if not b.startswith("torch")]))


def test_a_torch_mismatch_is_skipped_and_the_other_numbers_are_kept(bench, monkeypatch,
                                                                     tmp_path):
    class Mismatch:  # what TorchRun raises when torch's outputs differ from ours
        def __init__(self, recipe, *args, **kwargs):
            raise AssertionError(f"the torch translation of {recipe.name} differs from "
                                 "scratch_ae by 3.10e-02")

    monkeypatch.setattr(bench, "TorchRun", Mismatch)
    _only(bench, monkeypatch, numpy=None, torch=None)
    assert bench.main(_bench_args(tmp_path, "numpy", "torch")) == 0

    data = json.loads((tmp_path / "results.json").read_text())
    train = [r for r in data["results"] if r["kind"] == "train"]
    assert [r["backend"] for r in train] == ["numpy"] and train[0]["samples_per_s"] > 0
    assert any(r["kind"] == "layer" for r in data["results"])
    [skip] = data["environment"]["skipped_runs"]
    assert skip["backend"] == "torch" and not skip["failure"]
    assert "differs from scratch_ae by 3.10e-02" in skip["reason"]


def test_an_error_while_timing_drops_only_that_contender(bench, monkeypatch, tmp_path):
    class CudaError:
        max_diff = None

        def __init__(self, *args, **kwargs):
            pass

        def train_step(self):
            raise RuntimeError("CUDA error: an illegal memory access was encountered")

    monkeypatch.setattr(bench, "TorchRun", CudaError)
    _only(bench, monkeypatch, numpy=None, torch=None)
    assert bench.main(_bench_args(tmp_path, "numpy", "torch")) == 0
    data = json.loads((tmp_path / "results.json").read_text())
    assert {r["backend"] for r in data["results"]} == {"numpy"}
    [skip] = data["environment"]["skipped_runs"]
    assert skip["reason"].startswith("training step: RuntimeError: CUDA error")
    assert "skipped: torch on stacked@8" in (tmp_path / "results.md").read_text()


def test_a_failing_scratch_ae_backend_fails_the_run_but_keeps_the_others(bench, monkeypatch,
                                                                        tmp_path):
    real = bench.ScratchRun

    def broken(recipe, base, name, batch):
        if name == "numba":
            raise ValueError("planted")
        return real(recipe, base, name, batch)

    monkeypatch.setattr(bench, "ScratchRun", broken)
    _only(bench, monkeypatch, numpy=None, numba=None)
    assert bench.main(_bench_args(tmp_path, "numpy", "numba")) == 1
    data = json.loads((tmp_path / "results.json").read_text())
    assert {r["backend"] for r in data["results"]} == {"numpy"}
    assert data["environment"]["skipped_runs"][0]["failure"] is True


def test_a_run_that_measured_nothing_fails(bench, monkeypatch, tmp_path):
    """The bar's 2-core baseline asks for numba alone: without numba it must not pass."""
    _only(bench, monkeypatch, numpy=None, numba="Numba cannot be imported")
    assert bench.main(_bench_args(tmp_path, "numba")) == 1
    data = json.loads((tmp_path / "results.json").read_text())
    assert data["results"] == []
    assert data["environment"]["skipped_backends"] == {"numba": "Numba cannot be imported"}


def test_the_real_torch_check_catches_a_wrong_translation(bench, monkeypatch):
    pytest.importorskip("torch")
    from scratch_ae import backend  # noqa: PLC0415
    from scratch_ae.models import zoo  # noqa: PLC0415

    recipe = zoo.get_recipe("stacked")
    backend.seed(0)
    base = recipe.build()
    run = bench.TorchRun(recipe, base, "cpu", 4)  # the honest translation passes
    assert run.max_diff is not None and run.max_diff < 1e-4

    real = bench.torch_modules

    def off_by_a_bit(model, x, idiomatic=False):
        mods, shapes = real(model, x, idiomatic)
        mods[0].bias.data += 0.1  # the first Linear: its outputs now differ from ours
        return mods, shapes

    monkeypatch.setattr(bench, "torch_modules", off_by_a_bit)
    with pytest.raises(AssertionError, match="differs from scratch_ae"):
        bench.TorchRun(recipe, base, "cpu", 4)


@pytest.mark.parametrize("name", ["conv", "conv_wide"])
def test_the_idiomatic_torch_model_computes_our_layers_in_its_padding_convention(bench, name,
                                                                                 monkeypatch):
    """torch-native writes the conv model as a PyTorch user does (padding=1, output_padding=1
    in ConvTranspose2d, nn.MaxPool2d): checked against our layers run in that convention,
    and a transposed convolution cropped TensorFlow's way instead is caught."""
    torch = pytest.importorskip("torch")
    from scratch_ae import backend  # noqa: PLC0415
    from scratch_ae.models import zoo  # noqa: PLC0415

    recipe = zoo.get_recipe(name)
    backend.seed(0)
    base = recipe.build()
    run = bench.TorchRun(recipe, base, "cpu", 4, idiomatic=True)
    assert run.max_diff is not None and run.max_diff < 1e-4
    kinds = [type(m).__name__ for m in run.mods]
    assert "Crop" not in kinds and "MaxPool2d" in kinds and "Sequential" not in kinds
    tconvs = [m for m in run.mods if isinstance(m, torch.nn.ConvTranspose2d)]
    assert [(m.padding, m.output_padding) for m in tconvs] == [
        ((0, 0), (0, 0)), ((1, 1), (1, 1)), ((1, 1), (1, 1))]
    monkeypatch.setattr(bench, "native_padding", lambda leaf, hw: ((0, 0), (0, 0)))
    with pytest.raises((AssertionError, RuntimeError, ValueError)):
        bench.TorchRun(recipe, base, "cpu", 4, idiomatic=True)


# --------------------------------------------------------------------------------------------
# scripts/gpu_warmup.py on fake_cupy


def test_warmup_passes_on_fake_cupy(fake_cupy, tmp_path):
    warmup = _load("scripts/gpu_warmup.py", "gpu_warmup_under_test")
    out = tmp_path / "warmup.json"
    assert warmup.main([str(out), "--models", "stacked", "vae"]) == 0
    data = json.loads(out.read_text())
    assert data["ok"] and data["rehearsal"]
    assert [(r["model"], r["dtype"]) for r in data["models"]] == [
        ("stacked", "float32"), ("stacked", "float64"), ("vae", "float32"), ("vae", "float64")]
    assert all(r["finite"] and r["params_on_gpu"] for r in data["models"])


def test_warmup_fails_when_a_gpu_kernel_is_wrong(fake_cupy, monkeypatch, tmp_path):
    warmup = _load("scripts/gpu_warmup.py", "gpu_warmup_under_test")
    from scratch_ae import backend  # noqa: PLC0415

    table = backend._FAST.get("cupy") or backend._load_fast("cupy")  # the fake's, for this test
    for dtype in "fd":
        real = table[("im2col", dtype)]
        monkeypatch.setitem(table, ("im2col", dtype), lambda *a, real=real: real(*a) * 1.001)
    out = tmp_path / "warmup.json"
    assert warmup.main([str(out), "--models", "conv"]) == 1
    data = json.loads(out.read_text())
    assert not data["ok"]
    assert all(not r["recon_ok"] and r["finite"] for r in data["models"])


# --------------------------------------------------------------------------------------------
# scripts/gpu_report.py: the bar


def _merged(**rates):
    return {"results": [{"kind": "train", "model": "conv", "batch": 1024, "backend": b,
                         "samples_per_s": v} for b, v in rates.items()]}


@pytest.mark.parametrize(("rates", "status", "words"), [
    ({"cupy": 50_000, "numba@2cores": 2_000, "torch-cuda": 80_000}, 0, ["25.0x", "MET", "0.62x",
                                                                        "meets"]),
    ({"cupy": 30_000, "numba@2cores": 2_000, "torch-cuda": 90_000}, 3, ["15.0x", "NOT MET",
                                                                        "below"]),
    ({"cupy": 50_000, "numba@2cores": 2_000}, 0, ["torch-cuda: not measured"]),
    ({"numba@2cores": 2_000, "torch-cuda": 80_000}, 4, ["NOT MEASURED", "missing: cupy"]),
    ({"cupy": 50_000, "numba@2cores": 2_000, "torch-cuda": 80_000, "torch-native-cuda": 125_000},
     0, ["vs torch-native-cuda (the faster PyTorch) 125,000/s = 0.40x", "below"]),
])
def test_the_bar(rates, status, words):
    report = _load("scripts/gpu_report.py", "gpu_report_under_test")
    got, line = report.bar(_merged(**rates), rehearsal=False)
    assert got == status, line
    for w in words:
        assert w in line, line


def test_a_rehearsal_never_judges_the_bar(tmp_path):
    report = _load("scripts/gpu_report.py", "gpu_report_under_test")
    rates = {"cupy": 1e9, "numba@2cores": 1.0}
    assert report.bar(_merged(**rates), rehearsal=True)[0] == 5
    (tmp_path / "bench").mkdir()
    (tmp_path / "bench" / "merged.json").write_text(json.dumps(
        {"environment": [{}], **_merged(**rates)}))
    (tmp_path / "warmup.json").write_text(json.dumps({"rehearsal": True, "models": []}))
    assert report.main([str(tmp_path)]) == 5
    assert "NOT JUDGED" in (tmp_path / "bar.txt").read_text()
