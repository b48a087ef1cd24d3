"""Regenerate the gallery: run every lesson on full MNIST and keep its figures and numbers.

    python -m tutorials.run_all --dataset mnist --fresh    # what make_gallery.sh runs
    python -m tutorials.run_all --only 01 08                # some lessons, reusing weights
    python -m tutorials.run_all --quick                     # a smoke test of the whole chain

Each lesson runs in its own process (a crash stops only that one) with ``--out
<gallery>/<lesson>``; its wall time goes into ``<gallery>/<lesson>/timing.json``, and the run
as a whole (commit, start and end, wall time, cores, load, peak memory) into
``<gallery>/run.json``, which tutorials/summary.py turns into the README's status line.
Trained weights go to ``--weights-dir`` (default runs/gallery-weights) and are reused by later
lessons (08-11 use 01's stacked AE, 05 uses 03's conv AE, 07 uses 06's plain AE), so the
order matters. ``--fresh`` empties that folder first, so that every model is trained, and
clears each lesson's old figures. Other options are passed to every lesson.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = sorted(p for p in HERE.glob("[0-9][0-9]_*.py"))


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _commit() -> str:
    try:
        sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=HERE, text=True,
                             capture_output=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=HERE, text=True, capture_output=True,
                               check=False).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return sha + (" (with uncommitted changes)" if dirty else "")


def _clear(folder: Path) -> None:
    """Remove a lesson's old outputs (figures, metrics.json, timing.json), nothing else."""
    for pattern in ("*.png", "metrics.json", "timing.json"):
        for path in folder.glob(pattern):
            path.unlink()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--only", nargs="*", default=None,
                   help="lesson numbers, run in the order given, e.g. 01 08")
    p.add_argument("--gallery", default=str(HERE / "gallery"), help="output folder")
    p.add_argument("--weights-dir", default="runs/gallery-weights",
                   help="trained weights, shared by the lessons (default runs/gallery-weights)")
    p.add_argument("--fresh", action="store_true",
                   help="empty --weights-dir first (train everything) and clear old figures")
    p.add_argument("--backend", default="numba")
    args, passthrough = p.parse_known_args(argv)
    by_number = {s.name[:2]: s for s in SCRIPTS}
    unknown = [n for n in args.only or () if n not in by_number]
    if unknown:
        p.error(f"no lesson numbered {', '.join(unknown)}; have {', '.join(by_number)}")
    scripts = SCRIPTS if args.only is None else [by_number[n] for n in args.only]
    gallery, weights = Path(args.gallery), Path(args.weights_dir)
    if args.fresh:
        shutil.rmtree(weights, ignore_errors=True)
    # make_gallery.sh names itself; run directly, this module's command line is the record
    command = os.environ.get("GALLERY_COMMAND") or " ".join(
        ["python -m tutorials.run_all", *(argv or sys.argv[1:])])
    record = {"command": command,
              "commit": _commit(), "started": _now(), "cpus": os.cpu_count(),
              "load_average_start": os.getloadavg()[0], "backend": args.backend,
              "lessons": [s.stem for s in scripts],
              "weights_at_start": "none (a fresh folder: every model trained)" if args.fresh
              else f"whatever {weights} held"}
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(HERE.parent), *filter(None, [os.environ.get("PYTHONPATH")])])}
    failed, t_start = [], time.perf_counter()
    for script in scripts:
        out = gallery / script.stem
        out.mkdir(parents=True, exist_ok=True)
        if args.fresh:
            _clear(out)
        cmd = [sys.executable, str(script), "--backend", args.backend, "--out", str(out),
               "--weights-dir", str(weights), *passthrough]
        print(f"[run_all] {' '.join(cmd)}", flush=True)
        t0 = time.perf_counter()
        rc = subprocess.call(cmd, env=env)
        seconds = time.perf_counter() - t0
        print(f"[run_all] {script.stem}: exit {rc} after {seconds:.0f} s", flush=True)
        (out / "timing.json").write_text(json.dumps({script.stem: {
            "seconds": round(seconds, 1), "exit": rc, "finished": _now(),
            "command": " ".join(cmd[1:])}}, indent=2) + "\n")
        if rc:
            failed.append(script.stem)
    record.update({"finished": _now(), "wall_seconds": round(time.perf_counter() - t_start, 1),
                   # ru_maxrss is in KiB on Linux: the largest of the lessons' processes
                   "peak_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
                   "failed": failed})
    if args.only is None and "--quick" not in passthrough:
        (gallery / "run.json").write_text(json.dumps(record, indent=2) + "\n")
    print(f"[run_all] done in {record['wall_seconds'] / 60:.1f} min; failed: "
          f"{', '.join(failed) or 'none'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
