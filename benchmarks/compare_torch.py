"""scratch_ae (numpy and numba backends) against PyTorch on the CPU: training steps per second.

    python benchmarks/compare_torch.py                       # the five configs, ~8 minutes
    python benchmarks/compare_torch.py --quick               # a smoke run, ~2 minutes
    python benchmarks/compare_torch.py --configs conv@32 --rounds 7 --seconds 2

What is compared: one training step (zero the gradients, forward, loss, backward, optimizer
step) of the same zoo model -- the same architecture, the same initial weights (copied from
one scratch_ae model into the torch modules, and checked to give the same outputs), the same
optimizer with the same settings, float32 -- on batches of real MNIST training rows (or
MNIST-like random images when ``$SCRATCH_AE_DATA`` holds no MNIST).

How, so that the numbers can be trusted on a small shared machine:

* every contender -- (library, thread count) -- runs in a process of its own, started before
  the timing and kept for the whole config, so that no runtime's idle threads (OpenBLAS's,
  OpenMP's) are alive in the process being timed, and nothing is compiled or allocated for the
  first time inside a timed turn;
* contenders take turns, A B C ... A B C ..., each turn running steps for ``--seconds``, with a
  short pause between turns for the last one's spinning threads to go to sleep; a change in the
  machine's load then hits every contender alike;
* each library runs at 1 thread and at all usable cores (scratch_ae: ``set_threads(n)``, which
  puts the backend's parallel side at n and the other pool at 1, and for numba also
  ``1+n``: BLAS 1 and the Numba side at n, which runs the conv layers' pieces side by side;
  torch: ``set_num_threads``), and the table compares each library at its best;
* reported: the median over turns of samples per second, with the lowest and highest turn; the
  peak resident memory of each contender's process; the achieved GFLOP/s (the model's GEMM
  arithmetic, forward and backward, per sample times samples/s) next to this machine's
  measured single-precision GEMM peak; and the 1-minute load average at the start and end.

Writes ``compare_torch.json`` and ``compare_torch.md`` into ``--out`` (benchmarks/results).
Without PyTorch it says how to install it and exits with status 0.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CONFIGS = ("stacked@32", "stacked@128", "conv@32", "conv@128", "vae@128")
LIBRARIES = ("numpy", "numba", "torch", "torch-native")
TORCH = ("torch", "torch-native")
POOL_ROWS = 4096  # distinct training rows each contender cycles through


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--configs", nargs="+", default=list(CONFIGS), help="MODEL@BATCH")
    p.add_argument("--libraries", nargs="+", default=list(LIBRARIES), choices=LIBRARIES)
    p.add_argument("--threads", nargs="+", type=int, default=None,
                   help="thread counts to try (default: 1 and all usable cores)")
    p.add_argument("--rounds", type=int, default=None, help="turns per contender (default 5)")
    p.add_argument("--seconds", type=float, default=None, help="length of a turn (default 1.5)")
    p.add_argument("--both-pools", action="store_true",
                   help="also run numba with BLAS and Numba both at all cores (N+N), which the "
                        "library's thread policy never chooses by itself")
    p.add_argument("--pause", type=float, default=0.3, help="seconds between turns")
    p.add_argument("--quick", action="store_true", help="2 rounds of 0.5 s")
    p.add_argument("--out", type=Path, default=HERE / "results")
    p.add_argument("--worker", nargs="+", default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    args.rounds = args.rounds or (2 if args.quick else 5)
    args.seconds = args.seconds or (0.5 if args.quick else 1.5)
    if args.threads is None:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
        args.threads = sorted({1, cores or 1})
    return args


# --------------------------------------------------------------------------------------------
# the worker: one contender in its own process


def _data(recipe, batch):
    """The conductor's POOL_ROWS float32 rows, flat or (N, 1, 28, 28) as the model wants."""
    import numpy as np  # noqa: PLC0415

    x = np.load(os.environ["COMPARE_TORCH_DATA"])
    source = os.environ.get("COMPARE_TORCH_SOURCE", "?")
    return (x if recipe.flat else x.reshape(-1, 1, 28, 28)), source


