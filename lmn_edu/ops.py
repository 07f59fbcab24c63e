"""The array operations the LMN engine (engine.py) is written against: one small table per library.

The engine never names NumPy or torch: it calls ``ops.exp``, ``ops.matmul``, … on arrays of the
ops' kind, as minitorch's ``TensorBackend(ops)`` does. ``NUMPY_OPS`` runs on the CPU with NumPy;
``torch_ops(device)`` (torch_ops.py, which imports torch) runs on a torch device. Both tables have
the same entries, with the same meaning:

    name, chunk_floats          the library, and the floats in the largest array of a chunk
    factor_exp                  whether the first SiLU/sigmoid/tanh takes its exponentials from tables
    points(name, X)             points (N, d) in a float dtype that holds them (lmn.as_float_points)
    asarray(x, dtype)           x as an array of the ops' kind (dtype: a NumPy dtype name)
    numpy(x)                    back to a NumPy array (for L, on the host)
    dtype(x)                    x's dtype as a NumPy dtype (for lmn.flat_rtol)
    empty(shape, dtype)         uninitialised scratch (chunking.Scratch calls it)
    exp, expm1, negative, abs   elementwise, with an optional ``out``
    add, subtract, multiply, divide, maximum, minimum, matmul     binary, with an optional ``out``
    amax, amin, sum(x, axis)    reductions over one axis
    all_finite(x)               a Python bool
    sum_squares(x)              Σ x² over axis 0 of a 2-D array
    where(cond, a, b), pow2_below(x), clip(x, lo, hi), repeat(x, k)
    silu, sigmoid, tanh, relu, softmax     the stages of a tail (softmax over the last axis)

Each entry is one line of the library's own API: reading the table is reading the whole interface.
"""
import numpy as np

from . import chunking
from .lmn import as_float_points, pow2_below


def _softmax(x):
    """Softmax of each row (last axis), in place: the values of mlp.softmax."""
    x -= x.max(axis=-1, keepdims=True)
    np.exp(x, out=x)
    x /= x.sum(axis=-1, keepdims=True)
    return x


def _silu(x):
    """SiLU(x) = x / (1 + e^(−x)), in place: the values of mlp.silu, in four passes."""
    e = np.negative(x)
    with np.errstate(over="ignore"):                         # e^(−x) = inf for x < −709 (float32: −88): x / inf = −0
        np.exp(e, out=e)
    e += 1.0
    return np.divide(x, e, out=x)


def _sigmoid(x):
    """1 / (1 + e^(−x)), in place (the values of mlp.sigmoid)."""
    with np.errstate(over="ignore"):
        np.exp(np.negative(x, out=x), out=x)
    x += 1.0
    return np.reciprocal(x, out=x)


class NumpyOps:
    """The NumPy table: arrays are np.ndarray on the CPU."""
    name = "numpy"

    @property
    def chunk_floats(self):                                  # read on use, so that tests can change it
        return chunking.CHUNK_FLOATS
    # NumPy's float64 exp is scalar libm on AVX2 CPUs (~10 ns): a multiply from the tables is cheaper.
    factor_exp = True

    def asarray(self, x, dtype):
        return np.asarray(x, dtype=dtype)

    def numpy(self, x):
        return np.asarray(x)

    def dtype(self, x):
        return x.dtype

    empty = staticmethod(np.empty)
    exp, expm1, negative, abs = np.exp, np.expm1, np.negative, np.abs
    add, subtract, multiply, divide = np.add, np.subtract, np.multiply, np.divide
    maximum, minimum, matmul = np.maximum, np.minimum, np.matmul
    where, clip = staticmethod(np.where), staticmethod(np.clip)
    pow2_below = staticmethod(pow2_below)
    points = staticmethod(as_float_points)

    def amax(self, x, axis):
        return x.max(axis=axis)

    def amin(self, x, axis):
        return x.min(axis=axis)

    def sum(self, x, axis):
        return x.sum(axis=axis)

    def repeat(self, x, k):
        """x (a, b, d) as (a, b, k, d), each row repeated k times, in contiguous memory."""
        return np.repeat(x[:, :, None], k, axis=2)

    def sum_squares(self, x):
        """Σ x² over axis 0, (a, b) -> (b,), in one pass."""
        return np.einsum("ij,ij->j", x, x)

    def all_finite(self, x):
        return bool(np.all(np.isfinite(x)))

    silu, sigmoid, softmax = staticmethod(_silu), staticmethod(_sigmoid), staticmethod(_softmax)
    tanh = staticmethod(np.tanh)

    def relu(self, x):
        return np.maximum(x, 0.0, out=x)


NUMPY_OPS = NumpyOps()


def torch_ops(device="cpu", chunk_floats=None):
    """The torch table for ``device`` (imports torch: only on use)."""
    from .torch_ops import TorchOps
    return TorchOps(device, chunk_floats)
