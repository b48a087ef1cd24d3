"""How each exercise is run: its fixed inputs, what it returns, its gradient check, its contract.

A grader turns an implementation -- ``impl``, a dict of the names an exercise asks for, taken
from the learner's file or from the library -- into *results*: a dict of named arrays (``"y"``,
``"dL/dx"``, ``"dL/dW"``, ...) computed on a *case* (small fixed inputs, in float32 or float64).
The checker (:mod:`.checker`) runs the learner's implementation and the library's through the
same grader and compares the two; the mistakes (:mod:`.mistakes`) are written as wrong versions
of the same results.

Every grader has four parts:

* ``cases()``: the inputs, float64, drawn from fixed seeds (first case is the main one);
* ``run(impl, c)``: the results on case ``c`` (already cast to the dtype of the step);
* ``gradient(impl, case)``: the library's finite-difference checker on the learner's code for
  a case with ``case.fd``; it raises :class:`~scratch_ae.gradcheck.GradientCheckError`, or
  returns the worst relative error;
* ``contract(impl)``: the name of the broken rule (``"dy_modified"``, ``"assigned"``, ...) or
  None; ``structural(impl)`` likewise, for rules the forward values step checks (a seeded mask).
"""

from __future__ import annotations

from contextlib import contextmanager
from types import SimpleNamespace

import numpy as np

from .. import backend
from ..gradcheck import GradientCheckError, check_layer, check_loss
from ..layers.base import Layer
from ..layers.dense import Dense
from ..models.sequential import Sequential

SEED = 0  # the backend seed before every forward: dropout masks and the VAE's eps repeat


class Case:
    """Fixed inputs: float64 ``arrays`` and plain settings; ``at(dtype)`` casts the arrays.

    ``fd`` says whether the finite-difference check runs on this case (False where inputs sit
    on kinks on purpose: max-pool ties, probabilities outside BCE's clip).
    """

    def __init__(self, name: str, arrays: dict, *, fd: bool = True, **opts):
        self.name, self.arrays, self.fd, self.opts = name, arrays, fd, opts

    def at(self, dtype):
        c = SimpleNamespace(name=self.name, dtype=np.dtype(dtype), **self.opts)
        for key, value in self.arrays.items():
            setattr(c, key, np.asarray(value, dtype=np.float64).astype(dtype))
        return c


def rand(seed: int, *shape, scale: float = 1.0):
    return np.random.default_rng(seed).standard_normal(shape) * scale


def uniform(seed: int, lo: float, hi: float, *shape):
    return np.random.default_rng(seed).uniform(lo, hi, shape)


def away(a, gap: float):
    """``a`` moved ``gap`` away from 0 (no input on a kink at 0)."""
    return np.sign(a) * (np.abs(a) + gap)


def distinct(seed: int, *shape, step: float = 0.01):
    """Values at least ``step`` apart: no max-pool window holds a tie, even after a nudge of h."""
    return np.random.default_rng(seed).permutation(int(np.prod(shape))).reshape(shape) * step


def snap(v):
    """A result, copied to a host array (None stays None: "backward returned nothing")."""
    return None if v is None else np.array(backend.to_numpy(v), copy=True)


def set_params(layer, values: dict) -> None:
    """Give ``layer`` these parameter values (copies) and zero gradients."""
    for name, value in values.items():
        layer.params[name] = value.copy()
        layer.grads[name] = np.zeros_like(value)


@contextmanager
def _labelled(what: str):
    """Say which check a GradientCheckError comes from (x is then not the learner's input)."""
    try:
        yield
    except GradientCheckError as exc:
        raise GradientCheckError(f"{what}: {exc}") from None


