"""``python -m lmn_edu.reproduce COMMAND``: make results/paper and docs/reproduction.md, part by part.

    all         every part below in order, after printing the plan and its time estimate
    runs        the nine runs (task × seed) with the plan's LMN steps and snapshots
    readings    LMN under the other readings of the paper (readings.json)
    appendix-b  Appendix B's L (appendix_b.npz)
    split-init  S4's split × init study (s4_split_init.json)
    precision   the S4 precision study (s4_precision/)
    tidy        drop params and snapshots the committed folders do not hold
    report      docs/reproduction.md and its figures from a results folder (NumPy + matplotlib only)
    plan        print the plan and the time estimate, do nothing
    train       the protocol with LMN measured in the loop (every --lmn-every steps)

Without a command, ``--from DIR`` is ``report --from DIR`` and any other flags are ``train``'s.
Exit codes: 0 done, 1 a run diverged, 2 bad input or environment (one line on stderr), 130 interrupted
(143 by SIGTERM, 129 by SIGHUP). ``report`` only reads its folder.
"""
import sys
import time
from pathlib import Path

from .. import interrupts
from ..datasets import TASKS
from ..errors import ArgumentParser, DefaultsHelpFormatter, LMNInputError, check_choice
from . import train_cli
from .protocol import SEEDS

CHECKOUT = Path(__file__).resolve().parents[2]
PAPER = CHECKOUT / "results" / "paper"
PARTS = ("runs", "readings", "appendix-b", "tidy", "split-init", "precision")
COMMANDS = ("all", *PARTS, "report", "transformer", "plan", "train")
HELP = {"all": "regenerate every part, then the report: resumable, prints its plan and estimate first",
        "runs": "train the nine runs (no LMN in the loop) and measure LMN at the plan's steps",
        "readings": "measure LMN under each reading on the add runs' snapshots",
        "appendix-b": "compute Appendix B's L at the plan's steps",
        "tidy": "remove params.npz and snapshots the plan does not keep",
        "split-init": "train S4's split × init cells",
        "precision": "train the S4 precision study (float32, float64, float32 with the loss in float64)",
        "report": "write docs/reproduction.md and its figures from a results folder",
        "transformer": "beyond the paper: write docs/transformer.md and its figures from the committed "
                       "transformer runs (results/transformer)",
        "plan": "print the plan and the time estimate on this machine; train nothing"}


def _making_options(p):
    p.add_argument("--out", default=str(PAPER), help="results folder to make (the committed one by default)")
    p.add_argument("--plan", default=None, help="plan file (default: <out>/plan.json, else the committed one)")
    p.add_argument("--small", action="store_true", help="the CI-size plan (seed 0, 300 steps): same code path")
    p.add_argument("--backend", default="numpy", choices=("numpy", "torch"), help="training backend")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda (torch)")
    p.add_argument("--threads", type=int, default=None, help="CPU threads (default: the libraries' choice)")
    p.add_argument("--jobs", type=int, default=1, help="precision study: runs at once, one process each")
    p.add_argument("--docs", default=None, help="report folder (default: docs for results/paper, else <out>/docs)")


def build_parser():
    p = ArgumentParser(prog="python -m lmn_edu.reproduce",
                                description="Make results/paper and docs/reproduction.md, part by part; "
                                            "`all` makes every part (resumable) after printing its plan and time "
                                            "estimate. Without a command, --from DIR is `report --from DIR`.")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for name in ("all", *PARTS, "plan"):
        _making_options(sub.add_parser(name, help=HELP[name], description=HELP[name]))
    r = sub.add_parser("report", help=HELP["report"], description=HELP["report"])
    r.add_argument("--from", dest="from_dir", default=str(PAPER), metavar="DIR", help="the results folder")
    r.add_argument("--docs", default="docs", help="folder for reproduction.md and figures/reproduction/")
    r.add_argument("--tasks", nargs="+", default=list(TASKS), metavar="TASK", help=f"of {', '.join(TASKS)}")
    r.add_argument("--seeds", nargs="+", type=int, default=list(SEEDS), help="seeds")
    t = sub.add_parser("transformer", help=HELP["transformer"], description=HELP["transformer"])
    t.add_argument("--from", dest="from_dir", default=str(CHECKOUT / "results" / "transformer"), metavar="DIR",
                   help="the folder of the transformer run folders")
    t.add_argument("--docs", default="docs", help="folder for transformer.md and figures/transformer/")
    train_cli.add_arguments(sub.add_parser("train", help=train_cli.HELP, description=train_cli.HELP,
                                           formatter_class=DefaultsHelpFormatter))
    return p


