"""lmn_edu: the linear mapping number (LMN) of Liu, Zhong & Tegmark, "Grokking as Compression:
A Nonlinear Complexity Perspective" (arXiv 2310.05918), from scratch in NumPy + autograd.

The names below are imported on first use (``lmn_edu.layer_lmn``, ``from lmn_edu import AdamW``):
``import lmn_edu`` itself imports nothing, so that a command (``python -m lmn_edu.run``) has its
Ctrl-C handling in place before NumPy and the rest are loaded.
"""
import importlib

# public name -> the module that defines it
_WHERE = {
    "AdamW": "adamw", "RunConfig": "config",
    "TASKS": "datasets", "Task": "datasets", "make_task": "datasets", "split": "datasets",
    "LMNInputError": "errors",
    "connectivity_matrix": "lmn", "lambdas": "lmn", "linear_mapping_number": "lmn", "lmn_of": "lmn",
    "nonlinear_entropy": "lmn", "r_squared": "lmn", "spectrum": "lmn",
    "LAYERS": "mlp", "accuracy": "mlp", "cross_entropy": "mlp", "forward": "mlp", "init_params": "mlp",
    "l2_norm": "mlp", "loss": "mlp", "representations": "mlp",
    "LMN_LAYERS": "mlp_lmn", "layer_connectivity": "mlp_lmn", "layer_lmn": "mlp_lmn",
    "layers_lmn": "mlp_lmn", "tail_function": "mlp_lmn",
}

__all__ = list(_WHERE)

_TORCH_NAMES = ("module_lmn", "module_connectivity")


def __getattr__(name):
    if name in _WHERE:
        value = getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
        globals()[name] = value                 # imported once
        return value
    # The monitor reads and writes run folders: imported on first use, so `import lmn_edu` stays light.
    if name == "LMNMonitor":
        from .monitor import LMNMonitor
        return LMNMonitor
    # LMN of a user's torch module needs torch: imported on first use, never at `import lmn_edu`.
    if name in _TORCH_NAMES:
        from .errors import LMNInputError
        try:
            from . import torch_lmn
        except ModuleNotFoundError as e:
            if e.name != "torch":
                raise
            raise LMNInputError(f"lmn_edu.{name} needs PyTorch, which is not installed; "
                                "install it (pip install torch)") from None
        return getattr(torch_lmn, name)
    if not name.startswith("__"):               # a submodule: lmn_edu.errors, lmn_edu.history, …
        try:
            return importlib.import_module(f".{name}", __name__)
        except ModuleNotFoundError as e:
            if e.name != f"{__name__}.{name}":
                raise
    raise AttributeError(f"module 'lmn_edu' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__) | set(_TORCH_NAMES) | {"LMNMonitor"})
