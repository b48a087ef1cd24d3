"""scratch_ae/spec.py: a model as plain JSON and back. A spec is the class name and the
constructor's arguments (``dtype`` left out), a tied layer is a reference to the path of the
layer it reuses, only registered classes are described or built, and every malformed spec is a
:class:`SpecError` naming where it went wrong."""

import json

from helpers import six_wide_ae

from scratch_ae import spec


def test_json_of_a_described_model_is_stable():
    """describe -> JSON -> build -> describe gives the same JSON (the file format is a fixpoint)."""
    s = spec.describe(six_wide_ae())
    assert spec.describe(spec.build(json.loads(json.dumps(s)))) == s