class _Shield(Layer):
    """The learner's layer as the gradient check sees it, with the contract kept out of the way.

    ``backward`` gets a copy of ``dy``, runs on zeroed gradients which are then added to the
    saved ones, and the parameters are put back: so ``=`` instead of ``+=``, a write into
    ``dy`` or a step inside backward leave the *values* right, and the contract step (which
    comes after the gradient check) is the one that names them.
    """

    def __init__(self, inner, tied=()):
        super().__init__()
        self.inner, self.owners = inner, [inner, *tied]

    def forward(self, x, training=False):
        return self.inner.forward(x, training=training)

    def backward(self, dy):
        entries = [(layer, name) for layer in self.owners for name in layer.params]
        grads = [layer.grads[name].copy() for layer, name in entries]
        params = [layer.params[name].copy() for layer, name in entries]
        for layer, name in entries:
            layer.grads[name] = np.zeros_like(layer.params[name])
        dx = self.inner.backward(dy.copy())
        for (layer, name), g, p in zip(entries, grads, params, strict=True):
            layer.grads[name] = g + layer.grads[name]
            layer.params[name] = p
        return dx

    def sublayers(self):
        return [self.inner]

    def named_parameters(self, prefix=""):
        yield from self.inner.named_parameters(prefix)


class _Functions(Layer):
    """Two functions as a layer, for the gradient check: ``y = f(x)``, ``dx = b(dy)``."""

    def __init__(self, f, b):
        super().__init__()
        self.f, self.b = f, b

    def forward(self, x, training=False):
        self.x = x
        return self.f(x)

    def backward(self, dy):
        return self.b(dy.copy(), self.x)


class _Parameters(Layer):
    """A stand-in model for the optimizer exercises: parameters and gradients, nothing else."""

    def __init__(self, values: dict):
        super().__init__()
        set_params(self, values)


class Grader:
    """The steps every exercise has; subclasses fill in cases, run, gradient and contract."""

    steps = ("shape and dtype", "forward values", "gradient check", "layer contract")
    forward_keys: tuple = ("y",)

    def cases(self) -> list[Case]:
        raise NotImplementedError

    def run(self, impl, c) -> dict:
        raise NotImplementedError

    def gradient(self, impl, case) -> float:
        """The finite-difference check on ``case`` (one with ``case.fd``)."""
        return 0.0

    def contract(self, impl) -> str | None:
        return None

    def structural(self, impl) -> str | None:
        return None

    def main(self, dtype=np.float64):
        return self.cases()[0].at(dtype)


# ------------------------------------------------------------------------------------ layers


class LayerGrader(Grader):
    """A layer: ``forward(x)``, then ``backward(dy)`` adding into ``self.grads``."""

    cls = ""
    input_name = "x"

    def make(self, impl, c):
        return impl[self.cls]()

    def params(self, c) -> dict:
        return {}

    def build(self, impl, c):
        layer = self.make(impl, c)
        set_params(layer, self.params(c))
        return layer

    def grad_entries(self, layer):
        """``(owner, parameter name, result key)`` of every gradient the backward adds to."""
        return [(layer, name, f"dL/d{name}") for name in layer.params]

    def run(self, impl, c):
        layer = self.build(impl, c)
        backend.seed(SEED)
        out = {"y": snap(layer.forward(c.x, training=getattr(c, "training", True)))}
        if "penalty" in self.forward_keys:
            out["penalty"] = snap(layer.penalty)
        out[f"dL/d{self.input_name}"] = snap(layer.backward(c.dy.copy()))
        for owner, name, key in self.grad_entries(layer):
            out[key] = snap(owner.grads[name])
        return out

    def checked(self, impl, c):
        """What the gradient check runs: the learner's layer, shielded (see :class:`_Shield`)."""
        return _Shield(self.build(impl, c)), c.x

    def gradient(self, impl, case):
        c = case.at(np.float64)
        model, x = self.checked(impl, c)
        return check_layer(model, x, training=getattr(c, "training", True), seed=SEED)

    def contract(self, impl):
        c = self.main()
        fresh = self.run(impl, c)  # the gradients of one backward, starting from zero
        layer = self.build(impl, c)
        backend.seed(SEED)
        layer.forward(c.x, training=getattr(c, "training", True))
        entries = self.grad_entries(layer)
        start = [rand(100 + i, *owner.params[name].shape) for i, (owner, name, _) in
                 enumerate(entries)]
        for (owner, name, _), s in zip(entries, start, strict=True):
            owner.grads[name] = s.copy()
        params = [owner.params[name].copy() for owner, name, _ in entries]
        dy = c.dy.copy()
        layer.backward(dy)
        if not np.array_equal(dy, c.dy):
            return "dy_modified"
        for (owner, name, _), p in zip(entries, params, strict=True):
            if not np.array_equal(owner.params[name], p):
                return "params_changed"
        for (owner, name, key), s in zip(entries, start, strict=True):
            if not np.allclose(owner.grads[name], s + fresh[key], rtol=1e-9, atol=1e-12):
                return "assigned"
        return None


