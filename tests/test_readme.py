"""The README's "Use it from Python" example runs as written, on a small subset of the data."""

import dataclasses
import re
from pathlib import Path

import numpy as np
import pytest

import scratch_ae as sa
from scratch_ae import data

README = Path(__file__).resolve().parents[1] / "README.md"


def _python_block(section: str) -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(f"## {section}\n")
    end = text.find("\n## ", start + 1)
    blocks = re.findall(r"```python\n(.*?)```", text[start:end], flags=re.S)
    assert blocks, f"no python code block in the README section {section!r}"
    return blocks[0]


def _small(ds):
    """The same dataset cut to a few hundred images, so the example runs in seconds."""
    return dataclasses.replace(ds, x_train=ds.x_train[:512], y_train=ds.y_train[:512],
                               x_valid=ds.x_valid[:128], y_valid=ds.y_valid[:128])


def test_use_it_from_python_example_runs(monkeypatch, tmp_path):
    real = data.load_mnist

    def load_small(path=None, *, flat=False, download=True):
        try:
            ds = real(path, flat=flat, download=False)  # never the network in a test
        except data.DataNotFoundError:
            pytest.importorskip("sklearn")
            ds = data.load_sample(flat=flat)  # real digits, offline
        return _small(ds)

    monkeypatch.setattr(data, "load_mnist", load_small)
    monkeypatch.chdir(tmp_path)
    sa.backend.seed(0)
    ns = {}
    exec(compile(_python_block("Use it from Python"), "README.md", "exec"), ns)

    assert len(ns["history"]["val_loss"]) == 2
    assert all(np.isfinite(ns["history"]["val_loss"]))
    assert (tmp_path / "runs" / "my_vae.npz").is_file()
    assert ns["codes"].shape == (10, 10)
    assert ns["images"].shape == (10, 784)
    assert ns["new"].shape == (16, 784)
    assert ns["new"].min() >= 0 and ns["new"].max() <= 1  # a sigmoid's output



def test_the_modules_the_readme_uses_are_attributes_of_the_package():
    assert sa.io.save_model and sa.io.load_model and sa.data.load_mnist


def test_images_fed_to_a_dense_model_get_a_flat_true_hint():
    from scratch_ae.models import zoo

    model = zoo.build("stacked")
    images = np.zeros((3, 1, 28, 28), np.float32)  # what load_mnist() gives without flat=True
    with pytest.raises(ValueError, match=r"got shape \(3, 1, 28, 28\).*expected \(N, 784\)"
                                         r".*flat=True"):
        model.fit(images, verbose=False)


MAX_LINES = 210  # a newcomer reads it to the end; the deep dives live in docs/


def test_the_readme_is_short_enough_to_read_to_the_end():
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= MAX_LINES, f"README.md is {len(lines)} lines: move detail to docs/"
    for doc in ("docs/READING.md", "docs/PERFORMANCE.md", "docs/GPU.md", "docs/THREADS.md"):
        assert f"({doc})" in README.read_text(encoding="utf-8"), f"README does not link {doc}"


def test_the_readme_states_the_current_number_of_tests(request):
    """'N tests': N must be what this very run collected, when the run is the whole suite."""
    m = re.search(r"\(([\d,]+) tests\)", README.read_text(encoding="utf-8"))
    assert m, "the README says how many tests the suite has"
    total = int(m.group(1).replace(",", ""))
    config = request.config
    whole = [Path(a).resolve() for a in config.args] == [README.parent / "tests"] and not (
        config.getoption("keyword") or config.getoption("markexpr"))
    if not whole:
        pytest.skip("a subset of the suite was collected: the count is checked on a full run")
    n = len(request.session.items)
    assert total == n, f"README says {total} tests, this run collected {n}"
