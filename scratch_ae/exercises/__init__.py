"""Build it yourself: exercises a learner solves, graded by the gradient check.

Each exercise is a starter file (``starters/NAME.py``: the class or function to write, with its
docstring and ``NotImplementedError`` bodies) that ``scratch-ae exercise start NAME`` copies to
``./exercises/NAME.py``. ``scratch-ae exercise check NAME`` grades it, in this order, stopping at
the first failure:

1. your file: found, imports, nothing left raising ``NotImplementedError``;
2. shape and dtype of everything it returns (float32 in, float32 out);
3. forward values against the library's own code, on small fixed inputs;
4. the library's finite-difference gradient check, in float64, of every input and parameter;
5. the layer contract: ``backward`` never writes into ``dy``, and *adds* into ``self.grads``.

When a step fails, the learner's result is compared with the known classic mistakes
(:mod:`.mistakes`) and the one it matches is named; otherwise the checker says where the worst
element differs. The library's own code is the solution of every exercise (``--solution``).

Modules: :mod:`.catalogue` (the exercises, in order), :mod:`.graders` (how each one is run),
:mod:`.mistakes` (the classic mistakes), :mod:`.checker` (the five steps),
:mod:`.finale` (the learner's layers train the tutorial's stacked autoencoder) and
:mod:`.workbook` (what ``scratch-ae exercise`` does). The guide is ``README.md`` here.
"""