class SigmoidGrader(LayerGrader):
    cls = "Sigmoid"

    def cases(self):
        x = np.array([[-800.0, -40.0, -1e-3, 0.0, 1e-3, 40.0, 800.0]])
        return [Case("main", {"x": rand(1, 3, 4, scale=3.0), "dy": rand(2, 3, 4)}),
                Case("large |x|", {"x": x, "dy": rand(3, 1, 7)}, fd=False)]


class SELUGrader(LayerGrader):
    cls = "SELU"

    def cases(self):
        x = np.array([[-800.0, -5.0, -0.5, 0.5, 5.0, 80.0]])
        return [Case("main", {"x": away(rand(1, 3, 4, scale=2.0), 0.05), "dy": rand(2, 3, 4)}),
                Case("large |x|", {"x": x, "dy": rand(3, 1, 6)}, fd=False)]


class DenseGrader(LayerGrader):
    cls = "Dense"

    def cases(self):
        return [Case("main", {"x": rand(1, 4, 5), "W": rand(2, 5, 3, scale=0.5),
                              "b": rand(3, 3), "dy": rand(4, 4, 3)})]

    def make(self, impl, c):
        return impl["Dense"](c.W.shape[0], c.W.shape[1], dtype=c.dtype)

    def params(self, c):
        return {"W": c.W, "b": c.b}


class DenseTransposeGrader(LayerGrader):
    """The learner's decoder tied to a library ``Dense`` (the encoder) holding ``W``."""

    cls = "DenseTranspose"

    def cases(self):
        return [Case("main", {"x": rand(1, 4, 3), "W": rand(2, 5, 3, scale=0.5),
                              "b": rand(3, 5), "dy": rand(4, 4, 5), "x_enc": rand(5, 4, 5)})]

    def make(self, impl, c):
        dense = Dense(c.W.shape[0], c.W.shape[1], dtype=c.dtype)
        set_params(dense, {"W": c.W, "b": np.zeros(c.W.shape[1], dtype=c.dtype)})
        return impl["DenseTranspose"](dense)

    def params(self, c):
        return {"b": c.b}

    def grad_entries(self, layer):
        return [(layer, "b", "dL/db"), (layer.dense, "W", "dL/dW")]

    def checked(self, impl, c):
        layer = self.build(impl, c)
        return Sequential([layer.dense, _Shield(layer, tied=[layer.dense])]), c.x_enc

    def structural(self, impl):
        """Still tied after the encoder's W changes in place (an optimizer step), and after a
        cast (``model.astype``: a new array): the layer must give what a layer built fresh on
        the new W gives."""
        c = self.main(np.float32)
        layer = self.build(impl, c)
        layer.forward(c.x)
        layer.dense.params["W"] *= 2
        if not np.array_equal(layer.forward(c.x), self._fresh(impl, layer, c.x)):
            return "untied_copy"
        layer.dense.astype(np.float64)
        layer.astype(np.float64)
        layer.dense.params["W"] *= 0.5
        x = c.x.astype(np.float64)
        if not np.array_equal(layer.forward(x), self._fresh(impl, layer, x)):
            return "untied_reference"
        return None

    def _fresh(self, impl, layer, x):
        dense = Dense(*layer.dense.params["W"].shape, dtype=x.dtype)
        set_params(dense, {"W": layer.dense.params["W"], "b": layer.dense.params["b"]})
        fresh = impl["DenseTranspose"](dense)
        set_params(fresh, {"b": layer.params["b"]})
        return fresh.forward(x)


class DropoutGrader(LayerGrader):
    cls = "Dropout"

    def cases(self):
        arrays = {"x": rand(1, 4, 6), "dy": rand(2, 4, 6)}
        return [Case("training", arrays, rate=0.3, training=True),
                Case("inference", arrays, rate=0.3, training=False, fd=False)]

    def make(self, impl, c):
        return impl["Dropout"](c.rate)

    def structural(self, impl):
        c = self.main()
        if not np.array_equal(self.run(impl, c)["y"], self.run(impl, c)["y"]):
            return "unseeded"
        return None


