"""scratch_ae/threads.py: the thread policy: never BLAS and Numba parallel at once, no more
threads than free cores, environment variables and set_threads() win, and fit applies it."""

import numba
import numpy as np
import pytest
from threadpoolctl import threadpool_info

from scratch_ae import Dense, Sequential, set_threads, threads
from scratch_ae.cli import main as cli_main

ENV = ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS", "NUMBA_NUM_THREADS")


@pytest.fixture(autouse=True)
def _restore_policy(monkeypatch, threads_restored):
    """Each test starts with no thread variables set and leaves the policy as it found it."""
    for name in ENV:
        monkeypatch.delenv(name, raising=False)


def _machine(monkeypatch, cores, busy):
    monkeypatch.setattr(threads, "usable_cores", lambda: cores)
    monkeypatch.setattr(threads, "busy_cores", lambda seconds=0: busy)


def _blas_threads():
    return [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]


@pytest.mark.parametrize("backend_name", ["numpy", "numba"])
@pytest.mark.parametrize("cores", [1, 2, 4, 16])
def test_auto_never_makes_both_pools_parallel(monkeypatch, backend_name, cores):
    _machine(monkeypatch, cores, busy=0.0)
    p = threads.choose(backend_name)
    assert min(p.blas, p.numba) == 1
    assert max(p.blas, p.numba) == cores  # a quiet machine: every core to the parallel side
    side = threads.PARALLEL_SIDE[backend_name]
    assert (p.blas if side == "blas" else p.numba) == cores
    assert p.source == "auto" and f"{cores} usable core" in p.reason


@pytest.mark.parametrize(("cores", "busy", "want"), [
    (2, 1.0, 1),   # another program keeps one core busy: one thread, not two fighting it
    (2, 0.9, 1),
    (2, 0.3, 1),   # in doubt, fewer threads
    (2, 0.1, 2),
    (4, 2.0, 2),
    (2, 3.5, 1),   # never fewer than one
])
def test_busy_cores_are_left_alone(monkeypatch, cores, busy, want):
    _machine(monkeypatch, cores, busy)
    p = threads.choose("numpy")
    assert (p.blas, p.numba) == (want, 1)
    assert f"{busy:.1f} kept busy" in p.reason


def test_environment_variables_win(monkeypatch):
    _machine(monkeypatch, 2, busy=0.0)
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")
    p = threads.choose("numpy")
    assert p.blas == 1 and "$OPENBLAS_NUM_THREADS" in p.reason and p.source == "env"

    monkeypatch.delenv("OPENBLAS_NUM_THREADS")
    monkeypatch.setenv("NUMBA_NUM_THREADS", "2")
    p = threads.choose("numba")
    assert (p.blas, p.numba) == (1, 2)  # Numba parallel by request, so BLAS steps back

    monkeypatch.delenv("NUMBA_NUM_THREADS")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # the catch-all: both pools
    assert (threads.choose("numba").blas, threads.choose("numba").numba) == (1, 1)


def test_a_bad_environment_variable_is_named(monkeypatch):
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "two")
    with pytest.raises(ValueError, match=r"\$OPENBLAS_NUM_THREADS must be a positive integer"):
        threads.choose("numpy")


def test_set_threads_applies_and_fit_keeps_it(monkeypatch, rng):
    set_threads(1)
    assert _blas_threads() and set(_blas_threads()) == {1}
    assert numba.get_num_threads() == 1
    assert threads.current().source == "set_threads"
    # fit would choose 2 threads on this (pretended) quiet machine, but an explicit choice holds.
    _machine(monkeypatch, 2, busy=0.0)
    model = Sequential([Dense(4, 4)], loss="mse")
    model.fit(rng.random((8, 4), dtype=np.float32), epochs=1, batch_size=4, verbose=False)
    assert set(_blas_threads()) == {1} and threads.current().source == "set_threads"

    p = set_threads(blas=2, numba=1)
    assert (p.blas, p.numba) == (2, 1) and set(_blas_threads()) == {2}
    with pytest.raises(ValueError, match="positive integer"):
        set_threads(0)


def test_fit_chooses_a_policy_when_none_was_set(monkeypatch, rng):
    threads._state.update(policy=None, explicit=False)
    _machine(monkeypatch, 2, busy=1.0)
    model = Sequential([Dense(4, 4)], loss="mse")
    model.fit(rng.random((8, 4), dtype=np.float32), epochs=1, batch_size=4, verbose=False)
    p = threads.current()
    assert (p.blas, p.numba, p.source) == (1, 1, "auto")
    assert set(_blas_threads()) == {1}


def test_busy_cores_leaves_out_our_own_work(monkeypatch):
    # /proc/stat says the machine did 0.2 s of work in the window, all of it ours.
    ticks = iter([(1000, 0), (1020, 0)])
    monkeypatch.setattr(threads, "_cpu_jiffies", lambda: next(ticks))
    times = iter([(1.0, 0.0), (1.2, 0.0)])

    class T:
        def __init__(self, u, s):
            self.user, self.system = u, s

    monkeypatch.setattr(threads.os, "times", lambda: T(*next(times)))
    monkeypatch.setattr(threads.os, "sysconf", lambda name: 100)
    assert threads.busy_cores(0.01) == pytest.approx(0.0, abs=1e-9)


def test_info_says_what_was_chosen_and_why(capsys):
    assert cli_main(["info", "--no-warmup"]) == 0
    out = capsys.readouterr().out
    line = next(s for s in out.splitlines() if s.startswith("thread policy:"))
    assert "BLAS" in line and "Numba" in line and "(" in line


def _started(trial):
    trial.on_train_begin(None)  # as fit does: the policy in force is the first candidate
    return trial


