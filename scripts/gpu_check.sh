#!/usr/bin/env bash
# One-shot evidence for the CuPy backend, fitted to a lent GPU machine: under 8 minutes, and
# everything comes back in at most 6 files.
#
#   bash scripts/gpu_check.sh OUT          (OUT: the folder whose files come back, e.g. "$OUT")
#
# The machine: a bare NVIDIA GPU (H100/H200), python3 with numpy, numba, pytest, CuPy
# (cupy-cuda13x 14.x), PyTorch; no network, so nothing is installed. The repository is used in
# place (PYTHONPATH=.); no data is needed (benchmarks use random MNIST-shaped batches).
# PYTHON=/path/to/python overrides python3.
#
# Steps, in order of importance (what must be known comes first; optional steps come last and
# get only the time that is left):
#   1. environment: nvidia-smi, versions, what scratch_ae thinks of the GPU
#   2. warm-up (scripts/gpu_warmup.py): Numba compiles its kernels; every zoo model trains one
#      step on the GPU in float32 and float64, its reconstructions checked against the CPU --
#      this fills CuPy's kernel cache, so later steps do not compile under their timeouts
#   3. SCRATCH_AE_REQUIRE_GPU=1 pytest tests/test_gpu.py -m gpu  (a missing GPU FAILS here)
#   4. benchmark: conv + stacked, batch 1024/128/32, cupy and torch-cuda, per layer too
#   5. benchmark: numba pinned to 2 cores (taskset -c 0,1, 2 threads): the baseline of the bar
#   6. optional: every other zoo model on cupy and torch-cuda
#   7. optional: conv + stacked on the CPU backends at full width (numpy, numba, torch)
#   8. merged table and verdicts (scripts/gpu_report.py), then pack
#
# Time: every step has a cap, and a step may not eat the time reserved for the required
# steps after it; the steps share a deadline of DEADLINE_S (410 s), after which only the
# merge and the report (20 s each at most) run: 7 min 50 s in the worst case. Optional steps
# cut short by the deadline are listed as such, and do not fail the run. A step is stopped with SIGINT first, so pytest
# still writes its junit report and a benchmark its partial JSON.
#
# Output: everything is written to a temporary folder and packed, after every step (so a run
# cut short still leaves what it had), into OUT/gpu_check.tgz; five files are also copied out
# loose: summary.txt, test_gpu.log, test_gpu.xml, merged.md, warmup.log.
# The last line of the output (and of summary.txt) says which steps failed, and the bar.
# Exit status: 0 when every step passed and the bar was met, 1 otherwise.
#
# Rehearsal: with PYTHONPATH=scripts/fake_cupy (NumPy posing as CuPy, see docs/GPU.md) every
# step runs on the CPU; the summary says REHEARSAL (not GPU evidence) and the bar is not judged.

set -u -o pipefail
cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
OUT=${1:-${OUT:-./gpu-out}}
mkdir -p "$OUT" || exit 1
OUT=$(cd "$OUT" && pwd)
PY=${PYTHON:-python3}
if ! command -v "$PY" > /dev/null; then
    echo "RESULT: FAILED: no $PY here (set PYTHON=/path/to/python)" | tee "$OUT/summary.txt"
    exit 1
fi
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
export CUPY_TF32=0            # full-precision float32 matrix products: parity tolerances need it
export PYTHONDONTWRITEBYTECODE=1
export PYTHONUNBUFFERED=1
unset SCRATCH_AE_BACKEND

# GPU_CHECK_TIME_SCALE=N multiplies every cap and the deadline: only to rehearse the path on a
# busy CPU, where everything takes N times longer (the run then no longer fits 8 minutes).
SCALE=${GPU_CHECK_TIME_SCALE:-1}
DEADLINE_S=${DEADLINE_S:-$((410 * SCALE))}
DEADLINE=$((SECONDS + DEADLINE_S))
TMP=$(mktemp -d "${TMPDIR:-/tmp}/gpu_check.XXXXXX") || exit 1
WORK=$TMP/gpu_check           # what goes into the tgz
mkdir -p "$WORK/bench"
SUMMARY=$WORK/summary.txt
: > "$SUMMARY"
FAILED=()     # required steps that failed, and any step that failed with an error
CUT=()        # optional steps cut short by the deadline (their partial results are kept)
PASSED=0
OPTIONAL=0    # set to 1 before the optional steps

