"""The torch backend: the same MLP on a torch device, gradients by autograd, ``torch.optim.AdamW``.

A second, independent implementation of the NumPy path (numpy_backend.py), so that agreement
between the two means something: the weights start from the same NumPy init (copied over),
the optimizer is torch's own AdamW, and LMN is computed on the device by the engine (engine.py
with the torch ops) with r² and eigenvalues in float64, and the tail in float64 too unless
``precision="float32"`` is asked for: the same LMN-precision rule as the NumPy backend. Params keep mlp.py's layout: ``W`` is (in, out), ``x @ W + b``.
"""
import numpy as np
import torch
import torch.nn.functional as F

from . import DEVICES
from .. import precision
from ..errors import LMNInputError, check_choice
from .. import engine
from ..lmn import linear_mapping_number
from ..mlp import OUTPUTS, stage_table, tail_stages
from ..mlp_lmn import LMN_LAYERS, PRECISIONS
from ..ops import torch_ops

TORCH_DTYPES = {"float32": torch.float32, "float64": torch.float64}


def resolve_device(device):
    """'auto' -> cuda if available else cpu; 'cuda' without CUDA is an LMNInputError."""
    check_choice("device", device, DEVICES)
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise LMNInputError("device='cuda' was asked for but CUDA is not available; use --device cpu or auto")
    if device == "cuda":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def describe(device):
    """'cpu' or e.g. 'cuda:0 (NVIDIA H100 80GB HBM3)', for config.json."""
    if device.type == "cuda":
        return f"cuda:{device.index} ({torch.cuda.get_device_name(device)})"
    return "cpu"


def embed(p, inputs):
    """(N, 2) token tensor -> (N, 2 * emb_dim): both embeddings, concatenated."""
    return torch.cat([p["emb"][inputs[:, 0]], p["emb"][inputs[:, 1]]], dim=1)


# How each kind of mlp.STAGES runs in torch (x @ W + b as one fused addmm); the order, the names
# and the params come from mlp.stage_table, the one description of the network.
KIND_FNS = {
    "affine": lambda x, W, b: torch.addmm(b, x, W),
    "silu": F.silu,
    "softmax": lambda x: torch.softmax(x, dim=-1),
}


def _stage(p, x, kind, keys):
    return KIND_FNS[kind](x, *(p[k] for k in keys))


def forward(p, inputs):
    x = embed(p, inputs)
    for _, kind, keys in stage_table():
        x = _stage(p, x, kind, keys)
    return x


