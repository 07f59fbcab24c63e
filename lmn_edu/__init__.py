"""lmn_edu: the linear mapping number (LMN) of Liu, Zhong & Tegmark, "Grokking as Compression:
A Nonlinear Complexity Perspective" (arXiv 2310.05918), from scratch in NumPy + autograd."""
from .adamw import AdamW
from .config import RunConfig
from .datasets import TASKS, Task, make_task, split
from .errors import LMNInputError
from .lmn import connectivity_matrix, lambdas, linear_mapping_number, lmn_of, nonlinear_entropy, r_squared, spectrum
from .mlp import LAYERS, accuracy, cross_entropy, forward, init_params, l2_norm, loss, representations
from .mlp_lmn import LMN_LAYERS, layer_connectivity, layer_lmn, layers_lmn, tail_function

__all__ = [
    "AdamW", "RunConfig", "TASKS", "Task", "make_task", "split", "LMNInputError",
    "connectivity_matrix", "lambdas", "linear_mapping_number", "lmn_of", "nonlinear_entropy",
    "r_squared", "spectrum", "LAYERS", "accuracy", "cross_entropy", "forward", "init_params",
    "l2_norm", "loss", "representations", "LMN_LAYERS", "layer_connectivity", "layer_lmn",
    "layers_lmn", "tail_function",
]

_TORCH_NAMES = ("module_lmn", "module_connectivity")


def __getattr__(name):
    # The monitor reads and writes run folders: imported on first use, so `import lmn_edu` stays light.
    if name == "LMNMonitor":
        from .monitor import LMNMonitor
        return LMNMonitor
    # LMN of a user's torch module needs torch: imported on first use, never at `import lmn_edu`.
    if name in _TORCH_NAMES:
        try:
            from . import torch_lmn
        except ModuleNotFoundError as e:
            if e.name != "torch":
                raise
            raise LMNInputError(f"lmn_edu.{name} needs PyTorch, which is not installed; "
                                "install it (pip install torch)") from None
        return getattr(torch_lmn, name)
    raise AttributeError(f"module 'lmn_edu' has no attribute {name!r}")
