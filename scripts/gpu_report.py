"""The verdicts of ``scripts/gpu_check.sh``, read from its work folder.

    python3 scripts/gpu_report.py WORK [--rehearsal]

Reads what the steps left in WORK -- ``warmup.json`` (``scripts/gpu_warmup.py``),
``test_gpu.xml`` (pytest's junit report) and ``bench/merged.json``
(``benchmarks/cpu_vs_gpu.py --merge``) -- prints a short summary of each, and writes the
issue's bar in one line to ``WORK/bar.txt``:

    conv at batch 1024 trains at least 20x faster per sample on CuPy than on Numba pinned to
    2 CPU cores; its ratio to PyTorch CUDA on the same model is reported (goal: >= 0.5x).

Exit status: 0 bar met, 3 not met, 4 not measured (a number is missing), 5 not judged (a
rehearsal on ``scripts/fake_cupy``, whose "cupy" numbers are NumPy's).
"""

from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

BAR_MODEL, BAR_BATCH, BAR_RATIO, TORCH_GOAL = "conv", 1024, 20.0, 0.5
GPU, CPU2 = "cupy", "numba@2cores"
TORCH = ("torch-cuda", "torch-native-cuda")  # the translated and the idiomatic PyTorch model


def bar(merged: dict, rehearsal: bool) -> tuple[int, str]:
    """``(exit status, one line)`` for the bar, from a merged benchmark JSON."""
    rate = {(r["model"], r["batch"], r["backend"]): r["samples_per_s"]
            for r in merged["results"] if r["kind"] == "train"}
    gpu, cpu = (rate.get((BAR_MODEL, BAR_BATCH, b)) for b in (GPU, CPU2))
    torch_rates = {b: rate[(BAR_MODEL, BAR_BATCH, b)] for b in TORCH
                   if (BAR_MODEL, BAR_BATCH, b) in rate}
    torch_name = max(torch_rates, key=torch_rates.get) if torch_rates else None
    where = f"{BAR_MODEL} @ batch {BAR_BATCH}"
    if rehearsal:
        return 5, (f"BAR {where}: NOT JUDGED (rehearsal on fake_cupy: its 'cupy' numbers are "
                   "NumPy's)")
    if not (gpu and cpu):
        missing = [b for b, v in ((GPU, gpu), (CPU2, cpu)) if not v]
        return 4, f"BAR {where}: NOT MEASURED (missing: {', '.join(missing)})"
    ratio = gpu / cpu
    line = (f"BAR {where}: cupy {gpu:,.0f}/s vs numba on 2 cores {cpu:,.0f}/s = {ratio:.1f}x "
            f"-> {'MET' if ratio >= BAR_RATIO else 'NOT MET'} (bar: >= {BAR_RATIO:.0f}x)")
    if torch_name:
        torch = torch_rates[torch_name]
        vs = gpu / torch
        line += (f"; vs {torch_name} (the faster PyTorch) {torch:,.0f}/s = {vs:.2f}x "
                 f"({'meets' if vs >= TORCH_GOAL else 'below'} the {TORCH_GOAL}x goal)")
    else:
        line += "; torch-cuda: not measured"
    return (0 if ratio >= BAR_RATIO else 3), line


def junit_counts(path: Path) -> str:
    """``"99 tests: 97 passed, 1 failed, 0 errors, 1 skipped"`` from a junit XML file."""
    root = ET.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    n = {k: sum(int(s.get(k, 0)) for s in suites) for k in ("tests", "failures", "errors",
                                                             "skipped")}
    passed = n["tests"] - n["failures"] - n["errors"] - n["skipped"]
    return (f"{n['tests']} tests: {passed} passed, {n['failures']} failed, {n['errors']} errors, "
            f"{n['skipped']} skipped")


def warmup_summary(data: dict) -> list[str]:
    rows = data.get("models", [])
    bad = [r for r in rows if not r.get("ok")]
    out = [f"warm-up: {len(rows) - len(bad)}/{len(rows)} model/dtype pairs trained a step on "
           f"the GPU with a finite loss and reconstructions matching the CPU"
           f" (numba compile {data.get('numba_compile_s')} s, cupy kernels "
           f"{data.get('cupy_kernels_compile_s')} s, total {data.get('seconds')} s)"]
    if data.get("error"):
        out.append(f"  warm-up error: {data['error']}")
    for r in bad:
        why = r.get("error") or ", ".join(
            f"{k}={r.get(k)}" for k in ("recon_rel_diff", "train_loss", "params_on_gpu"))
        out.append(f"  FAILED {r['model']}/{r['dtype']}: {why}")
    return out


def main(argv=None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    rehearsal = "--rehearsal" in args  # gpu_check.sh saw fake_cupy
    work = Path(next(a for a in args if a != "--rehearsal"))
    warm = work / "warmup.json"
    if warm.exists():
        data = json.loads(warm.read_text())
        rehearsal = rehearsal or data.get("rehearsal", False)
        print("\n".join(warmup_summary(data)))
    else:
        print("warm-up: no warmup.json")
    xml = work / "test_gpu.xml"
    try:
        print(f"GPU tests: {junit_counts(xml)}")
    except (OSError, ET.ParseError) as exc:
        print(f"GPU tests: no junit report ({type(exc).__name__}: {exc})")
    merged_path = work / "bench" / "merged.json"
    if merged_path.exists():
        merged = json.loads(merged_path.read_text())
        for env in merged["environment"]:
            for r in env.get("skipped_runs", []):
                kind = "FAILED" if r.get("failure") else "skipped"
                print(f"bench {kind}: {r['backend']} on {r['model']}@{r['batch']}: {r['reason']}")
        status, line = bar(merged, rehearsal)
    else:
        status, line = 4, "BAR: NOT MEASURED (no merged benchmark results)"
    print(line)
    (work / "bar.txt").write_text(line + "\n")
    return status


if __name__ == "__main__":
    sys.exit(main())
