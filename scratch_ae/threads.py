"""How many threads BLAS and Numba may use, chosen so that they never fight over the cores.

Two thread pools live in one training process: the BLAS library under NumPy's ``@`` (OpenBLAS
or MKL) and Numba's parallel kernels. Both keep their idle workers spinning for a while after
each call, waiting for more work. When the two pools together ask for more threads than there
are free cores -- both parallel at once, or one pool on a machine where another program keeps a
core busy -- a spinning worker holds the core that the thread doing the real work needs next,
and every short call waits for the scheduler. On two cores we measured small training steps
running 6x to 10x slower that way. So the rule is:

* never both pools parallel at once: the backend's heavy side gets the threads, the other one 1
  (numpy backend: BLAS does all the arithmetic; numba backend: see ``PARALLEL_SIDE``);
* only as many threads as there are *free* cores, measured over a fifth of a second when the
  policy is chosen (the CPU time other programs used, from ``/proc/stat``);
* and then a trial, because a fifth of a second can catch a busy machine at a quiet moment,
  and because which side should be parallel depends on the model: when the automatic choice is
  more than one thread, ``fit`` times its first steps with it, on the numba backend the next
  ones with the other side parallel (dense models live in BLAS's GEMMs; conv models gain more
  from running their pieces side by side), then some with 1 thread, and keeps the fastest
  parallel setting only if it was at least ``TRIAL_MARGIN`` faster than 1 thread
  (:class:`Trial`);
* the usual environment variables win over the automatic choice: ``OPENBLAS_NUM_THREADS``,
  ``MKL_NUM_THREADS`` or ``OMP_NUM_THREADS`` for BLAS, ``NUMBA_NUM_THREADS`` (or
  ``OMP_NUM_THREADS``) for Numba; and :func:`set_threads` wins over everything.

``fit`` calls :func:`ensure` before its first step (and so does the first use of the Numba fast
paths),
so a user never has to know any of this; ``scratch-ae info`` prints what was chosen and why.
BLAS threads are set at run time with threadpoolctl, Numba's with ``numba.set_num_threads``.
"""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass

from .callbacks import Callback

# Which pool gets the threads when the numba backend runs: the GEMMs (BLAS) or the im2col,
# col2im, pooling and activation loops (Numba). BLAS: the GEMMs are the larger share of a step
# (benchmarks/compare_torch.py --both-pools also times both pools parallel, for comparison).
PARALLEL_SIDE = {"numpy": "blas", "numba": "blas", "cupy": "blas"}
BLAS_ENV = ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS")
NUMBA_ENV = ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS")
# An automatic choice is reused for this long before the free cores are measured again.
REMEASURE_S = 60.0
SAMPLE_S = 0.2
# The trial: steps skipped after each switch (warm-up), steps timed per turn, turns per
# setting (taken in turn, A B C A B C; each setting's best turn counts, since noise only ever
# slows a turn down), and how much faster the parallel setting must be to be kept. The margin
# bounds what the safe choice can cost: one thread is kept only when a parallel setting was
# less than 5% faster. At 1.10 with a single turn, one of two quiet runs of benchmarks/
# busy_core.py took as long as one thread (1.16x the best hand-set time), where the parallel
# settings were 1.12-1.15x faster than one thread.
TRIAL_SKIP, TRIAL_STEPS, TRIAL_ROUNDS, TRIAL_MARGIN = 3, 12, 2, 1.05


@dataclass(frozen=True)
class ThreadPolicy:
    """The thread counts in force and why they were chosen."""

    blas: int
    numba: int
    reason: str
    backend: str = "numpy"
    source: str = "auto"  # "auto", "env" or "set_threads"

    def __str__(self):
        return f"BLAS {self.blas}, Numba {self.numba} ({self.reason})"


_state = {"policy": None, "chosen_at": 0.0, "explicit": False}


