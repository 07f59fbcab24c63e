"""What ``reproduce all`` makes: the plan of every committed file of results/paper, as data.

The committed runs were not made by one uniform schedule: LMN was measured afterwards, coarse
steps first, as far as time allowed, and three runs were filled onto a common grid later. So the
plan names the steps, as the committed files have them (``<results>/plan.json``, written once
from the committed folders by ``plan_from_results``), and regeneration measures LMN at exactly
those steps, keeps exactly those snapshots, and measures the same readings:

    runs        task, seed, steps, eval_every; per layer the LMN steps; the snapshots the folder
                keeps; lmn_points when not the train points
    readings    (seed, step, reading) of the add runs' readings.json
    appendix_b  the add run and the steps of appendix_b.npz
    split_init  the cells of s4_split_init.json (split seed, init seed, dtype, steps)
    precision   the S4 precision study: seeds, variants, steps

``small_plan`` is the same structure at a size CI can run in a minute or two.
"""
import json
from pathlib import Path

import numpy as np

from ..errors import LMNInputError
from ..rundir import load_run, read_json, write_atomic
from . import precision_study, split_init
from .protocol import SEEDS, TASK_LAYERS, run_path

FILE = "plan.json"
TASKS = ("add", "s4", "xor")


def plan_from_results(results):
    """The plan of what ``results`` holds (its run folders, readings, Appendix B, studies)."""
    results = Path(results)
    runs = []
    for task in TASKS:
        for seed in SEEDS:
            folder = run_path(results, task, seed)
            if not folder.exists():
                continue
            config, rows = load_run(folder)
            lmn = {layer: [r["step"] for r in rows if r.get(f"lmn_{layer}") is not None]
                   for layer in config.get("lmn_layers") or TASK_LAYERS[task]}
            snaps = sorted(int(p.stem[4:]) for p in (folder / "snapshots").glob("step*.npz"))
            runs.append({"task": task, "seed": seed, "steps": config["steps"], "eval_every": config["eval_every"],
                         "lmn": {k: v for k, v in lmn.items() if v}, "snapshots": snaps})
    readings = sorted({(d["seed"], d["step"], d["reading"]) for d in _json(results / "readings.json", [])})
    cache = results / "appendix_b.npz"
    b_steps = sorted(int(k[1:]) for k in np.load(cache).files if k[0] == "L") if cache.exists() else []
    cells = [[d[k] for k in split_init.KEY] for d in split_init.load(results)]
    study = results / precision_study.OUT
    names = sorted(p.name for p in study.glob("s*-*")) if study.is_dir() else []
    seeds = sorted({int(n[1:].partition("-")[0]) for n in names})
    return {"runs": runs, "readings": [list(r) for r in readings],
            "appendix_b": {"task": "add", "seed": 0, "steps": b_steps}, "split_init": cells,
            "precision": {"seeds": seeds, "variants": list(precision_study.VARIANTS), "steps": precision_study.STEPS}}


def small_plan():
    """The plan's shape at CI size: seed 0 of each task, 300 steps, LMN every 100 steps on the test
    points (a quarter of the train points: a sixteenth of the pairs), two readings (one L), Appendix B
    at three steps, two split × init cells and one precision seed (two precisions) of 300 steps."""
    runs = [{"task": t, "seed": 0, "steps": 300, "eval_every": 10, "lmn_points": "test",
             "lmn": {layer: [0, 100, 200, 300] for layer in TASK_LAYERS[t]},
             "snapshots": [0, 200] if t == "add" else []} for t in TASKS]
    from .readings import OURS
    return {"runs": runs, "readings": [[0, 200, OURS], [0, 200, "negative eigenvalues clipped to 0 (instead of |μ|)"]],
            "appendix_b": {"task": "add", "seed": 0, "steps": [0, 100, 200]},
            "split_init": [[0, 0, "float64", 300], [0, 1, "float64", 300]],
            "precision": {"seeds": [0], "variants": ["float32", "float64"], "steps": 300}}


def _json(path, default):
    return read_json(path) if Path(path).exists() else default


def load_plan(path):
    """A plan file, checked for its five parts."""
    plan = _json(path, None)
    if not isinstance(plan, dict) or not {"runs", "readings", "appendix_b", "split_init", "precision"} <= set(plan):
        raise LMNInputError(f"{path}: not a plan (runs, readings, appendix_b, split_init, precision)")
    return plan


def save_plan(plan, path):
    write_atomic(Path(path), json.dumps(plan, indent=None, separators=(",", ":")).replace('{"task"', '\n{"task"')
                 + "\n")
