"""scratch_ae/exercises/mistakes.py.

The classic mistakes: each one, planted in a copy of the library's own code, is named exactly;
a mistake that is not in the list still fails, with the worst-element report."""

import pytest

from scratch_ae.exercises import catalogue, checker
from scratch_ae.exercises.graders import GRADERS
from scratch_ae.exercises.mistakes import MISTAKES

PLANTED = [(name, m) for name, ms in MISTAKES.items() for m in ms]


def plant(source: str, edits) -> str:
    for old, new in edits:
        assert source.count(old) == 1, f"{old!r} occurs {source.count(old)} times"
        source = source.replace(old, new)
    return source


def check_planted(tmp_path, name, edits):
    (tmp_path / f"{name}.py").write_text(plant(catalogue.solution_source(name), edits))
    return checker.check(name, tmp_path)


def test_at_least_three_per_exercise_and_forty_in_all():
    assert set(MISTAKES) == {e.name for e in catalogue.EXERCISES}
    assert all(len(ms) >= 3 for ms in MISTAKES.values())
    assert len(PLANTED) >= 40
    for ms in MISTAKES.values():
        assert len({m.key for m in ms}) == len(ms)
        assert all(m.plant and (m.variants or m.rule) for m in ms)
    counts = [len(ms) for ms in MISTAKES.values()]
    guide = catalogue.GUIDE.read_text(encoding="utf-8")
    assert f"({len(PLANTED)} of them, {min(counts)} to {max(counts)} per exercise)" in guide


@pytest.mark.parametrize(("name", "mistake"), PLANTED, ids=[f"{n}-{m.key}" for n, m in PLANTED])
def test_each_planted_mistake_is_named_exactly(tmp_path, name, mistake):
    report = check_planted(tmp_path, name, mistake.plant)
    assert not report.passed
    assert report.mistake == mistake.key, report.text
    assert mistake.message in report.text
    assert "Diagnosis:" in report.text


@pytest.mark.parametrize(("name", "mistake"), [(n, m) for n, m in PLANTED if m.variants],
                         ids=[f"{n}-{m.key}" for n, m in PLANTED if m.variants])
def test_every_variant_differs_from_the_right_answer_somewhere(name, mistake):
    """A variant equal to the right results everywhere could never explain a failure."""
    grader, lib = GRADERS[name], catalogue.solution_namespace(name)
    differs = False
    with checker.numpy_backend():
        for case in grader.cases():
            for dtype in ("float32", "float64"):
                c = case.at(dtype)
                right = grader.run(lib, c)
                for variant in mistake.variants:
                    for key, wrong in variant(c, right).items():
                        differs |= not checker.close(wrong, right[key]) or (
                            not checker.same_shape(wrong, right[key]))
    assert differs


# Mistakes that are in no list: each must still fail, and say where the worst element is.
UNLISTED = {
    "sigmoid": ("return dy * self.y * (1 - self.y)", "return 1.01 * dy * self.y * (1 - self.y)"),
    "selu": ("y = SELU_SCALE * xp.where(", "y = 1.001 * SELU_SCALE * xp.where("),
    "dense": ('self.grads["b"] += dy.sum(axis=0)', 'self.grads["b"] += dy.sum(axis=0) + 0.01'),
    "mse": ("self.diff * (2.0 / self.denom)", "self.diff * (2.1 / self.denom)"),
    "bce": ("(1 - y) * xp.log(1 - p)", "(1 - y) * xp.log(1.01 - p)"),
    "sgd": ("v -= self.lr * g", "v -= 1.1 * self.lr * g"),
    "rmsprop": ("(xp.sqrt(a) + self.eps)", "(xp.sqrt(a) + 2 * self.eps)"),
    "dense_transpose": ('self.dense.grads["W"] += dy.T @ self.x',
                        'self.dense.grads["W"] += 0.5 * dy.T @ self.x'),
    "dropout": ("else dy * self.scale", "else 0.9 * dy * self.scale"),
    "activity_l1": ("return dy + scale * xp.sign", "return dy + 2 * scale * xp.sign"),
    "kl_sparsity": ("self.penalty = self.weight * kl.sum()",
                    "self.penalty = self.weight * kl.sum() + 0.01"),
    "gaussian_sampling": ("return mu + sigma * eps", "return mu + sigma * eps + 0.01"),
    "im2col": ("return col.reshape(c * kh * kw, n * oh * ow)",
               "return 1.01 * col.reshape(c * kh * kw, n * oh * ow)"),
    "conv2d": ("dx = col2im(W2.T @ dy2, self.x_shape",
               "dx = 1.01 * col2im(W2.T @ dy2, self.x_shape"),
    "maxpool2d": ("axis=-1)[..., 0]", "axis=-1)[..., 0] * 1.01"),
}


def test_every_exercise_has_an_unlisted_mistake_here():
    assert set(UNLISTED) == set(MISTAKES)


@pytest.mark.parametrize("name", list(UNLISTED))
def test_an_unlisted_mistake_still_fails_with_the_worst_element(tmp_path, name):
    report = check_planted(tmp_path, name, [UNLISTED[name]])
    assert not report.passed
    assert report.mistake is None
    assert "not one of the classic mistakes" in report.text
    assert ("The worst element is" in report.text) or ("Yours is" in report.text)
