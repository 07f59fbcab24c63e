"""The configuration of one training run, as a typed dataclass with validation."""
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from .backends import BACKENDS, DEVICES, DTYPES, LOSS_DTYPES
from .datasets import TASKS
from .errors import LMNInputError, check_choice, check_int, check_real
from .mlp import OUTPUTS
from .mlp_lmn import LMN_LAYERS, PRECISIONS
from .transformer import LMN_LAYERS as TRANSFORMER_LMN_LAYERS

# The transformer's default LMN layers: the two whose tail is not affine (from mlp, LMN = 1).
TRANSFORMER_LAYERS = ("emb", "attn")

POINTS = ("train", "test", "all")
MODELS = ("mlp", "transformer")

# Limits on what sets an allocation or a file's size, checked before anything is allocated.
MAX_STEPS = 10**9            # ~ weeks of CPU at a millisecond a step
MAX_ROWS = 10**6             # rows of a run: each is ~1 KB in memory and in each history file
MAX_N_LAMBDA = 10_000        # λ points per line (the paper: 21); memory grows with it
MAX_LMN_LOG = 10_000         # log-spaced early LMN steps (at most lmn_every - 1 of them differ)
MAX_PAIRS = 10**7            # input pairs of a task (add mod p has p²): the dataset and its logits
MAX_PARAMS = 10**8           # the model's parameters: 0.8 GB in float64, AdamW keeps three copies


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
    # The transformer (model="transformer", lmn_edu/transformer.py); emb_dim and hidden are the MLP's.
    model: str = "mlp"
    modulus: int = 31                   # the p of task "add"
    d_model: int = 128
    n_heads: int = 4
    d_mlp: int = 512
    beta2: float = 0.999                # AdamW's second beta (Nanda et al.: 0.98)
    lmn_n_points: int = 0               # LMN on a fixed random subsample of this many points; 0: all

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
        check_choice("model", self.model, MODELS)
        layers = (self.lmn_layers,) if isinstance(self.lmn_layers, str) else self.lmn_layers
        if not hasattr(layers, "__iter__"):
            raise LMNInputError(f"lmn_layers={self.lmn_layers!r} must be a list of layer names")
        layers = tuple(layers)
        if self.model == "transformer" and layers == ("h1",):
            layers = TRANSFORMER_LAYERS                    # the MLP's default layer has no transformer twin
        for layer in layers:
            check_choice("lmn_layers", layer, LMN_LAYERS if self.model == "mlp" else TRANSFORMER_LMN_LAYERS)
        layers = tuple(dict.fromkeys(layers))               # a layer named twice is measured once
        if not isinstance(self.out, str) or not self.out.strip():
            raise LMNInputError(f"out={self.out!r} must name a folder (empty is not one)")
        if self.task != "add" and self.modulus != 31:
            raise LMNInputError(f"modulus={self.modulus!r} applies to task 'add' only; {self.task!r} has a fixed size")
        if self.model == "transformer" and check_int("d_model", self.d_model, 1) % check_int("n_heads", self.n_heads, 1):
            raise LMNInputError(f"d_model={self.d_model} must be a multiple of n_heads={self.n_heads}")
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
        steps = check_int("steps", self.steps, 1, MAX_STEPS)
        snaps = self.snapshot_steps
        if snaps != "lmn":
            if isinstance(snaps, (str, bytes)) or not hasattr(snaps, "__iter__"):
                raise LMNInputError(f"snapshot_steps={snaps!r} must be a list of steps or 'lmn'")
            snaps = tuple(sorted({check_int("snapshot_steps", s, 0, steps) for s in snaps}))
        dtype = self.dtype
        if dtype == "auto":
            dtype = "float64" if self.backend == "numpy" else "float32"
        config = replace(
            self,
            steps=steps,
            seed=check_int("seed", self.seed, 0),
            train_frac=train_frac,
            lr=check_real("lr", self.lr, gt=0.0),
            weight_decay=check_real("weight_decay", self.weight_decay, ge=0.0),
            eval_every=check_int("eval_every", self.eval_every, 1),
            lmn_every=check_int("lmn_every", self.lmn_every, 1),
            lmn_log=check_int("lmn_log", self.lmn_log, 0, MAX_LMN_LOG),
            n_lambda=check_int("n_lambda", self.n_lambda, 3, MAX_N_LAMBDA),
            emb_dim=check_int("emb_dim", self.emb_dim, 1),
            hidden=check_int("hidden", self.hidden, 1),
            modulus=check_int("modulus", self.modulus, 2),
            d_model=check_int("d_model", self.d_model, 1),
            n_heads=check_int("n_heads", self.n_heads, 1),
            d_mlp=check_int("d_mlp", self.d_mlp, 1),
            beta2=check_real("beta2", self.beta2, ge=0.0, lt=1.0),
            lmn_n_points=check_int("lmn_n_points", self.lmn_n_points, 0),
            lmn_layers=layers,
            snapshot_steps=snaps,
            dtype=dtype,
        )
        config._check_sizes()
        return config

    def _check_sizes(self):
        """The rows a run records and the params it trains, bounded before anything is allocated."""
        rows = self.steps // self.eval_every + 2 + len(self.snapshot_steps if self.snapshot_steps != "lmn" else ())
        if self.lmn_layers:
            rows += self.steps // self.lmn_every + 1 + self.lmn_log
        if rows > MAX_ROWS:
            raise LMNInputError(
                f"steps={self.steps} with eval_every={self.eval_every} and lmn_every={self.lmn_every} records up "
                f"to {rows} rows, more than {MAX_ROWS} (each ~1 KB in memory and on disk); "
                "evaluate less often (a larger eval_every or lmn_every) or train fewer steps")
        if self.modulus ** 2 > MAX_PAIRS:
            raise LMNInputError(f"modulus={self.modulus}: {self.modulus ** 2} pairs (a, b), more than {MAX_PAIRS}")
        vocab = max(128, self.modulus + 1)         # at least any task's vocabulary and classes
        if self.model == "transformer":            # embeddings and unembedding, attention's four maps, the MLP
            n = 3 * vocab * self.d_model + 4 * self.d_model ** 2 + 2 * self.d_model * self.d_mlp
            what = f"modulus={self.modulus}, d_model={self.d_model}, d_mlp={self.d_mlp}"
        else:
            n = vocab * self.emb_dim + 2 * self.emb_dim * self.hidden + self.hidden ** 2 + self.hidden * vocab
            what = f"emb_dim={self.emb_dim}, hidden={self.hidden}"
        if n > MAX_PARAMS:
            raise LMNInputError(f"{what}: about {n} params, more than {MAX_PARAMS}")

    @property
    def run_dir(self):
        """The run folder: ``<out>/<name>``, the name by default ``<task>-<backend>-s<seed>``
        (``transformer-<task>-<backend>-s<seed>`` for the transformer)."""
        model = "" if self.model == "mlp" else f"{self.model}-"
        return Path(self.out) / (self.name or f"{model}{self.task}-{self.backend}-s{self.seed}")

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
