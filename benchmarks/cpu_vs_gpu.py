"""Training throughput of the zoo models on numpy, numba and cupy (and PyTorch, when installed).

    python benchmarks/cpu_vs_gpu.py                                  # every backend usable here
    python benchmarks/cpu_vs_gpu.py --quick --batches 32 128 --models stacked conv \\
        --backends numpy numba torch --out /tmp/bench
    python benchmarks/cpu_vs_gpu.py --merge a/results.json b/results.json --out merged

Two measurements, both in samples per second (higher is better):

* ``train``: one whole training step -- zero_grad, forward, loss, backward, optimizer step --
  on a batch that is already where the model is (``fit`` moves data to the GPU once per 8192
  samples, so that copy is left out; ``h2d_chunk_ms`` in the JSON says what it costs);
* ``layer``: forward + backward of each layer alone, on the input it gets inside the model
  (only for the ``--layer-models``, default ``stacked conv``).

Method: every contender (backend) is warmed up first (Numba compiles, CuPy compiles and caches
its kernels, cuBLAS picks its algorithms). Then the contenders take turns, A B C A B C ..., so
that a change of machine load hits them alike, and the median of ``--repeats`` runs is reported.
One run repeats the step until it has lasted ``--min-time`` seconds. CPU runs are timed with
``time.perf_counter``; GPU runs with CUDA events recorded on the stream, after a
synchronization, so queued work is never mistaken for finished work.

Backends: ``numpy`` and ``numba`` (this library on the CPU), ``cupy`` (this library on the GPU),
and PyTorch in two forms, each on the CPU and on the GPU, built from the same weights:

* ``torch`` / ``torch-cuda``: a layer-by-layer translation that computes exactly our function
  (a crop after each transposed convolution, Keras' clipped BCE; checked: the same output);
* ``torch-native`` / ``torch-native-cuda``: the model as a PyTorch user writes it -- native
  padding and ``output_padding`` in ``ConvTranspose2d``, ``nn.MaxPool2d``, plain
  ``F.binary_cross_entropy``. Its transposed convolutions put the one-pixel offset of "same"
  on the other side (PyTorch's convention), so it is checked against our layers run in that
  convention (:func:`forward_in_torch_convention`): the same arithmetic, the same numbers.

A contender that cannot be built or timed -- a PyTorch translation whose outputs differ from
ours, a layer with no translation, a CUDA error -- is dropped from that model and batch and
listed under ``skipped_runs`` in the JSON (and in the table's notes) with its reason; the others
keep their numbers. A failing scratch_ae backend is listed as FAILED and makes the exit status 1,
as does a run that measured nothing (no backend asked for is usable here).

``--tag NAME`` appends ``@NAME`` to the backend names of a run (e.g. ``numba@2cores``), so that
runs made under different conditions can be merged into one table with ``--merge``.
"""

from __future__ import annotations

import argparse
import copy
import datetime
import json
import math
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CPU_BACKENDS = ("numpy", "numba", "torch", "torch-native")
GPU_BACKENDS = ("cupy", "torch-cuda", "torch-native-cuda")
ALL_BACKENDS = CPU_BACKENDS + GPU_BACKENDS


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--models", nargs="+", default=None,
                   help="zoo models (default: every model registered in models/zoo.py)")
    p.add_argument("--layer-models", nargs="*", default=["stacked", "conv"],
                   help="models to time layer by layer too (default: stacked conv)")
    p.add_argument("--batches", nargs="+", type=int, default=[32, 128, 1024])
    p.add_argument("--backends", nargs="+", default=None, choices=ALL_BACKENDS,
                   help="default: every backend usable here")
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    p.add_argument("--quick", action="store_true", help="fewer, shorter runs")
    p.add_argument("--repeats", type=int, default=None, help="timed runs per contender")
    p.add_argument("--warmup", type=int, default=None, help="untimed runs per contender")
    p.add_argument("--min-time", type=float, default=None, help="seconds per timed run")
    p.add_argument("--threads", type=int, default=None,
                   help="Numba, BLAS and torch threads (default: leave them as they are)")
    p.add_argument("--tag", default="", help="suffix for backend names, e.g. 2cores")
    p.add_argument("--skip-torch-check", action="store_true",
                   help="do not check that the torch modules give the same outputs")
    p.add_argument("--merge", nargs="+", type=Path, default=None,
                   help="merge these results.json files into one table (no timing)")
    args = p.parse_args(argv)
    if args.repeats is None:
        args.repeats = 3 if args.quick else 7
    if args.warmup is None:
        args.warmup = 1 if args.quick else 2
    if args.min_time is None:
        args.min_time = 0.05 if args.quick else 0.2
    return args


