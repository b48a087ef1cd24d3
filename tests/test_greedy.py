"""scratch_ae/models/greedy.py: greedy layer-wise training (level by level, then fine-tuning
from the pretrained levels) and the tied stacked autoencoder it builds on."""

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from scratch_ae import backend, data
from scratch_ae.models import Autoencoder, zoo
from scratch_ae.models.greedy import GreedyResult, tied_stacked, train_greedy


@pytest.fixture(autouse=True)
def _one_blas_thread():
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def test_greedy_training_on_a_tiny_subset():
    backend.seed(0)
    ds = data.load_sample(flat=True)
    X, Xv = ds.x_train[:256], ds.x_valid[:64]
    res = train_greedy(X, Xv, sizes=(100, 30), epochs=2, finetune_epochs=2)
    assert isinstance(res, GreedyResult) and isinstance(res.model, Autoencoder)
    assert set(res.histories) == {"level1", "level2", "finetune"}
    assert res.model.encode(X[:5]).shape == (5, 30)
    assert res.model.predict(X[:5]).shape == (5, 784)
    assert res.model.n_params() == zoo.build("stacked").n_params()
    ft = res.histories["finetune"]
    assert np.isfinite(ft["val_loss"][-1])
    # Fine-tuning starts from the pretrained levels: already far below an untrained stack.
    fresh = zoo.build("stacked").evaluate(Xv)["loss"]
    assert ft["val_loss"][0] < fresh


def test_tied_has_fewer_parameters_than_stacked():
    tied, stacked = tied_stacked(), zoo.build("stacked")
    assert tied.n_params() == 82_414 < stacked.n_params() == 163_814
