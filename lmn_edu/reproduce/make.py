"""Each part of results/paper made from its plan (plan.py), resumably: what is there is kept.

    runs        train each run without LMN, keeping the params of every step the plan measures
                LMN at (or keeps a snapshot of); then LMN from those params (fill.measure)
    readings    LMN under each reading of the plan, on the add runs' snapshots
    appendix-b  Appendix B's L at the plan's steps (appendix_b.npz)
    split-init  the S4 split × init cells (s4_split_init.json)
    precision   the S4 precision study's runs (s4_precision/)
    tidy        drop what the committed folders do not hold: params.npz and the snapshots the
                plan does not keep (only once the readings and Appendix B no longer need them)

A run is kept when its folder holds it finished with the plan's settings (another backend or
device included: the committed runs are torch's; the log says so); an unfinished one is trained
again from the start; LMN values already measured are not measured again.
"""
from pathlib import Path

from ..config import RunConfig
from ..errors import LMNInputError
from ..rundir import LOCK, PARAMS, finished, load_run
from . import fill, precision_study, readings, split_init
from .protocol import LMN_EVERY, SAME_RUN, mark_deferred, run_path

# Settings a kept run may differ in from the asked ones (they change the arithmetic's last bits,
# not the protocol); any other difference is refused, as protocol.existing_run does.
MAY_DIFFER = ("backend",)


def _keeps(plan, task, seed):
    """The steps whose params a run must keep for the later parts: the plan's snapshots, the readings'
    steps and Appendix B's."""
    spec = next(r for r in plan["runs"] if (r["task"], r["seed"]) == (task, seed))
    keep = set(spec["snapshots"])
    if task == "add":
        keep |= {step for s, step, _ in plan["readings"] if s == seed}
    b = plan["appendix_b"]
    if (b["task"], b["seed"]) == (task, seed):
        keep |= set(b["steps"])
    return keep


def run_config(spec, plan, results, backend="numpy", device="auto"):
    """The RunConfig of one planned run: float64, no LMN in the loop, snapshots at every planned step."""
    steps = set().union(*map(set, spec["lmn"].values())) | _keeps(plan, spec["task"], spec["seed"])
    return RunConfig(task=spec["task"], backend=backend, device=device, dtype="float64", steps=spec["steps"],
                     seed=spec["seed"], eval_every=spec["eval_every"], lmn_every=LMN_EVERY, lmn_layers=(),
                     lmn_points=spec.get("lmn_points", "train"),
                     snapshot_steps=tuple(sorted(s for s in steps if s <= spec["steps"])), out=str(results),
                     name=f"{spec['task']}-s{spec['seed']}").validated()


def run_state(config):
    """None (no run), "finished" or "unfinished"; LMNInputError when the folder holds another run."""
    folder = config.run_dir
    if not (folder / "config.json").exists():
        return None
    old = load_run(folder)[0]
    differ = [f"{k}={old.get(k)!r} (asked: {getattr(config, k)!r})" for k in SAME_RUN
              if k not in MAY_DIFFER and old.get(k) != getattr(config, k)]
    if differ:
        raise LMNInputError(f"{folder} already holds a run with other settings: {', '.join(differ)}; "
                            "choose another --out folder or remove that run")
    return "finished" if finished(folder) else "unfinished"


def make_runs(plan, results, backend="numpy", device="auto", log=print):
    for spec in plan["runs"]:
        config = run_config(spec, plan, results, backend, device)
        state = run_state(config)
        if state == "finished":
            old = load_run(config.run_dir)[0].get("backend")
            log(f"{config.name}: finished already ({old} backend), kept")
        else:
            from ..train import train
            log(f"{config.name}: training {spec['steps']} steps ({backend})" + (", again" if state else ""))
            train(config, overwrite=state == "unfinished")
            mark_deferred(config, tuple(spec["lmn"]))
        for layer, steps in spec["lmn"].items():
            fill.measure(config.run_dir, steps, (layer,), log=log)


def make_readings(plan, results, log=print):
    by_at = {}
    for seed, step, name in plan["readings"]:
        by_at.setdefault((seed, step), []).append(name)
    for (seed, step), names in by_at.items():
        readings.measure_readings(results, results, [seed], steps=(step,), readings=tuple(names), log=log)


def make_appendix_b(plan, results, log=print):
    b = plan["appendix_b"]
    mats = readings.appendix_b(results, b["task"], b["seed"], steps=tuple(b["steps"]), write_cache=True)
    missing = [s for s in b["steps"] if s not in mats]
    if missing:
        raise LMNInputError(f"{run_path(results, b['task'], b['seed'])}: no snapshot of steps "
                            f"{missing} for Appendix B; run `reproduce runs` first")
    log(f"appendix_b.npz: L at steps {', '.join(map(str, b['steps']))}")


def make_split_init(plan, results, backend="numpy", log=print):
    split_init.run_cells(results, [tuple(c) for c in plan["split_init"]], backend=backend, log=log)


def make_precision(plan, results, backend="numpy", jobs=1, log=print):
    p = plan["precision"]
    precision_study.run_study(p["seeds"], p["steps"], Path(results) / precision_study.OUT, tuple(p["variants"]),
                              jobs=jobs, log=log, backend=backend)


def pending_readings(plan, results):
    """The plan's readings not in readings.json yet, and Appendix B's steps not in its cache."""
    have = {(d["seed"], d["step"], d["reading"]) for d in readings.load_readings(results)}
    todo = [tuple(r) for r in plan["readings"] if tuple(r) not in have]
    cache = Path(results) / "appendix_b.npz"
    import numpy as np
    cached = {int(k[1:]) for k in np.load(cache).files if k[0] == "L"} if cache.exists() else set()
    return todo, [s for s in plan["appendix_b"]["steps"] if s not in cached]


def tidy(plan, results, log=print):
    """Remove params.npz, the released lock file and the snapshots the plan does not keep, once nothing
    planned needs them."""
    todo, b_todo = pending_readings(plan, results)
    if todo or b_todo:
        log(f"tidy: skipped ({len(todo)} readings and {len(b_todo)} Appendix B steps still need the snapshots)")
        return []
    removed = []
    for spec in plan["runs"]:
        folder = run_path(results, spec["task"], spec["seed"])
        keep = {f"step{s:06d}.npz" for s in spec["snapshots"]}
        extra = [p for p in (folder / "snapshots").glob("step*.npz") if p.name not in keep]
        extra += [folder / name for name in (PARAMS, LOCK) if (folder / name).exists()]
        for p in extra:
            p.unlink()
        if (folder / "snapshots").is_dir() and not any((folder / "snapshots").iterdir()):
            (folder / "snapshots").rmdir()
        removed += extra
    log(f"tidy: removed {len(removed)} files the committed folders do not hold (params, unplanned snapshots)")
    return removed
