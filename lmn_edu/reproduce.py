"""Reproduce the paper: ``python -m lmn_edu.reproduce`` runs its protocol and writes docs/reproduction.md.

The protocol (the default): the three tasks, seeds 0-2, 20 000 full-batch AdamW steps, accuracy /
loss / L2 every 10 steps, LMN of h1 on the train points every 50 steps (and of emb and h2 for
addition), torch backend in float64 (the authors' precision), GPU when present.

Each finished run is written to ``<results>/<task>-s<seed>.json``: ``{"config": ..., "rows": [...]}``,
the rows as in a run's history.json. A run whose file is complete is skipped, so an interrupted
reproduction resumes. ``--from DIR`` only rebuilds the figures and the report from what is in DIR;
a run that is missing is reported as missing, never filled in.

When compute is short, ``--defer-lmn CACHE`` trains without measuring LMN and keeps the params of
every LMN step in CACHE; ``--fill CACHE`` then measures the missing LMN values, coarse steps first,
so that whatever time there is buys an evenly spread curve. ``--lmn-schedule`` sets a coarser
cadence (e.g. ``50:1000,250``: every 50 steps up to 1000, every 250 after); the steps really
measured are in the rows, and the report states the cadence of every run.
"""
import argparse
import io
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

from .adamw import AdamW
from .backends import get_backend
from .config import RunConfig
from .datasets import TASKS
from .errors import LMNInputError, check_choice
from .analysis import column, phase_steps
from .history import BASE_COLUMNS, write_atomic
from .mlp_lmn import LMN_LAYERS
from .train import lmn_points, setup_run, start_backend

SEEDS = (0, 1, 2)
STEPS = 20_000
EVAL_EVERY = 10
LMN_SCHEDULE = "50"
# Layers measured per task: addition gets every layer (Fig 3); z1 and z2 are not measured because
# LMN(z1) = LMN(emb) and LMN(z2) = LMN(h1) exactly (affine-prefix identity, mlp_lmn.py).
TASK_LAYERS = {"add": ("emb", "h1", "h2"), "s4": ("h1",), "xor": ("h1",)}
SNAPSHOT_STEPS = {"add": (0, 200, 7600)}          # Appendix B's L (add, seed 0)

# What the paper states or shows (arXiv 2310.05918: text, Fig 2, Appendix B), as the table quotes it.
PAPER = {
    "add": {"mem_step": "≈150–200 (Fig 2; App. B: 200)", "gen_step": "≈7600 (App. B)",
            "lmn_peak": "≈53 (Fig 2)", "lmn_15k": "≈12 (Fig 2)"},
    "s4": {"mem_step": "shown in Fig 2, not stated", "gen_step": "shown in Fig 2, not stated"},
    "xor": {"turns": "15 and 20 (text)"},
    "r_lmn": "“strong linear relation” (text; no r given)",
    "r_l2": "“correlated … in a complicated nonlinear way” (text)",
}


# ---------------------------------------------------------------- schedule

def parse_schedule(spec):
    """``"50"`` or ``"50:1000,250:10000,500"`` -> [(every, until), ...]; the last ``until`` is inf."""
    parts = [p.strip() for p in str(spec).split(",") if p.strip()]
    out = []
    try:
        for n, part in enumerate(parts):
            every, _, until = part.partition(":")
            every = int(every)
            until = math.inf if not until else int(until)
            if every < 1 or (n < len(parts) - 1 and until is math.inf) or (out and until <= out[-1][1]):
                raise ValueError
            out.append((every, until))
    except ValueError:
        out = []
    if not out or out[-1][1] is not math.inf:
        raise LMNInputError(
            f"lmn_schedule={spec!r} is not allowed; give EVERY or EVERY:UNTIL,...,EVERY "
            "with increasing UNTIL, e.g. '50' or '50:1000,250'")
    return out


def schedule_steps(spec, steps):
    """The sorted steps in 0..steps at which LMN is measured (step 0 and the last step included)."""
    chosen, start = {0, steps}, 0
    for every, until in parse_schedule(spec):
        stop = min(until, steps)
        chosen.update(range(start - start % every, stop + 1, every))
        start = stop
        if stop >= steps:
            break
    return sorted(s for s in chosen if 0 <= s <= steps)


def refinement_order(steps):
    """The steps reordered coarse to fine: a log-spaced and a 2000-step grid first, then halving.

    Filling LMN in this order gives a curve spread over the whole run at every moment.
    """
    steps = sorted(steps)
    def level(s):
        for lvl, stride in enumerate((2000, 1000, 500, 250, 100, 50)):
            if s % stride == 0:
                # early steps move fast: promote them two levels
                return max(0, lvl - 2) if s <= 1000 else lvl
        return 6
    return sorted(steps, key=lambda s: (level(s), s))


# ---------------------------------------------------------------- files

def run_path(results, task, seed):
    """A run's folder (history.py's layout); a legacy ``<task>-s<seed>.json`` file is read too."""
    folder = Path(results) / f"{task}-s{seed}"
    legacy = folder.with_suffix(".json")
    return legacy if legacy.exists() and not folder.exists() else folder


def load_run(path):
    """(config dict, rows) of a run folder or a legacy results JSON."""
    from .history import load_run as _load
    return _load(path)


def save_run(path, config, rows):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, json.dumps({"config": config, "rows": rows}, indent=0, allow_nan=False) + "\n")


def is_complete(path):
    if not Path(path).exists():
        return False
    config, rows = load_run(path)
    return bool(rows) and rows[-1].get("step") == config.get("steps")


def _save_params(path, params):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    np.savez(buf, **params)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(buf.getvalue())
    tmp.replace(path)