class ActivityL1Grader(LayerGrader):
    cls = "ActivityL1"
    input_name = "h"
    forward_keys = ("y", "penalty")

    def cases(self):
        return [Case("main", {"x": away(rand(1, 4, 5), 0.1), "dy": rand(2, 4, 5)}, weight=0.1)]

    def make(self, impl, c):
        return impl["ActivityL1"](c.weight)


class KLSparsityGrader(LayerGrader):
    cls = "KLSparsity"
    input_name = "h"
    forward_keys = ("y", "penalty")

    def cases(self):
        return [Case("main", {"x": uniform(1, 0.02, 0.45, 6, 4), "dy": rand(2, 6, 4)},
                     weight=0.5, target=0.1)]

    def make(self, impl, c):
        return impl["KLSparsity"](c.weight, c.target)


class Conv2DGrader(LayerGrader):
    cls = "Conv2D"

    def cases(self):
        return [Case("3x3 same", {"x": rand(1, 2, 3, 5, 5), "W": rand(2, 4, 3, 3, 3, scale=0.3),
                                  "b": rand(3, 4), "dy": rand(4, 2, 4, 5, 5)},
                     kernel=3, stride=1, padding="same"),
                Case("3x2 stride 2 valid", {"x": rand(5, 2, 2, 6, 5),
                                            "W": rand(6, 3, 2, 3, 2, scale=0.3),
                                            "b": rand(7, 3), "dy": rand(8, 2, 3, 2, 2)},
                     kernel=(3, 2), stride=2, padding="valid")]

    def make(self, impl, c):
        return impl["Conv2D"](c.W.shape[1], c.W.shape[0], c.kernel, stride=c.stride,
                              padding=c.padding, dtype=c.dtype)

    def params(self, c):
        return {"W": c.W, "b": c.b}


class MaxPool2DGrader(LayerGrader):
    cls = "MaxPool2D"

    def cases(self):
        ties = np.random.default_rng(3).integers(0, 3, (2, 2, 4, 4)).astype(float)
        ties_overlap = np.random.default_rng(5).integers(0, 2, (1, 1, 5, 5)).astype(float)
        return [Case("2x2 stride 2", {"x": distinct(1, 2, 2, 5, 6), "dy": rand(2, 2, 2, 2, 3)},
                     pool=2, stride=2),
                Case("3x3 stride 2 (overlapping)", {"x": distinct(7, 1, 2, 5, 5),
                                                    "dy": rand(8, 1, 2, 2, 2)}, pool=3, stride=2),
                Case("ties", {"x": ties, "dy": rand(4, 2, 2, 2, 2)}, pool=2, stride=2, fd=False),
                Case("ties, overlapping", {"x": ties_overlap, "dy": rand(6, 1, 1, 4, 4)},
                     pool=2, stride=1, fd=False)]

    def make(self, impl, c):
        return impl["MaxPool2D"](c.pool, c.stride)


# -------------------------------------------------------------------------- the VAE's sampling


