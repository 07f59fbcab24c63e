"""The one training loop, for every backend and every caller (command line, reproduction,
lessons): full-batch AdamW, metrics and LMN on a schedule, rows and snapshots saved as they go.
The run folder is rundir.py's; a run that reaches its end (or is stopped by its callback with
StopTraining) is marked finished there, any other stop leaves it unfinished."""
import math
import time

import numpy as np

from . import interrupts, rundir
from .adamw import AdamW
from .backends import get_backend
from .datasets import make_task, split
from .errors import LMNInputError, NotFiniteError
from . import transformer
from .mlp import init_params
from .progress import Remaining, format_seconds


class TrainingDiverged(RuntimeError):
    """The loss (or the params) became NaN or inf; the rows measured so far are on disk."""


class StopTraining(Exception):
    """Raised by a callback to end a run early as finished (it has what it was run for):
    the final params are saved and finished.json gives ``reason``."""

    def __init__(self, reason="stopped early by the callback"):
        super().__init__(reason)
        self.reason = reason


class Schedule:
    """The steps at which something is done: every ``every`` steps from 0, the last step, and a
    few ``extra`` ones. Membership is arithmetic: no list of every step is built."""

    def __init__(self, steps, every=None, extra=(), last=True):
        self.steps, self.every = steps, every
        self.extra = frozenset(s for s in extra if 0 <= s <= steps) | ({steps} if last else set())

    def __contains__(self, step):
        return step in self.extra or (self.every is not None and 0 <= step <= self.steps and step % self.every == 0)

    def __iter__(self):
        regular = range(0, self.steps + 1, self.every) if self.every is not None else range(0)
        return iter(sorted(set(regular) | self.extra))

    def __len__(self):
        return sum(1 for _ in self)


def setup_run(config):
    """Task, split and initial params for a config: (task, train_idx, test_idx, params).

    The RNG is seeded once from ``config.seed`` and drawn from in this order: split, then init,
    so every backend starts from the same numbers.
    """
    rng = np.random.default_rng(config.seed)
    task = make_task(config.task, config.modulus)
    train_idx, test_idx = split(task, config.train_frac, rng)
    if config.model == "transformer":
        params = transformer.init_params(rng, task.vocab_size, task.n_classes, config.d_model, config.n_heads,
                                         config.d_mlp)
    else:
        params = init_params(rng, task.vocab_size, task.n_classes, config.emb_dim, config.hidden)
    return task, train_idx, test_idx, params


def start_backend(config, params=None):
    """The config's backend, set up for full-batch AdamW on its task and split.

    Returns (backend, task, train_idx, test_idx). ``params``: start from these instead of
    the seeded init (the split is the seed's either way).
    """
    task, train_idx, test_idx, init = setup_run(config)
    backend = get_backend(config.backend, config.dtype, config.device, config.loss_dtype,
                          model=config.model, n_heads=config.n_heads)
    backend.setup(init if params is None else params, task, train_idx, test_idx,
                  AdamW(lr=config.lr, betas=(0.9, config.beta2), weight_decay=config.weight_decay))
    return backend, task, train_idx, test_idx


def lmn_points(task, train_idx, test_idx, which, n_points=0, seed=0):
    """The token pairs L is built on: ``train`` (default), ``test`` or ``all``.

    ``n_points`` > 0: a fixed random subsample of that many of them (all if fewer), drawn from
    its own RNG seeded by ``seed`` (so it does not move the split or the init), in index order.
    """
    idx = {"train": train_idx, "test": test_idx, "all": np.arange(len(task))}[which]
    if 0 < n_points < len(idx):
        idx = np.sort(np.random.default_rng([seed, 1]).choice(idx, n_points, replace=False))
    return task.inputs[idx]


def lmn_schedule(config):
    """The steps at which LMN is measured, as a Schedule (empty when no layer is measured).

    Every ``lmn_every`` steps (step 0 and the last step included), and ``lmn_log`` steps
    log-spaced from ``lmn_every / 30`` up to the first regular step, where LMN rises and peaks
    while the network memorizes (config.py bounds ``lmn_log``).
    """
    if not config.lmn_layers:
        return Schedule(config.steps, last=False)
    first = min(config.lmn_every, config.steps)
    early = ()
    if config.lmn_log and first > 1:
        log_points = np.geomspace(max(1.0, first / 30), first, config.lmn_log + 1)[:-1]
        early = {int(s) for s in np.round(log_points) if 0 < s < first}
    return Schedule(config.steps, config.lmn_every, early)


def lmn_steps(config):
    """The sorted steps at which LMN is measured (see lmn_schedule); [] when no layer is measured."""
    return list(lmn_schedule(config))


def snapshot_steps(config, lmn_at):
    return lmn_at if config.snapshot_steps == "lmn" else frozenset(config.snapshot_steps)


def _postfix(row, last_lmn, left):
    """What the progress bar shows: the time left, losses and accuracies (train/test), the last LMN."""
    post = {"left": format_seconds(left.seconds_left()),
            "loss": f"{row['train_loss']:.3g}/{row['test_loss']:.3g}",
            "acc": f"{row['train_acc']:.2f}/{row['test_acc']:.2f}"}
    post.update({k: f"{v:.1f}" for k, v in last_lmn.items()})
    return post


def _diverged(row):
    return not (math.isfinite(row["train_loss"]) and math.isfinite(row["l2"]))


def _step(backend, step):
    """One AdamW step; an overflow inside the backend (torch casts lr·wd to the params' dtype)
    is divergence too."""
    try:
        return backend.step()
    except (OverflowError, FloatingPointError) as e:
        raise TrainingDiverged(f"the update overflowed at step {step} ({e})") from None
    except RuntimeError as e:
        if "overflow" not in str(e):
            raise
        raise TrainingDiverged(f"the update overflowed at step {step} ({e})") from None


