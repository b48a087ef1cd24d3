"""scratch_ae/exercises/graders.py.

The graders: fixed inputs, a gradient check that leaves the contract to the contract step, a
contract step that names the rule that is broken, and cases that put inputs where they must."""

import numpy as np
import pytest

from scratch_ae import Dense
from scratch_ae.exercises import catalogue, checker
from scratch_ae.exercises.graders import GRADERS, DenseGrader, _Shield
from scratch_ae.gradcheck import GradientCheckError, check_layer
from scratch_ae.losses import EPS


class AssignsGrad(Dense):
    def backward(self, dy):
        self.grads["W"] = self.x.T @ dy
        self.grads["b"] += dy.sum(axis=0)
        return dy @ self.params["W"].T


class WritesIntoDy(Dense):
    def backward(self, dy):
        dx = super().backward(dy)
        dy *= 0.5
        return dx


class StepsInBackward(Dense):
    def backward(self, dy):
        dx = super().backward(dy)
        self.params["W"] -= 0.1 * self.grads["W"]
        return dx


def _x():
    return np.random.default_rng(0).standard_normal((4, 5))


@pytest.mark.parametrize("name", list(GRADERS))
def test_cases_are_fixed_float64_inputs(name):
    first, second = GRADERS[name].cases(), GRADERS[name].cases()
    for a, b in zip(first, second, strict=True):
        for key, value in a.arrays.items():
            assert np.asarray(value).dtype == np.float64
            np.testing.assert_array_equal(value, b.arrays[key])
        assert a.at(np.float32).dtype == np.float32


@pytest.mark.parametrize("cls", [AssignsGrad, WritesIntoDy, StepsInBackward])
def test_the_shield_leaves_the_contract_to_the_contract_step(cls):
    with pytest.raises(GradientCheckError):
        check_layer(cls(5, 3), _x())
    assert check_layer(_Shield(cls(5, 3)), _x()) < 1e-6


@pytest.mark.parametrize(("cls", "rule"), [(AssignsGrad, "assigned"),
                                           (WritesIntoDy, "dy_modified"),
                                           (StepsInBackward, "params_changed"), (Dense, None)])
def test_the_contract_step_names_the_broken_rule(cls, rule):
    with checker.numpy_backend():
        assert DenseGrader().contract({"Dense": cls}) == rule


def test_max_pool_gradient_cases_hold_no_near_ties():
    h = 1e-4
    for case in GRADERS["maxpool2d"].cases():
        c = case.at(np.float64)
        p, s = c.pool, c.stride
        gaps = []
        for a, b in np.ndindex(*c.dy.shape[2:]):
            win = np.sort(c.x[:, :, a * s:a * s + p, b * s:b * s + p].reshape(*c.x.shape[:2], -1))
            gaps.append((win[..., -1] - win[..., -2]).min())
        assert (min(gaps) > 4 * h) == case.fd  # the tie cases are the ones not checked by FD


def test_bce_cases_reach_beyond_the_clip():
    p = np.concatenate([c.arrays["p"].ravel() for c in GRADERS["bce"].cases()])
    assert (p < EPS).any() and (p > 1 - EPS).any() and (p == 0).any() and (p == 1).any()


def test_optimizers_are_checked_by_their_steps_not_by_a_gradient():
    for name in ("sgd", "rmsprop"):
        grader = GRADERS[name]
        assert "gradient check" not in grader.steps
        assert not any(case.fd for case in grader.cases())


@pytest.mark.parametrize("name", list(GRADERS))
def test_results_have_the_same_keys_in_both_dtypes(name):
    grader, lib = GRADERS[name], catalogue.solution_namespace(name)
    with checker.numpy_backend():
        r32 = grader.run(lib, grader.main(np.float32))
        r64 = grader.run(lib, grader.main())
    assert list(r32) == list(r64) and set(grader.forward_keys) <= set(r64)
    assert all(v.dtype == np.float32 for v in r32.values() if v.ndim)