class GaussianSamplingGrader(Grader):
    """``gaussian_kl``, ``gaussian_kl_grad`` and ``GaussianSampling.forward_stats`` /
    ``backward_stats``."""

    forward_keys = ("KL", "z", "penalty")

    def cases(self):
        return [Case("main", {"mu": rand(1, 4, 3), "log_var": rand(2, 4, 3, scale=0.5),
                              "dy": rand(3, 4, 3)}, kl_weight=0.7)]

    def run(self, impl, c):
        out = {"KL": snap(impl["gaussian_kl"](c.mu, c.log_var))}
        g_mu, g_lv = impl["gaussian_kl_grad"](c.mu, c.log_var)
        out.update({"dKL/dmu": snap(g_mu), "dKL/dlog_var": snap(g_lv)})
        layer = impl["GaussianSampling"](c.kl_weight)
        backend.seed(SEED)
        out["z"] = snap(layer.forward_stats(c.mu, c.log_var))
        out["penalty"] = snap(layer.penalty)
        d_mu, d_lv = layer.backward_stats(c.dy.copy())
        out.update({"dL/dmu": snap(d_mu), "dL/dlog_var": snap(d_lv)})
        return out

    def gradient(self, impl, case):
        c = case.at(np.float64)
        kl, kl_grad = impl["gaussian_kl"], impl["gaussian_kl_grad"]
        j = c.mu.shape[1]

        def kl_backward(dy, h):
            g_mu, g_lv = kl_grad(h[:, :j], h[:, j:])
            return np.concatenate([dy[:, None] * g_mu, dy[:, None] * g_lv], axis=1)

        h = np.concatenate([c.mu, c.log_var], axis=1)
        with _labelled("gaussian_kl_grad against gaussian_kl, x = [mu | log_var]"):
            worst = check_layer(_Functions(lambda h: kl(h[:, :j], h[:, j:]), kl_backward), h)
        with _labelled("GaussianSampling, x = [mu | log_var]"):
            layer = _Shield(impl["GaussianSampling"](c.kl_weight))
            return max(worst, check_layer(layer, h, seed=SEED))

    def contract(self, impl):
        c = self.main()
        layer = impl["GaussianSampling"](c.kl_weight)
        layer.forward_stats(c.mu, c.log_var)
        dy = c.dy.copy()
        layer.backward_stats(dy)
        return "dy_modified" if not np.array_equal(dy, c.dy) else None

    def structural(self, impl):
        c = self.main()
        if not np.array_equal(self.run(impl, c)["z"], self.run(impl, c)["z"]):
            return "unseeded"
        return None


# ---------------------------------------------------------------------------- im2col / col2im


class Im2colGrader(Grader):
    """``im2col(x, kernel, stride, pads)`` and its adjoint ``col2im(col, x_shape, ...)``."""

    forward_keys = ("col",)

    def cases(self):
        return [Case("3x2, stride (1, 2), padded", {"x": rand(1, 2, 3, 5, 4),
                                                    "dcol": rand(2, 18, 20)},
                     kernel=(3, 2), stride=(1, 2), pads=(1, 1, 0, 1)),
                Case("2x2, stride 2", {"x": rand(3, 2, 2, 4, 6), "dcol": rand(4, 8, 12)},
                     kernel=(2, 2), stride=(2, 2), pads=(0, 0, 0, 0))]

    def run(self, impl, c):
        col = impl["im2col"](c.x, c.kernel, c.stride, c.pads)
        back = impl["col2im"](c.dcol.copy(), c.x.shape, c.kernel, c.stride, c.pads)
        return {"col": snap(col), "col2im(dcol)": snap(back)}

    def gradient(self, impl, case):
        c = case.at(np.float64)
        geometry = (c.kernel, c.stride, c.pads)
        pair = _Functions(lambda x: impl["im2col"](x, *geometry),
                          lambda dy, x: impl["col2im"](dy, x.shape, *geometry))
        with _labelled("col2im as the backward of im2col"):
            return check_layer(pair, c.x)

    def contract(self, impl):
        c = self.main()
        x, dcol = c.x.copy(), c.dcol.copy()
        impl["im2col"](x, c.kernel, c.stride, c.pads)
        impl["col2im"](dcol, c.x.shape, c.kernel, c.stride, c.pads)
        return None if np.array_equal(x, c.x) and np.array_equal(dcol, c.dcol) else "dy_modified"


# ------------------------------------------------------------------------------------ losses


class LossGrader(Grader):
    """A loss: ``forward(p, t)`` returns a scalar, ``backward()`` returns ``dL/dp``."""

    steps = ("shape and dtype", "forward values", "gradient check", "contract")
    forward_keys = ("loss",)
    cls = ""

    def run(self, impl, c):
        loss = impl[self.cls](reduction=c.reduction)
        value = loss.forward(c.p, c.t)
        return {"loss": snap(value), "dL/dp": snap(loss.backward())}

    def gradient(self, impl, case):
        c = case.at(np.float64)
        return check_loss(impl[self.cls](reduction=c.reduction), c.p, c.t)

    def contract(self, impl):
        for case in self.cases():
            c = case.at(np.float64)
            p, t = c.p.copy(), c.t.copy()
            loss = impl[self.cls](reduction=c.reduction)
            loss.forward(p, t)
            loss.backward()
            if not (np.array_equal(p, c.p) and np.array_equal(t, c.t)):
                return "input_modified"
        return None