def write_pool(path: Path) -> str:
    """Save POOL_ROWS training rows for the workers (each loads 12 MB, not all of MNIST)."""
    import numpy as np  # noqa: PLC0415

    from scratch_ae import data  # noqa: PLC0415

    try:
        x = data.load_mnist(flat=True, download=False).x_train[:POOL_ROWS]
        source = f"the first {POOL_ROWS} MNIST training rows"
    except Exception:
        x = (np.random.default_rng(0).random((POOL_ROWS, 784)) ** 4).astype(np.float32)
        source = "MNIST-like random images (no MNIST found)"
    np.save(path, np.ascontiguousarray(x, dtype=np.float32))
    return source


def _scratch_step(recipe, base, lib, batch, threads):

    from scratch_ae import backend, set_threads  # noqa: PLC0415
    from scratch_ae.guard import NumericalGuard  # noqa: PLC0415
    from scratch_ae.losses import get_loss  # noqa: PLC0415
    from scratch_ae.train import _training, train_step  # noqa: PLC0415

    backend.set_backend(lib)
    if "+" in str(threads):  # "2+2": BLAS and Numba pools by hand
        blas, numba = (int(v) for v in str(threads).split("+"))
        policy = set_threads(blas=blas, numba=numba, backend_name=lib)
    else:
        policy = set_threads(int(threads), backend_name=lib)
    model, opt, loss = base, recipe.make_optimizer(), get_loss(base.loss)
    x, source = _data(recipe, batch)
    batches = [x[i:i + batch] for i in range(0, len(x) - batch + 1, batch)]
    state = {"i": 0}
    # A step exactly as fit runs it: train_step with fit's numerical guard on the optimizer,
    # the first layer skipping dL/dx of the data (as torch does for an input that needs no
    # gradient).
    guard = NumericalGuard(model, loss)
    _training(model, opt, guard).__enter__()

    def step():
        xb = batches[state["i"] % len(batches)]
        state["i"] += 1
        guard.on_batch_begin(xb, xb)
        train_step(model, loss, opt, xb, xb)

    return step, {"policy": str(policy), "data": source}


def _torch_step(recipe, base, batch, threads, idiomatic=False):
    """A PyTorch training step of the same model from the same weights: the layer-by-layer
    translation (exactly our function), or ``idiomatic``: as a PyTorch user writes it (native
    padding and output_padding, nn.MaxPool2d, plain F.binary_cross_entropy), checked against
    our layers run in PyTorch's padding convention (cpu_vs_gpu.forward_in_torch_convention)."""
    import torch  # noqa: PLC0415
    from torch import nn  # noqa: PLC0415
    from torch.nn import functional as F  # noqa: PLC0415

    sys.path.insert(0, str(HERE))
    from cpu_vs_gpu import forward_in_torch_convention, torch_modules  # noqa: PLC0415

    torch.set_num_threads(threads)
    x, source = _data(recipe, batch)
    mods, _ = torch_modules(base, x[:4], idiomatic=idiomatic)
    net = nn.Sequential(*mods)
    max_diff = None
    if not any(type(m).__name__ in ("Head", "Noise") for m in mods):  # deterministic models
        net.eval()
        with torch.no_grad():
            theirs = net(torch.from_numpy(x[:4])).numpy()
        ours = (forward_in_torch_convention(base, x[:4]) if idiomatic
                else base.forward(x[:4], training=False))
        max_diff = float(abs(theirs - ours).max())
        if max_diff > 1e-4:
            raise AssertionError(f"torch {recipe.name} differs from scratch_ae by {max_diff}")
    net.train()
    name, kw = recipe.optimizer
    if name == "sgd":
        opt = torch.optim.SGD(net.parameters(), lr=kw["lr"])
    elif name == "rmsprop":  # Keras' RMSprop: rho 0.9, eps 1e-7 added outside the sqrt
        opt = torch.optim.RMSprop(net.parameters(), lr=kw["lr"], alpha=0.9, eps=1e-7)
    else:
        raise NotImplementedError(f"optimizer {name}")
    penalties = [m for m in mods if hasattr(m, "penalty")]
    xt = torch.from_numpy(x)
    batches = [xt[i:i + batch] for i in range(0, len(xt) - batch + 1, batch)]
    state = {"i": 0}

    def step():
        xb = batches[state["i"] % len(batches)]
        state["i"] += 1
        opt.zero_grad(set_to_none=True)
        y = net(xb)
        if base.loss == "bce" and idiomatic:  # PyTorch clamps its log at -100 itself
            value = F.binary_cross_entropy(y, xb)
        elif base.loss == "bce":  # Keras' BCE: probabilities clipped to [1e-7, 1 - 1e-7]
            value = F.binary_cross_entropy(y.clamp(1e-7, 1 - 1e-7), xb)
        else:
            value = F.mse_loss(y, xb)
        for m in penalties:
            value = value + m.penalty
        value.backward()
        opt.step()

    return step, {"policy": f"torch.get_num_threads() = {torch.get_num_threads()}",
                  "data": source, "max_output_diff": max_diff,
                  "torch": torch.__version__}


