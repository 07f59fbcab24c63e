"""The NumPy backend: forward pass in autograd.numpy, gradients by autograd, our AdamW."""
import numpy as np
from autograd import value_and_grad

from ..errors import check_choice
from ..mlp import accuracy, cross_entropy, forward, l2_norm, loss
from ..mlp_lmn import layers_lmn


class NumpyBackend:
    name = "numpy"
    device_name = "cpu"

    def __init__(self, dtype="float64", loss_dtype="auto"):
        check_choice("dtype", dtype, ("float32", "float64"))
        self.dtype = np.dtype(dtype)
        self.loss_dtype = loss_dtype            # precision diagnostics and the float64 loss: precision.py
        self._loss_and_grad = value_and_grad(loss)

    def setup(self, params, task, train_idx, test_idx, optimizer):
        self.task = task
        self.train_idx, self.test_idx = train_idx, test_idx
        self.opt = optimizer
        self._params = {k: np.asarray(v, dtype=self.dtype) for k, v in params.items()}
        self._state = optimizer.init(self._params)
        self._x, self._y = task.inputs[train_idx], task.labels[train_idx]

    def step(self):
        value, grads = self._loss_and_grad(self._params, self._x, self._y)
        self._params, self._state = self.opt.step(self._params, grads, self._state)
        return float(value)

    def evaluate(self):
        logits = forward(self._params, self.task.inputs)
        y = self.task.labels
        tr, te = self.train_idx, self.test_idx
        return {
            "train_loss": float(cross_entropy(logits[tr], y[tr])),
            "train_acc": accuracy(logits[tr], y[tr]),
            "test_loss": float(cross_entropy(logits[te], y[te])),
            "test_acc": accuracy(logits[te], y[te]),
            "l2": l2_norm(self._params),
        }

    def lmn(self, points, layers=("h1",), output="logits", n_lambda=21):
        return layers_lmn(self._params, points, layers, output, n_lambda)

    def params(self):
        return {k: v.copy() for k, v in self._params.items()}

    def diagnostics(self):
        raise NotImplementedError("precision diagnostics: see precision.py")