def _step(trial, clock, seconds, batch=32):
    """One training step as fit runs it, taking ``seconds`` on the patched clock."""
    trial.on_batch_begin(np.zeros((batch, 1)), None)
    clock["t"] += seconds
    trial.on_batch_end(None)


@pytest.mark.parametrize(("parallel_s", "single_s", "kept"), [
    (1.0, 0.5, False),   # one thread was twice as fast: it wins
    (0.5, 1.0, True),    # the parallel setting was twice as fast: it stays
    (0.97, 1.0, False),  # 3% faster is within noise: one thread is the safe choice
    (0.9, 1.0, True),    # 11% faster: worth it
])
def test_the_trial_keeps_parallel_threads_only_when_they_win(monkeypatch, parallel_s,
                                                               single_s, kept):
    threads.apply(threads.ThreadPolicy(2, 1, "2 usable cores", "numpy", "auto"))
    clock = {"t": 0.0}
    monkeypatch.setattr(threads.time, "perf_counter", lambda: clock["t"])
    trial = _started(threads.Trial("numpy"))
    assert trial.active
    n = threads.TRIAL_SKIP + threads.TRIAL_STEPS
    seen = []
    turns = 2 * threads.TRIAL_ROUNDS
    for _ in range(turns * n + 5):
        in_force = threads.current()
        _step(trial, clock, parallel_s if in_force.blas == 2 else single_s)
        seen.append(in_force.blas)
    # each setting had its turns, taken in turn: A B A B
    assert seen[:turns * n] == ([2] * n + [1] * n) * threads.TRIAL_ROUNDS
    p = threads.current()
    assert (p.blas == 2) is kept and not trial.active
    assert ("after a trial" if kept else "1 thread won a trial") in p.reason


@pytest.mark.parametrize(("blas_s", "numba_s", "want"), [
    (0.5, 0.4, (1, 2)),   # the Numba side (conv pieces side by side) was fastest
    (0.4, 0.5, (2, 1)),   # BLAS's threads were fastest
    (0.98, 0.97, (1, 1)),  # neither beat one thread by TRIAL_MARGIN
])
def test_the_numba_trial_tries_both_sides_and_one_thread(monkeypatch, blas_s, numba_s, want):
    threads.apply(threads.ThreadPolicy(2, 1, "2 usable cores", "numba", "auto"))
    clock = {"t": 0.0}
    monkeypatch.setattr(threads.time, "perf_counter", lambda: clock["t"])
    trial = _started(threads.Trial("numba"))
    n = threads.TRIAL_SKIP + threads.TRIAL_STEPS
    seen = []
    for _ in range(3 * threads.TRIAL_ROUNDS * n + 5):
        p = threads.current()
        _step(trial, clock, {(2, 1): blas_s, (1, 2): numba_s, (1, 1): 1.0}[(p.blas, p.numba)])
        seen.append((p.blas, p.numba))
    assert seen[:3 * threads.TRIAL_ROUNDS * n] == (
        [(2, 1)] * n + [(1, 2)] * n + [(1, 1)] * n) * threads.TRIAL_ROUNDS
    assert (threads.current().blas, threads.current().numba) == want and not trial.active
    assert all(f"{r:,.0f}" in threads.current().reason for r in (32 / blas_s, 32 / numba_s, 32))


def test_the_trial_counts_each_settings_best_turn(monkeypatch):
    """Noise only slows a turn down: one bad turn of the parallel setting (another program
    woke up) must not hand the run to one thread when its other turn was clearly faster."""
    threads.apply(threads.ThreadPolicy(2, 1, "2 usable cores", "numpy", "auto"))
    clock = {"t": 0.0}
    monkeypatch.setattr(threads.time, "perf_counter", lambda: clock["t"])
    trial = _started(threads.Trial("numpy"))
    n = threads.TRIAL_SKIP + threads.TRIAL_STEPS
    turn = {"parallel": 0}
    for _ in range(2 * threads.TRIAL_ROUNDS * n):
        p = threads.current()
        if p.blas == 2:  # the parallel setting: slow (3 s a step) in its first turn only
            seconds = 3.0 if turn["parallel"] < n else 0.8
            turn["parallel"] += 1
        else:
            seconds = 1.0
        _step(trial, clock, seconds)
    assert not trial.active and threads.current().blas == 2


def test_no_trial_for_explicit_or_single_thread_policies():
    set_threads(2)
    assert not _started(threads.Trial("numpy")).active
    threads.apply(threads.ThreadPolicy(1, 1, "busy", "numpy", "auto"))
    assert not _started(threads.Trial("numpy")).active


def test_run_pieces_gives_each_thread_a_group_and_keeps_the_order():
    """run_pieces: the results in the pieces' order; the caller works through the first
    contiguous group itself (as a piece thread), a helper through the rest."""
    import threading  # noqa: PLC0415

    set_threads(blas=1, numba=2, backend_name="numba")
    got = threads.run_pieces(
        lambda p: (p, threading.current_thread().name, threads.on_piece_thread()), list(range(7)))
    assert [p for p, _, _ in got] == list(range(7))
    names = [name for _, name, _ in got]
    assert names[:3] == [threading.current_thread().name] * 3  # groups of 3 and 4
    assert all(name.startswith("scratch_ae-piece") for name in names[3:])
    assert all(flag for _, _, flag in got) and not threads.on_piece_thread()


def test_run_pieces_waits_for_the_helpers_when_the_callers_group_fails():
    import time  # noqa: PLC0415

    set_threads(blas=1, numba=2, backend_name="numba")
    done = []

    def piece(p):
        if p == 0:
            raise ValueError("piece 0")
        time.sleep(0.2)
        done.append(p)

    with pytest.raises(ValueError, match="piece 0"):
        threads.run_pieces(piece, [0, 1])
    assert done == [1]  # the helper's piece finished before the error reached the caller
