"""Two checkouts of scratch_ae side by side: did a change make any training step slower?

    git worktree add --detach /tmp/before <commit>
    python benchmarks/before_after.py /tmp/before            # this checkout is "after"
    python benchmarks/before_after.py /tmp/before --configs conv@32 --rounds 7

Back-to-back runs of ``compare_torch.py`` on a shared machine differ by more than most changes
do (two such runs minutes apart here differed by 20-40% on the same code). So this runs the
contenders of both checkouts in ONE run, taking turns A B C ... then ... C B A: each contender
a (checkout, library, threads) worker process of ``compare_torch.py`` -- the before checkout's
own copy, with its own scratch_ae on its PYTHONPATH -- and reports each setting's median, the
best setting of each checkout and their ratio per configuration.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import compare_torch as ct  # noqa: E402

SETTINGS = (("numpy", "2"), ("numba", "1"), ("numba", "2"), ("numba", "1+2"))


def _spawn(root: Path, lib, model, batch, threads, pool):
    env = ct._worker_env(lib, threads, pool)
    env["PYTHONPATH"] = str(root)  # that checkout's scratch_ae, not this one's
    return ct._spawn([lib, model, batch, str(threads)], env, root)


def run_config(config, roots, args, pool):
    model, batch = config.split("@")
    keys = [(side, lib, t) for side in roots for lib, t in SETTINGS]
    procs = {k: _spawn(roots[k[0]], k[1], model, batch, k[2], pool) for k in keys}
    for proc in procs.values():
        ct._read(proc)  # ready
    turns = ct.take_turns(procs, keys, args)
    ct.stop(procs)
    return {f"{s} {lib} {t}": statistics.median(v) for (s, lib, t), v in turns.items()}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("before", type=Path, help="the other checkout (the state before a change)")
    p.add_argument("--configs", nargs="+", default=list(ct.CONFIGS))
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--seconds", type=float, default=1.5)
    p.add_argument("--pause", type=float, default=0.3)
    p.add_argument("--out", type=Path, default=None, help="also write the results as JSON")
    args = p.parse_args(argv)
    roots = {"before": args.before.resolve(), "after": HERE.parent}
    pool_file = Path("/tmp") / f"before_after_rows_{int(time.time())}.npy"
    pool = (pool_file, ct.write_pool(pool_file))
    results = {"command": "python benchmarks/before_after.py " + " ".join(argv or sys.argv[1:]),
               "loadavg_start": ct._loadavg(), "configs": {}}
    print("| config | best before | best after | after / before |\n|---|---|---|---:|")
    for config in args.configs:
        med = run_config(config, roots, args, pool)
        best = {side: max(((k, v) for k, v in med.items() if k.startswith(side)),
                          key=lambda kv: kv[1]) for side in roots}
        results["configs"][config] = {"medians": med, "best": best}
        (bk, bv), (ak, av) = best["before"], best["after"]
        print(f"| {config} | {bv:,.0f} ({bk.split(' ', 1)[1]}) | {av:,.0f} ({ak.split(' ', 1)[1]})"
              f" | {av / bv:.2f}x |", flush=True)
    results["loadavg_end"] = ct._loadavg()
    pool_file.unlink(missing_ok=True)
    if args.out:
        args.out.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
