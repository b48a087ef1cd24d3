"""Regenerate the gallery: run every tutorial on full MNIST and keep its figures and numbers.

    python -m tutorials.run_all                  # all twelve, numba backend, into tutorials/gallery
    python -m tutorials.run_all --only 01 08     # some of them
    python -m tutorials.run_all --quick          # a smoke test of the whole chain

Each tutorial runs in its own process (a crash stops only that one); its wall time is added to
``<gallery>/<tutorial>/timing.json``. Weights are kept in runs/weights and reused by later tutorials
(08 and 09 reuse 01's stacked AE; 05 reuses 03's conv AE), so run them in order, or pass
--retrain through to train everything again. Other options are passed to every tutorial.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = sorted(p for p in HERE.glob("[0-9][0-9]_*.py"))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--only", nargs="*", default=None,
                   help="tutorial numbers, run in the order given, e.g. 01 08")
    p.add_argument("--gallery", default=str(HERE / "gallery"), help="output folder")
    p.add_argument("--backend", default="numba")
    args, passthrough = p.parse_known_args(argv)
    by_number = {s.name[:2]: s for s in SCRIPTS}
    unknown = [n for n in args.only or () if n not in by_number]
    if unknown:
        p.error(f"no tutorial numbered {', '.join(unknown)}; have {', '.join(by_number)}")
    scripts = SCRIPTS if args.only is None else [by_number[n] for n in args.only]
    gallery = Path(args.gallery)
    gallery.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(HERE.parent), *filter(None, [os.environ.get("PYTHONPATH")])])}
    failed = []
    for script in scripts:
        cmd = [sys.executable, str(script), "--backend", args.backend,
               "--out", str(gallery / script.stem), *passthrough]
        print(f"[run_all] {' '.join(cmd)}", flush=True)
        t0 = time.perf_counter()
        rc = subprocess.call(cmd, env=env)
        seconds = time.perf_counter() - t0
        print(f"[run_all] {script.stem}: exit {rc} after {seconds:.0f} s", flush=True)
        timings_path = gallery / script.stem / "timing.json"
        timings_path.parent.mkdir(parents=True, exist_ok=True)
        timings = {script.stem: {"seconds": round(seconds, 1), "exit": rc,
                                "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                                "command": " ".join(cmd[1:])}}
        timings_path.write_text(json.dumps(timings, indent=2) + "\n")
        if rc:
            failed.append(script.stem)
    print(f"[run_all] done; failed: {', '.join(failed) or 'none'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
