"""scratch_ae/exercises/finale.py.

The finale: the learner's five classes build and train tutorial 01's stacked autoencoder
beside the library's, on the offline sample here."""

import numpy as np

from scratch_ae.exercises import catalogue, finale
from scratch_ae.models import zoo


def _solved(tmp_path):
    for name in catalogue.FINALE_NEEDS:
        (tmp_path / f"{name}.py").write_text(catalogue.solution_source(name))
    return tmp_path


def test_the_finale_trains_on_the_sample(tmp_path):
    lines = []
    outcome = finale.train_stacked(_solved(tmp_path), dataset="sample", limit=300,
                                   say=lines.append)
    text = "\n".join(lines)
    assert outcome.passed, outcome.text
    assert "300 train" in text and "untrained: validation loss (BCE)" in text
    assert "your layers:  validation loss (BCE) after 1 epoch" in text
    assert "the library:  validation loss (BCE) after 1 epoch" in text
    assert outcome.yours == outcome.library  # the same code, the same batches
    assert "Your code trained the tutorial's autoencoder" in outcome.text


def test_the_finale_waits_for_its_five_exercises(tmp_path):
    (tmp_path / "dense.py").write_text(catalogue.solution_source("dense"))
    (tmp_path / "bce.py").write_text(catalogue.get("bce").starter.read_text())
    outcome = finale.train_stacked(tmp_path, dataset="sample", limit=50, say=print)
    assert not outcome.passed
    assert "still to do: selu (not started), sigmoid (not started), bce (not passed: your " \
           "file), sgd (not started)" in outcome.text


def test_build_is_the_zoos_stacked_model():
    ours = finale.build(catalogue.solution_namespace("dense") | catalogue.solution_namespace(
        "selu") | catalogue.solution_namespace("sigmoid") | catalogue.solution_namespace("bce"))
    shapes = {k: layer.params[n].shape for k, layer, n in ours.named_parameters()}
    assert shapes == {k: layer.params[n].shape
                      for k, layer, n in zoo.stacked().named_parameters()}
    assert ours.predict(np.zeros((2, 784), np.float32)).shape == (2, 784)


def test_the_verdict():
    assert not finale._verdict(0.8, 0.2, 0.7).passed  # did not learn
    assert not finale._verdict(float("nan"), 0.2, 0.7).passed
    off = finale._verdict(0.3, 0.2, 0.7)
    assert not off.passed and "50.0% away from the library's" in off.text
    assert finale._verdict(0.2, 0.2, 0.7).text.count("exactly the library's") == 1
    assert "within 5.0e-04" in finale._verdict(0.2001, 0.2, 0.7).text
