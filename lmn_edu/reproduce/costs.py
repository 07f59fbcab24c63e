"""How long ``reproduce all`` will take on this machine: measured costs times what is left to do.

``calibrate`` times, per task, a few AdamW steps and evaluations of the backend (float64, and
float32 for S4's studies) and one LMN value per layer on a subset of the points, scaled to the
full point set by the square of the ratio (L has one entry per pair of points). ``estimate``
multiplies those costs by the work the plan still has to do in ``results`` (finished runs,
values and entries already there cost nothing), part by part.
"""
import time
from pathlib import Path

import numpy as np

from ..config import RunConfig
from ..rundir import finished, load_run
from ..train import lmn_points, start_backend
from . import precision_study, split_init
from .make import pending_readings, run_config, run_state
from .readings import READINGS

PROBE_POINTS = 96            # LMN is timed on this many points, then scaled by (N / 96)²
PROBE_STEPS = 20


def _time(f, n):
    t = time.perf_counter()
    for _ in range(n):
        f()
    return (time.perf_counter() - t) / n


def calibrate(tasks, layers, backend="numpy", dtypes=("float64",)):
    """{(task, dtype): {"step": s, "eval": s, "points": N, "lmn": {layer: s on all N points}}}."""
    out = {}
    for task in tasks:
        for dtype in dtypes:
            config = RunConfig(task=task, backend=backend, device="cpu", dtype=dtype, steps=PROBE_STEPS).validated()
            b, t, tr, te = start_backend(config)
            pts = lmn_points(t, tr, te, "train")
            n = min(PROBE_POINTS, len(pts))
            lmn = {layer: _time(lambda: b.lmn(pts[:n], (layer,), "logits", config.n_lambda), 1) * (len(pts) / n) ** 2
                   for layer in layers.get(task, ("h1",))} if dtype == "float64" else {}
            out[(task, dtype)] = {"step": _time(b.step, PROBE_STEPS), "eval": _time(b.evaluate, 3),
                                  "points": len(pts), "all_points": len(t.inputs), "lmn": lmn}
    return out


def _points(spec):
    config = RunConfig(task=spec["task"], seed=spec["seed"]).validated()
    _, t, tr, te = start_backend(config)
    return lmn_points(t, tr, te, spec["lmn_points"])


def _training(c, steps, eval_every):
    return steps * c["step"] + (steps // eval_every + 1) * c["eval"]


def estimate_runs(plan, results, cal, backend="numpy"):
    """(seconds, [what]) for the runs: training of the unfinished ones, LMN values not measured yet."""
    total, lines = 0.0, []
    for spec in plan["runs"]:
        c = cal[(spec["task"], "float64")]
        config = run_config(spec, plan, results, backend)
        state = run_state(config)
        have = {}
        if state == "finished":
            rows = load_run(config.run_dir)[1]
            have = {layer: {r["step"] for r in rows if r.get(f"lmn_{layer}") is not None} for layer in spec["lmn"]}
        todo = {layer: len(set(steps) - have.get(layer, set())) for layer, steps in spec["lmn"].items()}
        secs = (0 if state == "finished" else _training(c, spec["steps"], spec["eval_every"]))
        scale = (len(_points(spec)) / c["points"]) ** 2 if spec.get("lmn_points", "train") != "train" else 1.0
        secs += sum(n * c["lmn"][layer] * scale for layer, n in todo.items())
        total += secs
        lines.append(f"{config.name}: " + ("kept" if state == "finished" else f"train {spec['steps']} steps")
                     + f", {sum(todo.values())} LMN values to measure (~{fmt_secs(secs)})")
    return total, lines


def estimate_readings(plan, results, cal):
    todo, b_todo = pending_readings(plan, results)
    c = cal[("add", "float64")]
    keys = {(s, st, READINGS[name][:4]) for s, st, name in todo}     # one L per distinct reading of a step
    secs = sum(c["lmn"].get(layer, c["lmn"]["h1"]) * ((c["all_points"] if pts == "all" else c["points"])
                                                       / c["points"]) ** 2 for _, _, (layer, pts, _, _) in keys)
    b = plan["appendix_b"]
    spec = next((r for r in plan["runs"] if (r["task"], r["seed"]) == (b["task"], b["seed"])), {})
    scale = (len(_points(spec)) / c["points"]) ** 2 if spec.get("lmn_points", "train") != "train" else 1.0
    return secs, len(todo), c["lmn"]["h1"] * scale * len(b_todo), len(b_todo)


def estimate_studies(plan, results, cal):
    """(seconds, cells to run) of split × init, (seconds, runs to run) of the precision study (at most:
    a run that generalizes and holds it stops early)."""
    have = {tuple(d[k] for k in split_init.KEY) for d in split_init.load(results)}
    cells = [c for c in plan["split_init"] if tuple(c) not in have]
    si = sum(_training(cal[("s4", dtype)], steps, split_init.EVAL_EVERY) for _, _, dtype, steps in cells)
    p = plan["precision"]
    out = Path(results) / precision_study.OUT
    runs = [(s, v) for s in p["seeds"] for v in p["variants"]
            if not finished(out / precision_study.run_name(s, v))]
    pr = sum(_training(cal[("s4", precision_study.VARIANTS[v][0])], p["steps"], 100) for _, v in runs)
    return (si, len(cells)), (pr, len(runs))


def plan_lines(plan, results, cal, backend="numpy"):
    """The plan and its estimate, one line per part, and the total seconds."""
    runs, run_lines = estimate_runs(plan, results, cal, backend)
    rd, n_rd, ab, n_ab = estimate_readings(plan, results, cal)
    (si, n_si), (pr, n_pr) = estimate_studies(plan, results, cal)
    parts = [("runs", runs, f"{len(plan['runs'])} runs"), ("readings", rd, f"{n_rd} readings to measure"),
             ("appendix-b", ab, f"{n_ab} matrices L to compute"), ("split-init", si, f"{n_si} cells to train"),
             ("precision", pr, f"{n_pr} runs to train (at most: runs that generalize stop early)")]
    lines = [f"  {name:<11} ~{fmt_secs(secs):>8}  {what}" for name, secs, what in parts]
    total = sum(s for _, s, _ in parts)
    return lines, ["    " + x for x in run_lines], total


def fmt_secs(s):
    s = float(np.round(s))
    return f"{s / 3600:.1f} h" if s >= 3600 else (f"{s / 60:.0f} min" if s >= 60 else f"{s:.0f} s")