def load_params(path):
    with np.load(path) as z:
        return {k: z[k] for k in z.files}


def cache_path(cache, task, seed, step):
    return Path(cache) / f"{task}-s{seed}" / f"step{step:06d}.npz"


# ---------------------------------------------------------------- one run

def _clean(v):
    return None if isinstance(v, float) and not math.isfinite(v) else v


def make_config(task, seed, steps=STEPS, backend="torch", dtype="float64", device="auto",
                layers=None, points="train", output="logits"):
    layers = TASK_LAYERS[task] if layers is None else tuple(layers)
    return RunConfig(task=task, backend=backend, steps=steps, seed=seed, eval_every=EVAL_EVERY,
                     lmn_layers=layers, lmn_points=points, lmn_output=output,
                     device=device, dtype=dtype).validated()


def run_one(config, results, schedule=LMN_SCHEDULE, eval_every=EVAL_EVERY, defer=None,
            snapshots=None, snapshot_steps=(), log=print):
    """Train one run, measuring LMN on ``schedule`` (or caching params there, ``defer``); save the JSON.

    ``snapshots``: a folder for the params at ``snapshot_steps`` (Appendix B's L is rebuilt from them).
    """
    backend, task, train_idx, test_idx = start_backend(config)
    points = lmn_points(task, train_idx, test_idx, config.lmn_points)
    lmn_at = set(schedule_steps(schedule, config.steps))
    snap_at = {s for s in snapshot_steps if 0 <= s <= config.steps}
    columns = list(BASE_COLUMNS) + [f"lmn_{layer}" for layer in config.lmn_layers]
    meta = {**config.to_dict(), "eval_every": eval_every, "lmn_schedule": str(schedule),
            "lmn_every": parse_schedule(schedule)[0][0],
            "device": getattr(backend, "device_name", "cpu"), "lmn_deferred": defer is not None}
    meta.pop("out", None)
    path = run_path(results, config.task, config.seed)
    rows, start = [], time.perf_counter()
    for step in range(config.steps + 1):
        if step % eval_every == 0 or step in lmn_at or step == config.steps:
            row = {"step": step, **backend.evaluate()}
            if step in lmn_at:
                if defer is not None:
                    _save_params(cache_path(defer, config.task, config.seed, step), backend.params())
                else:
                    row.update({f"lmn_{k}": v for k, v in backend.lmn(
                        points, config.lmn_layers, config.lmn_output, config.n_lambda).items()})
            row["time_s"] = time.perf_counter() - start
            rows.append({c: _clean(row.get(c)) for c in columns})
            if not math.isfinite(row["train_loss"]):
                log(f"{path.name}: the train loss is {row['train_loss']} at step {step}; stopping")
                break
        if step in snap_at and snapshots is not None:
            _save_params(Path(snapshots) / f"{config.task}-s{config.seed}-step{step}.npz", backend.params())
        if step == config.steps:
            break
        backend.step()
        if step % 2000 == 0 and rows:
            save_run(path.with_suffix(".partial"), meta, rows)
    save_run(path, meta, rows)
    path.with_suffix(".partial").unlink(missing_ok=True)
    mem, gen = phase_steps(rows)
    log(f"{path.name}: train acc 1.0 at {mem}, test acc 1.0 at {gen}, {rows[-1]['time_s']:.0f} s")
    return rows


def lmn_of_params(config, params, layers, points=None, output=None):
    """LMN of ``layers`` for saved params, with the run's backend and dtype: dict layer -> LMN."""
    backend, task, train_idx, test_idx = start_backend(config, params)
    pts = lmn_points(task, train_idx, test_idx, points or config.lmn_points)
    return backend.lmn(pts, tuple(layers), output or config.lmn_output, config.n_lambda)


def config_from_meta(meta):
    keep = {k: v for k, v in meta.items() if k in RunConfig.__dataclass_fields__}
    keep["lmn_layers"] = tuple(keep.get("lmn_layers", ("h1",)))
    keep["device"] = "auto"               # meta holds a description ("cuda:0 (…)"), not a choice
    keep.pop("out", None)
    return RunConfig(**keep).validated()


def fill(results, cache, runs, budget_s=math.inf, log=print):
    """Measure missing LMN values from cached params, coarse steps first, runs round-robin.

    ``runs``: [(task, seed, layers)] or [(task, seed, layers, stretch)] in priority order; an entry
    with ``stretch`` k gets its n-th step where the others get their (n/k)-th (k = 2: half as dense).
    Each value is saved as soon as it exists.
    """
    start = time.perf_counter()
    jobs = []
    for task, seed, layers, *stretch in runs:
        stretch = stretch[0] if stretch else 1
        path = run_path(results, task, seed)
        if not path.exists():
            continue
        meta, rows = load_run(path)
        missing = {r["step"] for r in rows if any(r.get(f"lmn_{layer}") is None for layer in layers)}
        steps = [r["step"] for r in rows if cache_path(cache, task, seed, r["step"]).exists()]
        for rank, step in enumerate(refinement_order(steps)):
            if step in missing:
                jobs.append((rank * stretch, task, seed, tuple(layers), step))
    jobs.sort(key=lambda j: j[0])
    for _, task, seed, layers, step in jobs:
        if time.perf_counter() - start > budget_s:
            log("fill: time budget spent")
            return
        path = run_path(results, task, seed)
        meta, rows = load_run(path)
        row = next(r for r in rows if r["step"] == step)
        todo = [layer for layer in layers if row.get(f"lmn_{layer}") is None]
        if not todo:
            continue
        t = time.perf_counter()
        values = lmn_of_params(config_from_meta(meta), load_params(cache_path(cache, task, seed, step)), todo)
        meta, rows = load_run(path)            # re-read: another filler may have written meanwhile
        row = next(r for r in rows if r["step"] == step)
        row.update({f"lmn_{k}": v for k, v in values.items()})
        save_run(path, meta, rows)
        log(f"fill {task}-s{seed} step {step}: " + ", ".join(f"{k} {v:.2f}" for k, v in values.items())
            + f" ({time.perf_counter() - t:.0f} s)")