def usable_cores() -> int:
    """CPUs this process may run on (its affinity mask, which containers and taskset narrow)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _cpu_jiffies():
    """``(busy, niced)`` CPU ticks of the whole machine so far, or None without /proc/stat."""
    try:
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    user, nice, system, idle, iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    return user + system + irq + softirq + steal, nice


def busy_cores(seconds: float = SAMPLE_S) -> float | None:
    """How many cores other programs kept busy over ``seconds`` (None when unknown).

    Our own CPU time in that window is subtracted. Programs running under ``nice`` count too:
    measured, a parallel GEMM waits for its second thread just as long behind them.
    """
    before, own0, t0 = _cpu_jiffies(), os.times(), time.perf_counter()
    if before is None:
        return None
    time.sleep(seconds)
    after, own1, t1 = _cpu_jiffies(), os.times(), time.perf_counter()
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    busy = (after[0] - before[0] + after[1] - before[1]) / tick
    own = (own1.user - own0.user) + (own1.system - own0.system)
    return max(0.0, busy - own) / max(t1 - t0, 1e-3)


def _env_int(names):
    """``(value, name)`` of the first of ``names`` set to a positive integer, else (None, None)."""
    for name in names:
        raw = os.environ.get(name, "").strip()
        if raw:
            try:
                value = int(raw)
            except ValueError:
                raise ValueError(f"${name} must be a positive integer, got {raw!r}") from None
            if value < 1:
                raise ValueError(f"${name} must be a positive integer, got {raw!r}")
            return value, name
    return None, None


def choose(backend_name: str = "numpy", n: int | None = None) -> ThreadPolicy:
    """The policy for ``backend_name`` (without applying it).

    ``n`` is the number of threads for the backend's parallel side; None measures the free
    cores. Environment variables, when set, override the matching pool.
    """
    cores = usable_cores()
    blas_env, blas_name = _env_int(BLAS_ENV)
    numba_env, numba_name = _env_int(NUMBA_ENV)
    parts = []
    if n is None and (blas_env is None or numba_env is None):
        busy = busy_cores()
        if busy is None or cores == 1:
            n, why = cores, f"{cores} usable core(s)"
        else:
            # Round generously towards fewer threads: a thread short costs at most its share,
            # a thread too many can cost several times the whole step.
            n = max(1, min(cores, int(cores - busy + 0.25)))
            why = f"{cores} usable cores, {busy:.1f} kept busy by other programs"
        parts.append(why)
    elif n is not None:
        n = max(1, int(n))
        parts.append(f"{n} asked for")
    side = PARALLEL_SIDE.get(backend_name, "blas")
    blas = numba = 1
    if n is not None:
        blas, numba = (n, 1) if side == "blas" else (1, n)
    if blas_env is not None:
        blas = blas_env
        parts.append(f"BLAS from ${blas_name}")
        if numba_env is None and blas_env > 1:
            numba = 1
    if numba_env is not None:
        numba = numba_env
        parts.append(f"Numba from ${numba_name}")
        if blas_env is None and numba_env > 1:
            blas = 1
    if blas_env is None and numba_env is None:
        parts.append(f"{side} parallel for the {backend_name} backend, the other pool 1")
    elif blas > 1 and numba > 1:
        parts.append("both parallel: set by the environment, may oversubscribe the cores")
    source = "env" if (blas_env or numba_env) else "auto"
    return ThreadPolicy(blas, numba, "; ".join(parts), backend_name, source)


def apply(policy: ThreadPolicy) -> ThreadPolicy:
    """Put ``policy`` in force for this process; returns it."""
    # Numba's OpenMP workers spin for a while after each parallel loop by default, stealing the
    # cores that BLAS and the main thread need next (a short loop then waits up to a scheduler
    # tick, 4-12 ms, for a descheduled worker). Passive waiting avoids that; it must be set
    # before OpenMP starts, i.e. before numba.set_num_threads below. A value the user set wins.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=policy.blas, user_api="blas")
    except ImportError:  # a dependency, but the library still runs without it
        pass
    try:
        import numba

        # Numba cannot go above the pool size it started with (NUMBA_NUM_THREADS).
        numba.set_num_threads(max(1, min(policy.numba, numba.config.NUMBA_NUM_THREADS)))
    except ImportError:
        pass
    _state["policy"] = policy
    _state["chosen_at"] = time.monotonic()
    return policy


def ensure(backend_name: str = "numpy") -> ThreadPolicy:
    """Choose and apply a policy unless one for this backend is in force (``fit`` calls this).

    A choice made by :func:`set_threads` is kept; an automatic one is re-measured when the
    backend changes or after ``REMEASURE_S`` seconds.
    """
    policy = _state["policy"]
    if policy is not None and (
        _state["explicit"]
        or (policy.backend == backend_name
            and time.monotonic() - _state["chosen_at"] < REMEASURE_S)
    ):
        return policy
    return apply(choose(backend_name))


def set_threads(n: int | None = None, *, blas: int | None = None, numba: int | None = None,
                backend_name: str | None = None) -> ThreadPolicy:
    """Set the thread counts yourself; they hold until the next call (``fit`` keeps them).

    * ``set_threads(1)``: everything single-threaded (best on a busy machine);
    * ``set_threads(2)``: 2 threads for the backend's parallel side, 1 for the other pool;
    * ``set_threads(blas=2, numba=1)``: each pool by hand (both above 1 is allowed, not wise);
    * ``set_threads()``: back to the automatic choice, made again now.
    """
    # The backend's name is passed in (the CLI and fit know it): threads.py does not import
    # backend.py, which imports this module.
    policy = _state["policy"]
    name = backend_name or (policy.backend if policy is not None else "numpy")
    if n is None and blas is None and numba is None:
        _state["explicit"] = False
        return apply(choose(name))
    for label, v in (("n", n), ("blas", blas), ("numba", numba)):
        if v is not None and (not isinstance(v, int) or v < 1):
            raise ValueError(f"set_threads: {label} must be a positive integer, got {v!r}")
    side = PARALLEL_SIDE.get(name, "blas")
    if n is not None:
        b, m = (n, 1) if side == "blas" else (1, n)
    else:
        b, m = 1, 1
    b = blas if blas is not None else b
    m = numba if numba is not None else m
    _state["explicit"] = True
    return apply(ThreadPolicy(b, m, "set by set_threads()", name, "set_threads"))


def current() -> ThreadPolicy | None:
    """The policy in force, or None before the first :func:`ensure` or :func:`set_threads`."""
    return _state["policy"]


class Trial(Callback):
    """Time a few training steps with each sensible setting; keep the fastest (a fit callback).

    When ``fit`` starts (:meth:`on_train_begin`) the policy for the backend is put in force
    (:func:`ensure`). When it is automatic and parallel, the candidates take turns of
    ``TRIAL_SKIP + TRIAL_STEPS`` steps, ``TRIAL_ROUNDS`` rounds of them: first the policy in
    force, then on the numba backend the other side parallel (BLAS 1, the Numba side at n: its
    loops, and the conv layers' pieces side by side), last 1 thread everywhere. Each
    candidate's best turn is its rate. The fastest parallel setting is kept only if it beat one
    thread by ``TRIAL_MARGIN``; otherwise 1 thread is. Every trial step is a real training step.
    """

    def __init__(self, backend_name: str):
        self.backend_name, self.active = backend_name, False

    def on_train_begin(self, model):
        policy = ensure(self.backend_name)
        self.active = policy.source == "auto" and max(policy.blas, policy.numba) > 1
        self.parallel, self.phase, self.count = policy, 0, 0
        self.candidates = [policy]
        self.seconds = self.samples = 0.0
        if not self.active:
            return
        n = max(policy.blas, policy.numba)
        if self.backend_name == "numba":  # the side the policy did not pick, at the same n
            b, m = (1, n) if policy.blas > 1 else (n, 1)
            side = "BLAS" if b > 1 else "Numba"
            self.candidates.append(ThreadPolicy(b, m, f"{policy.reason}; {side} side tried",
                                                self.backend_name, "auto"))
        self.candidates.append(ThreadPolicy(1, 1, "trial of 1 thread", self.backend_name, "auto"))
        # A B C A B C: which candidate each turn runs, and each candidate's best rate so far
        self.turns = list(range(len(self.candidates))) * TRIAL_ROUNDS
        self.rates = [0.0] * len(self.candidates)

    def on_batch_begin(self, xb, tb):
        if self.active:
            self.t0, self.n = time.perf_counter(), xb.shape[0]

    def on_batch_end(self, tally):
        if not self.active:
            return
        seconds = time.perf_counter() - self.t0
        self.count += 1
        if self.count > TRIAL_SKIP:
            self.seconds += seconds
            self.samples += self.n
        if self.count == TRIAL_SKIP + TRIAL_STEPS:
            i = self.turns[self.phase]
            self.rates[i] = max(self.rates[i], self.samples / max(self.seconds, 1e-9))
            self.count, self.seconds, self.samples = 0, 0.0, 0.0
            self.phase += 1
            if self.phase < len(self.turns):
                apply(self.candidates[self.turns[self.phase]])
            else:
                self._decide()

    def _decide(self):
        *par_rates, one = self.rates
        best = max(range(len(par_rates)), key=par_rates.__getitem__)
        par, p = par_rates[best], self.candidates[best]
        tried = ", ".join(f"BLAS {c.blas} Numba {c.numba}: {r:,.0f}"
                          for c, r in zip(self.candidates, self.rates, strict=True))
        if par >= TRIAL_MARGIN * one:
            apply(ThreadPolicy(p.blas, p.numba, f"{self.parallel.reason}; kept BLAS {p.blas}, "
                               f"Numba {p.numba} after a trial (samples/s, {tried})",
                               p.backend, "auto"))
        else:
            apply(ThreadPolicy(1, 1, f"{self.parallel.reason}; but 1 thread won a trial "
                               f"(samples/s, {tried})", p.backend, "auto"))
        self.active = False


# --------------------------------------------------------------------------------------------
# the pieces' threads: how the Numba fast paths run a conv layer's pieces side by side
#
# Python threads (every Numba loop of the conv fast paths releases the GIL, nogil, and so does
# NumPy's BLAS): the calling thread and helpers, as many threads in all as the policy gives
# the Numba side. The helpers sleep on a lock between layers; they never spin, so they cannot
# steal a core from BLAS or the main thread.

_pieces = {"size": 0, "executor": None}
_piece_thread = threading.local()


def on_piece_thread() -> bool:
    """Whether the caller is one of the pieces' threads (its loops must then run serially: a
    thread pool inside a thread pool would only oversubscribe the cores)."""
    return getattr(_piece_thread, "active", False)


@contextmanager
def as_piece_thread(active: bool = True):
    """Make the calling thread count as a piece's thread for a block (to compile or test the
    serial loops)."""
    saved = on_piece_thread()
    _piece_thread.active = active
    try:
        yield
    finally:
        _piece_thread.active = saved


def _mark_piece_thread():
    _piece_thread.active = True


def run_pieces(fn, pieces: list) -> list:
    """``[fn(p) for p in pieces]``, in order; side by side on the Numba side's threads when the
    policy gives it several (``current().numba``) and there is more than one piece.

    BLAS is at 1 thread whenever the Numba side is parallel (:func:`choose`), so one piece is
    one core. The results are those of running the pieces one after the other: every piece is
    computed alone, and callers combine the results in list order.

    The pieces go in contiguous groups, one per thread, and the calling thread works through
    the first group itself: waking a sleeping thread costs tens of microseconds on a busy
    machine, so a batch of 8 pieces on 2 cores wakes one helper once, not a helper per piece.
    """
    policy = _state["policy"]
    n_threads = policy.numba if policy is not None else 1
    size = min(n_threads, len(pieces))  # groups, the caller's included
    if size <= 1 or on_piece_thread():
        return [fn(p) for p in pieces]
    if _pieces["size"] != n_threads - 1:  # helpers; the caller is a thread too
        if _pieces["executor"] is not None:
            _pieces["executor"].shutdown(wait=True)
        _pieces["executor"] = ThreadPoolExecutor(n_threads - 1,
                                                 thread_name_prefix="scratch_ae-piece",
                                                 initializer=_mark_piece_thread)
        _pieces["size"] = n_threads - 1
    bounds = [len(pieces) * i // size for i in range(size + 1)]
    groups = [pieces[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]

    def run(group):
        return [fn(p) for p in group]

    helpers = [_pieces["executor"].submit(run, group) for group in groups[1:]]
    try:
        with as_piece_thread():
            first = run(groups[0])
    finally:  # the helpers' pieces write into the caller's arrays: never leave them running
        wait(helpers)
    return first + [r for h in helpers for r in h.result()]
