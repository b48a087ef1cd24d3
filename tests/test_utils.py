"""scratch_ae/utils.py: ``atomic_write`` leaves under its name either the old file or the whole
new one: never a half-written file, never a temporary file left behind (an error or Ctrl-C
mid-write included), and the permissions any new file gets, not ``mkstemp``'s private 0600.
"""

import os
import stat
from pathlib import Path

import pytest

from scratch_ae import backend, io, utils
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


def test_a_new_file_holds_what_was_written_and_its_folders_are_made(tmp_path):
    path = tmp_path / "a" / "b" / "f.bin"
    got = utils.atomic_write(str(path), lambda f: f.write(b"hello"))
    assert isinstance(got, Path) and got == path
    assert path.read_bytes() == b"hello"
    assert os.listdir(path.parent) == ["f.bin"]  # the temporary file was renamed, not copied


def test_an_existing_file_is_replaced_by_a_rename_not_rewritten_in_place(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"the old contents, longer than the new")
    with open(path, "rb") as reader:  # someone reading the old file while it is replaced
        utils.atomic_write(path, lambda f: f.write(b"new"))
        assert reader.read() == b"the old contents, longer than the new"
    assert path.read_bytes() == b"new"  # no tail of the old contents
    assert os.listdir(tmp_path) == ["f.bin"]


def test_ctrl_c_mid_write_leaves_no_temporary_file(tmp_path):
    def interrupted(f):
        f.write(b"half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        utils.atomic_write(tmp_path / "f.bin", interrupted)
    assert os.listdir(tmp_path) == []


def test_the_file_gets_the_permissions_of_the_umask_and_the_umask_is_kept(tmp_path):
    saved = os.umask(0o022)
    try:
        shared = utils.atomic_write(tmp_path / "shared", lambda f: f.write(b"x"))
        assert os.umask(0o077) == 0o022  # atomic_write read the umask and put it back
        private = utils.atomic_write(tmp_path / "private", lambda f: f.write(b"x"))
        assert os.umask(saved) == 0o077
    finally:
        os.umask(saved)
    assert stat.S_IMODE(shared.stat().st_mode) == 0o644
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
