"""The NumPy backend: forward pass in autograd.numpy, gradients by autograd, our AdamW."""
import numpy as np
from autograd import value_and_grad

from .. import precision
from ..errors import check_choice
from ..mlp import accuracy, cross_entropy, forward, l2_norm
from ..mlp_lmn import layers_lmn


class NumpyBackend:
    name = "numpy"
    device_name = "cpu"

    def __init__(self, dtype="float64", loss_dtype="auto"):
        check_choice("dtype", dtype, ("float32", "float64"))
        self.dtype = np.dtype(dtype)
        # "float64": the logits are cast up before the loss, so the loss and its gradient are
        # float64; autograd casts the gradient back to the params' dtype at the cast.
        self.loss_dtype = self.dtype if loss_dtype == "auto" else np.dtype(loss_dtype)
        self._loss_and_grad = value_and_grad(self._loss)

    def _logits(self, params, inputs):
        """Logits in the loss dtype: computed in the params' dtype, then cast (a no-op on "auto")."""
        return forward(params, inputs).astype(self.loss_dtype)

    def _loss(self, params, inputs, labels):
        return cross_entropy(self._logits(params, inputs), labels)

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
        logits = self._logits(self._params, self.task.inputs)
        y = self.task.labels
        tr, te = self.train_idx, self.test_idx
        return {
            "train_loss": float(cross_entropy(logits[tr], y[tr])),
            "train_acc": accuracy(logits[tr], y[tr]),
            "test_loss": float(cross_entropy(logits[te], y[te])),
            "test_acc": accuracy(logits[te], y[te]),
            "l2": l2_norm(self._params),
        }

    def lmn(self, points, layers=("h1",), output="logits", n_lambda=21, precision="float64"):
        return layers_lmn(self._params, points, layers, output, n_lambda, precision=precision)

    def params(self):
        return {k: v.copy() for k, v in self._params.items()}

    def diagnostics(self):
        """precision.COLUMNS of the current state: the train losses in the loss dtype, and the
        update the next step would make (computed, not applied) against the params' dtype."""
        _, grads = self._loss_and_grad(self._params, self._x, self._y)
        s, o = self._state, self.opt
        updates = precision.adamw_update(grads, s["m"], s["v"], s["t"], o.lr, o.betas, o.eps)
        return precision.diagnostics(self._logits(self._params, self._x), self._y,
                                     self._params, updates, o.lr, o.weight_decay)
