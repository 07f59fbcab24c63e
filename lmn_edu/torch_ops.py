"""The torch table of ops.py: the same entries as ops.NumpyOps, on a torch device.

Imported only on use (ops.torch_ops), so that ``import lmn_edu`` never needs torch. Dtypes are
named the NumPy way (np.float64, "float32"); arrays are tensors on ``device``.
"""
import numpy as np
import torch
import torch.nn.functional as F

from .errors import LMNInputError, NotFiniteError
from .lmn import as_float_points

_TORCH = {np.dtype(np.float64): torch.float64, np.dtype(np.float32): torch.float32,
          np.dtype(np.float16): torch.float16, np.dtype(np.int64): torch.int64, np.dtype(np.bool_): torch.bool}
_NUMPY = {torch.float64: np.dtype(np.float64), torch.float32: np.dtype(np.float32),
          torch.float16: np.dtype(np.float16), torch.bfloat16: np.dtype(np.float16)}   # bfloat16: float16's tolerance is the nearest

# Floats in the largest array of a chunk. On the CPU, 2^19 (4 MB of float64) measured fastest for
# the paper's MLP, one thread: smaller chunks pay torch's per-call overhead, larger ones fall out
# of the cache. On a GPU, bigger chunks mean fewer kernel launches (2^26 floats: 256 MB of float32).
CPU_CHUNK_FLOATS = 2 ** 19
CUDA_CHUNK_FLOATS = 2 ** 26


class TorchOps:
    """The torch table: arrays are tensors on one device."""
    name = "torch"
    # torch's SiLU is one fused, vectorized pass; from the tables it takes four (measured on a CPU:
    # 0.58 s against 0.50 s for h1 at N = 300). The factored path stays tested (test_engine.py).
    factor_exp = False

    def __init__(self, device="cpu", chunk_floats=None):
        self.device = torch.device(device)
        default = CUDA_CHUNK_FLOATS if self.device.type == "cuda" else CPU_CHUNK_FLOATS
        self.chunk_floats = default if chunk_floats is None else chunk_floats

    def _t(self, dtype):
        return _TORCH[np.dtype(dtype)]

    def points(self, name, X):
        """Points (N, d) as a float tensor that holds them (lmn.as_float_points' rules)."""
        if not torch.is_tensor(X):
            return self.asarray(as_float_points(name, X), None)
        if X.ndim != 2 or X.shape[0] < 1 or X.shape[1] < 1:
            raise LMNInputError(f"{name} must be a 2-D array (N points, d_in) of at least one point, "
                                f"got shape {tuple(X.shape)}")
        if X.dtype == torch.bool or X.is_complex():
            raise LMNInputError(f"{name} must hold real numbers, got dtype {X.dtype}")
        if not X.is_floating_point():
            if X.numel() and int(X.abs().max()) > 2 ** 53:
                raise LMNInputError(f"{name} holds integers beyond 2^53, which float64 cannot hold exactly")
            return X.to(self.device, torch.float64)
        if not bool(torch.isfinite(X).all()):
            raise NotFiniteError(f"{name} must hold finite numbers (found NaN or inf)")
        if X.dtype not in (torch.float32, torch.float64):
            X = X.to(torch.float64)                          # float16 and bfloat16 lines would round
        return X.to(self.device)

    def asarray(self, x, dtype):
        t = None if dtype is None else self._t(dtype)
        if torch.is_tensor(x):
            return x.to(self.device, t) if t is not None else x.to(self.device)
        return torch.as_tensor(np.asarray(x), dtype=t, device=self.device)

    def numpy(self, x):
        return x.detach().cpu().numpy() if torch.is_tensor(x) else np.asarray(x)

    def dtype(self, x):
        return _NUMPY[x.dtype]

    def empty(self, shape, dtype):
        return torch.empty(shape, dtype=self._t(dtype), device=self.device)

    @staticmethod
    def exp(x, out=None):
        return torch.exp(x, out=out)

    @staticmethod
    def expm1(x, out=None):
        return torch.expm1(x, out=out)

    @staticmethod
    def negative(x, out=None):
        return torch.neg(x, out=out)

    @staticmethod
    def abs(x, out=None):
        return torch.abs(x, out=out)

    @staticmethod
    def add(a, b, out=None):
        return torch.add(b, a, out=out) if not torch.is_tensor(a) else torch.add(a, b, out=out)

    @staticmethod
    def multiply(a, b, out=None):
        return torch.mul(b, a, out=out) if not torch.is_tensor(a) else torch.mul(a, b, out=out)

    @staticmethod
    def subtract(a, b, out=None):
        if not torch.is_tensor(a):                           # a − b = −b + a
            return torch.neg(b, out=out).add_(a)
        return torch.sub(a, b, out=out)         # b may be a number

    @staticmethod
    def divide(a, b, out=None):
        if not torch.is_tensor(a):                           # a / b, a a number (the engine uses 1 / b)
            return torch.reciprocal(b, out=out).mul_(a) if a != 1.0 else torch.reciprocal(b, out=out)
        # b may be a number too
        return torch.div(a, b, out=out)

    @staticmethod
    def maximum(a, b, out=None):
        return torch.maximum(a, b, out=out)

    @staticmethod
    def minimum(a, b, out=None):
        return torch.minimum(a, b, out=out)

    @staticmethod
    def matmul(a, b, out=None):
        return torch.matmul(a, b, out=out)

    @staticmethod
    def amax(x, axis):
        return x.max() if axis is None else torch.amax(x, dim=axis)

    @staticmethod
    def amin(x, axis):
        return x.min() if axis is None else torch.amin(x, dim=axis)

    @staticmethod
    def sum(x, axis):
        return x.sum(dim=axis)

    @staticmethod
    def where(cond, a, b):
        return torch.where(cond, a, b)

    @staticmethod
    def clip(x, lo, hi):
        return torch.clamp(x, lo, hi)

    @staticmethod
    def pow2_below(x):
        """2^e with 2^e <= x < 2^(e+1) for x > 0, and 1 where x is 0 (as lmn.pow2_below)."""
        _, e = torch.frexp(x)
        return torch.where(x > 0, torch.ldexp(torch.ones_like(x), e - 1), 1.0)

    @staticmethod
    def repeat(x, k):
        return x[:, :, None].expand(-1, -1, k, -1).contiguous()

    @staticmethod
    def all_finite(x):
        return bool(torch.isfinite(x).all())

    @staticmethod
    def sum_squares(x):
        return torch.einsum("ij,ij->j", x, x)

    silu, sigmoid, tanh, relu = staticmethod(F.silu), staticmethod(torch.sigmoid), staticmethod(torch.tanh), \
        staticmethod(torch.relu)

    @staticmethod
    def softmax(x):
        return torch.softmax(x, dim=-1)
