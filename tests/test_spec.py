"""scratch_ae/spec.py: a model as plain JSON and back. A spec is the class name and the
constructor's arguments (``dtype`` left out), a tied layer is a reference to the path of the
layer it reuses, only registered classes are described or built, and every malformed spec is a
:class:`SpecError` naming where it went wrong."""

import json

import numpy as np
import pytest
from helpers import six_wide_ae

import scratch_ae as sa
from scratch_ae import spec
from scratch_ae.layers.base import Layer


def test_json_of_a_described_model_is_stable():
    """describe -> JSON -> build -> describe gives the same JSON (the file format is a fixpoint)."""
    s = spec.describe(six_wide_ae())
    assert spec.describe(spec.build(json.loads(json.dumps(s)))) == s


def test_a_spec_is_the_class_name_and_the_constructor_arguments():
    assert spec.describe(sa.Dense(784, 100, dtype=np.float64)) == {
        "type": "Dense", "args": {"in_features": 784, "out_features": 100}}  # no dtype
    model = sa.Sequential([sa.Dense(4, 3), sa.ReLU()], loss=sa.MSE(reduction="sum"))
    assert spec.describe(model) == {"type": "Sequential", "args": {
        "layers": [{"type": "Dense", "args": {"in_features": 4, "out_features": 3}},
                   {"type": "ReLU", "args": {}}],
        "loss": {"type": "MSE", "args": {"reduction": "sum"}}}}
    rebuilt = spec.build(spec.describe(model))
    assert isinstance(rebuilt, sa.Sequential) and [type(x) for x in rebuilt] == [sa.Dense, sa.ReLU]
    assert rebuilt[0].in_features == 4 and rebuilt[0].out_features == 3
    assert isinstance(rebuilt.loss, sa.MSE) and rebuilt.loss.reduction == "sum"


def test_a_tied_layer_is_a_reference_and_is_rebuilt_tied():
    d = sa.Dense(4, 3)
    s = spec.describe(sa.Sequential([d, sa.SELU(), sa.DenseTranspose(d)]))
    assert s["args"]["layers"][2] == {"type": "DenseTranspose",
                                      "args": {"dense": {"ref": "layers.0"}}}
    rebuilt = spec.build(json.loads(json.dumps(s)))
    assert rebuilt[2].dense is rebuilt[0]  # the same object, not an equal copy
    assert rebuilt.n_params() == 4 * 3 + 3 + 4


def test_numpy_scalars_are_written_as_plain_json_values(monkeypatch):
    class Scale(Layer):
        def __init__(self, factor):
            super().__init__()
            self.factor = factor

    monkeypatch.setitem(spec.REGISTRY, "Scale", Scale)
    s = spec.describe(Scale(np.float32(0.5)))
    assert s == {"type": "Scale", "args": {"factor": 0.5}}
    assert type(s["args"]["factor"]) is float
    assert json.loads(json.dumps(s)) == s


def test_what_cannot_be_described_is_a_spec_error_that_says_why(monkeypatch):
    class Twice(sa.Dense):
        pass

    with pytest.raises(spec.SpecError, match=r"layers.0 is a .*Twice, not one of scratch_ae's"):
        spec.describe(sa.Sequential([Twice(2, 2)]))
    with pytest.raises(spec.SpecError, match="layers.0.dense refers to a layer that is not part"):
        spec.describe(sa.Sequential([sa.DenseTranspose(sa.Dense(3, 2))]))

    class Forgets(Layer):
        def __init__(self, factor):
            super().__init__()
            self.f = factor

    monkeypatch.setitem(spec.REGISTRY, "Forgets", Forgets)
    with pytest.raises(spec.SpecError, match="does not keep its constructor argument 'factor'"):
        spec.describe(Forgets(2.0))


@pytest.mark.parametrize(("bad", "message"), [
    ([1], r"the model: expected \{'type': NAME, 'args': \{...\}\}, got \[1\]"),
    ({"type": "os.system", "args": {}}, "unknown layer type 'os.system'"),
    ({"type": "Dense", "args": {"units": 3}},
     r"Dense takes \['in_features', 'out_features'\], got unknown \['units'\]"),
    ({"type": "Sequential", "args": {"layers": [
        {"type": "DenseTranspose", "args": {"dense": {"ref": "layers.1"}}}]}},
     "layers.0.dense: refers to 'layers.1', which is not built before it"),
    ({"type": "Dropout", "args": {"rate": 2.0}},
     r"cannot build Dropout: .*rate must be in \[0, 1\)"),
], ids=["not-a-dict", "unknown-type", "unknown-argument", "dangling-reference", "bad-value"])
def test_a_malformed_spec_is_a_spec_error_naming_the_place(bad, message):
    with pytest.raises(spec.SpecError, match=message):
        spec.build(bad)


def test_only_layers_and_losses_can_be_registered():
    with pytest.raises(TypeError, match="int is not a Layer or a Loss"):
        spec.register(int)
    assert spec.REGISTRY["Dense"] is sa.Dense and spec.REGISTRY["BCE"] is sa.BCE