# --------------------------------------------------------------------------------------------
# environment


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def environment(backends) -> dict:
    import numpy as np  # noqa: PLC0415

    env = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "host": platform.node(), "platform": platform.platform(), "cpu": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "load_avg_1min": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        "env": {k: os.environ[k] for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
                                           "MKL_NUM_THREADS", "NUMBA_NUM_THREADS",
                                           "CUPY_TF32", "CUDA_VISIBLE_DEVICES")
                if k in os.environ},
        "versions": {"python": platform.python_version(), "numpy": np.__version__},
        "threads": {},
    }
    try:
        import numba  # noqa: PLC0415

        env["versions"]["numba"] = numba.__version__
        env["threads"]["numba"] = numba.get_num_threads()
    except ImportError:
        pass
    try:
        from threadpoolctl import threadpool_info  # noqa: PLC0415

        env["threads"]["threadpoolctl"] = [
            f"{i['user_api']}/{i['internal_api']}: {i['num_threads']}" for i in threadpool_info()]
    except ImportError:
        env["threads"]["threadpoolctl"] = "threadpoolctl not installed"
    if any(b.startswith("torch") for b in backends):
        import torch  # noqa: PLC0415

        env["versions"]["torch"] = torch.__version__
        env["threads"]["torch"] = torch.get_num_threads()
        if any(b.endswith("cuda") for b in backends):
            env["versions"]["torch_cuda"] = torch.version.cuda
    if "cupy" in backends:
        import cupy  # noqa: PLC0415

        props = cupy.cuda.runtime.getDeviceProperties(cupy.cuda.Device().id)
        env["versions"]["cupy"] = cupy.__version__
        env["versions"]["cuda_runtime"] = cupy.cuda.runtime.runtimeGetVersion()
        env["versions"]["cuda_driver"] = cupy.cuda.runtime.driverGetVersion()
        name = props["name"]
        env["device"] = name.decode() if isinstance(name, bytes) else name
        env["device_memory_gib"] = round(props["totalGlobalMem"] / 2**30, 1)
    elif any(b.startswith("torch") and b.endswith("cuda") for b in backends):
        import torch  # noqa: PLC0415

        env["device"] = torch.cuda.get_device_name()
    return env


def usable_backends() -> dict:
    """Each backend -> None when usable here, else the reason it is not."""
    from scratch_ae import backend  # noqa: PLC0415

    out = {"numpy": None}
    ok, why = backend.available_backends()["numba"]
    out["numba"] = None if ok else why
    ok, why = backend.cuda_available()
    out["cupy"] = None if ok else why
    try:
        import torch  # noqa: PLC0415

        out["torch"] = out["torch-native"] = None
        cuda = None if torch.cuda.is_available() else "torch sees no CUDA device"
        out["torch-cuda"] = out["torch-native-cuda"] = cuda
    except ImportError:
        for b in ("torch", "torch-native", "torch-cuda", "torch-native-cuda"):
            out[b] = "PyTorch is not installed"
    return out


def set_threads(n):
    if n is None:
        return
    try:
        import numba  # noqa: PLC0415

        numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
    except ImportError:
        pass
    try:
        from threadpoolctl import threadpool_limits  # noqa: PLC0415

        # Kept alive for the whole run: the limit lasts as long as this object.
        set_threads.limiter = threadpool_limits(limits=n)
    except ImportError:
        pass
    try:
        import torch  # noqa: PLC0415

        torch.set_num_threads(n)
    except ImportError:
        pass


# --------------------------------------------------------------------------------------------
# timers: one run = repeat fn until min_time has passed; returns seconds per call


class CpuTimer:
    def __call__(self, fn, n):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        return (time.perf_counter() - t0) / n


class CupyTimer:
    def __init__(self):
        import cupy  # noqa: PLC0415

        self.cupy = cupy

    def __call__(self, fn, n):
        cp = self.cupy
        stream = cp.cuda.get_current_stream()
        stream.synchronize()
        start, end = cp.cuda.Event(), cp.cuda.Event()
        start.record(stream)
        for _ in range(n):
            fn()
        end.record(stream)
        end.synchronize()
        return cp.cuda.get_elapsed_time(start, end) / 1e3 / n


class TorchCudaTimer:
    def __init__(self):
        import torch  # noqa: PLC0415

        self.torch = torch

    def __call__(self, fn, n):
        torch = self.torch
        torch.cuda.synchronize()
        start = torch.cuda.Event(enable_timing=True)
        end = torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(n):
            fn()
        end.record()
        end.synchronize()
        return start.elapsed_time(end) / 1e3 / n


def timer_for(name):
    if name == "cupy":
        return CupyTimer()
    if name.startswith("torch") and name.endswith("cuda"):
        return TorchCudaTimer()
    return CpuTimer()


