"""How often training moves data between host and GPU, counted on fake_cupy.

On a GPU, every device-to-host read (``float(loss)``, ``.get()``) waits for the device to
finish, and every host-to-device copy has a fixed cost; the CuPy backend's contract is to move
data a chunk at a time and to read the loss back once per log interval, not once per step.
Real CuPy cannot count these, so they are counted here on ``scripts/fake_cupy`` (NumPy posing as
CuPy; the ``fake_cupy`` fixture is in conftest.py), which tallies every copy in and every read
back. The counts depend only on scratch_ae's Python code, which is the same on a real GPU.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from scratch_ae import train
from scratch_ae.callbacks import LOG_EVERY
from scratch_ae.models import zoo


def _data(n, rng, name="stacked"):
    """Random MNIST-shaped data in the layout the recipe eats: (N, 784) or (N, 1, 28, 28)."""
    x = rng.random((n, 784), dtype=np.float32)
    return x if zoo.get_recipe(name).flat else x.reshape(n, 1, 28, 28)


@pytest.mark.parametrize("name", ["stacked", "sparse_l1"])  # without / with a penalty
def test_fit_reads_back_per_log_interval_and_copies_per_chunk(name, fake_cupy, rng):
    n, n_val, batch, epochs = 3000, 700, 32, 2
    X, X_val = _data(n, rng, name), _data(n_val, rng, name)
    model = zoo.build(name).to("cupy")
    fake_cupy.transfers.update(to_device=0, to_host=0)

    model.fit(X, epochs=epochs, batch_size=batch, validation_data=X_val, verbose=False,
              optimizer=zoo.get_recipe(name).make_optimizer())

    steps = epochs * math.ceil(n / batch)  # 188
    reports = epochs * (math.ceil(n / batch) // LOG_EVERY)
    moved, read = fake_cupy.transfers["to_device"], fake_cupy.transfers["to_host"]
    # In: X fits one chunk, so one copy of X per epoch, and one of the validation set.
    assert n <= train.CHUNK and n_val <= train.CHUNK
    assert moved == 2 * epochs, f"{moved} copies to the device for {steps} steps"
    # Back: loss and penalty at each log interval, at the end of each epoch, and after each
    # validation pass -- a handful per epoch, never one per step.
    assert read <= 2 * reports + 4 * epochs, f"{read} reads back for {steps} steps"


def test_a_step_by_itself_reads_nothing_back(fake_cupy, rng):
    """forward, loss, backward and the optimizer step stay on the device."""
    model = zoo.build("conv").to("cupy")
    opt = zoo.get_recipe("conv").make_optimizer()
    loss_fn = train.get_loss(model.loss)
    import cupy  # the fake, for this test  # noqa: PLC0415

    xb = cupy.asarray(_data(16, rng, "conv"))
    fake_cupy.transfers.update(to_device=0, to_host=0)
    for _ in range(3):
        model.zero_grad()
        y = model.forward(xb, training=True)
        value = loss_fn.forward(y, xb)
        model.backward(loss_fn.backward())
        opt.step(model)
    assert fake_cupy.transfers == {"to_device": 0, "to_host": 0}
    assert type(value).__module__ == "cupy"  # the loss is still a device array


def test_predict_copies_a_chunk_at_a_time(fake_cupy, rng):
    X = _data(train.CHUNK + 100, rng)
    model = zoo.build("stacked").to("cupy")
    fake_cupy.transfers.update(to_device=0, to_host=0)
    out = model.predict(X, batch_size=256)
    assert isinstance(out, np.ndarray) and out.shape == X.shape
    # two chunks in, two chunks back: not one transfer per batch of 256
    assert fake_cupy.transfers == {"to_device": 2, "to_host": 2}
