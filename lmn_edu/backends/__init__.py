"""Backends: one small interface, two implementations.

A backend holds the training state of one run and offers:

    setup(params, task, train_idx, test_idx, optimizer)   # params: dict of NumPy arrays
    step() -> float              # one full-batch AdamW step; the train loss before it
    evaluate() -> dict           # train_loss, train_acc, test_loss, test_acc, l2
    lmn(points, layers, output, n_lambda) -> dict   # layer -> LMN on the given token pairs
    params() -> dict             # current params as NumPy arrays (layout of mlp.py)

The torch backend is imported only when asked for, so the NumPy path never needs torch.
"""
from ..errors import LMNInputError, check_choice

BACKENDS = ("numpy", "torch")


def get_backend(name, dtype="float64", device="auto"):
    check_choice("backend", name, BACKENDS)
    if name == "numpy":
        from .numpy_backend import NumpyBackend
        return NumpyBackend(dtype=dtype)
    try:
        import torch  # noqa: F401
    except ImportError:
        raise LMNInputError(
            "backend='torch' needs PyTorch, which is not installed; "
            "install it (pip install torch) or use backend='numpy'") from None
    from .torch_backend import TorchBackend
    return TorchBackend(dtype=dtype, device=device)