# ---------------------------------------------------------------- the table

def pearson(x, y):
    """Pearson r of two sequences; None for fewer than 3 points or a constant sequence."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if len(x) < 3 or x.std() == 0 or y.std() == 0:
        return None
    return float(np.corrcoef(x, y)[0, 1])


def generalizing_points(rows, layer="h1"):
    """(test_loss, lmn, l2) arrays of the rows with LMN measured from memorization to generalization.

    The phase runs from the first step with train accuracy 1 to the first with test accuracy 1
    (the end of the run when test accuracy never reaches 1), both ends included.
    """
    mem, gen = phase_steps(rows)
    if mem is None:
        return np.zeros(0), np.zeros(0), np.zeros(0)
    end = gen if gen is not None else rows[-1]["step"]
    sel = [r for r in rows if mem <= r["step"] <= end and r.get(f"lmn_{layer}") is not None]
    return tuple(np.array([r[k] for r in sel], dtype=np.float64) for k in ("test_loss", f"lmn_{layer}", "l2"))


def value_near(rows, key, step):
    """(step, value) of the measured row nearest to ``step``; None if nothing was measured."""
    pts = [(abs(r["step"] - step), r["step"], r[key]) for r in rows if r.get(key) is not None]
    return min(pts)[1:] if pts else None


def turning_points(steps, values, after=0, prominence=0.5):
    """XOR's turning points: after step ``after``, the first local minimum of LMN and the first
    local maximum after it, each with a prominence of at least ``prominence`` (LMN units).

    Returns [(kind, step, value)], kind "min" or "max" (shorter when a turn is not there).
    """
    from scipy.signal import find_peaks

    steps, values = np.asarray(steps), np.asarray(values, dtype=np.float64)
    keep = steps >= after
    steps, values = steps[keep], values[keep]
    if len(values) < 3:
        return []
    lows, _ = find_peaks(-values, prominence=prominence)
    if not len(lows):
        return []
    out = [("min", int(steps[lows[0]]), float(values[lows[0]]))]
    highs, _ = find_peaks(values, prominence=prominence)
    highs = highs[highs > lows[0]]
    if len(highs):
        out.append(("max", int(steps[highs[0]]), float(values[highs[0]])))
    return out


def summarize(rows, task, layer="h1"):
    """One run's row of the table: phase steps, LMN peak, LMN at 15k, XOR turns, Pearson r."""
    mem, gen = phase_steps(rows)
    key = f"lmn_{layer}"
    steps, values = column(rows, key)
    gen99 = next((r["step"] for r in rows if r.get("test_acc") is not None and r["test_acc"] >= 0.99), None)
    out = {"mem_step": mem, "gen_step": gen, "gen99_step": gen99, "final_test_acc": rows[-1]["test_acc"] if rows else None,
           "n_lmn": len(values), "lmn_peak": None, "lmn_peak_step": None, "lmn_15k": None, "lmn_15k_step": None,
           "turns": [], "r_lmn": None, "r_l2": None, "n_r": 0}
    if values:
        k = int(np.argmax(values))
        out["lmn_peak"], out["lmn_peak_step"] = float(values[k]), int(steps[k])
        near = value_near(rows, key, 15_000)
        if near is not None and abs(near[0] - 15_000) <= 1000:
            out["lmn_15k_step"], out["lmn_15k"] = near
    if task == "xor" and mem is not None:
        # the paper's turns: LMN falls to a minimum around generalization, rises briefly, falls again
        out["turns"] = turning_points(steps, values, after=mem)
    test_loss, lmn, l2 = generalizing_points(rows, layer)
    out["n_r"] = len(test_loss)
    out["r_lmn"], out["r_l2"] = pearson(lmn, test_loss), pearson(l2, test_loss)
    return out


# ---------------------------------------------------------------- Appendix B, readings, S4

APPENDIX_B_STEPS = (0, 200, 7600)


def spectral_order(L, n_clusters=10, seed=0):
    """Indices of L's points grouped by spectral clustering (scikit-learn) on L clipped to [0, 1].

    Clusters are listed largest first, points in index order within a cluster.
    """
    from sklearn.cluster import SpectralClustering

    A = np.clip(np.asarray(L, dtype=np.float64), 0.0, 1.0)
    labels = SpectralClustering(n_clusters=n_clusters, affinity="precomputed",
                                random_state=seed).fit_predict(A)
    sizes = np.bincount(labels, minlength=n_clusters)
    rank = np.argsort(-sizes, kind="stable")                 # cluster id -> position, largest first
    pos = np.empty(n_clusters, dtype=int)
    pos[rank] = np.arange(n_clusters)
    return np.lexsort((np.arange(len(labels)), pos[labels]))


