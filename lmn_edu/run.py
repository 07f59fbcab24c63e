"""The command line: ``python -m lmn_edu.run`` trains the paper's MLP and measures LMN.

One run per (task, seed); each writes runs/<task>-<backend>-s<seed>/ with config.json,
history.json, history.csv, params.npz and figures/fig2.png.
"""
import argparse
import io
import sys

import numpy as np
from threadpoolctl import threadpool_limits

from .config import BACKENDS, DEVICES, DTYPES, POINTS, RunConfig
from .datasets import TASKS
from .errors import LMNInputError
from .history import phase_steps, write_atomic
from .mlp import OUTPUTS
from .mlp_lmn import LMN_LAYERS
from .train import TrainingDiverged, train

D = RunConfig()


class Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line ``error: …`` and exit status 2."""

    def error(self, message):
        self.exit(2, f"error: {message} (see --help)\n")


def build_parser():
    p = Parser(
        prog="python -m lmn_edu.run",
        description="Train the paper's 3-layer SiLU MLP on an algorithmic task with full-batch AdamW "
                    "and measure the linear mapping number (LMN) along the way.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--task", nargs="+", default=[D.task], metavar="TASK",
                   help=f"one or more of {', '.join(TASKS)}")
    p.add_argument("--backend", default=D.backend, help=f"one of {', '.join(BACKENDS)}")
    p.add_argument("--steps", type=int, default=D.steps, help="AdamW steps (full batch)")
    p.add_argument("--seed", type=int, nargs="+", default=[D.seed], help="one or more seeds (split and init)")
    p.add_argument("--train-frac", type=float, default=D.train_frac, help="fraction of pairs in the train set")
    p.add_argument("--lr", type=float, default=D.lr, help="AdamW learning rate")
    p.add_argument("--weight-decay", type=float, default=D.weight_decay, help="AdamW decoupled weight decay")
    p.add_argument("--eval-every", type=int, default=D.eval_every, help="steps between loss/accuracy/L2 rows")
    p.add_argument("--lmn-every", type=int, default=D.lmn_every, help="steps between LMN measurements")
    p.add_argument("--lmn-layers", nargs="+", default=list(D.lmn_layers), metavar="LAYER",
                   help=f"layers to measure LMN from (to the output): {', '.join(LMN_LAYERS)}")
    p.add_argument("--lmn-points", default=D.lmn_points, help=f"points L is built on: {', '.join(POINTS)}")
    p.add_argument("--lmn-output", default=D.lmn_output, help=f"output LMN is measured to: {', '.join(OUTPUTS)}")
    p.add_argument("--n-lambda", type=int, default=D.n_lambda, help="λ points per line (eq 1)")
    p.add_argument("--out", default=D.out, help="folder for the run folders")
    p.add_argument("--device", default=D.device, help=f"torch device: {', '.join(DEVICES)}")
    p.add_argument("--dtype", default=D.dtype,
                   help=f"training precision: {', '.join(DTYPES)} (auto: float64 on numpy, float32 on torch)")
    p.add_argument("--threads", type=int, default=1,
                   help="CPU threads for BLAS/OpenMP (and torch); 0: the libraries' own choice. The arrays "
                        "are small: one thread measured as fast alone and far faster on a shared machine")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def configs_from_args(args):
    return [
        RunConfig(task=task, backend=args.backend, steps=args.steps, seed=seed,
                  train_frac=args.train_frac, lr=args.lr, weight_decay=args.weight_decay,
                  eval_every=args.eval_every, lmn_every=args.lmn_every,
                  lmn_layers=tuple(args.lmn_layers), lmn_points=args.lmn_points,
                  lmn_output=args.lmn_output, n_lambda=args.n_lambda, out=args.out,
                  device=args.device, dtype=args.dtype).validated()
        for task in args.task for seed in args.seed
    ]


def save_outputs(config, history):
    """params.npz and figures/fig2.png beside the history."""
    from .plots import fig2

    buf = io.BytesIO()
    np.savez(buf, **history.final_params)
    write_atomic(config.run_dir / "params.npz", buf.getvalue())
    fig2(history.rows, config.run_dir / "figures" / "fig2.png",
         title=f"{config.task}, {config.backend}, seed {config.seed}")


def summary(config, history):
    rows = history.rows
    last = rows[-1]
    mem, gen = phase_steps(rows)
    lmn = ", ".join(f"LMN({k[4:]}) {last[k]:.2f}" for k in last if k.startswith("lmn_") and last[k] is not None)
    return (f"{config.run_dir}: train acc {last['train_acc']:.3f}, test acc {last['test_acc']:.3f}, "
            f"{lmn}; train acc 1.0 at step {mem}, test acc 1.0 at step {gen}; "
            f"{last['time_s']:.0f} s")


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.threads < 0:
            raise LMNInputError(f"threads={args.threads} must be at least 0")
        configs = configs_from_args(args)
        for config in configs:
            try:
                config.run_dir.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise LMNInputError(f"out={config.out!r}: cannot create {config.run_dir} ({e.strerror})") from None
    except LMNInputError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    with threadpool_limits(limits=args.threads or None):
        return run_all(configs, args)


def run_all(configs, args):
    if args.threads and args.backend == "torch":
        try:
            import torch
            torch.set_num_threads(args.threads)
        except ImportError:
            pass                      # train() reports the missing torch in one line
    progress = None
    if not args.no_progress:
        from tqdm.auto import tqdm
        progress = tqdm
    config = None
    try:
        for config in configs:
            history = train(config, progress=progress)
            save_outputs(config, history)
            print(summary(config, history), flush=True)
    except LMNInputError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except TrainingDiverged as e:
        print(f"error: training diverged: {e}; what was measured is in {config.run_dir}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"\ninterrupted; what was measured is in {config.run_dir}", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