def interleaved(contenders: dict, *, warmup: int, repeats: int, min_time: float,
                failed: dict | None = None) -> dict:
    """``{name: (fn, timer)}`` -> ``{name: [seconds per call, ...]}``, contenders taking turns.

    A contender whose ``fn`` raises is dropped (the others go on) and its exception is put in
    ``failed[name]``; without ``failed`` the exception propagates.
    """
    calls, live = {}, dict(contenders)

    def drop(name, exc):
        if failed is None:
            raise exc
        failed[name] = exc
        live.pop(name)

    for name, (fn, timer) in contenders.items():
        try:
            for _ in range(max(warmup, 1)):
                t = timer(fn, 1)
            calls[name] = max(1, min(1000, math.ceil(min_time / max(t, 1e-7))))
        except Exception as exc:  # noqa: BLE001 - recorded in failed; the others still run
            drop(name, exc)
    runs = {name: [] for name in live}
    for _ in range(repeats):
        for name, (fn, timer) in list(live.items()):
            try:
                runs[name].append(timer(fn, calls[name]))
            except Exception as exc:  # noqa: BLE001
                drop(name, exc)
                runs.pop(name)
    return runs


# --------------------------------------------------------------------------------------------
# scratch_ae contenders


def leaves(layer) -> list:
    """The layers a model chains, in order (Sequential, Autoencoder and VAE are unpacked)."""
    from scratch_ae.models import Sequential  # noqa: PLC0415
    from scratch_ae.models.autoencoder import Autoencoder  # noqa: PLC0415

    if isinstance(layer, Sequential):
        return [leaf for sub in layer.layers for leaf in leaves(sub)]
    if isinstance(layer, Autoencoder) or type(layer).__name__ == "VAE":
        return [leaf for sub in layer.sublayers() for leaf in leaves(sub)]
    return [layer]


def mnist_like(recipe, n, seed=0):
    import numpy as np  # noqa: PLC0415

    x = (np.random.default_rng(seed).random((n, 784)) ** 4).astype(np.float32)
    return x if recipe.flat else x.reshape(n, 1, 28, 28)


class ScratchRun:
    """One zoo model on one scratch_ae backend: a training step and per-layer steps."""

    def __init__(self, recipe, base_model, backend_name, batch):
        from scratch_ae import backend  # noqa: PLC0415
        from scratch_ae.losses import get_loss  # noqa: PLC0415

        self.backend, self.name = backend, backend_name
        self.model = copy.deepcopy(base_model)
        if backend_name == "cupy":
            self.model.to("cupy")
        self.optimizer = recipe.make_optimizer()
        self.loss = get_loss(self.model.loss)
        x = mnist_like(recipe, batch)
        self.x = backend.to_device(x, "cupy") if backend_name == "cupy" else x

    def _selected(self):
        # numpy and numba share the arrays; the selected backend picks the kernels.
        return self.backend.use_backend(self.name)

    def train_step(self):
        from scratch_ae.train import train_step  # noqa: PLC0415

        with self._selected():
            train_step(self.model, self.loss, self.optimizer, self.x, self.x)

    def layer_steps(self):
        """``[(label, fn)]``: forward+backward of each layer on its in-model input."""
        xp = self.backend.get_array_module(self.x)
        rs = xp.random.default_rng(1) if xp.__name__ == "cupy" else None
        out, x = [], self.x
        with self._selected():
            for i, leaf in enumerate(leaves(self.model)):
                y = leaf.forward(x, training=True)
                if rs is not None:
                    dy = rs.standard_normal(y.shape, dtype=y.dtype)
                else:
                    import numpy as np  # noqa: PLC0415

                    dy = np.random.default_rng(1).standard_normal(y.shape).astype(y.dtype)

                def step(leaf=leaf, x=x, dy=dy):
                    with self._selected():
                        leaf.forward(x, training=True)
                        leaf.backward(dy)

                out.append((f"{i:02d} {leaf!r}".split("\n")[0][:60], step))
                x = y
        return out


# --------------------------------------------------------------------------------------------
# PyTorch contenders: the same architecture, module by module, from the same weights