def flops_per_sample(model, x_shape) -> float:
    """GEMM FLOPs of one training step per sample: 3 x forward (dx and dW in backward)."""
    sys.path.insert(0, str(HERE))
    import numpy as np  # noqa: PLC0415
    from cpu_vs_gpu import leaves  # noqa: PLC0415

    x = np.zeros((1, *x_shape), dtype=np.float32)
    macs = 0
    for leaf in leaves(model):
        kind = type(leaf).__name__
        y = leaf.forward(x, training=False)
        if kind in ("Dense", "DenseTranspose"):
            macs += x.shape[1] * y.shape[1]
        elif kind == "Conv2D":
            macs += y[0].size * leaf.in_ch * leaf.kernel[0] * leaf.kernel[1]
        elif kind == "Conv2DTranspose":
            macs += x[0].size * leaf.out_ch * leaf.kernel[0] * leaf.kernel[1]
        elif kind == "VariationalHead":
            macs += 2 * x.shape[1] * leaf.latent_dim
        x = y
    return 3 * 2 * macs


def worker(argv) -> int:
    """``--worker LIB MODEL BATCH THREADS``: answer "run SECONDS" lines with JSON results."""
    lib, model_name, batch, threads = argv[0], argv[1], int(argv[2]), argv[3]
    sys.path.insert(0, str(ROOT))
    from scratch_ae import backend  # noqa: PLC0415
    from scratch_ae.models import zoo  # noqa: PLC0415

    recipe = zoo.get_recipe(model_name)
    backend.seed(0)
    with backend.use_backend("numpy"):
        base = recipe.build()  # the same weights in every contender
    if lib in TORCH:
        step, info = _torch_step(recipe, base, batch, int(threads), lib == "torch-native")
    else:
        step, info = _scratch_step(recipe, base, lib, batch, threads)
    for _ in range(5):  # compile, allocate, let the allocator settle
        step()
    out = sys.stdout
    out.write(json.dumps({"ready": True, **info}) + "\n")
    out.flush()
    for line in sys.stdin:
        cmd = line.split()
        if not cmd or cmd[0] == "quit":
            break
        seconds = float(cmd[1])
        n, t0 = 0, time.perf_counter()
        while True:
            step()
            n += 1
            t = time.perf_counter() - t0
            if t >= seconds:
                break
        out.write(json.dumps({"samples_per_s": n * batch / t, "steps": n}) + "\n")
        out.flush()
    out.write(json.dumps({"peak_rss_mib": peak_rss_mib()}) + "\n")
    out.flush()
    return 0


