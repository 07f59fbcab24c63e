"""LMN with torch: eq (1)–(3) evaluated on the device, for our MLP and for any torch module.

This module imports torch, so it is only imported on use (``import lmn_edu`` does not need torch).
The pair loop of eq (1)–(2) is engine.py's, run with the torch ops table (torch_ops.py): pairs
i < j in tiles of bounded memory, the endpoints λ = 0 and λ = 1 computed once per point, r² from
sums in float64 with the flat-line rule (``lmn.flat_rtol`` of the tail's dtype) and L_ij = 1 for a
line from a point to itself; L assembled on the host in float64 and its eigenvalues taken by
NumPy (``lmn.linear_mapping_number``).

For your own network::

    from lmn_edu.torch_lmn import module_lmn
    net = torch.nn.Sequential(torch.nn.Linear(2, 64), torch.nn.Tanh(), torch.nn.Linear(64, 3))
    X = torch.randn(200, 2)                  # the points L is built on, as the module's input
    print(module_lmn(net, X))                # between 1 (one linear map) and 200
"""
import numpy as np
import torch

from . import engine
from .errors import LMNInputError
from .lmn import _check_points, linear_mapping_number
from .ops import torch_ops

def connectivity(tail, V, n_lambda=21, max_floats=None):
    """L (N, N) float64 NumPy, for the map ``tail`` on the points ``V`` (N, d), a tensor on the device.

    ``tail``: a callable (a torch module, a function of a tensor), run as the engine's stage
    ("fn", tail), or a list of engine stages (engine.py: [("affine", W, b), ("silu",), …], a
    leading affine prefix then applied to the N points once). The lines are drawn and the tail is
    evaluated in V's dtype; r² is taken in float64 on the device; L is assembled on the host.
    ``max_floats``: the floats in a chunk's largest array (default: by device, torch_ops.py).
    """
    stages = list(tail) if isinstance(tail, (list, tuple)) else [("fn", tail)]
    device = V.device if torch.is_tensor(V) else torch.device("cpu")
    with torch.no_grad():
        return engine.connectivity(V, stages, n_lambda, ops=torch_ops(device, max_floats))


def _points_on_device(module, X):
    """X (N, d_in) as a tensor where the module computes: the device and dtype of its first
    parameter; for a module without parameters (or a plain function), those of X."""
    if not callable(module):
        raise LMNInputError(f"module must be a torch.nn.Module or a function of a tensor, got {type(module).__name__}")
    first = next(iter(module.parameters()), None) if isinstance(module, torch.nn.Module) else None
    device = X.device if torch.is_tensor(X) else torch.device("cpu")
    if torch.is_tensor(X):
        X = X.detach().cpu().numpy()
    X = _check_points(X)
    if first is not None:
        device, dtype = first.device, first.dtype
    elif X.dtype in (np.float32, np.float64):
        dtype = torch.from_numpy(X[:0]).dtype
    else:
        dtype = torch.get_default_dtype()
    return torch.as_tensor(X, dtype=dtype, device=device)


def module_connectivity(module, X, n_lambda=21):
    """The connectivity matrix L (N, N) of eq (2) for a torch module on the points X (N, d_in).

    ``module`` maps a batch (M, d_in) to (M, d_out): give it the continuous input you want to
    interpolate in (for a network that starts with an embedding, X is the embedded points and
    the module is the rest). X: a NumPy array or tensor; it is moved to the module's device and
    dtype. The module runs under ``torch.no_grad()`` and in eval mode (dropout off, batch-norm
    running statistics used, so f is one function); its training mode is restored afterwards.
    """
    V = _points_on_device(module, X)
    modes = [(m, m.training) for m in module.modules()] if isinstance(module, torch.nn.Module) else []
    for m, _ in modes:
        m.eval()
    try:
        return connectivity(module, V, n_lambda)
    finally:
        for m, training in modes:                             # each submodule back to its own mode
            m.train(training)


def module_lmn(module, X, n_lambda=21):
    """LMN (eq 3) of a torch module on the points X: 2^S_NL, between 1 and N."""
    return linear_mapping_number(module_connectivity(module, X, n_lambda))