def _argv(argv):
    """Old spellings: ``--from DIR`` alone is ``report``; other flags without a command are ``train``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or not argv[0].startswith("-") or argv[0] in ("-h", "--help"):
        return argv or ["--help"]                        # a command (or a misspelt one: argparse names the choices)
    return ["report", *argv] if "--from" in argv else ["train", *argv]


def load_plan_for(args):
    from . import plan as plan_mod
    if args.small:
        return plan_mod.small_plan()
    path = Path(args.plan) if args.plan else Path(args.out) / plan_mod.FILE
    if path.exists() or args.plan:
        return plan_mod.load_plan(path)
    from ..rundir import in_checkout
    committed = in_checkout("results/paper", f"python -m lmn_edu.reproduce {args.command} (its committed plan)")
    return plan_mod.load_plan(committed / plan_mod.FILE)


def docs_for(args):
    if args.docs:
        return Path(args.docs)
    return CHECKOUT / "docs" if Path(args.out).resolve() == PAPER.resolve() else Path(args.out) / "docs"


def print_plan(plan, out, backend, log):
    from . import costs
    from .protocol import TASK_LAYERS
    log(f"plan: {len(plan['runs'])} runs, {len(plan['readings'])} readings, Appendix B at "
        f"{len(plan['appendix_b']['steps'])} steps, {len(plan['split_init'])} split × init cells, precision study "
        f"{len(plan['precision']['seeds'])} seeds × {len(plan['precision']['variants'])} precisions; into {out}")
    log("measuring this machine's costs (a few steps and one LMN value per task and layer) …")
    tasks = sorted({r["task"] for r in plan["runs"]} | {"s4"})
    cal = costs.calibrate(tasks, TASK_LAYERS, backend, dtypes=("float64", "float32"))
    for task in tasks:
        c = cal[(task, "float64")]
        log(f"  {task}: {c['step'] * 1e3:.1f} ms a step, " + ", ".join(
            f"LMN({k}) {v:.1f} s" for k, v in c["lmn"].items()) + f" on {c['points']} points ({backend})")
    lines, run_lines, total = costs.plan_lines(plan, out, cal, backend)
    for line in lines[:1] + run_lines + lines[1:]:
        log(line)
    log(f"estimate: {costs.fmt_secs(total)} on this machine (what is finished already costs nothing)")
    return total


def _fingerprint(out, docs):
    """The results folder's files, and the report's when it is written outside that folder."""
    from .snapshot import fingerprint
    got = fingerprint(out)
    if not Path(docs).resolve().is_relative_to(Path(out).resolve()):
        got.update({f"{docs.name}/{k}": v for k, v in fingerprint(docs, ("reproduction.md", "figures/reproduction")).items()})
    return got


def make(args, parts, log):
    from . import make as mk
    from .snapshot import changes
    plan, out = load_plan_for(args), Path(args.out)
    train_cli.limit_threads(args.threads, args.backend)
    estimate = print_plan(plan, out, args.backend, log)
    if parts == ():
        return
    out.mkdir(parents=True, exist_ok=True)
    before, start = _fingerprint(out, docs_for(args)), time.perf_counter()
    steps = {"runs": lambda: mk.make_runs(plan, out, args.backend, args.device, log),
             "readings": lambda: mk.make_readings(plan, out, log),
             "appendix-b": lambda: mk.make_appendix_b(plan, out, log),
             "tidy": lambda: mk.tidy(plan, out, log),
             "split-init": lambda: mk.make_split_init(plan, out, args.backend, log),
             "precision": lambda: mk.make_precision(plan, out, args.backend, args.jobs, log)}
    for part in parts:
        steps[part]()
    if args.command == "all":
        from .report import build_report
        log(f"wrote {build_report(out, docs_for(args))}")
    for line in changes(before, _fingerprint(out, docs_for(args))):
        log(line)
    from . import costs
    log(f"took {costs.fmt_secs(time.perf_counter() - start)} (estimated {costs.fmt_secs(estimate)})")


def _run(args):
    log = lambda m: print(m, flush=True)   # noqa: E731
    if args.command == "report":
        if not Path(args.from_dir).is_dir():
            raise LMNInputError(f"--from {args.from_dir!r} is not a folder; give the folder of the run folders "
                                "(the committed runs are results/paper in the project's checkout)")
        for task in args.tasks:
            check_choice("task", task, TASKS)
        from .report import build_report
        log(f"wrote {build_report(args.from_dir, args.docs, args.tasks, args.seeds)}")
    elif args.command == "transformer":
        if not Path(args.from_dir).is_dir():
            raise LMNInputError(f"--from {args.from_dir!r} is not a folder of transformer run folders "
                                "(the committed ones are results/transformer in the project's checkout)")
        from ..transformer_report import build as build_transformer
        build_transformer(args.from_dir, args.docs)
        log(f"wrote {Path(args.docs) / 'transformer.md'}")
    elif args.command == "train":
        train_cli.run(args, log)
    else:
        make(args, {"all": PARTS, "plan": ()}.get(args.command, (args.command,)), log)


def guarded(run, kept="what finished is kept, the rest is made next time"):
    """Run ``run()`` as a command: its exit status, and one line on stderr for what stopped it."""
    from ..train import TrainingDiverged
    interrupts.running()
    try:
        run()
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
    print(f"{interrupts.describe(stop)}; {kept}", file=sys.stderr)
    return interrupts.exit_status(stop)


def main(argv=None):
    args = build_parser().parse_args(_argv(argv))
    return guarded(lambda: _run(args))
