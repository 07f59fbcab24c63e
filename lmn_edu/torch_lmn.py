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
import contextlib

import numpy as np
import torch

from . import engine
from .errors import LMNInputError, NotFiniteError
from .lmn import _flat_points, lambdas, linear_mapping_number
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


# --- LMN of any torch module ------------------------------------------------------------------
# The points may have any shape (N, *input_shape), e.g. images (N, 1, 8, 8). Eq (1) acts on each
# coordinate alone, so the line between two points in their own shape is the line between their
# flattened vectors: lines are drawn flat and reshaped to (M, *input_shape) for the module.
#
# Fast path for an nn.Sequential (the affine-prefix identity of mlp_lmn.py): its leading affine
# layers are applied to the N points once and the lines are drawn after them, just before the
# first nonlinearity; L is unchanged. The layers after that are written as stages (x @ W + b,
# silu, sigmoid, tanh, relu, softmax, or "fn": the rest of the network as it is).

# Layers that are affine maps of their input in eval mode, where LMN runs them: dropout is the
# identity there and batch norm uses its running statistics. Exact types only: a subclass may
# override forward with something that is not affine.
_AFFINE_TYPES = (
    torch.nn.Linear, torch.nn.Conv1d, torch.nn.Conv2d, torch.nn.Conv3d, torch.nn.AvgPool1d,
    torch.nn.AvgPool2d, torch.nn.Flatten, torch.nn.Unflatten, torch.nn.Identity,
    torch.nn.Dropout, torch.nn.Dropout1d, torch.nn.Dropout2d, torch.nn.Dropout3d,
    torch.nn.BatchNorm1d, torch.nn.BatchNorm2d, torch.nn.BatchNorm3d,
)
_IDENTITY_IN_EVAL = (torch.nn.Identity, torch.nn.Dropout, torch.nn.Dropout1d, torch.nn.Dropout2d, torch.nn.Dropout3d)
_ELEMENTWISE = {torch.nn.SiLU: "silu", torch.nn.Sigmoid: "sigmoid", torch.nn.Tanh: "tanh", torch.nn.ReLU: "relu"}


def _is_affine(layer):
    if type(layer) in (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d, torch.nn.BatchNorm3d):
        return layer.running_mean is not None       # without running statistics, eval mode uses the batch's
    if type(layer) is torch.nn.Flatten:
        return layer.start_dim >= 1                  # the batch axis stays as it is
    if type(layer) is torch.nn.Unflatten:
        return layer.dim >= 1
    return type(layer) in _AFFINE_TYPES


def _layers(module):
    """The layers an nn.Sequential applies, in order (nested Sequentials opened); None for any
    other module, or a Sequential with hooks of its own (its forward is then more than its layers)."""
    if type(module) is not torch.nn.Sequential or module._forward_hooks or module._forward_pre_hooks:
        return None
    layers = []
    for layer in module:
        inner = _layers(layer)
        layers += [layer] if inner is None else inner
    return layers


def _shaped(fn, shape):
    """fn of a batch (M, *shape), as a map of flat rows (M, prod(shape))."""
    return lambda x: fn(x.reshape(-1, *shape))


def _stages(layers, shape):
    """The layers as stages of a tail on flat rows, starting from per-point shape ``shape``.

    Elementwise nonlinearities apply to flat rows whatever the shape; nn.Linear and nn.Softmax
    once the rows are vectors; the layers from the first one with no stage form one "fn" stage.
    """
    stages = []
    for k, layer in enumerate(layers):
        kind = type(layer)
        flat = len(shape) == 1
        if kind in _ELEMENTWISE:
            stages.append((_ELEMENTWISE[kind],))
        elif kind in _IDENTITY_IN_EVAL:
            pass
        elif kind is torch.nn.Flatten and layer.start_dim == 1 and layer.end_dim == -1:
            shape = (int(np.prod(shape)),)                 # flat rows are already C-order flattened
        elif flat and kind is torch.nn.Linear:
            stages.append(("affine", layer.weight.T, layer.bias))    # nn.Linear stores W as (out, in)
            shape = (layer.out_features,)
        elif flat and kind is torch.nn.Softmax and layer.dim in (1, -1):
            stages.append(("softmax",))
        else:
            stages.append(("fn", _shaped(torch.nn.Sequential(*layers[k:]), shape)))
            break
    return stages