def appendix_b(results, task="add", seed=0, steps=None, layer="h1"):
    """L (float16), its spectral order and eigenvalues at ``steps``, from the saved snapshots.

    ``steps``: default every step with a snapshot (the paper's 0, 200, 7600, and any other saved).

    Cached in ``<results>/appendix_b.npz``; returns {step: (L, order, eigenvalues)} for what exists.
    """
    from .mlp_lmn import layer_connectivity

    results = Path(results)
    out_path = results / "appendix_b.npz"
    if steps is None:
        found = (results / f"{task}-s{seed}" / "snapshots").glob("step*.npz")
        steps = sorted({int(p.stem[4:]) for p in found} | set(APPENDIX_B_STEPS))
    out = {}
    if out_path.exists():
        with np.load(out_path) as z:
            for s in steps:
                if f"L{s}" in z.files:
                    out[s] = (z[f"L{s}"], z[f"order{s}"], z[f"mu{s}"])
    snap = results / f"{task}-s{seed}" / "snapshots"
    missing = [s for s in steps if s not in out and (snap / f"step{s:06d}.npz").exists()]
    if missing:
        meta, _ = load_run(run_path(results, task, seed))
        config = config_from_meta(meta)
        task_, train_idx, test_idx, _ = setup_run(config)
        points = lmn_points(task_, train_idx, test_idx, config.lmn_points)
        for s in missing:
            params = load_params(snap / f"step{s:06d}.npz")
            L = layer_connectivity(params, points, layer, config.lmn_output, config.n_lambda)   # (N, N)
            out[s] = (L.astype(np.float16), spectral_order(L), np.linalg.eigvalsh(L))
        arrays = {}
        for s, (L, order, mu) in out.items():
            arrays.update({f"L{s}": L, f"order{s}": order, f"mu{s}": mu})
        np.savez_compressed(out_path, **arrays)
    return dict(sorted(out.items()))


READINGS = {   # name -> (layer, points, output, dtype of the LMN evaluation)
    "paper default: h1, train points, logits, float64": ("h1", "train", "logits", "float64"),
    "all points (train + test)": ("h1", "all", "logits", "float64"),
    "probabilities as the output": ("h1", "train", "probs", "float64"),
    "float32 evaluation (same params)": ("h1", "train", "logits", "float32"),
    "h2 → probabilities (h2 → logits is 1)": ("h2", "train", "probs", "float64"),
}


def measure_readings(results, cache, task="add", seed=0, steps=(200, 500, 7600, 15000), log=print):
    """LMN of the same params under each reading of READINGS; appended to ``<results>/readings.json``."""
    path = Path(results) / "readings.json"
    done = json.loads(path.read_text()) if path.exists() else []
    meta, _ = load_run(run_path(results, task, seed))
    for step in steps:
        params = load_params(cache_path(cache, task, seed, step))
        for name, (layer, points, output, dtype) in READINGS.items():
            if any(d["task"] == task and d["seed"] == seed and d["step"] == step and d["reading"] == name
                   for d in done):
                continue
            config = config_from_meta({**meta, "dtype": dtype})
            value = lmn_of_params(config, params, (layer,), points, output)[layer]
            done.append({"task": task, "seed": seed, "step": step, "layer": layer, "points": points,
                         "output": output, "dtype": dtype, "reading": name, "lmn": value})
            write_atomic(path, json.dumps(done, indent=1) + "\n")
            log(f"reading {task}-s{seed} step {step} {name}: {value:.2f}")
    return done


def s4_study(results, split_seeds=SEEDS, init_seeds=SEEDS, dtypes=("float64", "float32"), steps=STEPS,
             backend="torch", device="auto", eval_every=100, log=print):
    """Why S4 may not generalize: train S4 with the split of one seed and the init of another.

    The run of seed s draws its split, then its init, from default_rng(s); here the split comes from
    default_rng(split_seed) and the init from default_rng(init_seed) after drawing (and discarding)
    that generator's split, so (s, s) is exactly the run of seed s. No LMN: accuracy only.
    Results are appended to ``<results>/s4_study.json``.
    """
    from .datasets import make_task, split
    from .mlp import init_params

    path = Path(results) / "s4_study.json"
    done = json.loads(path.read_text()) if path.exists() else []
    task = make_task("s4")
    for dtype in dtypes:
        for a in split_seeds:
            for b in init_seeds:
                if any(d["split_seed"] == a and d["init_seed"] == b and d["dtype"] == dtype
                       and d["steps"] == steps for d in done):
                    continue
                train_idx, test_idx = split(task, 0.8, np.random.default_rng(a))
                rng = np.random.default_rng(b)
                split(task, 0.8, rng)
                params = init_params(rng, task.vocab_size, task.n_classes)
                be = get_backend(backend, dtype, device)
                be.setup(params, task, train_idx, test_idx, AdamW(lr=1e-3, weight_decay=0.2))
                rows = []
                for step in range(steps + 1):
                    if step % eval_every == 0:
                        rows.append({"step": step, **be.evaluate()})
                    if step < steps:
                        be.step()
                mem, gen = phase_steps(rows)
                done.append({"split_seed": a, "init_seed": b, "dtype": dtype, "steps": steps,
                             "mem_step": mem, "gen_step": gen, "final_test_acc": rows[-1]["test_acc"],
                             "final_test_loss": rows[-1]["test_loss"],
                             "best_test_acc": max(r["test_acc"] for r in rows)})
                write_atomic(path, json.dumps(done, indent=1) + "\n")
                log(f"s4 split {a} init {b} {dtype}: train 1.0 at {mem}, test 1.0 at {gen}, "
                    f"final test acc {rows[-1]['test_acc']:.3f}")
    return done


# ---------------------------------------------------------------- the report

