"""The S4 precision study: does float32 keep S4 from generalizing, and is Softmax Collapse why?

For each seed, three runs of the paper's S4 setting from the same split and init (the seed's),
training only (no LMN), with the precision diagnostics of precision.py at every evaluation:

    s<seed>-float32          params, loss and updates in float32
    s<seed>-float64          everything in float64 (the authors' likely setting)
    s<seed>-float32-loss64   the remedy: float32 params, loss and its gradient in float64

Every run goes through ``train.train`` into ``results/paper/s4_precision/<name>/``. A run stops
early once it has generalized and held it: test accuracy reached 1 and stayed ≥ 0.99 for
``HOLD`` steps (the rest of the run would only add rows after the answer is known); that stop,
like reaching the last step, marks the run finished (rundir.finished). Any other stop leaves it
unfinished, and the study trains it again.

    python -m lmn_edu.reproduce.precision_study --run [--seeds 0 1 …] [--steps 30000]   # train (slow)
    python -m lmn_edu.reproduce.precision_study                                       # print the section

precision_report.py reads the runs back: ``section(results)`` is the markdown the reproduction report
includes, every number in it computed from the run folders.
"""
import sys
from pathlib import Path

from lmn_edu.config import RunConfig
from lmn_edu.errors import ArgumentParser
from lmn_edu.train import StopTraining

OUT = "s4_precision"                     # under results/paper
HOLD = 2000                              # steps of test accuracy >= STABLE after reaching 1
STABLE = 0.99
EARLY = 20_000                           # the paper's run length: "generalized within 20k"
SEEDS = tuple(range(10))                 # the study's plan: these seeds × VARIANTS
STEPS = 30_000
VARIANTS = {                             # name suffix -> (dtype, loss_dtype)
    "float32": ("float32", "auto"),
    "float64": ("float64", "auto"),
    "float32-loss64": ("float32", "float64"),
}
LABELS = {"float32": "float32", "float64": "float64", "float32-loss64": "float32, loss in float64"}


def run_name(seed, variant):
    return f"s{seed}-{variant}"


def study_config(seed, variant, steps, out, backend="torch"):
    """The RunConfig of one run of the study: on the CPU (the committed runs: torch), no LMN, diagnostics on."""
    dtype, loss_dtype = VARIANTS[variant]
    return RunConfig(task="s4", backend=backend, device="cpu", steps=steps, seed=seed,
                     dtype=dtype, loss_dtype=loss_dtype, lmn_layers=(), eval_every=100,
                     precision_diagnostics=True, out=str(out), name=run_name(seed, variant))


def stable_generalization(rows, hold=HOLD, stable=STABLE):
    """The first step with test accuracy 1 after which it stays ≥ ``stable`` to the run's end
    (and for at least ``hold`` steps); None if there is none."""
    start = None
    for r in rows:
        acc = r.get("test_acc")
        if acc is None:
            continue
        if start is not None and acc < stable:
            start = None
        if start is None and acc >= 1.0:
            start = r["step"]
    if start is None or rows[-1]["step"] - start < hold:
        return None
    return start


class _Held(StopTraining):
    """Raised by the callback to end a run that has generalized and held it (finished)."""

    def __init__(self):
        super().__init__("generalized and held (stopped early)")


def _stop_when_held(hold=HOLD, stable=STABLE):
    rows = []

    def callback(row, backend):
        rows.append({"step": row["step"], "test_acc": row["test_acc"]})
        if stable_generalization(rows, hold, stable) is not None:
            raise _Held()
    return callback


def _generalized(out, seed):
    """Did the seed's float32 run generalize and hold it? (False when the run is missing.)"""
    from lmn_edu.rundir import load_run
    run = Path(out) / run_name(seed, "float32")
    if not run.is_dir():
        return False
    return stable_generalization(load_run(run)[1]) is not None


def run_one(seed, variant, steps, out, backend="torch"):
    """Train one run of the study unless it finished already; returns a line saying what happened."""
    from threadpoolctl import threadpool_limits

    from lmn_edu.rundir import finished
    from lmn_edu.train import train
    config = study_config(seed, variant, steps, out, backend)
    if finished(config.run_dir):
        return f"{config.name}: done already"
    if backend == "torch":
        import torch
        torch.set_num_threads(1)              # small arrays: one thread per run is fastest
    with threadpool_limits(1):
        train(config, callback=_stop_when_held(), overwrite=True)
    if finished(config.run_dir)["reason"] == "last step":
        return f"{config.name}: ran all {steps} steps"
    return f"{config.name}: generalized and held; stopped"


def run_study(seeds, steps, out, variants=tuple(VARIANTS), jobs=1, log=print, backend="torch"):
    """Train every (seed, variant) not yet finished in ``out``; resumable (a run without the
    finished marker is run again from the start).

    One job: seed by seed the float32/float64 pair, then the remedy where float32 did not
    generalize; the remedy on the other seeds last. Several jobs: every run at once, ``jobs``
    processes.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if jobs > 1:
        from concurrent.futures import ProcessPoolExecutor
        todo = [(s, v) for s in seeds for v in VARIANTS if v in variants]
        with ProcessPoolExecutor(jobs) as pool:
            for line in pool.map(run_one, *zip(*todo), [steps] * len(todo), [out] * len(todo),
                                 [backend] * len(todo)):
                log(line)
        return
    remedy = "float32-loss64" in variants
    for seed in seeds:                        # seed by seed: the pair, then the remedy where float32 failed
        for variant in ("float32", "float64"):
            if variant in variants:
                log(run_one(seed, variant, steps, out, backend))
        if remedy and not _generalized(out, seed):
            log(run_one(seed, "float32-loss64", steps, out, backend))
    if remedy:                                # then the remedy on the seeds where float32 generalized
        for seed in seeds:
            log(run_one(seed, "float32-loss64", steps, out, backend))


def default_out():
    """results/paper/s4_precision of the project's checkout."""
    from lmn_edu.rundir import in_checkout
    return in_checkout("results/paper", "python -m lmn_edu.reproduce precision without --out") / OUT


def main(argv=None):
    p = ArgumentParser(prog="python -m lmn_edu.reproduce.precision_study", description=__doc__.split("\n")[0])
    p.add_argument("--run", action="store_true", help="train the runs that are missing (slow)")
    p.add_argument("--seeds", type=int, nargs="+", default=list(SEEDS))
    p.add_argument("--steps", type=int, default=STEPS)
    p.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    p.add_argument("--jobs", type=int, default=1, help="runs at once, one process each (one CPU thread each)")
    p.add_argument("--out", default=None, help="the study's folder (default: results/paper/s4_precision)")
    args = p.parse_args(argv)
    from .cli import guarded

    def run():
        out = args.out or default_out()
        if args.run:
            run_study(args.seeds, args.steps, out, tuple(args.variants), args.jobs,
                      log=lambda s: print(s, flush=True))
            return
        from .precision_report import load_study, section
        print("\n".join(section(load_study(out))))
    return guarded(run, "the finished runs are kept, the others run again next time")


if __name__ == "__main__":
    from lmn_edu import interrupts as _interrupts
    _interrupts.install()
    sys.exit(main())
