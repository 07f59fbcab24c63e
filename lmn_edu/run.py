"""The command line: ``python -m lmn_edu.run`` trains the paper's MLP (or, ``--model transformer``,
Nanda et al.'s one-layer transformer) and measures LMN.

One run per (task, seed); each writes its run folder, runs/<task>-<backend>-s<seed>/ (see
rundir.py), and figures/fig2.png in it.

Exit status: 0 done, 1 training diverged, 2 bad input or environment (including a run folder
that cannot be written), 130 interrupted by Ctrl-C, 143 by SIGTERM, 129 by SIGHUP (interrupts.py).
Errors are one line on stderr.
"""
import sys

if __name__ == "__main__":           # the command: signals handled from here on, the imports below included
    from lmn_edu import interrupts as _interrupts
    _interrupts.install()

import os  # noqa: E402

from threadpoolctl import threadpool_limits  # noqa: E402

from . import interrupts  # noqa: E402

from .analysis import phase_steps
from .backends import BACKENDS, DEVICES, DTYPES, LOSS_DTYPES
from .config import MODELS, POINTS, TRANSFORMER_LAYERS, RunConfig
from .datasets import TASKS
from .errors import ArgumentParser, DefaultsHelpFormatter, LMNInputError, check_choice
from .mlp import OUTPUTS
from .mlp_lmn import PRECISIONS
from .mlp_lmn import LMN_LAYERS
from .train import TrainingDiverged, train
from .transformer import LMN_LAYERS as TRANSFORMER_LMN_LAYERS

D = RunConfig()
EXIT_DONE, EXIT_DIVERGED, EXIT_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130
Parser = ArgumentParser              # a usage mistake is one line ``error: …`` and exit status 2


def max_threads():
    return os.cpu_count() or 1


def check_threads(threads):
    """0 (the libraries' choice) or 1..the number of CPUs: more only oversubscribes the machine."""
    if not 0 <= threads <= max_threads():
        raise LMNInputError(f"threads={threads} must be between 0 and {max_threads()} (the CPUs here)")
    return threads