# When "ours" counts as agreeing with the paper (stated in the report).
CRITERIA = {
    "mem_step": ("within 100–300 (the paper: ≈150–200)", lambda v: 100 <= v <= 300),
    "gen_step": ("within ±25% of 7600", lambda v: 0.75 * 7600 <= v <= 1.25 * 7600),
    "lmn_peak": ("within ±15% of 53", lambda v: 0.85 * 53 <= v <= 1.15 * 53),
    "lmn_15k": ("within ±25% of 12", lambda v: 0.75 * 12 <= v <= 1.25 * 12),
    "r_lmn": ("r ≥ 0.9", lambda v: v >= 0.9),
    "r_l2": ("r(L2) at least 0.05 below r(LMN)", None),
    "turns": ("a minimum within ±2 of 15, then a maximum within ±2 of 20", None),
}


def _fmt(v, digits=1):
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def _verdict(flags):
    flags = [f for f in flags if f is not None]
    if not flags:
        return "no data"
    k = sum(flags)
    word = "agrees" if k == len(flags) else ("differs" if k == 0 else "partly")
    return f"{word} ({k}/{len(flags)} seeds)"


# A verdict needs enough LMN values: r from fewer points, or turns from a sparser curve, is "no data".
MIN_R_POINTS = 8
MIN_TURN_POINTS = 20


def _agree(key, s):
    if key in ("r_lmn", "r_l2") and s["n_r"] < MIN_R_POINTS:
        return None
    if key == "r_l2":
        if s["r_lmn"] is None or s["r_l2"] is None:
            return None
        return s["r_l2"] <= s["r_lmn"] - 0.05
    if key == "turns":
        if s["mem_step"] is None or s["n_lmn"] < MIN_TURN_POINTS:
            return None
        t = {k: v for k, _, v in s["turns"]}
        return "min" in t and "max" in t and abs(t["min"] - 15) <= 2 and abs(t["max"] - 20) <= 2
    v = s.get(key)
    return None if v is None else bool(CRITERIA[key][1](v))


def _cadence(meta, rows, layer="h1"):
    steps, _ = column(rows, f"lmn_{layer}")
    if not steps:
        return "no LMN measured"
    gaps = np.diff(steps) if len(steps) > 1 else np.array([0])
    return (f"{len(steps)} LMN values (schedule {meta.get('lmn_schedule', '?')}, "
            f"gap median {int(np.median(gaps))}, max {int(gaps.max())} steps)")


def load_results(results, tasks=TASKS, seeds=SEEDS):
    """{task: {seed: (meta, rows) or None}} (None: the run's JSON is missing)."""
    out = {}
    for task in tasks:
        out[task] = {}
        for seed in seeds:
            path = run_path(results, task, seed)
            out[task][seed] = load_run(path) if path.exists() else None
    return out