say() { echo "$*" | tee -a "$SUMMARY"; }

# CPU_S: CPU seconds used by this script's finished children so far (user + sys). With the
# 1-minute load it tells a step that computed for long from one that waited (for the GPU, or
# for a busy machine). Not in a $(...): a subshell does not see its parent's children.
cpu_now() {
    times > "$TMP/times"
    CPU_S=$(awk 'NR == 2 { split($1, u, /[ms]/); split($2, s, /[ms]/);
                           printf "%d", u[1] * 60 + u[2] + s[1] * 60 + s[2] }' "$TMP/times")
}
load1() { cut -d' ' -f1 /proc/loadavg 2> /dev/null || echo "?"; }

# Pack WORK into OUT/gpu_check.tgz and copy the loose files out: after every step.
LOOSE=(summary.txt test_gpu.log test_gpu.xml bench/merged.md warmup.log)
snapshot() {
    tar -czf "$OUT/.gpu_check.tgz.part" -C "$TMP" gpu_check 2> /dev/null \
        && mv -f "$OUT/.gpu_check.tgz.part" "$OUT/gpu_check.tgz"
    local f
    for f in "${LOOSE[@]}"; do
        [[ -f $WORK/$f ]] && cp -f "$WORK/$f" "$OUT/$(basename "$f")"
    done
}
trap 'snapshot; rm -rf "$TMP"' EXIT
trap 'exit 143' TERM INT      # so that the EXIT trap packs what there is

# step NAME CAP RESERVE CMD...: run CMD, its output in WORK/NAME.log, for at most CAP seconds
# and never into the last RESERVE seconds before the deadline (kept for the required steps
# after this one).
step() {
    local name=$1 cap=$(($2 * SCALE)) reserve=$(($3 * SCALE)) rc
    shift 3
    local limit=$((DEADLINE - SECONDS - reserve - 10))  # 10 s: SIGINT's grace, then KILL
    ((cap < limit)) && limit=$cap
    if ((limit < 10)); then
        say "=== $name: SKIPPED, no time left (deadline ${DEADLINE_S} s, $reserve s reserved)"
        if ((OPTIONAL)); then CUT+=("$name(no time)"); else FAILED+=("$name(no time)"); fi
        return 1
    fi
    local cmd="$*"
    echo "=== $name (limit ${limit} s): ${cmd:0:200}"
    local t0=$SECONDS c0
    cpu_now
    c0=$CPU_S
    timeout -s INT --kill-after=10 "$limit" "$@" > "$WORK/$name.log" 2>&1
    rc=$?
    tail -n 30 "$WORK/$name.log"
    cpu_now
    local used="cpu $((CPU_S - c0)) s, load $(load1)"
    if ((rc == 0)); then
        say "=== $name: ok in $((SECONDS - t0)) s ($used)"
        PASSED=$((PASSED + 1))
    elif ((rc == 124 || rc == 137)); then
        say "=== $name: TIMED OUT after $((SECONDS - t0)) s ($used; limit $limit s; log: $name.log)"
        if ((OPTIONAL)); then CUT+=("$name(timeout)"); else FAILED+=("$name(timeout)"); fi
    else
        say "=== $name: FAILED with status $rc in $((SECONDS - t0)) s ($used; log: $name.log)"
        FAILED+=("$name")
    fi
    snapshot
    return $rc
}