def peak_rss_mib() -> float:
    """This process's peak resident memory. VmHWM, not getrusage's ru_maxrss: the latter keeps
    the high-water mark of the process that forked us (the conductor) across exec."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def sgemm_worker(threads) -> int:
    """Best single-precision GEMM rate of NumPy's BLAS (and torch's) at ``threads``."""
    import numpy as np  # noqa: PLC0415
    from threadpoolctl import threadpool_limits  # noqa: PLC0415

    threadpool_limits(threads, user_api="blas")
    n = 1536
    a, b = (np.random.default_rng(i).random((n, n), dtype=np.float32) for i in (0, 1))
    best = {}
    for name, mm in [("numpy", lambda: a @ b)] + _torch_mm(a, b, threads):
        mm()
        times = []
        for _ in range(7):
            t0 = time.perf_counter()
            mm()
            times.append(time.perf_counter() - t0)
        best[name] = 2 * n**3 / min(times) / 1e9
    print(json.dumps(best))
    return 0


def _torch_mm(a, b, threads):
    if importlib.util.find_spec("torch") is None:
        return []
    import torch  # noqa: PLC0415

    torch.set_num_threads(threads)
    ta, tb = torch.from_numpy(a), torch.from_numpy(b)
    return [("torch", lambda: ta @ tb)]


# --------------------------------------------------------------------------------------------
# the conductor


def _loadavg() -> str:
    try:
        return Path("/proc/loadavg").read_text().strip()
    except OSError:
        return "unknown"


def _spawn(args_list, env=None, root=ROOT):
    """A worker process of ``root``'s copy of this script (another checkout's, for
    before_after.py)."""
    return subprocess.Popen([sys.executable, str(root / "benchmarks" / "compare_torch.py"),
                             "--worker", *args_list],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                            env=env, cwd=root)


def _worker_env(lib, threads, pool=None):
    env = dict(os.environ)
    if pool is not None:
        env["COMPARE_TORCH_DATA"], env["COMPARE_TORCH_SOURCE"] = str(pool[0]), pool[1]
    for var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS",
                "NUMBA_NUM_THREADS"):
        env.pop(var, None)
    if lib in TORCH:  # torch's OpenMP pool is sized from this when it starts
        env["OMP_NUM_THREADS"] = str(threads).split("+")[0]
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def _read(proc):
    line = proc.stdout.readline()
    if not line:
        raise RuntimeError(f"worker {proc.args[3:]} died (exit {proc.wait()})")
    return json.loads(line)


def sgemm_peak(threads_list) -> dict:
    out = {}
    for t in threads_list:
        env = _worker_env("torch", t)
        res = subprocess.run([sys.executable, __file__, "--worker", "sgemm", str(t)],
                             capture_output=True, text=True, env=env, cwd=ROOT, check=True)
        for lib, gflops in json.loads(res.stdout.strip().splitlines()[-1]).items():
            out[f"{lib}@{t}"] = gflops
    return out


def take_turns(procs: dict, keys: list, args) -> dict:
    """``{key: samples/s of each turn}``: the workers ``procs[key]`` run ``args.rounds`` turns
    of ``args.seconds`` each, one at a time, A B C then C B A (so no one always goes first)."""
    turns = {key: [] for key in keys}
    for r in range(args.rounds):
        for key in keys if r % 2 == 0 else keys[::-1]:
            time.sleep(args.pause)
            procs[key].stdin.write(f"run {args.seconds}\n")
            procs[key].stdin.flush()
            turns[key].append(_read(procs[key])["samples_per_s"])
    return turns


def stop(procs: dict) -> dict:
    """Tell every worker to quit; ``{key: its last report}`` (its peak RSS)."""
    last = {}
    for key, proc in procs.items():
        proc.stdin.write("quit\n")
        proc.stdin.flush()
        last[key] = _read(proc)
        proc.wait()
    return last


def run_config(config, args, pool) -> dict:
    model_name, batch = config.split("@")
    contenders = [(lib, t) for lib in args.libraries for t in args.threads]
    if "numba" in args.libraries and max(args.threads) > 1:
        # "N" puts BLAS at N threads and Numba at 1; "1+N" the other side: BLAS 1, and the
        # Numba side (its loops, and the conv layers' pieces side by side) at N. fit's thread
        # trial picks between the two, so both are the library's own settings.
        n = max(args.threads)
        at = contenders.index(("numba", n)) + 1
        contenders.insert(at, ("numba", f"1+{n}"))
        if args.both_pools:
            contenders.insert(at + 1, ("numba", f"{n}+{n}"))
    procs, info = {}, {}
    for lib, t in contenders:  # started together: they compile and warm up side by side
        procs[(lib, t)] = _spawn([lib, model_name, batch, str(t)], _worker_env(lib, t, pool))
    for key, proc in procs.items():
        info[key] = _read(proc)
    load_start = _loadavg()
    turns = take_turns(procs, contenders, args)
    load_end = _loadavg()
    rss = {key: last["peak_rss_mib"] for key, last in stop(procs).items()}
    rows = []
    for lib, t in contenders:
        v = turns[(lib, t)]
        rows.append({"library": lib, "threads": t, "median": statistics.median(v),
                     "min": min(v), "max": max(v), "turns": v, "peak_rss_mib": rss[(lib, t)],
                     **{k: w for k, w in info[(lib, t)].items() if k != "ready"}})
    return {"config": config, "model": model_name, "batch": int(batch), "rows": rows,
            "loadavg_start": load_start, "loadavg_end": load_end}


def best(rows, libs):
    cand = [r for r in rows if r["library"] in libs]
    return max(cand, key=lambda r: r["median"]) if cand else None


def markdown(data) -> str:
    env = data["environment"]
    peak = max(env["sgemm_gflops"].values()) if env["sgemm_gflops"] else None
    lines = [
        "# scratch_ae vs PyTorch on the CPU: training samples per second", "",
        f"Command: `{env['command']}`", "",
        f"- {env['date_start']} to {env['date_end']}, {env['cpu']} ({env.get('isa', '?')}; "
        f"OpenBLAS kernel {env.get('openblas_kernel', '?')}), {env['cores']} usable cores, "
        f"{env['platform']}",
        "- versions: " + ", ".join(f"{k} {v}" for k, v in env["versions"].items()),
        f"- load average (1, 5, 15 min; running/total) at start: `{env['loadavg_start']}`, "
        f"at end: `{env['loadavg_end']}`",
        f"- method: each (library, threads) in its own process, {env['rounds']} turns of "
        f"{env['seconds']} s each, taken in turn (A B C, C B A, ...); median samples/s "
        "(lowest-highest turn); data: " + env.get("data", "?"),
        "- measured SGEMM peak (1536x1536, GFLOP/s): " + ", ".join(
            f"{k} {v:.0f}" for k, v in env["sgemm_gflops"].items()),
        "- PyTorch in two forms: `torch` translates our layers one by one (exactly our "
        "function: a crop after each transposed convolution, Keras' clipped BCE); "
        "`torch-native` is the model as a PyTorch user writes it (native padding and "
        "output_padding, nn.MaxPool2d, plain BCE). The ratio is against the faster of the two.",
        "",
        "| model, batch | scratch_ae best | PyTorch best | ratio | GFLOP/s ours / torch "
        f"(peak {peak:.0f}) |" if peak else "| model, batch | scratch_ae best | PyTorch best "
        "| ratio | GFLOP/s |",
        "|---|---|---|---:|---|",
    ]
    for c in data["configs"]:
        ours, theirs = best(c["rows"], ("numpy", "numba")), best(c["rows"], TORCH)
        mf = c["mflop_per_sample"]

        def fmt(r):
            return (f"{r['median'] / 1e3:.2f}k ({r['library']}, {r['threads']} thr; "
                    f"{r['min'] / 1e3:.2f}-{r['max'] / 1e3:.2f}k)") if r else "-"

        ratio = f"{ours['median'] / theirs['median']:.2f}x" if ours and theirs else "-"
        gf = " / ".join(f"{r['median'] * mf / 1e3:.1f}" if r else "-" for r in (ours, theirs))
        lines.append(f"| {c['model']}, {c['batch']} | {fmt(ours)} | {fmt(theirs)} | {ratio} "
                     f"| {gf} |")
    lines += ["", "Every contender (median samples/s, lowest-highest turn, peak RSS):", "",
              "| model, batch | contender | samples/s | spread | peak RSS MiB | load at start |",
              "|---|---|---:|---|---:|---|"]
    for c in data["configs"]:
        for r in c["rows"]:
            lines.append(f"| {c['model']}, {c['batch']} | {r['library']} {r['threads']} thr "
                         f"| {r['median']:,.0f} | {r['min']:,.0f}-{r['max']:,.0f} "
                         f"| {r['peak_rss_mib']:.0f} | `{c['loadavg_start']}` |")
    mflop = {c["model"]: c["mflop_per_sample"] for c in data["configs"]}
    lines += ["", "MFLOP per sample per training step (GEMM arithmetic, forward + backward): "
              + ", ".join(f"{m} {v:.2f}" for m, v in mflop.items()) + ".",
              "", "Thread settings: " + "; ".join(sorted({f"{r['library']} {r['threads']}: "
                                                        f"{r['policy']}" for c in data["configs"]
                                                        for r in c["rows"]}))]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.worker:
        if args.worker[0] == "sgemm":
            return sgemm_worker(int(args.worker[1]))
        return worker(args.worker)
    if set(TORCH) & set(args.libraries) and importlib.util.find_spec("torch") is None:
        print("PyTorch is not installed, so there is nothing to compare against. Install the "
              "optional extra with:  pip install -e \".[torch]\"  (CPU wheels: add "
              "--extra-index-url https://download.pytorch.org/whl/cpu)")
        return 0
    sys.path.insert(0, str(ROOT))
    import numpy as np  # noqa: PLC0415

    from scratch_ae import backend  # noqa: PLC0415
    from scratch_ae.models import zoo  # noqa: PLC0415

    for config in args.configs:
        name, _, batch = config.partition("@")
        if name not in zoo.RECIPES or not batch.isdigit():
            print(f"bad config {config!r}: expected MODEL@BATCH with MODEL one of "
                  f"{', '.join(zoo.RECIPES)}", file=sys.stderr)
            return 2
    versions = {"python": platform.python_version(), "numpy": np.__version__}
    for mod in ("numba", "torch"):
        if importlib.util.find_spec(mod):
            versions[mod] = __import__(mod).__version__
    sys.path.insert(0, str(HERE))
    from charts import machine  # noqa: PLC0415

    env = {"command": "python benchmarks/compare_torch.py " + " ".join(argv or sys.argv[1:]),
           "date_start": datetime.datetime.now(datetime.timezone.utc).isoformat("T", "seconds"),
           **machine(), "cores": len(os.sched_getaffinity(0)), "platform": platform.platform(),
           "versions": versions, "rounds": args.rounds, "seconds": args.seconds,
           "threads": args.threads, "loadavg_start": _loadavg()}
    print(f"load average {env['loadavg_start']}; measuring the SGEMM peak ...", flush=True)
    env["sgemm_gflops"] = sgemm_peak(args.threads)
    print("  " + ", ".join(f"{k} {v:.0f} GFLOP/s" for k, v in env["sgemm_gflops"].items()))
    tmp = tempfile.TemporaryDirectory()
    pool_path = Path(tmp.name) / "rows.npy"
    pool = (pool_path, write_pool(pool_path))
    configs = []
    for config in args.configs:
        name, batch = config.split("@")
        recipe = zoo.get_recipe(name)
        with backend.use_backend("numpy"):
            shape = (784,) if recipe.flat else (1, 28, 28)
            mflop = flops_per_sample(recipe.build(), shape) / 1e6
        res = run_config(config, args, pool)
        res["mflop_per_sample"] = mflop
        env["data"] = pool[1]
        configs.append(res)
        print(f"{config}: " + ", ".join(f"{r['library']}@{r['threads']} {r['median']:,.0f}/s"
                                        for r in res["rows"])
              + f"  (load {res['loadavg_start'].split()[0]} -> {res['loadavg_end'].split()[0]})",
              flush=True)
    env["date_end"] = datetime.datetime.now(datetime.timezone.utc).isoformat("T", "seconds")
    env["loadavg_end"] = _loadavg()
    data = {"environment": env, "configs": configs}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "compare_torch.json").write_text(json.dumps(data, indent=1))
    table = markdown(data)
    (args.out / "compare_torch.md").write_text(table)
    chart(data, args.out / "compare_torch.png")
    print()
    print(table)
    print(f"wrote {args.out / 'compare_torch.json'}, compare_torch.md and compare_torch.png")
    return 0


def chart(data, path) -> Path:
    """Samples/s of each library's best thread setting per config, the ratio marked."""
    from charts import bar_chart  # noqa: PLC0415 - benchmarks/ is on sys.path (main)

    groups = []
    for c in data["configs"]:
        bars = []
        for lib in ("numpy", "numba", *TORCH):
            r = best(c["rows"], (lib,))
            if r is not None:
                bars.append((f"{lib} (best threads)", r["median"], lib not in TORCH))
        groups.append((f"{c['model']}@{c['batch']}", bars))
    env = data["environment"]
    return bar_chart(groups, path, f"scratch_ae vs PyTorch, training step, {env['cpu']} "
                     f"({env.get('isa', '?')}), {env['cores']} cores\nratio: our best / the "
                     "faster PyTorch")


if __name__ == "__main__":
    sys.exit(main())