def torch_modules(model, x_host, idiomatic=False):
    """One torch module per scratch_ae leaf layer (same weights), and the leaf input shapes.

    ``idiomatic``: as a PyTorch user writes the model (native padding and output_padding, no
    crop; nn.MaxPool2d), instead of a translation that computes exactly our function.
    Raises NotImplementedError for a layer with no translation here.
    """
    import numpy as np  # noqa: PLC0415
    import torch  # noqa: PLC0415
    from torch import nn  # noqa: PLC0415
    from torch.nn import functional as F  # noqa: PLC0415

    from scratch_ae.layers import activations as A  # noqa: PLC0415

    def t(a):
        return torch.from_numpy(np.ascontiguousarray(a))

    class Crop(nn.Module):
        def __init__(self, top, h, left, w):
            super().__init__()
            self.top, self.h, self.left, self.w = top, h, left, w

        def forward(self, x):
            return x[:, :, self.top:self.top + self.h, self.left:self.left + self.w]

    class PadMaxPool(nn.Module):
        def __init__(self, pads, pool, stride):
            super().__init__()
            self.pads, self.pool, self.stride = pads, pool, stride

        def forward(self, x):
            pt, pb, pl, pr = self.pads
            if any(self.pads):
                x = F.pad(x, (pl, pr, pt, pb), value=float("-inf"))
            return F.max_pool2d(x, self.pool, self.stride)

    class Tied(nn.Module):
        def __init__(self, linear, bias):
            super().__init__()
            self.linear = [linear]  # a list: not registered twice as a submodule
            self.bias = nn.Parameter(bias)

        def forward(self, x):
            return F.linear(x, self.linear[0].weight.t(), self.bias)

    class Penalty(nn.Module):
        """Identity in forward; keeps the activity penalty for the loss (ActivityL1, KL)."""

        def __init__(self, kind, weight, target=None):
            super().__init__()
            self.kind, self.weight, self.target, self.penalty = kind, weight, target, 0.0

        def forward(self, x):
            if self.kind == "l1":
                self.penalty = self.weight * x.abs().sum() / x.shape[0]
            else:
                p, q = self.target, x.mean(0).clamp(1e-7, 1 - 1e-7)
                kl = p * torch.log(p / q) + (1 - p) * torch.log((1 - p) / (1 - q))
                self.penalty = self.weight * kl.sum()
            return x

    class Noise(nn.Module):
        def __init__(self, std):
            super().__init__()
            self.std = std

        def forward(self, x):
            return x + self.std * torch.randn_like(x) if self.training else x

    class Head(nn.Module):
        """VariationalHead: mu and log_var heads, z = mu + exp(log_var / 2) * eps, KL penalty."""

        def __init__(self, mu, lv, kl_weight):
            super().__init__()
            self.mu, self.lv, self.kl_weight, self.penalty = mu, lv, kl_weight, 0.0

        def forward(self, h):
            mu, lv = self.mu(h), self.lv(h)
            kl = -0.5 * (1 + lv - mu * mu - lv.exp()).sum(1)
            self.penalty = self.kl_weight * kl.mean()
            return mu + (0.5 * lv).exp() * torch.randn_like(mu)

    def linear(dense):
        lin = nn.Linear(dense.in_features, dense.out_features)
        with torch.no_grad():
            lin.weight.copy_(t(dense.params["W"].T))
            lin.bias.copy_(t(dense.params["b"]))
        linears[id(dense)] = lin
        return lin

    simple = {A.SELU: nn.SELU, A.Sigmoid: nn.Sigmoid, A.ReLU: nn.ReLU, A.Tanh: nn.Tanh,
              A.Softplus: nn.Softplus}
    linears, mods, shapes = {}, [], []
    x = x_host
    for leaf in leaves(model):
        kind = type(leaf).__name__
        shapes.append(tuple(x.shape))
        if type(leaf) in simple:
            mod = simple[type(leaf)]()
        elif kind == "ELU":
            mod = nn.ELU(leaf.alpha)
        elif kind == "LeakyReLU":
            mod = nn.LeakyReLU(leaf.slope)
        elif kind == "Dense":
            mod = linear(leaf)
        elif kind == "DenseTranspose":
            mod = Tied(linears[id(leaf.dense)], t(leaf.params["b"]))
        elif kind == "Conv2D":
            pt, pb, pl, pr = leaf._pads(x.shape[2:])
            conv = nn.Conv2d(leaf.in_ch, leaf.out_ch, leaf.kernel, leaf.stride,
                             padding=(pt, pl) if (pt, pl) == (pb, pr) else 0)
            with torch.no_grad():
                conv.weight.copy_(t(leaf.params["W"]))
                conv.bias.copy_(t(leaf.params["b"]))
            mod = conv if (pt, pl) == (pb, pr) else nn.Sequential(
                nn.ZeroPad2d((pl, pr, pt, pb)), conv)
        elif kind == "Conv2DTranspose" and idiomatic:
            mod = native_conv_transpose(leaf, x.shape[2:], t)
        elif kind == "Conv2DTranspose":
            (oh, ow), (pt, _, pl, _) = leaf._geometry(x.shape[2:])
            full = [(n - 1) * s + k for n, s, k in zip(x.shape[2:], leaf.stride, leaf.kernel,
                                                         strict=True)]
            extra = (max(0, pt + oh - full[0]), max(0, pl + ow - full[1]))
            tconv = nn.ConvTranspose2d(leaf.in_ch, leaf.out_ch, leaf.kernel, leaf.stride,
                                       output_padding=extra)
            with torch.no_grad():
                tconv.weight.copy_(t(leaf.params["W"]))
                tconv.bias.copy_(t(leaf.params["b"]))
            mod = nn.Sequential(tconv, Crop(pt, oh, pl, ow))
        elif kind == "MaxPool2D" and idiomatic and not any(leaf._pads(x.shape[2:])):
            mod = nn.MaxPool2d(leaf.pool, leaf.stride)
        elif kind == "MaxPool2D":
            mod = PadMaxPool(leaf._pads(x.shape[2:]), leaf.pool, leaf.stride)
        elif kind == "Flatten":
            mod = nn.Flatten()
        elif kind == "Reshape":
            mod = nn.Unflatten(1, leaf.shape)
        elif kind == "Dropout":
            mod = nn.Dropout(leaf.rate)
        elif kind == "GaussianNoise":
            mod = Noise(leaf.stddev)
        elif kind == "ActivityL1":
            mod = Penalty("l1", leaf.weight)
        elif kind == "KLSparsity":
            mod = Penalty("kl", leaf.weight, leaf.target)
        elif kind == "VariationalHead":
            mod = Head(linear(leaf.mu), linear(leaf.log_var), leaf.sampling.kl_weight)
        else:
            raise NotImplementedError(f"no PyTorch translation for {kind}")
        mods.append(mod)
        x = leaf.forward(x, training=False)
    return mods, shapes


