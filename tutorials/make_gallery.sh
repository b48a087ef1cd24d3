#!/usr/bin/env bash
# Regenerate tutorials/gallery/ and the numbers in tutorials/README.md, from a clean state:
# every model is trained (runs/gallery-weights is emptied first; runs/weights is not touched),
# every lesson runs on full MNIST with the numba backend, then tutorials/summary.py rewrites
# the README's number blocks from the new metrics.json files. The whole run's wall time,
# commit, cores, load and peak memory go into tutorials/gallery/run.json.
# Threads: the library's policy picks them (scratch_ae/threads.py); OPENBLAS_NUM_THREADS,
# NUMBA_NUM_THREADS or OMP_NUM_THREADS, when set, win as usual.
set -euo pipefail
cd "$(dirname "$0")/.."
GALLERY_COMMAND="bash tutorials/make_gallery.sh${*:+ $*}" \
    python -m tutorials.run_all --dataset mnist --fresh "$@"
python -m tutorials.summary
