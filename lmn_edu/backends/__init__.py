"""Backends: one typed contract (``Backend``), two implementations (numpy, torch).

A backend holds the training state of one run. Both implement ``Backend`` and pass the same
contract tests (tests/test_backends.py). The torch backend is imported only when asked for,
so the NumPy path never needs torch.
"""
from typing import Protocol, runtime_checkable

from ..errors import LMNInputError, check_choice

BACKENDS = ("numpy", "torch")
DEVICES = ("auto", "cpu", "cuda")
DTYPES = ("auto", "float32", "float64")        # "auto": float64 on numpy, float32 on torch
LOSS_DTYPES = ("auto", "float64")               # "float64": the loss in float64 while params keep their dtype


@runtime_checkable
class Backend(Protocol):
    name: str                                   # "numpy" or "torch"
    device_name: str                            # "cpu", or e.g. "cuda:0 (NVIDIA H100)"

    def setup(self, params, task, train_idx, test_idx, optimizer) -> None:
        """Start a run from ``params`` (dict of NumPy arrays, mlp.py's layout) with an ``AdamW``."""

    def step(self) -> float:
        """One full-batch AdamW step on the train set; returns the train loss before it."""

    def evaluate(self) -> dict:
        """train_loss, train_acc, test_loss, test_acc, l2 of the current params."""

    def lmn(self, points, layers=("h1",), output="logits", n_lambda=21, precision="float64") -> dict:
        """LMN from each of ``layers`` to ``output`` on the token pairs ``points``: layer -> LMN.
        ``precision``: the tail's dtype ("float64" whatever the training dtype, or "float32")."""

    def params(self) -> dict:
        """The current params as NumPy arrays (a copy)."""

    def diagnostics(self) -> dict:
        """Precision diagnostics of the current state (precision.COLUMNS -> value)."""


def get_backend(name, dtype="float64", device="auto", loss_dtype="auto") -> Backend:
    """A fresh backend ``name`` training in ``dtype`` on ``device``."""
    check_choice("backend", name, BACKENDS)
    check_choice("loss_dtype", loss_dtype, LOSS_DTYPES)
    if name == "numpy":
        from .numpy_backend import NumpyBackend
        return NumpyBackend(dtype=dtype, loss_dtype=loss_dtype)
    try:
        import torch  # noqa: F401
    except ImportError:
        raise LMNInputError(
            "backend='torch' needs PyTorch, which is not installed; "
            "install it (pip install torch==2.13.0, or pip install -e .[torch]) or use backend='numpy'") from None
    from .torch_backend import TorchBackend
    return TorchBackend(dtype=dtype, device=device, loss_dtype=loss_dtype)
