"""Does ``scratch-ae train`` pick good threads by itself, on a quiet machine and with a core busy?

    python benchmarks/busy_core.py                        # conv on the offline sample, 3 rounds
    python benchmarks/busy_core.py --model conv --dataset mnist --epochs 1 --busy-core 1

Runs ``scratch-ae train MODEL`` in fresh processes, taking turns (A B C, C B A, ...): with no
thread settings (the library's policy), with every pool at 1 thread, with BLAS at all cores and
with the Numba side at all cores (the hand-set alternatives), and reports the median of the
"trained in X s" times. With ``--busy-core K`` a busy loop (``while 1: pass``, at normal
priority) runs pinned to core K for the whole measurement -- "another process keeps one core
busy". The 1-minute load average is printed with the results: the machine may have been busy
with other work too.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
THREAD_VARS = ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS", "NUMBA_NUM_THREADS")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default="conv")
    p.add_argument("--backend", default=None, help="default: the library's default")
    p.add_argument("--dataset", default="sample")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--busy-core", type=int, default=None, help="pin a busy loop to this core")
    args = p.parse_args(argv)
    cores = len(os.sched_getaffinity(0))
    settings = {
        "auto (no settings)": {},
        "1 thread": {"OMP_NUM_THREADS": "1"},
        f"BLAS {cores}, Numba 1": {"OPENBLAS_NUM_THREADS": str(cores), "NUMBA_NUM_THREADS": "1"},
        f"BLAS 1, Numba {cores}": {"OPENBLAS_NUM_THREADS": "1", "NUMBA_NUM_THREADS": str(cores)},
    }
    base = {k: v for k, v in os.environ.items() if k not in THREAD_VARS}
    base["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), base.get("PYTHONPATH")]))
    cmd = [sys.executable, "-m", "scratch_ae.cli", "train", args.model, "--epochs",
           str(args.epochs), "--dataset", args.dataset, "--no-plots", "--quiet"]
    if args.backend:
        cmd += ["--backend", args.backend]
    busy = None
    if args.busy_core is not None:
        busy = subprocess.Popen(["taskset", "-c", str(args.busy_core), sys.executable, "-c",
                                 "while 1: pass"])
        time.sleep(0.5)
    times = {name: [] for name in settings}
    chosen = []  # the threads each auto run ended on
    loads = [os.getloadavg()[0]]
    try:
        with tempfile.TemporaryDirectory() as out:
            for r in range(args.rounds):
                order = list(settings) if r % 2 == 0 else list(settings)[::-1]
                for name in order:
                    res = subprocess.run(cmd + ["--out", out], check=False,
                                         env={**base, **settings[name]},
                                         capture_output=True, text=True, cwd=ROOT)
                    m = re.search(r"trained in ([0-9.]+) s", res.stdout)
                    if res.returncode or not m:
                        print(res.stdout[-2000:], res.stderr[-2000:], file=sys.stderr)
                        return 1
                    times[name].append(float(m.group(1)))
                    if name == "auto (no settings)":  # what the policy and its trial chose
                        chosen.extend(re.findall(r"^threads: (.*)$", res.stdout, re.M))
                loads.append(os.getloadavg()[0])
    finally:
        if busy is not None:
            busy.kill()
            busy.wait()
    print(f"scratch-ae train {args.model} --epochs {args.epochs} --dataset {args.dataset}"
          f"{' --backend ' + args.backend if args.backend else ''}; {cores} usable cores; "
          f"busy loop on core {args.busy_core}; load average (1 min) during the run: "
          f"{min(loads):.2f}-{max(loads):.2f}")
    best_hand = min(statistics.median(v) for k, v in times.items() if k != "auto (no settings)")
    for name, v in times.items():
        med = statistics.median(v)
        print(f"  {name:<22} median {med:7.2f} s  (turns {', '.join(f'{t:.2f}' for t in v)})"
              f"  {med / best_hand:.2f}x the best hand-set")
    for i, line in enumerate(chosen):
        print(f"  auto, turn {i + 1}: {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