def native_padding(leaf, hw):
    """PyTorch's ``(padding, output_padding)`` for a Conv2DTranspose of input size ``hw``: the
    same output size as ours, with the padding PyTorch users write (symmetric; for "same" the
    odd pixel is cropped at the top/left, where TensorFlow crops it at the bottom/right)."""
    (oh, ow), _ = leaf._geometry(hw)
    pads, extra = [], []
    for n, out, k, s in zip(hw, (oh, ow), leaf.kernel, leaf.stride, strict=True):
        p = -(-(k - s) // 2) if leaf.padding == "same" else 0
        pads.append(max(p, 0))
        extra.append(out - ((n - 1) * s + k - 2 * max(p, 0)))
    return tuple(pads), tuple(extra)


def native_conv_transpose(leaf, hw, t):
    from torch import nn  # noqa: PLC0415

    padding, output_padding = native_padding(leaf, hw)
    tconv = nn.ConvTranspose2d(leaf.in_ch, leaf.out_ch, leaf.kernel, leaf.stride,
                               padding=padding, output_padding=output_padding)
    import torch  # noqa: PLC0415

    with torch.no_grad():
        tconv.weight.copy_(t(leaf.params["W"]))
        tconv.bias.copy_(t(leaf.params["b"]))
    return tconv


def forward_in_torch_convention(model, x):
    """Our layers' forward, with each transposed convolution cropped as PyTorch's padding and
    output_padding crop it: the function the idiomatic PyTorch model computes."""
    from scratch_ae.layers import Conv2DTranspose  # noqa: PLC0415

    for leaf in leaves(model):
        if type(leaf).__name__ != "Conv2DTranspose":
            x = leaf.forward(x, training=False)
            continue
        (pt, pl), _ = native_padding(leaf, x.shape[2:])
        (oh, ow), _ = leaf._geometry(x.shape[2:])
        full = Conv2DTranspose(leaf.in_ch, leaf.out_ch, leaf.kernel, leaf.stride, "valid")
        full.params["W"][...], full.params["b"][...] = leaf.params["W"], leaf.params["b"]
        y = full.forward(x)  # every position a kernel stamp reaches, uncropped
        x = y[:, :, pt:pt + oh, pl:pl + ow]
        pad_h, pad_w = oh - x.shape[2], ow - x.shape[3]  # output_padding beyond the stamps
        if pad_h or pad_w:
            import numpy as np  # noqa: PLC0415

            x = np.pad(x - leaf.params["b"].reshape(1, -1, 1, 1), ((0, 0), (0, 0), (0, pad_h),
                       (0, pad_w))) + leaf.params["b"].reshape(1, -1, 1, 1)
    return x


class TorchRun:
    def __init__(self, recipe, base_model, device, batch, check=True, idiomatic=False):
        import numpy as np  # noqa: PLC0415
        import torch  # noqa: PLC0415
        from torch import nn  # noqa: PLC0415
        from torch.nn import functional as F  # noqa: PLC0415

        self.torch, self.F = torch, F
        model = copy.deepcopy(base_model)
        x = mnist_like(recipe, batch)
        self.mods, self.shapes = torch_modules(model, x[:4], idiomatic=idiomatic)
        self.net = nn.Sequential(*self.mods)
        self.max_diff, self.idiomatic = None, idiomatic
        if check and not any(type(m).__name__ in ("Head", "Noise") for m in self.mods):
            self.net.eval()
            with torch.no_grad():
                ours = (forward_in_torch_convention(model, x[:4]) if idiomatic
                        else model.forward(x[:4], training=False))
                theirs = self.net(torch.from_numpy(x[:4])).numpy()
            self.max_diff = float(np.abs(theirs - ours).max())
            if self.max_diff > 1e-4:
                raise AssertionError(f"the torch translation of {recipe.name} differs from "
                                     f"scratch_ae by {self.max_diff:.2e}")
        self.net.train().to(device)
        name, kw = recipe.optimizer
        cls = {"sgd": torch.optim.SGD, "rmsprop": torch.optim.RMSprop, "adam": torch.optim.Adam,
               "nadam": torch.optim.NAdam}[name]
        self.optimizer = cls(self.net.parameters(), lr=kw["lr"])
        self.loss_name = base_model.loss
        self.x = torch.from_numpy(x).to(device)

    def _loss(self, y, t):
        F = self.F
        if self.loss_name == "bce" and self.idiomatic:
            return F.binary_cross_entropy(y, t)  # PyTorch clamps its log at -100 itself
        if self.loss_name == "bce":  # Keras' BCE: probabilities clipped to [1e-7, 1 - 1e-7]
            return F.binary_cross_entropy(y.clamp(1e-7, 1 - 1e-7), t)
        return F.mse_loss(y, t)

    def train_step(self):
        self.optimizer.zero_grad(set_to_none=True)
        y = self.net(self.x)
        loss = self._loss(y, self.x)
        for m in self.mods:
            if hasattr(m, "penalty"):
                loss = loss + m.penalty
        loss.backward()
        self.optimizer.step()

    def layer_steps(self):
        torch = self.torch
        out, x = [], self.x
        for i, mod in enumerate(self.mods):
            xin = x.detach().requires_grad_(True)
            y = mod(xin)
            dy = torch.randn_like(y)

            def step(mod=mod, xin=xin, dy=dy):
                mod(xin).backward(dy)

            out.append((i, step))
            x = y.detach()
        return out


# --------------------------------------------------------------------------------------------
# the run


def run_benchmark(args, save=None) -> dict:
    sys.path.insert(0, str(ROOT))
    import numpy as np  # noqa: PLC0415

    from scratch_ae import backend  # noqa: PLC0415
    from scratch_ae.models import zoo  # noqa: PLC0415

    set_threads(args.threads)
    usable = usable_backends()
    wanted = args.backends or [b for b in ALL_BACKENDS if usable[b] is None]
    skipped = {b: usable[b] for b in wanted if usable[b] is not None}
    backends = [b for b in wanted if usable[b] is None]
    for b, why in skipped.items():
        print(f"skipping backend {b}: {why}", file=sys.stderr)
    models = args.models or list(zoo.RECIPES)
    env = environment(backends)
    env["skipped_backends"] = skipped
    env["method"] = {"warmup": args.warmup, "repeats": args.repeats, "min_time_s": args.min_time,
                     "statistic": "median", "order": "interleaved"}
    tag = f"@{args.tag}" if args.tag else ""
    compile_s = {}
    if "numba" in backends:
        compile_s["numba"] = backend.warmup("numba")
    if "cupy" in backends:
        compile_s["cupy"] = backend.warmup("cupy")
        import cupy  # noqa: PLC0415

        chunk = np.zeros((8192, 784), dtype=np.float32)
        cupy.asarray(chunk)
        t = CupyTimer()
        env["h2d_chunk_ms"] = 1e3 * t(lambda: cupy.asarray(chunk), 5)
    env["first_call_s"] = compile_s

    results, skipped_runs = [], []

    def skip(name, batch, b, exc, what):
        """Record a contender that could not be built or timed; the others keep their numbers.

        PyTorch contenders are comparisons: one that fails (no translation of a layer, outputs
        that differ from ours, a CUDA error) is reported as skipped. A scratch_ae backend that
        fails is a failure of this library: recorded the same way, and the exit status is 1.
        """
        reason = f"{what}: {type(exc).__name__}: {exc}".splitlines()[0][:300]
        skipped_runs.append({"model": name, "batch": batch, "backend": b + tag, "reason": reason,
                             "failure": not b.startswith("torch")})
        print(f"[skip] {name} batch {batch} {b}{tag}: {reason}", file=sys.stderr, flush=True)

    for name in models:
        recipe = zoo.get_recipe(name)
        backend.seed(0)
        with backend.use_backend("numpy"):
            base = recipe.build()
        for batch in args.batches:
            runs = {}
            for b in backends:
                try:
                    if b.startswith("torch"):
                        runs[b] = TorchRun(recipe, base, "cuda" if b.endswith("cuda") else "cpu",
                                           batch, check=not args.skip_torch_check,
                                           idiomatic="native" in b)
                    else:
                        runs[b] = ScratchRun(recipe, base, b, batch)
                except Exception as exc:  # noqa: BLE001 - one contender lost, not the run
                    skip(name, batch, b, exc, "setup")
            failed = {}
            contenders = {b: (r.train_step, timer_for(b)) for b, r in runs.items()}
            timed = interleaved(contenders, warmup=args.warmup, repeats=args.repeats,
                                min_time=args.min_time, failed=failed)
            for b, exc in failed.items():
                skip(name, batch, b, exc, "training step")
                runs.pop(b)
            line = []
            for b, secs in timed.items():
                med = statistics.median(secs)
                results.append({"kind": "train", "model": name, "batch": batch,
                                "backend": b + tag, "median_s": med,
                                "samples_per_s": batch / med, "runs_s": secs,
                                "torch_max_diff": getattr(runs[b], "max_diff", None)})
                line.append(f"{b}{tag} {batch / med:,.0f}/s")
            print(f"[train] {name:<16} batch {batch:>5}: " + ", ".join(line), flush=True)
            env["skipped_runs"] = skipped_runs
            if save is not None:  # partial results survive a timeout
                save({"environment": env, "results": results, "partial": True})

            if name in (args.layer_models or []) and runs:
                steps = {}
                for b, r in runs.items():
                    try:
                        steps[b] = r.layer_steps()
                    except Exception as exc:  # noqa: BLE001
                        skip(name, batch, b, exc, "layer setup")
                n_layers = min((len(s) for s in steps.values()), default=0)
                for i in range(n_layers):
                    failed = {}
                    contenders = {b: (s[i][1], timer_for(b)) for b, s in steps.items()}
                    timed = interleaved(contenders, warmup=args.warmup, repeats=args.repeats,
                                        min_time=args.min_time / 4, failed=failed)
                    label = next((lbl for b, s in steps.items() if not b.startswith("torch")
                                  for lbl in [s[i][0]]), str(i))
                    for b, exc in failed.items():
                        skip(name, batch, b, exc, f"layer {label}")
                        steps.pop(b)
                    for b, secs in timed.items():
                        med = statistics.median(secs)
                        results.append({"kind": "layer", "model": name, "batch": batch,
                                        "layer": label, "backend": b + tag, "median_s": med,
                                        "samples_per_s": batch / med, "runs_s": secs})
    env["skipped_runs"] = skipped_runs
    return {"environment": env, "results": results}


# --------------------------------------------------------------------------------------------
# report


def _skipped_lines(skipped_runs) -> list[str]:
    """One line per (backend, reason): which models and batches were skipped, and why."""
    groups = {}
    for r in skipped_runs:
        key = (r["backend"], r["reason"], r.get("failure", False))
        groups.setdefault(key, []).append(f"{r['model']}@{r['batch']}")
    return [f"- {'FAILED' if failure else 'skipped'}: {b} on {', '.join(where)} -- {reason}"
            for (b, reason, failure), where in groups.items()]


def _fmt_rate(v):
    return "" if v is None else f"{v:,.0f}"


def markdown(data_list) -> str:
    envs = [d["environment"] for d in data_list]
    results = [r for d in data_list for r in d["results"]]
    order = [b for b in dict.fromkeys(r["backend"] for r in results)]
    lines = ["# scratch_ae: CPU vs GPU training throughput", ""]
    for i, env in enumerate(envs):
        head = f"## Run {i + 1}" if len(envs) > 1 else "## Environment"
        lines += [head, "",
                  f"- date {env['date']}, host `{env['host']}`, {env['platform']}",
                  f"- CPU: {env['cpu']}, os.cpu_count() = {env['cpu_count']}, usable by this "
                  f"process = {env['cpus_usable']}, load average {env['load_avg_1min']}",
                  f"- device: {env.get('device', 'none (CPU only)')}",
                  "- versions: " + ", ".join(f"{k} {v}" for k, v in env["versions"].items()),
                  f"- threads: {json.dumps(env['threads'])}",
                  f"- environment: {json.dumps(env['env'])}",
                  f"- method: {json.dumps(env['method'])}; GPU runs timed with CUDA events",
                  f"- first call (compile or cache load) s: {json.dumps(env['first_call_s'])}"]
        if "h2d_chunk_ms" in env:
            lines.append(f"- host-to-device copy of one 8192-sample chunk: "
                         f"{env['h2d_chunk_ms']:.2f} ms (left out of the train numbers)")
        for b, why in env.get("skipped_backends", {}).items():
            lines.append(f"- backend {b} skipped: {why}")
        for note in env.get("notes", []):  # results files written before skipped_runs
            lines.append(f"- {note}")
        lines += _skipped_lines(env.get("skipped_runs", []))
        lines.append("")

    train = {(r["model"], r["batch"], r["backend"]): r for r in results if r["kind"] == "train"}
    keys = list(dict.fromkeys((r["model"], r["batch"]) for r in results if r["kind"] == "train"))
    gpu = [b for b in order if b.split("@")[0] in GPU_BACKENDS]
    cpu = [b for b in order if b.split("@")[0] in ("numba", "numpy")]
    ratios = [(g, c) for g in gpu for c in cpu]
    lines += ["## Whole training step (forward, loss, backward, optimizer), samples/s", "",
              "| model | batch | " + " | ".join(order) + "".join(
                  f" | {g} / {c}" for g, c in ratios) + " |",
              "|---|---:|" + "---:|" * (len(order) + len(ratios))]
    for model, batch in keys:
        row = [_fmt_rate(train[(model, batch, b)]["samples_per_s"])
               if (model, batch, b) in train else "" for b in order]
        for g, c in ratios:
            a, b = train.get((model, batch, g)), train.get((model, batch, c))
            row.append(f"{a['samples_per_s'] / b['samples_per_s']:.1f}x" if a and b else "")
        lines.append(f"| {model} | {batch} | " + " | ".join(row) + " |")
    lines.append("")

    layer_rows = [r for r in results if r["kind"] == "layer"]
    if layer_rows:
        lk = list(dict.fromkeys((r["model"], r["batch"], r["layer"]) for r in layer_rows))
        by = {(r["model"], r["batch"], r["layer"], r["backend"]): r for r in layer_rows}
        lb = [b for b in order if any(k[3] == b for k in by)]
        lines += ["## Per layer, forward + backward, milliseconds per batch", "",
                  "| model | batch | layer | " + " | ".join(lb) + " |",
                  "|---|---:|---|" + "---:|" * len(lb)]
        for model, batch, layer in lk:
            row = [f"{1e3 * by[(model, batch, layer, b)]['median_s']:.3f}"
                   if (model, batch, layer, b) in by else "" for b in lb]
            lines.append(f"| {model} | {batch} | `{layer}` | " + " | ".join(row) + " |")
        lines.append("")
    return "\n".join(lines)


def chart(results, path):
    """Training samples/s per (model, batch), a bar per backend; our best / PyTorch's best."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from charts import bar_chart  # noqa: PLC0415

    groups = {}
    for r in results:
        if r["kind"] == "train":
            groups.setdefault(f"{r['model']}@{r['batch']}", []).append(
                (r["backend"], r["samples_per_s"], not r["backend"].startswith("torch")))
    if not groups:
        return None
    return bar_chart(list(groups.items()), path, "training step, samples/s per backend\n"
                     "ratio: our best / PyTorch's best")


def main(argv=None) -> int:
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.merge:
        data_list = [json.loads(p.read_text()) for p in args.merge]
        merged = {"environment": [d["environment"] for d in data_list],
                  "results": [r for d in data_list for r in d["results"]]}
        (args.out / "merged.json").write_text(json.dumps(merged, indent=1))
        table = markdown(data_list)
        (args.out / "merged.md").write_text(table)
        chart(merged["results"], args.out / "merged.png")
        print(table)
        return 0
    stem = f"results{('-' + args.tag) if args.tag else ''}"
    partial = args.out / f"{stem}.partial.json"
    data = run_benchmark(args, save=lambda d: partial.write_text(json.dumps(d, indent=1)))
    partial.unlink(missing_ok=True)
    (args.out / f"{stem}.json").write_text(json.dumps(data, indent=1))
    table = markdown([data])
    (args.out / f"{stem}.md").write_text(table)
    chart(data["results"], args.out / f"{stem}.png")
    print(table)
    print(f"\nwrote {args.out / (stem + '.json')}, {stem}.md and {stem}.png", file=sys.stderr)
    failures = [r for r in data["environment"]["skipped_runs"] if r["failure"]]
    if failures:
        print(f"{len(failures)} scratch_ae run(s) FAILED (see 'FAILED' above)", file=sys.stderr)
    if not data["results"]:
        print("nothing was measured: no backend asked for is usable here", file=sys.stderr)
    return 1 if failures or not data["results"] else 0


if __name__ == "__main__":
    sys.exit(main())
