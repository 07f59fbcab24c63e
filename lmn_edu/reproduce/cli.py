"""``python -m lmn_edu.reproduce``: run the paper's protocol and write docs/reproduction.md.

Exit codes: 0 done, 1 a run diverged, 2 bad input or environment (one line on stderr), 130 interrupted
(143 by SIGTERM, 129 by SIGHUP). ``--from`` only reads its folder.
"""
import argparse
import math
import os
import sys
from pathlib import Path

from ..datasets import TASKS
from .. import interrupts
from ..errors import ArgumentParser, LMNInputError, check_choice
from ..mlp_lmn import LMN_LAYERS
from .protocol import LMN_EVERY, SEEDS, STEPS, TASK_LAYERS, make_config, run_path


RESULTS = "results/paper"            # the committed runs, in the checkout


def build_parser():
    p = ArgumentParser(
        prog="python -m lmn_edu.reproduce",
        description="Run the paper's protocol (three tasks, seeds 0-2, 20 000 steps, LMN every 50 steps) "
                    "and write docs/reproduction.md with its figures: paper against ours.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--tasks", nargs="+", default=list(TASKS), metavar="TASK", help=f"of {', '.join(TASKS)}")
    p.add_argument("--seeds", nargs="+", type=int, default=list(SEEDS), help="seeds (split and init)")
    p.add_argument("--steps", type=int, default=STEPS, help="AdamW steps (full batch)")
    p.add_argument("--lmn-every", type=int, default=LMN_EVERY, help="steps between LMN measurements")
    p.add_argument("--lmn-layers", nargs="+", default=None, metavar="LAYER",
                   help=f"layers to measure (default: emb h1 h2 for add, h1 otherwise); of {', '.join(LMN_LAYERS)}")
    p.add_argument("--lmn-points", default="train", help="points L is built on: train, test, all")
    p.add_argument("--lmn-output", default="logits", help="output LMN is measured to: logits, probs")
    p.add_argument("--backend", default="torch", help="torch (GPU when present) or numpy")
    p.add_argument("--dtype", default="float64", help="training precision: float64 or float32")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda")
    p.add_argument("--threads", type=int, default=None, help="CPU threads (default: the libraries' choice)")
    p.add_argument("--results", default=RESULTS, help="folder of the run folders")
    p.add_argument("--from", dest="from_dir", default=None, metavar="DIR",
                   help="do not train: rebuild the figures and the report from the run folders in DIR")
    p.add_argument("--docs", default="docs", help="folder for reproduction.md and figures/reproduction/")
    p.add_argument("--defer-lmn", action="store_true",
                   help="train without LMN, keeping the params of every LMN step in each run's snapshots/ (see --fill)")
    p.add_argument("--fill", action="store_true", help="measure missing LMN values from the runs' snapshots, coarse steps first")
    p.add_argument("--fill-budget", type=float, default=math.inf, help="seconds --fill may spend")
    p.add_argument("--fill-grid", default=None, metavar="DIR",
                   help="put finished runs on the common LMN grid: retrain each into DIR, check that it "
                        "agrees with the saved rows, measure LMN from its snapshots")
    p.add_argument("--readings", default=None, metavar="DIR",
                   help="measure LMN under each reading on the add params in DIR/add-s<seed>/snapshots/")
    p.add_argument("--no-report", action="store_true", help="train only; do not write the report")
    return p


def _threads(n, backend):
    """Limit CPU threads: 1 … the machine's CPU count."""
    if n is None:
        return
    cpus = os.cpu_count() or 1
    if not 1 <= n <= cpus:
        raise LMNInputError(f"--threads {n} must be between 1 and this machine's {cpus} CPUs")
    from threadpoolctl import threadpool_limits
    threadpool_limits(n)
    if backend == "torch":
        import torch
        torch.set_num_threads(n)


def _run(args):
    log = lambda m: print(m, flush=True)   # noqa: E731
    for task in args.tasks:
        check_choice("task", task, TASKS)
    if args.from_dir is not None:
        if not Path(args.from_dir).is_dir():
            raise LMNInputError(f"--from {args.from_dir!r} is not a folder; give the folder of the run folders "
                                "(the committed runs are results/paper in the project's checkout)")
        from .report import build_report
        log(f"wrote {build_report(args.from_dir, args.docs, args.tasks, args.seeds)}")
        return
    if args.results == RESULTS and not Path(RESULTS).is_dir():
        raise LMNInputError(f"--results {RESULTS} is not here: the protocol's runs go into the project's checkout "
                            "(run this from the checkout), or give --results DIR and --docs DIR")
    _threads(args.threads, args.backend)
    configs = [make_config(t, s, args.results, args.steps, args.backend, args.dtype, args.device,
                           args.lmn_layers, args.lmn_points, args.lmn_output, args.lmn_every, args.defer_lmn)
               for t in args.tasks for s in args.seeds]
    layers = [tuple(args.lmn_layers or TASK_LAYERS[c.task]) for c in configs]
    extra = args.fill or args.fill_grid or args.readings
    if not extra:
        from tqdm.auto import tqdm

        from .protocol import run_protocol
        run_protocol(configs, layers, progress=tqdm, log=log)
    if args.fill:
        from .fill import measure, snapshot_path
        from ..rundir import load_run
        for c, wanted in zip(configs, layers):          # every step the run kept params of
            steps = [r["step"] for r in load_run(c.run_dir)[1] if snapshot_path(c.run_dir, r["step"]).exists()]
            measure(c.run_dir, steps, wanted, budget_s=args.fill_budget, log=log)
    if args.fill_grid:
        from .fill import fill_grid
        for c in configs:
            fill_grid(run_path(args.results, c.task, c.seed), args.fill_grid, log=log)
    if args.readings:
        from .readings import measure_readings
        measure_readings(args.results, args.readings, [s for s in args.seeds], log=log)
    if not args.no_report:
        from .readings import appendix_b
        from .report import build_report
        appendix_b(args.results, write_cache=True)        # the folder trained into keeps Appendix B's L
        log(f"wrote {build_report(args.results, args.docs, args.tasks, args.seeds)}")


def main(argv=None):
    args = build_parser().parse_args(argv)
    return run_command(lambda: _run(args))


def run_command(work):
    """Run ``work()`` as a command: its exit status as documented, any error in one line."""
    from ..train import TrainingDiverged
    interrupts.running()
    try:
        work()
    except TrainingDiverged as e:
        print(f"error: training diverged: {e}", file=sys.stderr)
        return 1
    except LMNInputError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"error: cannot write {e.filename or 'a file'}: {e.strerror or e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as e:
        stop = e
    except Exception:
        if not interrupts.signalled():
            raise
        stop = None                   # the signal's KeyboardInterrupt came out of C code as another error
    else:
        return 0
    print(f"{interrupts.describe(stop)}; finished runs are kept, the others run again next time", file=sys.stderr)
    return interrupts.exit_status(stop)