# ------------------------------------------------------------------------------ 1. environment
{
    echo "date: $(date -u +%FT%TZ)  host: $(hostname)  commit: $(git rev-parse --short HEAD 2> /dev/null || echo unknown)"
    echo "nproc: $(nproc)  load: $(cut -d' ' -f1-3 /proc/loadavg 2> /dev/null)  python: $PY"
    if command -v nvidia-smi > /dev/null; then
        timeout 20 nvidia-smi
        timeout 20 nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv
    else
        echo "nvidia-smi: not found"
    fi
} > "$WORK/env.log" 2>&1
head -n 2 "$WORK/env.log" | tee -a "$SUMMARY"
((SCALE != 1)) && say "GPU_CHECK_TIME_SCALE=$SCALE: every cap and the deadline x $SCALE"
FAKE=$("$PY" -c 'import cupy; print(int(getattr(cupy, "FAKE", False)))' 2> /dev/null || echo 0)
if ((FAKE)); then
    say "REHEARSAL: cupy is fake_cupy (NumPy on the CPU). Nothing here is GPU evidence."
fi
step versions 45 330 "$PY" -c '
import importlib, platform
print("python", platform.python_version(), platform.platform())
for m in ("numpy", "numba", "cupy", "pytest", "hypothesis", "torch", "sklearn", "matplotlib", "tqdm",
          "threadpoolctl"):
    try:
        print(f"{m:<14}", importlib.import_module(m).__version__)
    except Exception as exc:
        print(f"{m:<14} not available ({type(exc).__name__}: {exc})")
from scratch_ae import backend
print("scratch_ae backends:", backend.available_backends())
ok, why = backend.cuda_available()
print("cupy backend usable:", ok, why)
if ok:
    import cupy
    p = cupy.cuda.runtime.getDeviceProperties(0)
    print("device:", p["name"], "cc", p["major"], p["minor"], "runtime",
          cupy.cuda.runtime.runtimeGetVersion(), "driver", cupy.cuda.runtime.driverGetVersion())
try:
    import torch
    print("torch cuda:", torch.version.cuda, torch.cuda.is_available())
except ImportError:
    pass
'
GPU_OK=$("$PY" -c 'from scratch_ae import backend; print(int(backend.cuda_available()[0]))' 2> /dev/null || echo 0)
say "GPU usable by scratch_ae: $( ((GPU_OK)) && echo yes || echo NO)"

# ------------------------------------------------------------------------------ 2. warm-up
# Compiling is slow and unpredictable, so it happens here, once, rather than under the caps of
# the steps after it (expected: about 90 s on a fresh machine). Reserved: 100 s for the tests
# and 60 s each for the two required benchmarks.
step warmup 120 220 "$PY" scripts/gpu_warmup.py "$WORK/warmup.json"

# ------------------------------------------------------------------------------ 3. GPU tests
# The tests are small: their time goes to launching kernels from Python, one CPU core each, so
# with pytest-xdist (there on the GPU machine) 8 processes share the GPU. GPU_CHECK_WORKERS
# overrides (0: one process). pytest-timeout, when there, fails a hung test and goes on.
PYTEST=("$PY" -m pytest tests/test_gpu.py -m gpu -q -rs --durations=15 -p no:cacheprovider
        --junitxml="$WORK/test_gpu.xml")
WORKERS=${GPU_CHECK_WORKERS:-$( (($(nproc) >= 16)) && echo 8 || echo 0)}
if ((WORKERS > 0)) && "$PY" -c 'import xdist' 2> /dev/null; then
    PYTEST+=(-n "$WORKERS")
fi
"$PY" -c 'import pytest_timeout' 2> /dev/null && PYTEST+=(--timeout=150)
step test_gpu 180 120 env SCRATCH_AE_REQUIRE_GPU=1 "${PYTEST[@]}"

# ------------------------------------------------------------------------------ 4-7. benchmarks
# conv and batch 1024 first: a run cut short keeps (in its partial JSON) the bar's numbers.
BENCH=("$PY" benchmarks/cpu_vs_gpu.py --quick)
GPU_BATCHES=(1024 128 32)
if ((FAKE)); then
    GPU_BATCHES=(128 32)
    say "REHEARSAL: the 'GPU' benchmarks run at batch 128 and 32 only (on fake_cupy they are NumPy)"
