"""The configuration of one training run, as a typed dataclass with validation."""
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from .backends import BACKENDS, DEVICES, DTYPES, LOSS_DTYPES
from .datasets import TASKS
from .errors import LMNInputError, check_choice, check_int, check_real
from .mlp import OUTPUTS
from .mlp_lmn import LMN_LAYERS, PRECISIONS

POINTS = ("train", "test", "all")


@dataclass(frozen=True)
class RunConfig:
    """Defaults are the paper's setting; the LMN cadence keeps a NumPy run to minutes.

    LMN is measured at ``lmn_log`` log-spaced steps before step ``lmn_every`` (where it rises
    and peaks, as the network memorizes) and then every ``lmn_every`` steps.
    """
    task: str = "add"
    backend: str = "numpy"
    steps: int = 20_000
    seed: int = 0
    train_frac: float = 0.8
    lr: float = 1e-3
    weight_decay: float = 0.2
    eval_every: int = 100
    lmn_every: int = 1000
    lmn_log: int = 20
    lmn_layers: tuple = ("h1",)
    lmn_points: str = "train"
    lmn_output: str = "logits"
    n_lambda: int = 21
    lmn_precision: str = "float64"       # LMN's tail on both backends, whatever the training dtype
    snapshot_steps: tuple = ()
    out: str = "runs"
    name: str = ""
    device: str = "auto"
    dtype: str = "auto"
    loss_dtype: str = "auto"
    precision_diagnostics: bool = False
    emb_dim: int = 32
    hidden: int = 100

    def validated(self):
        """Return a copy with checked, normalised values; raise LMNInputError naming any bad one."""
        check_choice("task", self.task, TASKS)
        check_choice("backend", self.backend, BACKENDS)
        check_choice("lmn_points", self.lmn_points, POINTS)
        check_choice("lmn_output", self.lmn_output, OUTPUTS)
        check_choice("lmn_precision", self.lmn_precision, PRECISIONS)
        check_choice("device", self.device, DEVICES)
        check_choice("dtype", self.dtype, DTYPES)
        check_choice("loss_dtype", self.loss_dtype, LOSS_DTYPES)
        layers = (self.lmn_layers,) if isinstance(self.lmn_layers, str) else tuple(self.lmn_layers)
        for layer in layers:
            check_choice("lmn_layers", layer, LMN_LAYERS)
        if self.backend == "numpy" and self.device == "cuda":
            raise LMNInputError("device='cuda' needs backend='torch'; the numpy backend runs on the CPU")
        try:
            train_frac = check_real("train_frac", self.train_frac, gt=0.0, lt=1.0)
        except LMNInputError:
            raise LMNInputError(f"train_frac={self.train_frac!r} must be a number strictly between 0 and 1") from None
        if not isinstance(self.name, str) or "/" in self.name or "\\" in self.name or self.name in (".", ".."):
            raise LMNInputError(f"name={self.name!r} must be a folder name (no path separators)")
        if not isinstance(self.precision_diagnostics, bool):
            raise LMNInputError(f"precision_diagnostics={self.precision_diagnostics!r} must be True or False")
        steps = check_int("steps", self.steps, 1)
        snaps = self.snapshot_steps
        if snaps != "lmn":
            if isinstance(snaps, (str, bytes)) or not hasattr(snaps, "__iter__"):
                raise LMNInputError(f"snapshot_steps={snaps!r} must be a list of steps or 'lmn'")
            snaps = tuple(sorted({check_int("snapshot_steps", s, 0, steps) for s in snaps}))
        dtype = self.dtype
        if dtype == "auto":
            dtype = "float64" if self.backend == "numpy" else "float32"
        return replace(
            self,
            steps=steps,
            seed=check_int("seed", self.seed, 0),
            train_frac=train_frac,
            lr=check_real("lr", self.lr, gt=0.0),
            weight_decay=check_real("weight_decay", self.weight_decay, ge=0.0),
            eval_every=check_int("eval_every", self.eval_every, 1),
            lmn_every=check_int("lmn_every", self.lmn_every, 1),
            lmn_log=check_int("lmn_log", self.lmn_log, 0),
            n_lambda=check_int("n_lambda", self.n_lambda, 3),
            emb_dim=check_int("emb_dim", self.emb_dim, 1),
            hidden=check_int("hidden", self.hidden, 1),
            lmn_layers=layers,
            snapshot_steps=snaps,
            dtype=dtype,
        )

    @property
    def run_dir(self):
        """The run folder: ``<out>/<name>``, the name by default ``<task>-<backend>-s<seed>``."""
        return Path(self.out) / (self.name or f"{self.task}-{self.backend}-s{self.seed}")

    def to_dict(self):
        d = asdict(self)
        d["lmn_layers"] = list(self.lmn_layers)
        if not isinstance(self.snapshot_steps, str):
            d["snapshot_steps"] = list(self.snapshot_steps)
        return d

    @classmethod
    def from_dict(cls, d):
        """The config of a run's config.json (unknown keys, such as ``device_used``, are ignored)."""
        keep = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        for key in ("lmn_layers", "snapshot_steps"):
            if isinstance(keep.get(key), list):
                keep[key] = tuple(keep[key])
        return cls(**keep)
