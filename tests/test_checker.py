"""scratch_ae/exercises/checker.py.

The checker's steps, in order: your file (missing, syntax error, import error, missing name,
not implemented), shape and dtype, values, gradient check, contract -- each failure one paragraph
that says where, and the library's own code passing every step."""

import shutil

import numpy as np
import pytest

from scratch_ae.exercises import catalogue, checker

NAMES = [e.name for e in catalogue.EXERCISES]

DENSE_HEAD = """import numpy as np
from scratch_ae.layers.base import Layer, glorot_uniform


class Dense(Layer):
    def __init__(self, in_features, out_features, dtype=np.float32):
        super().__init__()
        self.add_param("W", glorot_uniform((in_features, out_features), in_features,
                                           out_features, dtype))
        self.add_param("b", np.zeros(out_features, dtype=dtype))

    def forward(self, x, training=False):
        self.x = x
        return x @ self.params["W"] + self.params["b"]

"""


def write(tmp_path, name, text):
    (tmp_path / f"{name}.py").write_text(text)
    return checker.check(name, tmp_path)


def dense_with(tmp_path, backward: str):
    return write(tmp_path, "dense", DENSE_HEAD + "    def backward(self, dy):\n" + backward)


@pytest.mark.parametrize("name", NAMES)
def test_the_library_passes_every_step(name):
    report = checker.check(name, solution=True)
    assert report.passed, report.text
    assert report.step == "all" and "the library's own code" in report.text
    if "gradient check" in report.text:
        assert report.worst < 1e-6


@pytest.mark.parametrize("name", NAMES)
def test_every_starter_is_not_implemented(tmp_path, name):
    shutil.copy(catalogue.get(name).starter, tmp_path / f"{name}.py")
    report = checker.check(name, tmp_path)
    assert not report.passed and report.step == "your file"
    assert f"{name}: not implemented yet:" in report.text
    assert "still to write:" in report.text and "Traceback" not in report.text


def test_a_missing_file_says_how_to_start(tmp_path):
    report = checker.check("dense", tmp_path)
    assert not report.passed and report.step == "your file"
    assert "not started" in report.text
    assert f"scratch-ae exercise start dense --dir {tmp_path}" in report.text


def test_a_syntax_error_names_its_line(tmp_path):
    report = write(tmp_path, "sigmoid", "import numpy as np\n\ndef f(:\n    pass\n")
    assert report.step == "your file"
    assert "does not import: SyntaxError at line 3" in report.text
    assert "`def f(:`" in report.text


def test_an_error_at_import_names_the_learners_line(tmp_path):
    report = write(tmp_path, "sigmoid", "x = 1\ny = 1 / 0\n")
    assert "raised ZeroDivisionError: division by zero (sigmoid.py line 2: `y = 1 / 0`)" in \
        report.text


def test_a_missing_name_is_reported(tmp_path):
    report = write(tmp_path, "sigmoid", "class Sigmod:\n    pass\n")
    assert "does not define Sigmoid" in report.text


def test_a_class_that_is_no_longer_a_layer_is_reported(tmp_path):
    report = write(tmp_path, "sigmoid", "class Sigmoid:\n    pass\n")
    assert "Sigmoid in" in report.text and "must stay a subclass of Layer" in report.text


def test_a_partly_written_file_lists_what_is_left(tmp_path):
    report = dense_with(tmp_path, "        raise NotImplementedError\n")
    assert "not implemented yet: Dense.backward raises NotImplementedError" in report.text
    assert "still to write: Dense.backward" in report.text


def test_an_error_in_the_learners_code_names_the_function_and_line(tmp_path):
    report = dense_with(tmp_path, "        self.grads['W'] += dy.T @ self.x\n"
                                  "        return dy @ self.params['W'].T\n")
    assert report.step == "shape and dtype"
    assert "Dense.backward raised ValueError" in report.text
    assert "(dense.py line 17: `self.grads['W'] += dy.T @ self.x`)" in report.text


def test_a_wrong_dtype_is_a_shape_and_dtype_failure(tmp_path):
    report = dense_with(tmp_path, "        self.grads['W'] += self.x.T @ dy\n"
                                  "        self.grads['b'] += dy.sum(axis=0)\n"
                                  "        return (dy @ self.params['W'].T).astype(np.float64)\n")
    assert report.step == "shape and dtype"
    assert "dL/dx has shape (4, 5), dtype float64" in report.text
    assert "shape (4, 5), dtype float32" in report.text


def test_steps_come_in_order_and_number(tmp_path):
    wrong_value = dense_with(tmp_path, "        self.grads['W'] += self.x.T @ dy\n"
                                       "        self.grads['b'] += dy.sum(axis=0)\n"
                                       "        return 2 * dy @ self.params['W'].T\n")
    assert wrong_value.step == "gradient check"
    assert "step 4 (gradient check)" in wrong_value.text
    assert "input x" in wrong_value.text  # the gradient checker's own message, kept
    assert "The worst element is [" in wrong_value.text


def test_unwritten_finds_the_functions_that_still_raise():
    source = ("def f():\n    raise NotImplementedError\n\n"
              "class A:\n    def g(self):\n        raise NotImplementedError('todo')\n"
              "    def h(self):\n        return 1\n")
    assert checker.unwritten(source) == ["f", "A.g"]


def test_worst_element_says_where_and_how_many():
    a = np.array([[1.0, 2.0], [3.0, 5.0]])
    b = np.array([[1.0, 2.0], [3.0, 4.0]])
    assert checker.worst_element("dL/dW", a, b) == (
        "The worst element is [1, 1] of dL/dW: yours 5, the library's 4 (1 of 4 elements "
        "differ)")
    assert checker.worst_element("loss", np.float64(2.0), 1.0) == "Yours is 2, the library's 1"


def test_the_backend_selection_is_restored():
    from scratch_ae import backend

    backend.set_backend("numba")  # the autouse fixture puts numpy back afterwards
    assert checker.check("selu", solution=True).passed
    assert backend.get_backend() == "numba"


def test_a_loss_may_return_a_python_float(tmp_path):
    report = write(tmp_path, "mse", "from scratch_ae.losses import Loss\n\n\n"
                                    "class MSE(Loss):\n"
                                    "    def forward(self, p, t):\n"
                                    "        self._check(p, t)\n"
                                    "        self.d = p - t\n"
                                    "        return float((self.d ** 2).sum() / self.denom)\n\n"
                                    "    def backward(self):\n"
                                    "        return 2 * self.d / self.denom\n")
    assert report.passed, report.text