fi
step bench_gpu 70 60 "${BENCH[@]}" --models conv stacked --batches "${GPU_BATCHES[@]}" \
    --layer-models conv stacked --backends cupy torch-cuda torch-native-cuda \
    --out "$WORK/bench/gpu"

# The bar's baseline: the training step only (no per-layer timing), the same on every machine.
PIN=()
if command -v taskset > /dev/null && (($(nproc) >= 2)); then
    PIN=(taskset -c 0,1)
else
    say "taskset not found (or < 2 CPUs): the 2-core run is limited by thread counts only"
fi
step bench_numba_2cores 120 0 env NUMBA_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 OMP_NUM_THREADS=2 \
    MKL_NUM_THREADS=2 "${PIN[@]}" "${BENCH[@]}" --models conv stacked --batches 1024 128 32 \
    --layer-models --backends numba --threads 2 --tag 2cores --out "$WORK/bench/2cores"

# Optional: only the time left before the deadline. Cut short, they do not fail the run (an
# error in them does).
OPTIONAL=1
if ((GPU_OK)); then
    mapfile -t OTHERS < <("$PY" -c 'from scratch_ae.models import zoo
print("\n".join(m for m in zoo.RECIPES if m not in ("stacked", "conv")))')
    step bench_zoo_gpu 60 0 "${BENCH[@]}" --models "${OTHERS[@]}" \
        --batches "${GPU_BATCHES[@]}" --layer-models --backends cupy torch-cuda torch-native-cuda \
        --out "$WORK/bench/zoo"
else
    say "=== bench_zoo_gpu: skipped (no usable GPU)"
fi
step bench_cpu 60 0 "${BENCH[@]}" --models conv stacked --batches 1024 128 32 --layer-models \
    --backends numpy numba torch torch-native --out "$WORK/bench/cpu"

# ------------------------------------------------------------------------------ 8. merge, verdicts
# After the deadline: these two are short and what the run is for.
OPTIONAL=0
DEADLINE=$((SECONDS + 60 * SCALE))
mapfile -t JSONS < <(for d in gpu 2cores zoo cpu; do
    ls "$WORK/bench/$d"/results*.json 2> /dev/null | grep -v partial \
        || ls "$WORK/bench/$d"/results*.partial.json 2> /dev/null  # a run cut short
done)
if ((${#JSONS[@]})); then
    step bench_merge 20 0 "$PY" benchmarks/cpu_vs_gpu.py --merge "${JSONS[@]}" --out "$WORK/bench"
else
    say "=== bench_merge: no benchmark results to merge"
    FAILED+=("bench_merge(no results)")
fi
REPORT=("$PY" scripts/gpu_report.py "$WORK")
((FAKE)) && REPORT+=(--rehearsal)
timeout $((20 * SCALE)) "${REPORT[@]}" 2>&1 | tee -a "$SUMMARY"
BAR_STATUS=${PIPESTATUS[0]}
BAR=$(cat "$WORK/bar.txt" 2> /dev/null || echo "BAR: NOT MEASURED (the report failed: status $BAR_STATUS)")

say "total: $SECONDS s (deadline ${DEADLINE_S} s for the steps); files in $OUT"
NOTE=""
((${#CUT[@]})) && NOTE=" (optional, cut short by the deadline: ${CUT[*]})"
if ((FAKE)); then
    # A rehearsal passes when every step passed; the bar needs a real GPU.
    if ((${#FAILED[@]})); then
        say "RESULT: REHEARSAL on fake_cupy, NOT GPU evidence: FAILED: ${FAILED[*]}$NOTE; $BAR"
        exit 1
    fi
    say "RESULT: REHEARSAL on fake_cupy, NOT GPU evidence: all $PASSED steps passed$NOTE; $BAR"
    exit 0
fi
((BAR_STATUS == 0)) || FAILED+=("bar")
if ((${#FAILED[@]})); then
    say "RESULT: FAILED: ${FAILED[*]}$NOTE; $BAR"
    exit 1
fi
say "RESULT: all $PASSED steps passed$NOTE; $BAR"
exit 0