def build_report(results, docs="docs", tasks=TASKS, seeds=SEEDS, log=print):
    """Figures in ``<docs>/figures/reproduction/`` and ``<docs>/reproduction.md`` from the run JSONs."""
    from . import plots

    results, docs = Path(results), Path(docs)
    figdir = docs / "figures" / "reproduction"
    figdir.mkdir(parents=True, exist_ok=True)
    runs = load_results(results, tasks, seeds)
    summ = {t: {s: (summarize(r[1], t) if r else None) for s, r in by.items()} for t, by in runs.items()}
    present = {t: [r[1] for r in by.values() if r] for t, by in runs.items()}
    md = ["# Reproducing “Grokking as Compression” (Liu, Zhong & Tegmark, arXiv 2310.05918)", "",
          "Generated by `python -m lmn_edu.reproduce`; rebuild from the committed histories with "
          f"`python -m lmn_edu.reproduce --from {results.as_posix()}`. Every number below is computed "
          "from the run files in that folder; a run that is missing there is marked missing.", ""]

    # -- what was run
    md += ["## What was run", "",
           "The paper's setting: 3-layer SiLU MLP (embedding 32 per token, hidden 100), full-batch AdamW "
           "(lr 1e-3, weight decay 0.2), cross-entropy, 20 000 steps, 80/20 random split, LMN of the first "
           "hidden layer h1 to the logits on the training points (eq 1–3, 21 λ points). "
           "Accuracy, loss and L2 are recorded every `eval_every` steps.", "",
           "| run | status | backend, dtype, device | eval every | LMN cadence |", "|---|---|---|---|---|"]
    for t, by in runs.items():
        for s, r in by.items():
            if r is None:
                md.append(f"| {t} seed {s} | **missing** | — | — | — |")
                continue
            meta, rows = r
            done = rows[-1]["step"] if rows else 0
            status = "complete" if done == meta.get("steps") else f"**stopped at step {done}**"
            how = "measured afterwards from cached params, coarse steps first: " if meta.get("lmn_deferred") else ""
            md.append(f"| {t} seed {s} | {status} ({meta.get('steps')} steps) | {meta.get('backend')}, "
                      f"{meta.get('dtype')}, {meta.get('device')} | {meta.get('eval_every')} | {how}"
                      + "; ".join(f"{layer}: {_cadence(meta, rows, layer)}" for layer in meta.get("lmn_layers", ["h1"]))
                      + " |")
    md.append("")

    # -- the table
    md += ["## Paper against ours", "",
           "Memorization step = first step with train accuracy 1; generalization step = first step with "
           "test accuracy 1 (resolution: `eval_every`). LMN is of h1 (→ logits). "
           "r = Pearson correlation over the LMN rows of the generalizing phase (memorization to "
           "generalization, ends included). Ours lists seeds in order, separated by “ / ”.", "",
           "| task | quantity | paper | ours (per seed) | verdict |", "|---|---|---|---|---|"]

    def per_seed(t, f):
        return " / ".join("missing" if summ[t][s] is None else f(summ[t][s]) for s in seeds)

    verdicts = []

    def row(t, label, paper, f, key=None):
        flags = [_agree(key, summ[t][s]) if key and summ[t][s] else None for s in seeds]
        verdict = _verdict(flags) if key else "—"
        if key:
            verdicts.append((verdict.split(" ")[0], f"{t}: {label} — ours {per_seed(t, f)}, paper {paper} "
                             f"({verdict})"))
        md.append(f"| {t} | {label} | {paper} | {per_seed(t, f)} | {verdict} |")

    for t in tasks:
        p = PAPER.get(t, {})
        row(t, "memorization step", p.get("mem_step", "shown in Fig 2, not stated"),
            lambda s: _fmt(s["mem_step"]), "mem_step" if t == "add" else None)
        row(t, "generalization step", p.get("gen_step", "shown in Fig 2, not stated"),
            lambda s: _fmt(s["gen_step"]) if s["gen_step"] is not None else f"never (test acc {s['final_test_acc']:.3f})",
            "gen_step" if t == "add" else None)
        row(t, "step test accuracy ≥ 0.99 (a looser reading)", "—", lambda s: _fmt(s["gen99_step"]))
        row(t, "LMN peak (at step)", p.get("lmn_peak", "shown in Fig 2"),
            lambda s: f"{_fmt(s['lmn_peak'])} ({_fmt(s['lmn_peak_step'])})", "lmn_peak" if t == "add" else None)
        row(t, "LMN at 15k steps (measured at)", p.get("lmn_15k", "shown in Fig 2"),
            lambda s: f"{_fmt(s['lmn_15k'])} ({_fmt(s['lmn_15k_step'])})", "lmn_15k" if t == "add" else None)
        if t == "xor":
            row(t, "turning points after memorization: min, then max (step)", p["turns"],
                lambda s: ", ".join(f"{k} {v:.1f} ({st})" for k, st, v in s["turns"]) or "none found", "turns")
        row(t, "r(LMN, test loss) in the generalizing phase (points)", PAPER["r_lmn"],
            lambda s: f"{_fmt(s['r_lmn'], 3)} ({s['n_r']})", "r_lmn")
        row(t, "r(L2, test loss) in the generalizing phase", PAPER["r_l2"], lambda s: _fmt(s["r_l2"], 3), "r_l2")
    md += ["", "Verdict criteria: " + "; ".join(f"{k}: {v[0]}" for k, v in CRITERIA.items())
           + f". A run with fewer than {MIN_R_POINTS} LMN values in its generalizing phase gets no r "
           f"verdict, one with fewer than {MIN_TURN_POINTS} LMN values no turning-point verdict. "
           "The seed count in a verdict is of the seeds with enough data"
           + ". The paper states numbers for addition only (and XOR's turning points); for S4 it shows "
           "curves, so there the table gives ours without a verdict.", ""]
    for word, title in (("agrees", "Where we agree"), ("partly", "Where we partly agree"),
                        ("differs", "Where we differ"), ("no", "Not measured")):
        items = [text for w, text in verdicts if w == word]
        if items:
            md += [f"**{title}** (by the criteria above):", ""] + [f"- {text}" for text in items] + [""]

    # -- figures
    md += ["## Figures", ""]
    if any(present.values()):
        plots.fig2_seeds({t: present[t] for t in tasks if present[t]}, figdir / "fig2.png")
        md += ["### Fig 2: accuracy, LMN (h1) and L2 against step", "",
               "![Fig 2](figures/reproduction/fig2.png)", "",
               "Thin lines: seeds; thick line and band: mean and min–max over seeds on the steps every seed "
               "measured. Shading: memorizing (red), generalizing (yellow), finalizing (green) phase at the "
               "median phase steps over seeds.", ""]
    add_layers = [r for r in present.get("add", []) if any(r0.get("lmn_emb") is not None for r0 in r)]
    if add_layers:
        plots.fig3_layers(add_layers, figdir / "fig3.png")
        md += ["### Fig 3: LMN of every layer (addition)", "",
               "![Fig 3](figures/reproduction/fig3.png)", "",
               "**Affine-prefix identity.** Drawing a line and applying an affine map commute, so the LMN "
               "measured from a layer equals the LMN measured right after the next affine map: "
               "LMN(emb) = LMN(z1), LMN(h1) = LMN(z2), and from h2 the rest of the network (W3) is affine, so "
               "LMN(h2 → logits) = 1 exactly. Our 3-layer MLP therefore has two non-trivial curves (emb and "
               "h1), not the three of the paper's Fig 3. We plot emb, h1 and h2 (flat at 1). The paper says its "
               "second-hidden-layer LMN “plateaus quickly after memorization”, so it was not identically 1: "
               "it must have been measured another way (to an output other than the logits, for instance); "
               "the readings below include h2 → probabilities.", ""]
    else:
        md += ["### Fig 3: LMN of every layer (addition)", "", "*Missing: no addition run with the emb layer measured.*", ""]
    pts = {}
    for t in tasks:
        pts[t] = [(s, *generalizing_points(r[1])) for s, r in runs[t].items() if r]
        pts[t] = [p for p in pts[t] if len(p[1]) >= 3]
    if any(pts.values()):
        plots.against_test_loss({t: v for t, v in pts.items() if v}, figdir / "vs_test_loss.png")
        md += ["### LMN and L2 against test loss in the generalizing phase", "",
               "![LMN and L2 against test loss](figures/reproduction/vs_test_loss.png)", "",
               "Each point is an LMN measurement between memorization and generalization; lines are "
               "least-squares fits per seed, r the Pearson correlation.", ""]
    mats = appendix_b(results) if (results / "add-s0" / "snapshots").exists() or (results / "appendix_b.npz").exists() else {}
    if mats:
        plots.connectivity_panels({f"add seed 0, step {s}": v for s, v in mats.items()}, figdir / "appendix_b.png")
        md += ["### Appendix B: the connectivity matrix L (h1 → logits, addition, train points)", "",
               "![Appendix B](figures/reproduction/appendix_b.png)", "",
               "Rows and columns ordered by spectral clustering into 10 clusters (scikit-learn, affinity L "
               "clipped to [0, 1]). Bottom: all eigenvalues of L, symlog axis (linear within ±0.01). "]
        for s, (L, order, mu) in mats.items():
            p = np.abs(mu) / np.abs(mu).sum()
            md[-1] += (f"Step {s}: LMN {2 ** float(-(p[p > 0] * np.log2(p[p > 0])).sum()):.1f}, "
                       f"mean off-diagonal L {(L.astype(np.float64).sum() - len(L)) / (len(L) ** 2 - len(L)):.3f}, "
                       f"{(mu < 0).mean():.0%} of eigenvalues negative (their |μ| sum "
                       f"{np.abs(mu[mu < 0]).sum() / np.abs(mu).sum():.1%} of Σ|μ|). ")
        md += [""]
    else:
        md += ["### Appendix B", "", "*Missing: no snapshots of add seed 0 at steps 0, 200, 7600.*", ""]
    xr = [(s, r[1]) for s, r in runs.get("xor", {}).items() if r]
    if xr:
        plots.xor_turns(xr, [summ["xor"][s]["turns"] for s, _ in xr], figdir / "xor_turns.png")
        md += ["### XOR: LMN and its turning points", "",
               "![XOR turning points](figures/reproduction/xor_turns.png)", "",
               "Turning points: after the memorization step, the first local minimum of LMN with a "
               "prominence ≥ 0.5, then the first such local maximum after it (`scipy.signal.find_peaks`). "
               "Dotted lines: the generalization step of each seed.", ""]

    # -- readings and the S4 study
    rpath = results / "readings.json"
    if rpath.exists():
        rd = json.loads(rpath.read_text())
        steps_ = sorted({d["step"] for d in rd})
        names = list(dict.fromkeys(d["reading"] for d in rd))
        md += ["## Readings that move the numbers", "",
               f"The same params ({rd[0]['task']}, seed {rd[0]['seed']}), LMN under each reading. "
               "The paper's default stays our default; the others are options "
               "(`--lmn-points`, `--lmn-output`, `--dtype`).", "",
               "| reading | " + " | ".join(f"step {s}" for s in steps_) + " |",
               "|---|" + "---|" * len(steps_)]
        dist = {}
        for n in names:
            vals = {d["step"]: d["lmn"] for d in rd if d["reading"] == n}
            early = [v for s, v in vals.items() if s <= 1000]
            if early and 15000 in vals:
                # the paper's two addition values: peak ≈ 53 (early), ≈ 12 at 15k; log-ratio distance
                dist[n] = (abs(math.log(max(early) / 53)) + abs(math.log(vals[15000] / 12))) / 2
            md.append(f"| {n} | " + " | ".join(_fmt(vals.get(s)) for s in steps_) + " |")
        md.append("")
        if dist:
            best = min(dist, key=dist.get)
            md += ["Closest to the paper (mean |log(ours / paper)| over the early peak, taken as the "
                   "largest value at steps ≤ 1000 here, against 53 and the value at 15k against 12): "
                   + "; ".join(f"{n}: {v:.3f}" for n, v in sorted(dist.items(), key=lambda kv: kv[1]))
                   + f". Closest: **{best}**.", ""]
    spath = results / "s4_study.json"
    if spath.exists():
        sd = json.loads(spath.read_text())
        for seed, r in runs.get("s4", {}).items():      # the main runs are the diagonal
            if r and not any(d["split_seed"] == d["init_seed"] == seed and d["dtype"] == r[0].get("dtype")
                             and d["steps"] == r[0].get("steps") for d in sd):
                mem, gen = phase_steps(r[1])
                sd.append({"split_seed": seed, "init_seed": seed, "dtype": r[0].get("dtype"),
                           "steps": r[0].get("steps"), "mem_step": mem, "gen_step": gen,
                           "final_test_acc": r[1][-1]["test_acc"],
                           "best_test_acc": max(x["test_acc"] for x in r[1])})
        md += ["## Why S4 may not reach test accuracy 1", "",
               "S4 trained with the split of one seed and the init of another (the diagonal is the plain "
               "run of that seed), no LMN, accuracy every 100 steps. Cell: the first step with test "
               "accuracy 1 (and the final test accuracy when it falls back below 1), or, when it never "
               "reaches 1, the final and the best test accuracy.", ""]
        for dtype, steps_ in dict.fromkeys((d["dtype"], d["steps"]) for d in sd):
            cells = {(d["split_seed"], d["init_seed"]): d for d in sd
                     if d["dtype"] == dtype and d["steps"] == steps_}
            a_s = sorted({a for a, _ in cells})
            b_s = sorted({b for _, b in cells})
            md += [f"**{dtype}, {steps_} steps**", "", "| split seed \\ init seed | " + " | ".join(str(b) for b in b_s) + " |",
                   "|---|" + "---|" * len(b_s)]
            for a in a_s:
                def cell(d):
                    if d is None:
                        return "—"
                    if d["gen_step"] is None:
                        return f"never (final {d['final_test_acc']:.3f}, best {d['best_test_acc']:.3f})"
                    return f"{d['gen_step']}" + ("" if d["final_test_acc"] >= 1 else
                                                 f" (final {d['final_test_acc']:.3f})")
                md.append(f"| {a} | " + " | ".join(cell(cells.get((a, b))) for b in b_s) + " |")
            md.append("")
    notes = results / "notes.md"
    if notes.exists():
        md += ["## Discussion", "", notes.read_text().strip(), ""]
    out = docs / "reproduction.md"
    write_atomic(out, "\n".join(md) + "\n")
    return out


