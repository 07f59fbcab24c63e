"""The paper's protocol: which runs, with which settings, and training them through ``train.train``.

Three tasks, seeds 0–2, 20 000 full-batch AdamW steps, accuracy / loss / L2 every 10 steps, LMN of
h1 on the train points every 50 steps (and of emb and h2 for addition), torch backend in float64
(the authors' precision), GPU when present. Each run is a run folder ``<results>/<task>-s<seed>/``
as rundir.py writes it. A finished run with the same settings is skipped (an interrupted
reproduction resumes); a folder holding a run with other settings is refused, naming them.
"""
from dataclasses import replace
from pathlib import Path

from ..analysis import phase_steps
from ..config import RunConfig
from ..errors import LMNInputError
from ..rundir import CONFIG, add_notes, finished, load_run
from ..train import lmn_steps, train

SEEDS = (0, 1, 2)
STEPS = 20_000
EVAL_EVERY = 10
LMN_EVERY = 50
# Layers measured per task: addition gets every layer (Fig 3); z1 and z2 are not measured because
# LMN(z1) = LMN(emb) and LMN(z2) = LMN(h1) exactly (affine-prefix identity, mlp_lmn.py).
TASK_LAYERS = {"add": ("emb", "h1", "h2"), "s4": ("h1",), "xor": ("h1",)}
# Snapshots kept by the protocol: Appendix B's steps and the readings' steps, for addition.
SNAPSHOT_STEPS = {"add": (0, 200, 500, 7600, 15000)}
# Settings that make two runs the same run (a folder holding a run that differs in one is refused).
SAME_RUN = ("task", "seed", "backend", "dtype", "steps", "train_frac", "lr", "weight_decay",
            "eval_every", "lmn_points", "lmn_output", "n_lambda", "emb_dim", "hidden")


def run_path(results, task, seed):
    """A run's folder under ``results``."""
    return Path(results) / f"{task}-s{seed}"


def make_config(task, seed, results, steps=STEPS, backend="torch", dtype="float64", device="auto",
                layers=None, points="train", output="logits", lmn_every=LMN_EVERY, defer=False):
    """The RunConfig of one protocol run into ``<results>/<task>-s<seed>``.

    ``defer``: measure no LMN while training; keep the params of every LMN step in the run's
    snapshots/ instead (fill.py measures them afterwards).
    """
    layers = TASK_LAYERS[task] if layers is None else tuple(layers)
    config = RunConfig(task=task, backend=backend, steps=steps, seed=seed, eval_every=EVAL_EVERY,
                       lmn_every=lmn_every, lmn_log=0, lmn_layers=layers, lmn_points=points,
                       lmn_output=output, device=device, dtype=dtype, out=str(results),
                       name=f"{task}-s{seed}").validated()
    snaps = tuple(s for s in SNAPSHOT_STEPS.get(task, ()) if s <= steps) if seed in SEEDS else ()
    if defer:
        snaps = tuple(sorted(set(snaps) | set(lmn_steps(config))))
        return replace(config, lmn_layers=(), snapshot_steps=snaps)
    return replace(config, snapshot_steps=snaps)


def existing_run(config):
    """What ``config``'s folder holds: None (no run), "complete" or "incomplete" (a killed run).

    Raises LMNInputError naming the settings when the folder holds a run with other settings,
    so that an old run is never reported as the new one.
    """
    folder = config.run_dir
    if not (folder / CONFIG).exists():
        return None
    old, rows = load_run(folder)
    differ = [f"{k}={old.get(k)!r} (asked: {getattr(config, k)!r})" for k in SAME_RUN
              if old.get(k) != getattr(config, k)]
    if differ:
        raise LMNInputError(f"{folder} already holds a run with other settings: {', '.join(differ)}; "
                            "choose another --results folder or remove that run")
    return "complete" if finished(folder) else "incomplete"


def mark_deferred(config, layers):
    """After a deferred run: config.json names the layers LMN is to be measured on (from snapshots)."""
    add_notes(config.run_dir, lmn_layers=list(layers), lmn_deferred=True, lmn_schedule=str(config.lmn_every))


def run_protocol(configs, layers, progress=None, log=print):
    """Train each config (skipping finished ones); ``layers``: the LMN layers of each, for deferred runs.

    A run that did not finish (killed, interrupted: no finished marker) is trained again from the start.
    """
    for config, wanted in zip(configs, layers):
        state = existing_run(config)
        if state == "complete":
            log(f"{config.run_dir}: finished with the same settings, skipped")
            continue
        history = train(config, progress=progress, overwrite=state == "incomplete")
        if not config.lmn_layers:
            mark_deferred(config, wanted)
        mem, gen = phase_steps(history.rows)
        log(f"{config.run_dir}: train acc 1.0 at {mem}, test acc 1.0 at {gen}, "
            f"{history.rows[-1]['time_s']:.0f} s")
