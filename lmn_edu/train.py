"""One training loop for every backend: full-batch AdamW, metrics and LMN on a schedule,
history saved as it goes."""
import math
import time

import numpy as np

from .adamw import AdamW
from .backends import get_backend
from .datasets import make_task, split
from .history import History
from .mlp import init_params


class TrainingDiverged(RuntimeError):
    """The loss became NaN or inf; the history up to that point is on disk."""


def setup_run(config):
    """Task, split and initial params for a config: (task, train_idx, test_idx, params).

    The RNG is seeded once from ``config.seed`` and drawn from in this order: split, then init,
    so every backend starts from the same numbers.
    """
    rng = np.random.default_rng(config.seed)
    task = make_task(config.task)
    train_idx, test_idx = split(task, config.train_frac, rng)
    params = init_params(rng, task.vocab_size, task.n_classes, config.emb_dim, config.hidden)
    return task, train_idx, test_idx, params


def start_backend(config, params=None):
    """The config's backend, set up for full-batch AdamW on its task and split.

    Returns (backend, task, train_idx, test_idx). ``params``: start from these instead of
    the seeded init (the split is the seed's either way).
    """
    task, train_idx, test_idx, init = setup_run(config)
    backend = get_backend(config.backend, config.dtype, config.device)
    backend.setup(init if params is None else params, task, train_idx, test_idx,
                  AdamW(lr=config.lr, weight_decay=config.weight_decay))
    return backend, task, train_idx, test_idx


def lmn_points(task, train_idx, test_idx, which):
    """The token pairs L is built on: ``train`` (default), ``test`` or ``all``."""
    idx = {"train": train_idx, "test": test_idx, "all": np.arange(len(task))}[which]
    return task.inputs[idx]


def is_eval_step(config, step):
    return step % config.eval_every == 0 or step % config.lmn_every == 0 or step == config.steps


def is_lmn_step(config, step):
    return step % config.lmn_every == 0 or step == config.steps


def _postfix(row, last_lmn):
    """What the progress bar shows: losses and accuracies (train/test) and the last LMN."""
    post = {"loss": f"{row['train_loss']:.3g}/{row['test_loss']:.3g}",
            "acc": f"{row['train_acc']:.2f}/{row['test_acc']:.2f}"}
    post.update({k: f"{v:.1f}" for k, v in last_lmn.items()})
    return post


def train(config, progress=None):
    """Train one run; returns its History. ``progress``: None (no bar) or a tqdm class.

    Raises TrainingDiverged when the loss is not finite (after saving what was measured).
    """
    config = config.validated()
    backend, task, train_idx, test_idx = start_backend(config)
    points = lmn_points(task, train_idx, test_idx, config.lmn_points)
    lmn_columns = [f"lmn_{layer}" for layer in config.lmn_layers]
    # config.json: the settings as asked (so it round-trips to RunConfig) and the device they got
    history = History(config.run_dir, {**config.to_dict(), "device_used": getattr(backend, "device_name", "cpu")},
                      lmn_columns)
    bar = None
    if progress is not None:
        bar = progress(total=config.steps, leave=True, dynamic_ncols=True,
                       desc=f"{config.task} {config.backend} s{config.seed}")
    start = time.perf_counter()
    last_lmn = {}
    try:
        # Overflow on the way to divergence is reported once, by the finiteness checks below.
        with np.errstate(over="ignore", invalid="ignore"):
            for step in range(config.steps + 1):
                if is_eval_step(config, step):
                    row = {"step": step, **backend.evaluate()}
                    if is_lmn_step(config, step):
                        last_lmn = backend.lmn(points, config.lmn_layers, config.lmn_output, config.n_lambda)
                        row.update({f"lmn_{k}": v for k, v in last_lmn.items()})
                    row["time_s"] = time.perf_counter() - start
                    history.append(row)
                    if bar is not None:
                        bar.set_postfix(_postfix(row, last_lmn), refresh=False)
                    if not math.isfinite(row["train_loss"]):
                        raise TrainingDiverged(f"the train loss is {row['train_loss']} at step {step}")
                if step == config.steps:
                    break
                value = backend.step()
                if not math.isfinite(value):
                    history.append({"step": step, "train_loss": value,
                                    "time_s": time.perf_counter() - start})
                    raise TrainingDiverged(f"the train loss is {value} at step {step}")
                if bar is not None:
                    bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    history.final_params = backend.params()
    return history
