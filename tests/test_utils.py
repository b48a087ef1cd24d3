"""scratch_ae/utils.py: ``atomic_write`` leaves under its name either the old file or the whole
new one: never a half-written file, never a temporary file left behind (an error or Ctrl-C
mid-write included), and the permissions any new file gets, not ``mkstemp``'s private 0600.
"""

import os

import pytest

from scratch_ae import backend, io
from scratch_ae.models import zoo


def _stacked(seed):
    backend.seed(seed)
    return zoo.build("stacked")


def test_failed_save_leaves_old_file_and_no_temp(tmp_path):
    path = io.save_model(_stacked(0), tmp_path / "m.npz")
    original = path.read_bytes()

    def boom(f):
        f.write(b"partial")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        io.atomic_write(path, boom)
    assert path.read_bytes() == original
    assert os.listdir(tmp_path) == ["m.npz"]