class MSEGrader(LossGrader):
    cls = "MSE"

    def cases(self):
        arrays = {"p": rand(1, 3, 4), "t": rand(2, 3, 4)}
        return [Case("mean", arrays, reduction="mean"), Case("sum", arrays, reduction="sum")]


class BCEGrader(LossGrader):
    cls = "BCE"

    def cases(self):
        t = uniform(2, 0.0, 1.0, 3, 4)
        t[0, :2] = (0.0, 1.0)
        edge = {"p": np.array([[0.0, 1e-9, 0.3, 1 - 1e-9, 1.0, 0.7]]),
                "t": np.array([[0.0, 1.0, 1.0, 0.0, 1.0, 0.5]])}
        main = {"p": uniform(1, 0.05, 0.95, 3, 4), "t": t}
        return [Case("mean", main, reduction="mean"),
                Case("p at and beyond the clip", edge, reduction="mean", fd=False),
                Case("sum", main, reduction="sum")]


# -------------------------------------------------------------------------------- optimizers


class OptimizerGrader(Grader):
    """An optimizer: three ``step(model)`` calls on two parameters with given gradients."""

    steps = ("shape and dtype", "values after 1 and 3 steps", "contract")
    cls = ""

    def case(self, name, scale, **opts):
        return Case(name, self.arrays(scale), fd=False, **opts)

    def arrays(self, scale):
        out = {"W": rand(1, 3, 2), "b": rand(2, 2)}
        for t in (1, 2, 3):
            out.update({f"gW{t}": rand(10 + t, 3, 2, scale=scale),
                        f"gb{t}": rand(20 + t, 2, scale=scale)})
        return out

    @property
    def forward_keys(self):
        return ("W after 1 step", "b after 1 step", "W after 3 steps", "b after 3 steps")

    def make(self, impl, c):
        raise NotImplementedError

    def run(self, impl, c):
        model = _Parameters({"W": c.W, "b": c.b})
        opt = self.make(impl, c)
        out = {}
        for t in (1, 2, 3):
            for name in ("W", "b"):
                model.grads[name][...] = getattr(c, f"g{name}{t}")
            opt.step(model)
            if t in (1, 3):
                steps = "1 step" if t == 1 else "3 steps"
                out.update({f"{name} after {steps}": snap(model.params[name])
                            for name in ("W", "b")})
        return out

    def contract(self, impl):
        for case in self.cases():
            c = case.at(np.float64)
            model = _Parameters({"W": c.W, "b": c.b})
            model.grads["W"][...], model.grads["b"][...] = c.gW1, c.gb1
            self.make(impl, c).step(model)
            if not (np.array_equal(model.grads["W"], c.gW1)
                    and np.array_equal(model.grads["b"], c.gb1)):
                return "grads_modified"
        return None


class SGDGrader(OptimizerGrader):
    cls = "SGD"

    def cases(self):
        return [self.case("momentum 0.9", 1.0, lr=0.1, momentum=0.9),
                self.case("plain (momentum 0)", 1.0, lr=0.5, momentum=0.0)]

    def make(self, impl, c):
        return impl["SGD"](lr=c.lr, momentum=c.momentum)


class RMSpropGrader(OptimizerGrader):
    cls = "RMSprop"

    def cases(self):
        return [self.case("small gradients", 1e-3, lr=0.01, rho=0.9, eps=1e-7),
                self.case("rho 0.5", 1.0, lr=0.1, rho=0.5, eps=1e-7)]

    def make(self, impl, c):
        return impl["RMSprop"](lr=c.lr, rho=c.rho, eps=c.eps)


GRADERS = {
    "sigmoid": SigmoidGrader(), "selu": SELUGrader(), "dense": DenseGrader(),
    "mse": MSEGrader(), "bce": BCEGrader(), "sgd": SGDGrader(), "rmsprop": RMSpropGrader(),
    "dense_transpose": DenseTransposeGrader(), "dropout": DropoutGrader(),
    "activity_l1": ActivityL1Grader(), "kl_sparsity": KLSparsityGrader(),
    "gaussian_sampling": GaussianSamplingGrader(), "im2col": Im2colGrader(),
    "conv2d": Conv2DGrader(), "maxpool2d": MaxPool2DGrader(),
}
