"""The configuration of one training run, as a typed dataclass with validation."""
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from .datasets import TASKS
from .errors import LMNInputError, check_choice, check_int
from .mlp_lmn import LMN_LAYERS
from .mlp import OUTPUTS

BACKENDS = ("numpy", "torch")
POINTS = ("train", "test", "all")
DEVICES = ("auto", "cpu", "cuda")
DTYPES = ("auto", "float32", "float64")


@dataclass(frozen=True)
class RunConfig:
    """Defaults are the paper's setting; the cadences keep a NumPy run to minutes."""
    task: str = "add"
    backend: str = "numpy"
    steps: int = 20_000
    seed: int = 0
    train_frac: float = 0.8
    lr: float = 1e-3
    weight_decay: float = 0.2
    eval_every: int = 100
    lmn_every: int = 500
    lmn_layers: tuple = ("h1",)
    lmn_points: str = "train"
    lmn_output: str = "logits"
    n_lambda: int = 21
    out: str = "runs"
    device: str = "auto"
    dtype: str = "auto"
    emb_dim: int = 32
    hidden: int = 100

    def validated(self):
        """Return a copy with checked, normalised values; raise LMNInputError naming any bad one."""
        check_choice("task", self.task, TASKS)
        check_choice("backend", self.backend, BACKENDS)
        check_choice("lmn_points", self.lmn_points, POINTS)
        check_choice("lmn_output", self.lmn_output, OUTPUTS)
        check_choice("device", self.device, DEVICES)
        check_choice("dtype", self.dtype, DTYPES)
        layers = (self.lmn_layers,) if isinstance(self.lmn_layers, str) else tuple(self.lmn_layers)
        if not layers:
            raise LMNInputError(f"lmn_layers is empty; choose from {LMN_LAYERS}")
        for layer in layers:
            check_choice("lmn_layers", layer, LMN_LAYERS)
        if self.backend == "numpy" and self.device == "cuda":
            raise LMNInputError("device='cuda' needs backend='torch'; the numpy backend runs on the CPU")
        if not (isinstance(self.train_frac, (int, float)) and 0.0 < self.train_frac < 1.0):
            raise LMNInputError(f"train_frac={self.train_frac!r} must be strictly between 0 and 1")
        for name in ("lr",):
            if not (isinstance(getattr(self, name), (int, float)) and getattr(self, name) > 0):
                raise LMNInputError(f"{name}={getattr(self, name)!r} must be a number > 0")
        if not (isinstance(self.weight_decay, (int, float)) and self.weight_decay >= 0):
            raise LMNInputError(f"weight_decay={self.weight_decay!r} must be a number >= 0")
        dtype = self.dtype
        if dtype == "auto":
            dtype = "float64" if self.backend == "numpy" else "float32"
        return replace(
            self,
            steps=check_int("steps", self.steps, 1),
            seed=check_int("seed", self.seed, 0),
            eval_every=check_int("eval_every", self.eval_every, 1),
            lmn_every=check_int("lmn_every", self.lmn_every, 1),
            n_lambda=check_int("n_lambda", self.n_lambda, 3),
            emb_dim=check_int("emb_dim", self.emb_dim, 1),
            hidden=check_int("hidden", self.hidden, 1),
            lmn_layers=layers,
            dtype=dtype,
        )

    @property
    def run_dir(self):
        return Path(self.out) / f"{self.task}-{self.backend}-s{self.seed}"

    def to_dict(self):
        d = asdict(self)
        d["lmn_layers"] = list(self.lmn_layers)
        return d
