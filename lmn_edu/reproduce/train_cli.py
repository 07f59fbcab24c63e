"""``python -m lmn_edu.reproduce train``: the paper's protocol with LMN measured in the training loop.

This is the direct way, for a machine where LMN is cheap (a GPU): three tasks, seeds 0-2, 20 000
steps, LMN every ``--lmn-every`` steps, into run folders, then the report. The committed runs were
made the deferred way instead (``reproduce all``: LMN from saved params at the plan's steps).
"""
import math
import os
from pathlib import Path

from ..datasets import TASKS
from ..errors import LMNInputError, check_choice
from ..mlp_lmn import LMN_LAYERS
from .protocol import LMN_EVERY, SEEDS, STEPS, TASK_LAYERS, make_config, run_path

HELP = "run the protocol with LMN measured in the loop (every --lmn-every steps), then the report"


def add_arguments(p):
    p.add_argument("--tasks", nargs="+", default=list(TASKS), metavar="TASK", help=f"of {', '.join(TASKS)}")
    p.add_argument("--seeds", nargs="+", type=int, default=list(SEEDS), help="seeds (split and init)")
    p.add_argument("--steps", type=int, default=STEPS, help="AdamW steps (full batch)")
    p.add_argument("--lmn-every", type=int, default=LMN_EVERY, help="steps between LMN measurements")
    p.add_argument("--lmn-layers", nargs="+", default=None, metavar="LAYER",
                   help=f"layers to measure (default: emb h1 h2 for add, h1 otherwise); of {', '.join(LMN_LAYERS)}")
    p.add_argument("--lmn-points", default="train", help="points L is built on: train, test, all")
    p.add_argument("--lmn-output", default="logits", help="output LMN is measured to: logits, probs")
    p.add_argument("--backend", default="numpy", help="numpy, or torch (GPU when present)")
    p.add_argument("--dtype", default="float64", help="training precision: float64 or float32")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda")
    p.add_argument("--threads", type=int, default=None, help="CPU threads (default: the libraries' choice)")
    p.add_argument("--results", default="results/paper", help="folder of the run folders")
    p.add_argument("--docs", default="docs", help="folder for reproduction.md and figures/reproduction/")
    p.add_argument("--defer-lmn", action="store_true",
                   help="train without LMN, keeping the params of every LMN step in each run's snapshots/ (see --fill)")
    p.add_argument("--fill", action="store_true", help="measure missing LMN values from the runs' snapshots, coarse steps first")
    p.add_argument("--fill-budget", type=float, default=math.inf, help="seconds --fill may spend")
    p.add_argument("--fill-grid", default=None, metavar="DIR",
                   help="put finished runs on the common LMN grid: retrain each into DIR, check that it "
                        "agrees with the saved rows, measure LMN from its snapshots")
    p.add_argument("--no-report", action="store_true", help="train only; do not write the report")


def limit_threads(n, backend):
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


def run(args, log):
    for task in args.tasks:
        check_choice("task", task, TASKS)
    if args.results == "results/paper" and not Path(args.results).is_dir():
        raise LMNInputError("--results results/paper is not here: the protocol's runs go into the project's "
                            "checkout (run this from the checkout), or give --results DIR and --docs DIR")
    limit_threads(args.threads, args.backend)
    configs = [make_config(t, s, args.results, args.steps, args.backend, args.dtype, args.device,
                           args.lmn_layers, args.lmn_points, args.lmn_output, args.lmn_every, args.defer_lmn)
               for t in args.tasks for s in args.seeds]
    layers = [tuple(args.lmn_layers or TASK_LAYERS[c.task]) for c in configs]
    if not (args.fill or args.fill_grid):
        from tqdm.auto import tqdm

        from .protocol import run_protocol
        run_protocol(configs, layers, progress=tqdm, log=log)
    if args.fill:
        from ..rundir import load_run
        from .fill import measure, snapshot_path
        for c, wanted in zip(configs, layers):          # every step the run kept params of
            steps = [r["step"] for r in load_run(c.run_dir)[1] if snapshot_path(c.run_dir, r["step"]).exists()]
            measure(c.run_dir, steps, wanted, budget_s=args.fill_budget, log=log)
    if args.fill_grid:
        from .fill import fill_grid
        for c in configs:
            fill_grid(run_path(args.results, c.task, c.seed), args.fill_grid, log=log)
    if not args.no_report:
        from .readings import appendix_b
        from .report import build_report
        appendix_b(args.results, write_cache=True)        # the folder trained into keeps Appendix B's L
        log(f"wrote {build_report(args.results, args.docs, args.tasks, args.seeds)}")
