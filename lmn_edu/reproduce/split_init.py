"""S4's split × init study: is it the split or the init that keeps S4 from generalizing in 20k?

A cell trains S4 with the train/test split of one seed and the initial params of another (the
diagonal is the plain run of that seed), no LMN, accuracy every ``EVAL_EVERY`` steps, and is kept
as one entry of ``<results>/s4_split_init.json``: its seeds, dtype, steps, memorization and
generalization steps, the final and the best test accuracy. The runs themselves are not kept:
the entry is all the report reads.

The split is ``train.setup_run``'s first draw from ``default_rng(split_seed)``; the init is the
second draw from ``default_rng(init_seed)``, exactly the params the init seed's own run starts
from. The steps are AdamW steps of the backend (``backend.step``), as ``train.train`` takes them.
"""
import json
from dataclasses import replace
from pathlib import Path

from ..config import RunConfig
from ..errors import LMNInputError
from ..rundir import read_json, write_atomic
from ..train import TrainingDiverged, setup_run, start_backend

FILE = "s4_split_init.json"
EVAL_EVERY = 100
# The committed cells: (split seed, init seed, dtype, steps). The float32 diagonal, the float64
# off-diagonal cells around seed 0's good init, and seed 0's float64 run to 30k.
CELLS = ((0, 0, "float32", 20_000), (1, 1, "float32", 20_000), (2, 2, "float32", 20_000),
         (0, 1, "float64", 20_000), (0, 2, "float64", 20_000), (1, 0, "float64", 20_000),
         (2, 0, "float64", 20_000), (0, 0, "float64", 30_000))
KEY = ("split_seed", "init_seed", "dtype", "steps")


def cell_config(split_seed, dtype, steps, backend="numpy", task="s4"):
    """The RunConfig of a cell: the split seed's run, no LMN (nothing is written to its folder)."""
    return RunConfig(task=task, backend=backend, device="cpu", steps=steps, seed=split_seed, dtype=dtype,
                     eval_every=EVAL_EVERY, lmn_layers=()).validated()


def train_cell(split_seed, init_seed, dtype, steps, backend="numpy", task="s4"):
    """Train one cell; returns its entry (the keys of KEY and mem_step, gen_step, final and best test acc)."""
    config = cell_config(split_seed, dtype, steps, backend, task)
    init = setup_run(replace(config, seed=init_seed))[3]            # the init seed's own initial params
    b = start_backend(config, params=init)[0]
    mem = gen = None
    best = final = 0.0
    for step in range(0, steps + 1):
        if step % EVAL_EVERY == 0 or step == steps:
            row = b.evaluate()
            if not row["train_loss"] < float("inf"):
                raise TrainingDiverged(f"split×init cell {split_seed}×{init_seed}: train loss {row['train_loss']}")
            mem = step if mem is None and row["train_acc"] >= 1 else mem
            gen = step if gen is None and row["test_acc"] >= 1 else gen
            final, best = row["test_acc"], max(best, row["test_acc"])
        if step < steps:
            b.step()
    return {"split_seed": split_seed, "init_seed": init_seed, "dtype": dtype, "steps": steps,
            "mem_step": mem, "gen_step": gen, "final_test_acc": float(final), "best_test_acc": float(best)}


def load(results):
    """The entries of ``<results>/s4_split_init.json`` ([] when absent); LMNInputError when malformed."""
    path = Path(results) / FILE
    if not path.exists():
        return []
    entries = read_json(path)
    if not (isinstance(entries, list) and all(isinstance(d, dict) and set(KEY) | {"gen_step"} <= set(d)
                                              for d in entries)):
        raise LMNInputError(f"{path}: malformed (a list of cells with {', '.join(KEY)}, gen_step)")
    return entries


def run_cells(results, cells=CELLS, backend="numpy", task="s4", log=print):
    """Train every cell not yet in the file (resumable: each finished cell is written at once)."""
    path = Path(results) / FILE
    entries = load(results)
    have = {tuple(d[k] for k in KEY) for d in entries}
    for cell in cells:
        if tuple(cell) in have:
            log(f"split×init {cell}: in {FILE} already, kept")
            continue
        entry = train_cell(*cell, backend=backend, task=task)
        entries.append(entry)
        write_atomic(path, json.dumps(entries, indent=1) + "\n")
        log(f"split×init {cell}: generalized at {entry['gen_step']}, final test accuracy {entry['final_test_acc']:.3f}")
    return entries