# ---------------------------------------------------------------- command line

def build_parser():
    p = argparse.ArgumentParser(
        prog="python -m lmn_edu.reproduce",
        description="Run the paper's protocol (three tasks, several seeds, 20 000 steps, LMN every 50 "
                    "steps) and write docs/reproduction.md with its figures and a table, paper against ours.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--tasks", nargs="+", default=list(TASKS), metavar="TASK", help=f"of {', '.join(TASKS)}")
    p.add_argument("--seeds", nargs="+", type=int, default=list(SEEDS), help="seeds (split and init)")
    p.add_argument("--steps", type=int, default=STEPS, help="AdamW steps (full batch)")
    p.add_argument("--lmn-every", type=int, default=None, help="steps between LMN measurements (the paper: ≤ 50)")
    p.add_argument("--lmn-schedule", default=LMN_SCHEDULE,
                   help="LMN cadence EVERY or EVERY:UNTIL,...,EVERY, e.g. '50:1000,250'; --lmn-every overrides")
    p.add_argument("--lmn-layers", nargs="+", default=None, metavar="LAYER",
                   help=f"layers to measure (default: emb h1 h2 for add, h1 otherwise); of {', '.join(LMN_LAYERS)}")
    p.add_argument("--lmn-points", default="train", help="points L is built on: train, test, all")
    p.add_argument("--lmn-output", default="logits", help="output LMN is measured to: logits, probs")
    p.add_argument("--backend", default="torch", help="torch (GPU when present) or numpy")
    p.add_argument("--dtype", default="float64", help="training precision: float64 (the authors') or float32")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    p.add_argument("--results", default="results/paper", help="folder of the run JSONs")
    p.add_argument("--from", dest="from_dir", default=None, metavar="DIR",
                   help="do not train: rebuild the figures and the report from the run JSONs in DIR")
    p.add_argument("--docs", default="docs", help="folder for reproduction.md and figures/reproduction/")
    p.add_argument("--defer-lmn", default=None, metavar="CACHE",
                   help="train without LMN, caching the params of every LMN step in CACHE (see --fill)")
    p.add_argument("--fill", default=None, metavar="CACHE",
                   help="measure missing LMN values from the params in CACHE, coarse steps first")
    p.add_argument("--fill-budget", type=float, default=math.inf, help="seconds --fill may spend")
    p.add_argument("--appendix-b", action="store_true",
                   help="compute Appendix B's L (add, seed 0) from the snapshots in <results>/snapshots")
    p.add_argument("--readings", default=None, metavar="CACHE",
                   help="measure LMN under each reading (points, output, precision) on cached add seed-0 params")
    p.add_argument("--readings-steps", nargs="+", type=int, default=[200, 500, 7600, 15000],
                   help="steps for --readings")
    p.add_argument("--s4-study", action="store_true",
                   help="train S4 with the split of one seed and the init of another (--seeds), float64 and float32")
    p.add_argument("--study-dtypes", nargs="+", default=["float64", "float32"], help="dtypes for --s4-study")
    p.add_argument("--no-report", action="store_true", help="train only; do not write the report")
    return p


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        for task in args.tasks:
            check_choice("task", task, TASKS)
        if args.from_dir is not None and not Path(args.from_dir).is_dir():
            raise LMNInputError(f"--from {args.from_dir!r} is not a folder; give the folder of the run JSONs")
        schedule = str(args.lmn_every) if args.lmn_every is not None else args.lmn_schedule
        parse_schedule(schedule)
        configs = [make_config(t, s, args.steps, args.backend, args.dtype, args.device, args.lmn_layers,
                               args.lmn_points, args.lmn_output) for t in args.tasks for s in args.seeds]
        if args.threads is not None and args.backend == "torch":
            import torch
            torch.set_num_threads(args.threads)
        extra = args.appendix_b or args.readings is not None or args.s4_study
        log = lambda m: print(m, flush=True)   # noqa: E731
        if args.appendix_b:
            appendix_b(args.results)
        if args.readings is not None:
            measure_readings(args.results, args.readings, steps=tuple(args.readings_steps), log=log)
        if args.s4_study:
            s4_study(args.results, args.seeds, args.seeds, tuple(args.study_dtypes), args.steps,
                     args.backend, args.device, log=log)
        if args.from_dir is None and args.fill is None and not extra:
            for config in configs:
                path = run_path(args.results, config.task, config.seed)
                if is_complete(path):
                    print(f"{path} exists: skipped", flush=True)
                    continue
                snap = SNAPSHOT_STEPS.get(config.task, ()) if config.seed == 0 else ()
                run_one(config, args.results, schedule, defer=args.defer_lmn,
                        snapshots=Path(args.results) / "snapshots", snapshot_steps=snap,
                        log=lambda m: print(m, flush=True))
        if args.fill is not None:
            fill(args.results, args.fill, [(c.task, c.seed, c.lmn_layers) for c in configs],
                 args.fill_budget, log=lambda m: print(m, flush=True))
        if not args.no_report:
            out = build_report(args.from_dir or args.results, args.docs, args.tasks, args.seeds)
            print(f"wrote {out}")
    except LMNInputError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