def train(config, progress=None, callback=None, overwrite=False):
    """Train one run into its run folder; returns its History (rows, ``final_params``).

    ``progress``: None (no bar) or a tqdm class. ``callback(row, backend)``: called after each
    evaluation row is saved. ``overwrite``: replace a run already in the folder (else refused).
    Raises TrainingDiverged when the loss or the params stop being finite (the rows measured
    so far, the diverged one included, are saved). The callback may raise StopTraining to end
    the run early as finished. Only a run that reached its end is marked finished.
    """
    config = config.validated()
    lmn_at = lmn_schedule(config)
    snap_at = snapshot_steps(config, lmn_at)
    backend, task, train_idx, test_idx = start_backend(config)
    points = lmn_points(task, train_idx, test_idx, config.lmn_points, config.lmn_n_points, config.seed)
    columns = [f"lmn_{layer}" for layer in config.lmn_layers]
    if config.precision_diagnostics:
        from .precision import COLUMNS
        columns += list(COLUMNS)
    folder = rundir.RunFolder(config.run_dir, overwrite)
    history = None
    bar = None
    interrupts.defer()                    # a signal stops the run at the start of a step (checkpoint)
    try:
        # config.json: the settings as asked (so it round-trips to RunConfig) and the device they got
        history = rundir.History(config.run_dir, {**config.to_dict(), "device_used": backend.device_name}, columns)
        if progress is not None:
            # the time left is counted by kind (progress.py), not from tqdm's rate of steps
            bar = progress(total=config.steps, leave=True, dynamic_ncols=True,
                           desc=f"{config.task} {config.backend} s{config.seed}",
                           bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}{postfix}]")
        evals = Schedule(config.steps, config.eval_every)        # rows: bounded by config.MAX_ROWS
        n_rows = len(evals) + sum(1 for s in set(lmn_at) | set(snap_at) if s not in evals)
        left = Remaining({"step": config.steps, "row": n_rows, "lmn": len(lmn_at)})
        start = time.perf_counter()
        last_lmn = {}
        # Overflow on the way to divergence is reported once, by the finiteness checks below.
        reason = "last step"
        with np.errstate(over="ignore", invalid="ignore"):
            for step in range(config.steps + 1):
                interrupts.checkpoint()
                if step in evals or step in lmn_at or step in snap_at:          # evals holds the last step
                    t_row, t_lmn = time.perf_counter(), 0.0
                    row = {"step": step, **backend.evaluate()}
                    if _diverged(row):
                        row["time_s"] = time.perf_counter() - start
                        history.append(row)
                        raise TrainingDiverged(f"the train loss is {row['train_loss']} "
                                               f"(params L2 {row['l2']}) at step {step}")
                    if step in lmn_at:
                        try:
                            t_lmn = time.perf_counter()
                            last_lmn = backend.lmn(points, config.lmn_layers, config.lmn_output, config.n_lambda,
                                                   config.lmn_precision)
                            t_lmn = time.perf_counter() - t_lmn
                            left.done("lmn", t_lmn)
                        except NotFiniteError as e:      # finite loss, but outputs that overflow between points
                            row["time_s"] = time.perf_counter() - start
                            history.append(row)
                            raise TrainingDiverged(f"LMN cannot be measured at step {step}: {e}") from None
                        row.update({f"lmn_{k}": v for k, v in last_lmn.items()})
                    if config.precision_diagnostics:
                        row.update(backend.diagnostics())
                    if step in snap_at:
                        path = rundir.snapshot_path(config.run_dir, step)
                        path.parent.mkdir(exist_ok=True)
                        rundir.save_params(path, backend.params())
                    row["time_s"] = time.perf_counter() - start
                    history.append(row)
                    if callback is not None:
                        try:
                            callback(history.rows[-1], backend)
                        except StopTraining as stop:
                            reason = stop.reason
                            break
                    left.done("row", time.perf_counter() - t_row - t_lmn)
                    if bar is not None:
                        bar.set_postfix(_postfix(row, last_lmn, left), refresh=False)
                if step == config.steps:
                    break
                t_step = time.perf_counter()
                value = _step(backend, step)
                left.done("step", time.perf_counter() - t_step)
                if not math.isfinite(value):       # the row after the step that saw it, then stop
                    history.append({"step": step + 1, **backend.evaluate(), "time_s": time.perf_counter() - start})
                    raise TrainingDiverged(f"the train loss is {value} at step {step}")
                if bar is not None:
                    bar.update(1)
        history.final_params = backend.params()
        rundir.save_params(config.run_dir / rundir.PARAMS, history.final_params)
        history.finish(reason)
    finally:
        if bar is not None:
            bar.close()
        try:
            if history is not None:
                history.close()
        finally:
            folder.release()
            interrupts.undefer()
    return history


def lmn_of_params(config, params, layers=None, points=None, output=None):
    """LMN of saved ``params`` with a run's settings (its backend, dtype, split): layer -> LMN.

    ``layers``, ``points``, ``output``: override the config's LMN settings.
    """
    config = config.validated()
    layers = config.lmn_layers if layers is None else tuple(layers)
    if not layers:
        raise LMNInputError("layers is empty; name at least one layer to measure")
    backend, task, train_idx, test_idx = start_backend(config, params)
    pts = lmn_points(task, train_idx, test_idx, points or config.lmn_points, config.lmn_n_points, config.seed)
    return backend.lmn(pts, layers, output or config.lmn_output, config.n_lambda, config.lmn_precision)
