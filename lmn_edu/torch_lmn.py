"""LMN with torch: eq (1)–(3) evaluated on the device, for our MLP and for any torch module.

This module imports torch, so it is only imported on use (``import lmn_edu`` does not need torch).
The algorithm is that of lmn.py and mlp_lmn.py: pairs i < j in chunks of bounded memory, the
endpoints λ = 0 and λ = 1 computed once per point, r² with the flat-line rule of
``lmn.r_squared`` in float64 (with the tolerance of the tail's dtype, ``lmn.flat_rtol``), L_ij = 1
for a line from a point to itself (``lmn.is_point``), L assembled on the host in float64 and its
eigenvalues taken by NumPy (``lmn.linear_mapping_number``).

For your own network::

    from lmn_edu.torch_lmn import module_lmn
    net = torch.nn.Sequential(torch.nn.Linear(2, 64), torch.nn.Tanh(), torch.nn.Linear(64, 3))
    X = torch.randn(200, 2)                  # the points L is built on, as the module's input
    print(module_lmn(net, X))                # between 1 (one linear map) and 200
"""
import numpy as np
import torch

from .errors import LMNInputError, NotFiniteError
from .chunking import pair_chunks
from .lmn import _check_points, flat_rtol, lambdas, linear_mapping_number

# Pairs per chunk: the largest array of a chunk holds about this many numbers. On the CPU,
# 2^19 (4 MB of float64) measured fastest for the paper's MLP, one thread: smaller chunks pay
# torch's per-call overhead, larger ones fall out of the cache. On a GPU, bigger chunks mean
# fewer kernel launches (2^26 floats: 256 MB of float32).
CPU_CHUNK_FLOATS = 2 ** 19
CUDA_CHUNK_FLOATS = 2 ** 26


def chunk_floats(device):
    return CUDA_CHUNK_FLOATS if torch.device(device).type == "cuda" else CPU_CHUNK_FLOATS


def _numpy_dtype(dtype):
    """The NumPy dtype whose flat-line tolerance fits a torch dtype (coarser floats: float16's)."""
    return {torch.float64: np.float64, torch.float32: np.float32}.get(dtype, np.float16)


def r_squared(y, lam, rtol):
    """``lmn.r_squared`` on the device, λ-major: y (n_lambda, P, d) -> r² (P, d) in float64.

    ``lam`` is a float64 tensor (n_lambda,); ``rtol`` the flat-line tolerance (``lmn.flat_rtol``).
    """
    y = y.to(torch.float64)
    lc = lam - lam.mean()                                    # (n_lambda,)
    yc = y - y.mean(dim=0, keepdim=True)                     # (n_lambda, P, d)
    cov = torch.tensordot(lc, yc, dims=1)                    # (P, d)
    var_y = (yc * yc).sum(dim=0)                             # (P, d)
    var_l = lc @ lc
    scale = y.abs().amax(dim=(0, 2))                         # (P,)
    flat = var_y <= (rtol * scale[:, None]) ** 2 * len(lam)
    r2 = cov ** 2 / (var_y * var_l)                          # 0/0 = nan where flat; replaced below
    return torch.where(flat, torch.ones_like(r2), r2).clamp(0.0, 1.0)


def connectivity(tail, V, n_lambda=21, max_floats=None):
    """L (N, N) float64 NumPy, for the map ``tail`` on the points ``V`` (N, d), a tensor on the device.

    The lines are drawn and ``tail`` is evaluated in V's dtype; r² is taken in float64 on the
    device; only the (pairs,) vector of L_ij crosses to the host, once.
    """
    lam = lambdas(n_lambda)
    n_lambda = len(lam)                                      # an int, also when given as 21.0
    n, d = V.shape
    with torch.no_grad():
        y_end = tail(V)                                      # (N, d_out): λ = 0 and λ = 1, once per point
        if y_end.ndim != 2 or y_end.shape[0] != n:
            raise LMNInputError(f"the map must send (M, d_in) to (M, d_out); it returned shape {tuple(y_end.shape)}")
        d_out = y_end.shape[1]
        rtol = flat_rtol(_numpy_dtype(y_end.dtype))            # the precision the tail computed in
        lam_dev = torch.as_tensor(lam, dtype=torch.float64, device=V.device)
        inner = lam[1:-1]                                     # (m,), m = n_lambda - 2
        m = len(inner)
        # eq (1) as [1, λ] @ [x_i; x_j − x_i], λ-major: every line of a chunk is one matrix product,
        # and x_i = x_j gives the point itself exactly, in any precision.
        mix = torch.as_tensor(np.stack([np.ones(m), inner], axis=1), dtype=V.dtype, device=V.device)  # (m, 2)
        max_floats = chunk_floats(V.device) if max_floats is None else max_floats
        values = []
        for i, j in pair_chunks(n, n_lambda * max(d, d_out), max_floats):
            i_t = torch.as_tensor(i, device=V.device)
            j_t = torch.as_tensor(j, device=V.device)
            p = len(i)
            vi = V[i_t]
            ends = torch.stack([vi, V[j_t] - vi])                                      # (2, P, d)
            point = (ends[1] == 0).all(dim=1)                # (P,) x_i = x_j: one point, linear by definition
            y = [y_end[i_t][None], y_end[j_t][None]]                                  # λ = 0 and 1: (1, P, d_out) each
            if m:                                                                     # n_lambda = 2 has no interior
                line = (mix @ ends.reshape(2, p * d)).reshape(m * p, d)               # (m * P, d), eq (1)
                y.insert(1, tail(line).reshape(m, p, d_out))                          # (m, P, d_out)
            y = torch.cat(y)                                                          # (n_lambda, P, d_out)
            Lij = r_squared(y, lam_dev, rtol).mean(dim=1)                            # (P,), eq (2)
            values.append(torch.where(point, torch.ones_like(Lij), Lij))
        L = np.eye(n)
        if values:
            rows, cols = np.triu_indices(n, k=1)              # the order pair_chunks walks them in
            L[rows, cols] = L[cols, rows] = torch.cat(values).cpu().numpy()
    if not np.all(np.isfinite(L)):
        raise NotFiniteError("the map returned NaN or inf on the interpolated points")
    return L


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
