"""LMN measured after training, from a run's saved params.

Measuring LMN while training is what dominates a CPU run (seconds per value against milliseconds
per step), so a run can be trained without it and keep its params instead (``snapshot_steps``);
LMN is then measured from the snapshots, coarse steps first so that whatever time there is buys
an evenly spread curve, and written into the run's rows (history.rewrite_rows).

The same path fills a finished run onto a common step grid: retrain it with the same config
(train.train is deterministic for a backend, dtype and device), check that the retrained rows
agree with the saved ones, and measure LMN from the retrained snapshots.
"""
import time
from dataclasses import replace
from pathlib import Path

from ..analysis import phase_steps
from ..config import RunConfig
from ..errors import LMNInputError
from ..rundir import add_notes, load_params, load_run, rewrite_rows, snapshot_path  # noqa: F401 (snapshot_path: readings, cli)
from ..train import lmn_of_params, train

# Step spacing of the common LMN grid through the generalizing phase, per task (S4: 500, the
# grid every committed S4 run already had; add: 250; XOR: 100). XOR's phase is
# 2 000–3 000 steps long, so a 250-step grid would give it about ten points.
GRID = {"add": 250, "s4": 500, "xor": 100}
# Agreement asked of a retrained run before its snapshots stand in for the saved run's params.
AGREE_TOL = 1e-9
COMPARED = ("train_loss", "train_acc", "test_loss", "test_acc", "l2")


def grid_steps(rows, every):
    """Multiples of ``every`` from the memorization step to the generalization step (run end if never)."""
    mem, gen = phase_steps(rows)
    if mem is None:
        return []
    end = gen if gen is not None else rows[-1]["step"]
    return [s for s in range(0, end + 1, every) if s >= mem]


def refinement_order(steps):
    """The steps reordered coarse to fine (a 2000-step grid first, then halving), early ones promoted."""
    def level(s):
        for lvl, stride in enumerate((2000, 1000, 500, 250, 100, 50)):
            if s % stride == 0:
                return max(0, lvl - 2) if s <= 1000 else lvl
        return 6
    return sorted(steps, key=lambda s: (level(s), s))


def max_deviation(rows, reference):
    """Largest |difference| of COMPARED between two histories at the steps both have; None if none."""
    ref = {r["step"]: r for r in reference}
    devs = [abs(r[k] - ref[r["step"]][k]) for r in rows if r["step"] in ref for k in COMPARED
            if r.get(k) is not None and ref[r["step"]].get(k) is not None]
    return max(devs) if devs else None


def retrain(folder, steps, out, extra_snapshots=()):
    """Train the run in ``folder`` again with its own config (no LMN) into ``<out>/<folder name>``,
    snapshots at ``steps`` (and ``extra_snapshots``); returns (retrained folder, max deviation)."""
    saved, rows = load_run(folder)
    snaps = tuple(sorted(set(steps) | set(extra_snapshots)))
    config = replace(RunConfig.from_dict(saved), lmn_layers=(), lmn_log=0, snapshot_steps=snaps,
                     steps=max(snaps), out=str(out), name=Path(folder).name)
    history = train(config, overwrite=True)
    return config.run_dir, max_deviation(history.rows, rows)


def measure(folder, steps, layers, snapshots=None, budget_s=float("inf"), log=print):
    """Measure LMN of ``layers`` at ``steps`` from snapshots and write it into the run's rows.

    ``snapshots``: the run folder holding the snapshots (default ``folder`` itself). Steps already
    measured are skipped; each value is written as soon as it exists. Returns the steps filled.
    """
    folder = Path(folder)
    saved, rows = load_run(folder)
    config = RunConfig.from_dict(saved)
    source = Path(snapshots or folder)
    by_step = {r["step"]: r for r in rows}
    filled, start = [], time.perf_counter()
    for step in refinement_order(steps):
        todo = [l for l in layers if by_step.get(step, {}).get(f"lmn_{l}") is None]
        if step not in by_step or not todo:
            continue
        if time.perf_counter() - start > budget_s:
            log("fill: time budget spent")
            break
        if not snapshot_path(source, step).exists():
            raise LMNInputError(f"{source}: no snapshot of step {step} to measure LMN from")
        t = time.perf_counter()
        values = lmn_of_params(config, load_params(snapshot_path(source, step)), todo)
        by_step[step].update({f"lmn_{k}": v for k, v in values.items()})
        rewrite_rows(folder, rows)
        filled.append(step)
        log(f"fill {folder.name} step {step}: " + ", ".join(f"{k} {v:.2f}" for k, v in values.items())
            + f" ({time.perf_counter() - t:.0f} s)")
    return filled


def note_fill(folder, every, steps, source, deviation):
    """Record in config.json what was filled in afterwards, on which grid, from which params."""
    add_notes(folder, lmn_filled={"grid_every": every, "steps": sorted(steps), "from": source,
                                  "max_deviation_of_retrained_rows": deviation})


def fill_grid(folder, out, layer="h1", log=print):
    """Put ``folder``'s run on its task's common LMN grid: retrain, check agreement, measure, note."""
    saved, rows = load_run(folder)
    every = GRID[saved["task"]]
    have = {r["step"] for r in rows if r.get(f"lmn_{layer}") is not None}
    missing = [s for s in grid_steps(rows, every) if s not in have]
    if not missing:
        return []
    retrained, dev = retrain(folder, missing, out)
    log(f"{Path(folder).name}: retrained, largest deviation from the saved rows {dev:.1e}")
    if dev is None or dev > AGREE_TOL:
        raise LMNInputError(f"{folder}: the retrained run departs from the saved one by {dev} "
                            f"(> {AGREE_TOL}); its snapshots cannot stand in for the saved run's params")
    filled = measure(folder, missing, (layer,), snapshots=retrained, log=log)
    note_fill(folder, every, filled, "params of a retrained run (same config, train.train)", dev)
    return filled