def fold(module, V, shape):
    """(points, stages): the module as a tail on flat points, its affine prefix applied.

    V: the N points flattened (N, D); shape: one point's shape. For an nn.Sequential the leading
    affine layers are applied to V once (the lines are drawn after them: L is unchanged) and the
    other layers become stages; any other module (or a function) is one "fn" stage. No stages:
    the whole module is affine.
    """
    layers = _layers(module)
    if layers is None:
        return V, [("fn", _shaped(module, shape))]
    k = next((k for k, layer in enumerate(layers) if not _is_affine(layer)), len(layers))
    if k:
        V = torch.nn.Sequential(*layers[:k])(V.reshape(-1, *shape))
        shape = tuple(V.shape[1:])
        V = V.reshape(len(V), -1)
        if not torch.isfinite(V).all():
            raise NotFiniteError("module returned NaN or inf on the points (in its affine first layers)")
    return V, _stages(layers[k:], shape)


def _points_on_device(module, X):
    """(V, input_shape): the points X (N, *input_shape) flattened to V (N, D), a tensor where the
    module computes (the device and dtype of its first parameter; for a module without
    parameters, or a plain function, those of X)."""
    if not callable(module):
        raise LMNInputError(f"module must be a torch.nn.Module or a function of a tensor, got {type(module).__name__}")
    first = next(iter(module.parameters()), None) if isinstance(module, torch.nn.Module) else None
    device = X.device if torch.is_tensor(X) else torch.device("cpu")
    if torch.is_tensor(X):
        if X.layout != torch.strided or X.is_meta:
            raise LMNInputError(f"X must be a dense tensor that holds its values, got layout {X.layout} on {X.device}")
        X = X.detach().cpu()
        X = (X.double() if X.dtype == torch.bfloat16 else X).numpy()    # NumPy has no bfloat16
    X, shape = _flat_points(X)                                # (N, D)
    X = np.ascontiguousarray(X)                               # torch takes no negative strides (X[::-1])
    if first is not None:
        device, dtype = first.device, first.dtype
        if device.type == "meta":
            raise LMNInputError("module's parameters are on the meta device, which holds no values; "
                                "move the module to a real device first")
    elif X.dtype in (np.float32, np.float64):
        dtype = torch.from_numpy(X[:0]).dtype
    else:
        dtype = torch.get_default_dtype()
    return torch.as_tensor(X, dtype=dtype, device=device), shape


def _check_module(module, V, shape):
    """The module takes a batch (M, *input_shape) and returns (M, d_out): tried on two points."""
    x = V[:2].reshape(-1, *shape).clone()                    # a module that writes into its input leaves V alone
    try:
        y = module(x)
    except RuntimeError as e:                               # torch's shape errors
        first_line = str(e).strip().split("\n")[0]
        raise LMNInputError(f"module cannot take a batch of X's points, shape {tuple(x.shape)}: {first_line}") from None
    if not torch.is_tensor(y) or y.ndim != 2 or y.shape[0] != len(x) or y.shape[1] < 1:
        got = tuple(y.shape) if torch.is_tensor(y) else type(y).__name__
        raise LMNInputError(f"module must map a batch (M, *input_shape) to (M, d_out), d_out >= 1; given "
                            f"{tuple(x.shape)} it returned shape {got}")
    if not y.is_floating_point():
        raise LMNInputError(f"module must return floating-point numbers, it returned dtype {y.dtype}")


@contextlib.contextmanager
def eval_mode(module):
    """Eval mode for a module and every submodule while inside; each gets its own mode back
    afterwards. Anything that is not an nn.Module (a plain function) is left as it is."""
    modes = [(m, m.training) for m in module.modules()] if isinstance(module, torch.nn.Module) else []
    for m, _ in modes:
        m.eval()
    try:
        yield module
    finally:
        for m, training in modes:
            m.train(training)


def module_connectivity(module, X, n_lambda=21):
    """The connectivity matrix L (N, N) of eq (2) for a torch module on the points X (N, *input_shape).

    ``module`` maps a batch (M, *input_shape) to (M, d_out): give it the continuous input you
    want to interpolate in (for a network that starts with an embedding, X is the embedded points
    and the module is the rest). X: a NumPy array or tensor of any shape whose first axis counts
    the points, e.g. images (N, C, H, W); it is moved to the module's device and dtype. The
    module runs under ``torch.no_grad()`` and in eval mode (dropout off, batch-norm running
    statistics used, so f is one function); each submodule's training mode is restored afterwards.
    An nn.Sequential's leading affine layers (Linear, Conv, Flatten, AvgPool, and in eval mode
    Dropout and BatchNorm) are applied to the N points once, the lines drawn after them.
    """
    lambdas(n_lambda)                                       # checked before any work
    V, shape = _points_on_device(module, X)
    with eval_mode(module), torch.no_grad():
        _check_module(module, V, shape)
        V, stages = fold(module, V, shape)
        return connectivity(stages, V, n_lambda)             # the engine's pair loop; no stages: L = 1


def module_lmn(module, X, n_lambda=21):
    """LMN (eq 3) of a torch module on the points X (N, *input_shape): 2^S_NL, between 1 and N."""
    return linear_mapping_number(module_connectivity(module, X, n_lambda))