def build_parser():
    p = Parser(
        prog="python -m lmn_edu.run",
        description="Train the paper's 3-layer SiLU MLP on an algorithmic task with full-batch AdamW "
                    "and measure the linear mapping number (LMN) along the way.",
        epilog="exit status: 0 done, 1 training diverged, 2 bad input or environment, 130 interrupted "
               "(Ctrl-C), 143 stopped by SIGTERM, 129 by SIGHUP",
        formatter_class=DefaultsHelpFormatter)
    p.add_argument("--model", default=D.model,
                   help=f"one of {', '.join(MODELS)}: the paper's 3-layer SiLU MLP, or the one-layer transformer "
                        "of Nanda et al. (ICLR 2023) on the sequence 'a b =' (lmn_edu/transformer.py)")
    p.add_argument("--task", nargs="+", default=[D.task], metavar="TASK",
                   help=f"one or more of {', '.join(TASKS)}")
    p.add_argument("--modulus", type=int, default=D.modulus, help="the p of task add (Nanda et al.: 113)")
    p.add_argument("--backend", default=D.backend, help=f"one of {', '.join(BACKENDS)}")
    p.add_argument("--steps", type=int, default=D.steps, help="AdamW steps (full batch)")
    p.add_argument("--seed", type=int, nargs="+", default=[D.seed], help="one or more seeds (split and init)")
    p.add_argument("--train-frac", type=float, default=D.train_frac, help="fraction of pairs in the train set")
    p.add_argument("--lr", type=float, default=D.lr, help="AdamW learning rate")
    p.add_argument("--weight-decay", type=float, default=D.weight_decay, help="AdamW decoupled weight decay")
    p.add_argument("--eval-every", type=int, default=D.eval_every, help="steps between loss/accuracy/L2 rows")
    p.add_argument("--lmn-every", type=int, default=D.lmn_every, help="steps between regular LMN measurements")
    p.add_argument("--lmn-log", type=int, default=D.lmn_log,
                   help="extra LMN measurements, log-spaced before the first regular one (where LMN peaks)")
    p.add_argument("--lmn-layers", nargs="*", default=None, metavar="LAYER",
                   help=f"layers to measure LMN from (to the output): {', '.join(LMN_LAYERS)} for the MLP, "
                        f"{', '.join(TRANSFORMER_LMN_LAYERS)} for the transformer (default there: "
                        f"{' '.join(TRANSFORMER_LAYERS)}, for the MLP: {' '.join(D.lmn_layers)}); none: no LMN")
    p.add_argument("--lmn-n-points", type=int, default=D.lmn_n_points,
                   help="measure LMN on a fixed random subsample of this many of the points; 0: all of them")
    p.add_argument("--lmn-points", default=D.lmn_points, help=f"points L is built on: {', '.join(POINTS)}")
    p.add_argument("--lmn-output", default=D.lmn_output, help=f"output LMN is measured to: {', '.join(OUTPUTS)}")
    p.add_argument("--n-lambda", type=int, default=D.n_lambda, help="λ points per line (eq 1), at least 3")
    p.add_argument("--lmn-precision", default=D.lmn_precision,
                   help=f"dtype of the tail when LMN is measured, on both backends whatever --dtype: "
                        f"{' or '.join(PRECISIONS)} (r² sums and eigenvalues stay float64; float32 uses "
                        "float32's flat-line tolerance)")
    p.add_argument("--snapshot-steps", nargs="*", type=int, default=[], metavar="STEP",
                   help="save the params at these steps in <run folder>/snapshots/")
    p.add_argument("--out", default=D.out, help="folder for the run folders")
    p.add_argument("--overwrite", action="store_true",
                   help="replace a run already in the run folder (otherwise such a folder is refused)")
    p.add_argument("--device", default=D.device, help=f"torch device: {', '.join(DEVICES)}")
    p.add_argument("--dtype", default=D.dtype,
                   help=f"training precision: {', '.join(DTYPES)} (auto: float64 on numpy, float32 on torch)")
    p.add_argument("--loss-dtype", default=D.loss_dtype,
                   help=f"precision of the loss: {', '.join(LOSS_DTYPES)} (float64: the loss and its gradient "
                        "in float64 while the params keep --dtype)")
    p.add_argument("--precision-diagnostics", action="store_true",
                   help="record, per evaluation, the share of training samples whose loss or correct-class "
                        "gradient is exactly 0 in the precision the loss is computed in, the share of parameter "
                        "updates that round away, and the largest margin (see lmn_edu/precision.py)")
    p.add_argument("--threads", type=int, default=1,
                   help="CPU threads for BLAS/OpenMP (and torch), at most the CPUs here; 0: the libraries' "
                        "own choice. The arrays are small: one thread measured as fast alone and far faster "
                        "on a shared machine")
    t = p.add_argument_group("transformer (--model transformer; Nanda et al.'s sizes by default)")
    t.add_argument("--d-model", type=int, default=D.d_model, help="residual stream width")
    t.add_argument("--n-heads", type=int, default=D.n_heads, help="attention heads (d_model / n_heads each)")
    t.add_argument("--d-mlp", type=int, default=D.d_mlp, help="MLP hidden width")
    p.add_argument("--beta2", type=float, default=D.beta2, help="AdamW's second beta (Nanda et al.: 0.98)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def lmn_layers(args):
    """--lmn-layers as asked, or the model's default; a layer the model lacks is refused here (the
    config maps its MLP default ("h1",) to the transformer's, which must not hide an explicit h1)."""
    if args.lmn_layers is None:
        return D.lmn_layers
    if args.model == "transformer":
        for layer in args.lmn_layers:
            check_choice("lmn_layers", layer, TRANSFORMER_LMN_LAYERS)
    return tuple(args.lmn_layers)


def configs_from_args(args):
    layers = lmn_layers(args)
    return [
        RunConfig(task=task, backend=args.backend, steps=args.steps, seed=seed,
                  train_frac=args.train_frac, lr=args.lr, weight_decay=args.weight_decay,
                  eval_every=args.eval_every, lmn_every=args.lmn_every, lmn_log=args.lmn_log,
                  lmn_layers=layers, lmn_points=args.lmn_points,
                  lmn_output=args.lmn_output, n_lambda=args.n_lambda, lmn_precision=args.lmn_precision,
                  snapshot_steps=tuple(args.snapshot_steps), out=args.out, device=args.device,
                  dtype=args.dtype, loss_dtype=args.loss_dtype,
                  precision_diagnostics=args.precision_diagnostics, model=args.model, modulus=args.modulus,
                  d_model=args.d_model, n_heads=args.n_heads, d_mlp=args.d_mlp, beta2=args.beta2,
                  lmn_n_points=args.lmn_n_points).validated()
        for task in args.task for seed in args.seed
    ]


def save_figure(config, history):
    """figures/fig2.png beside the history."""
    from .plots import fig2

    model = "" if config.model == "mlp" else f"{config.model}, "
    fig2(history.rows, config.run_dir / "figures" / "fig2.png",
         title=f"{model}{config.task}, {config.backend}, seed {config.seed}")


def _at(step):
    return "not reached" if step is None else f"at step {step}"


def summary(config, history):
    rows = history.rows
    last = rows[-1]
    mem, gen = phase_steps(rows)
    lmn = "".join(f", LMN({k[4:]}) {last[k]:.2f}" for k in last if k.startswith("lmn_") and last[k] is not None)
    return (f"{config.run_dir}: train acc {last['train_acc']:.3f}, test acc {last['test_acc']:.3f}"
            f"{lmn}; train acc 1.0 {_at(mem)}, test acc 1.0 {_at(gen)}; "
            f"{last['time_s']:.0f} s")


def fail(message, code):
    print(f"error: {message}", file=sys.stderr)
    return code


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        check_threads(args.threads)
        configs = configs_from_args(args)
        if len({c.run_dir for c in configs}) < len(configs):
            raise LMNInputError("task/seed: the same run is asked for twice")
    except LMNInputError as e:
        return fail(e, EXIT_INPUT)
    with threadpool_limits(limits=args.threads or None):
        return run_all(configs, args)


def _load_what_runs_need(args):
    """Import what the runs import on their way (before a signal can stop them half-imported)."""
    from . import plots  # noqa: F401  (the figure)
    progress = None
    if not args.no_progress:
        from tqdm.auto import tqdm
        progress = tqdm
    if args.backend == "torch":
        try:
            import torch
            from .backends import torch_backend  # noqa: F401
            if args.threads:
                torch.set_num_threads(args.threads)
        except ImportError:
            pass                      # train() reports the missing torch in one line
    return progress


def run_all(configs, args):
    progress = _load_what_runs_need(args)
    config = stop = None
    try:
        interrupts.running()          # from here on a signal stops the run and keeps what it measured
        for config in configs:
            history = train(config, progress=progress, overwrite=args.overwrite)
            save_figure(config, history)
            print(summary(config, history), flush=True)
        return EXIT_DONE
    except LMNInputError as e:
        return fail(e, EXIT_INPUT)
    except TrainingDiverged as e:
        return fail(f"training diverged: {e}; what was measured is in {config.run_dir}", EXIT_DIVERGED)
    except OSError as e:
        where = e.filename or (config.run_dir if config else "the run folder")
        kept = f"; what was measured before is in {config.run_dir}" if config else ""
        return fail(f"cannot write {where}: {e.strerror or e}{kept}", EXIT_INPUT)
    except KeyboardInterrupt as e:
        stop = e
    except Exception:
        if not interrupts.signalled():
            raise
        # else: the signal's KeyboardInterrupt came out of C code as another error (an import)
    kept = f"what was measured is in {config.run_dir}" if config else "nothing was run"
    print(f"\n{interrupts.describe(stop)}; {kept}", file=sys.stderr)
    return interrupts.exit_status(stop)


if __name__ == "__main__":
    sys.exit(main())
