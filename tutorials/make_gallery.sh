#!/usr/bin/env bash
# Regenerate tutorials/gallery/ from full MNIST with the numba backend (see tutorials/README.md).
# Threads: the library's policy picks them (scratch_ae/threads.py: free cores, never BLAS and
# Numba both parallel, a timed trial at the start of every fit); OPENBLAS_NUM_THREADS,
# NUMBA_NUM_THREADS or OMP_NUM_THREADS, when set, win as usual.
set -euo pipefail
cd "$(dirname "$0")/.."
exec python -m tutorials.run_all --dataset mnist "$@"