class TorchBackend:
    name = "torch"

    def __init__(self, dtype="float32", device="auto", loss_dtype="auto"):
        check_choice("dtype", dtype, tuple(TORCH_DTYPES))
        self.dtype = TORCH_DTYPES[dtype]
        # "float64": the logits are cast up before the loss, so the loss and its gradient are
        # float64; autograd casts the gradient back to the params' dtype at the cast.
        self.loss_dtype = self.dtype if loss_dtype == "auto" else TORCH_DTYPES[loss_dtype]
        self.device = resolve_device(device)
        self.device_name = describe(self.device)

    def _tensor(self, a, dtype=None):
        return torch.as_tensor(np.asarray(a), dtype=dtype, device=self.device)

    def setup(self, params, task, train_idx, test_idx, optimizer):
        self.task = task
        self.train_idx, self.test_idx = train_idx, test_idx
        # Same starting numbers as NumPy: the NumPy init, cast to this dtype and copied over.
        self._params = {k: torch.nn.Parameter(self._tensor(v, self.dtype)) for k, v in params.items()}
        self.opt = torch.optim.AdamW(list(self._params.values()), lr=optimizer.lr, betas=tuple(optimizer.betas),
                                     eps=optimizer.eps, weight_decay=optimizer.weight_decay)
        self._inputs = self._tensor(task.inputs, torch.long)            # (N, 2)
        self._labels = self._tensor(task.labels, torch.long)            # (N,)
        self._tr = self._tensor(train_idx, torch.long)
        self._te = self._tensor(test_idx, torch.long)
        self._x, self._y = self._inputs[self._tr], self._labels[self._tr]

    def step(self):
        self.opt.zero_grad(set_to_none=True)
        value = F.cross_entropy(self._logits(self._params, self._x), self._y)
        value.backward()
        self.opt.step()
        return float(value.detach())

    def evaluate(self):
        with torch.no_grad():
            logits = self._logits(self._params, self._inputs)           # (N, n_classes)
            out = {}
            for part, idx in (("train", self._tr), ("test", self._te)):
                lg, y = logits[idx], self._labels[idx]
                out[f"{part}_loss"] = float(F.cross_entropy(lg, y))
                out[f"{part}_acc"] = float((lg.argmax(dim=1) == y).to(torch.float64).mean())
            out["l2"] = float(torch.sqrt(sum((v.to(torch.float64) ** 2).sum() for v in self._params.values())))
        return out

    def _reps(self, p, points, output):
        """Every representation of ``points`` on the device, in the training dtype."""
        points = np.asarray(points)
        if points.ndim != 2 or points.shape[1] != 2:
            raise LMNInputError(f"inputs must have shape (N, 2) token pairs, got {points.shape}")
        x = embed(p, self._tensor(points, torch.long))       # (N, 2 * emb_dim)
        reps = {"emb": x}
        for name, kind, keys in stage_table(output):
            x = reps[name] = _stage(p, x, kind, keys)
        return reps

    def _lmn_params(self):
        """The params in float64, as the NumPy path measures LMN (mlp_lmn._as_float64): the
        representations in float64, and the tail in the LMN precision (the engine casts it)."""
        return {k: v.detach().to(torch.float64) for k, v in self._params.items()}

    def _connectivity(self, p, reps, layer, output, n_lambda, precision):
        # The tail as engine stages (engine.py: the affine prefix, the factored exponentials, r²
        # in float64), in the LMN precision, whatever the training dtype.
        check_choice("layer", layer, LMN_LAYERS)
        return engine.connectivity(reps[layer], tail_stages(p, layer, output), n_lambda,
                                   ops=torch_ops(self.device), dtype=precision)

    def connectivity(self, points, layer="h1", output="logits", n_lambda=21, precision="float64"):
        """The connectivity matrix L (N, N), float64 NumPy, from ``layer`` to ``output`` on ``points``.

        ``precision``: the tail's dtype for LMN ("float64" whatever the training dtype, or "float32").
        """
        check_choice("output", output, OUTPUTS)
        check_choice("precision", precision, PRECISIONS)
        with torch.no_grad():
            p = self._lmn_params()
            return self._connectivity(p, self._reps(p, points, output), layer, output, n_lambda, precision)

    def lmn(self, points, layers=("h1",), output="logits", n_lambda=21, precision="float64"):
        """LMN from each layer to ``output`` on the token pairs ``points``: dict layer -> LMN."""
        if isinstance(layers, str) or len(layers) == 0:
            raise LMNInputError(f"layers={layers!r} must be a non-empty list of {LMN_LAYERS}")
        check_choice("output", output, OUTPUTS)
        check_choice("precision", precision, PRECISIONS)
        with torch.no_grad():
            p = self._lmn_params()
            reps = self._reps(p, points, output)                 # computed once for every layer
            return {layer: linear_mapping_number(self._connectivity(p, reps, layer, output, n_lambda, precision))
                    for layer in layers}

    def params(self):
        return {k: v.detach().cpu().numpy().copy() for k, v in self._params.items()}

    def _logits(self, p, inputs):
        """Logits in the loss dtype: computed in the params' dtype, then cast (a no-op on "auto")."""
        return forward(p, inputs).to(self.loss_dtype)

    def diagnostics(self):
        """precision.COLUMNS of the current state: the train losses in the loss dtype, and the
        update the next step would make (computed from torch's AdamW state, not applied)
        against the params' dtype. The params' .grad and the optimizer state are untouched."""
        names = list(self._params)
        logits = self._logits(self._params, self._x)
        grads = torch.autograd.grad(F.cross_entropy(logits, self._y), [self._params[k] for k in names])
        group = self.opt.param_groups[0]
        state = [self.opt.state.get(self._params[k], {}) for k in names]

        def numpy(t):
            return t.detach().cpu().numpy()

        zeros = {k: np.zeros_like(numpy(self._params[k])) for k in names}
        m = {k: numpy(st["exp_avg"]) if st else zeros[k] for k, st in zip(names, state)}
        v = {k: numpy(st["exp_avg_sq"]) if st else zeros[k] for k, st in zip(names, state)}
        t = int(state[0]["step"]) if state[0] else 0
        updates = precision.adamw_update({k: numpy(g) for k, g in zip(names, grads)}, m, v, t,
                                         group["lr"], group["betas"], group["eps"])
        return precision.diagnostics(numpy(logits), numpy(self._y), {k: numpy(self._params[k]) for k in names},
                                     updates, group["lr"], group["weight_decay"])
