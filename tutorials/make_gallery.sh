#!/usr/bin/env bash
# Regenerate tutorials/gallery/ from full MNIST with the numba backend (see tutorials/README.md).
# One BLAS/OpenMP thread per process: on a shared 2-core machine more threads only fight.
set -euo pipefail
cd "$(dirname "$0")/.."
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1} OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
exec python -m tutorials.run_all --dataset mnist "$@"
