"""The NumPy backend against the torch backend: the paper's protocol, timed in one run.

The protocol (issue 3): addition mod 31, full-batch AdamW, LMN of h1 (to the logits) on the
768 training pairs every 10 steps, 20 000 steps. A full run is hours on a CPU, so this script
measures the parts on each backend, side by side:

- one training step (``backend.step``), best of ``--repeats`` runs of ``--steps`` steps;
- one evaluation (``backend.evaluate``: losses, accuracies, L2 on all 961 pairs);
- one LMN of h1 on the 768 training pairs (``backend.lmn``);

and extrapolates: T(20 000) = 20 000 × step + 2 001 × (evaluate + LMN). To check the
extrapolation, it also runs the real training loop (``train.train``) for ``--loop-steps`` steps
with LMN every 10 and compares the measured time with the same formula.

Backends: numpy float64 (the baseline and default), torch on the CPU in float64 and float32,
and torch on CUDA when it is there. Ratios are to the NumPy backend, measured in this run.

Run from the repository root:  python benchmarks/bench_backends.py [--quick] [--threads 1]
"""
import argparse
import tempfile

import common

PROTOCOL_STEPS, LMN_EVERY = 20_000, 10


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="one repeat, short loop (a few minutes)")
    ap.add_argument("--steps", type=int, default=None, help="steps per step timing (default 100; quick 20)")
    ap.add_argument("--repeats", type=int, default=None, help="timings, best kept (default 3; quick 1)")
    ap.add_argument("--loop-steps", type=int, default=None,
                    help="steps of the real training loop, LMN every 10 (default 50; quick 20)")
    common.add_common_args(ap)
    args = ap.parse_args(argv)
    args.steps = args.steps or (20 if args.quick else 100)
    args.repeats = args.repeats or (1 if args.quick else 3)
    args.loop_steps = args.loop_steps or (20 if args.quick else 50)
    return args


def configs():
    """(label, backend, dtype, device) of every backend measured here."""
    import torch
    out = [("numpy float64", "numpy", "float64", "cpu"),
           ("torch cpu float64", "torch", "float64", "cpu"),
           ("torch cpu float32", "torch", "float32", "cpu")]
    if torch.cuda.is_available():
        out += [("torch cuda float64", "torch", "float64", "cuda"),
                ("torch cuda float32", "torch", "float32", "cuda")]
    return out


def make_backend(backend, dtype, device):
    from lmn_edu.adamw import AdamW
    from lmn_edu.backends import get_backend
    from lmn_edu.config import RunConfig
    from lmn_edu.train import lmn_points, setup_run
    task, train_idx, test_idx, params = setup_run(RunConfig(task="add", seed=0).validated())
    b = get_backend(backend, dtype, device)
    b.setup(params, task, train_idx, test_idx, AdamW(lr=1e-3, weight_decay=0.2))
    return b, lmn_points(task, train_idx, test_idx, "train")


def sync(device):
    # CUDA runs asynchronously: wait for the device before reading the clock.
    if device == "cuda":
        import torch
        torch.cuda.synchronize()


def measure(backend, dtype, device, args, now):
    """Seconds per step, per evaluation and per LMN of h1 on the training pairs; and the LMN."""
    b, points = make_backend(backend, dtype, device)
    b.step(), b.evaluate()                                    # warm up

    def steps():
        for _ in range(args.steps):
            b.step()
        sync(device)
    t_step, _ = common.best_of(steps, args.repeats, now)
    t_eval, _ = common.best_of(b.evaluate, args.repeats, now)
    t_lmn, value = common.best_of(lambda: b.lmn(points, ("h1",)), args.repeats, now)
    return t_step / args.steps, t_eval, t_lmn, value["h1"]


def loop_time(backend, dtype, device, loop_steps, now):
    """Time of the real training loop: loop_steps steps, evaluation and LMN every 10."""
    from lmn_edu.config import RunConfig
    from lmn_edu.train import train
    with tempfile.TemporaryDirectory() as out:
        config = RunConfig(task="add", backend=backend, dtype=dtype, device=device, steps=loop_steps,
                           eval_every=LMN_EVERY, lmn_every=LMN_EVERY, lmn_layers=("h1",),
                           lmn_points="train", out=out)
        t0 = now()
        train(config)
        return now() - t0


def protocol(t_step, t_eval, t_lmn, steps):
    n_evals = steps // LMN_EVERY + 1
    return steps * t_step + n_evals * (t_eval + t_lmn)


def main(argv=None):
    args = parse_args(argv)
    common.prepare(args)
    import torch
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    now = common.clock(args.threads)
    print(common.machine_line(args.threads, now, f", torch {torch.__version__}"))
    print(f"addition mod 31, LMN of h1 on the 768 training pairs every {LMN_EVERY} steps; "
          f"best of {args.repeats}; step timed over {args.steps} steps\n")
    rows = []
    for label, backend, dtype, device in configs():
        t_step, t_eval, t_lmn, value = measure(backend, dtype, device, args, now)
        loop = loop_time(backend, dtype, device, args.loop_steps, now)
        rows.append((label, t_step, t_eval, t_lmn, value, loop,
                     protocol(t_step, t_eval, t_lmn, args.loop_steps),
                     protocol(t_step, t_eval, t_lmn, PROTOCOL_STEPS)))
        print(f"  {label}: done", flush=True)
    base = rows[0]
    print(f"\nper part (ratio = NumPy time / this time: above 1 is faster than NumPy)")
    print(common.table(
        ["backend", "step ms", "ratio", "evaluate ms", "ratio", "LMN(h1) s", "ratio",
         f"LMN(h1) after {1 + args.repeats * args.steps} steps"],
        [(r[0], f"{r[1] * 1e3:.2f}", f"{base[1] / r[1]:.2f}x", f"{r[2] * 1e3:.2f}", f"{base[2] / r[2]:.2f}x",
          f"{r[3]:.2f}", f"{base[3] / r[3]:.2f}x", f"{r[4]:.6f}") for r in rows]))
    print(f"\nthe training loop, {args.loop_steps} steps with LMN every {LMN_EVERY} (measured against the "
          f"formula), and the {PROTOCOL_STEPS}-step protocol extrapolated from the parts")
    print(common.table(
        ["backend", f"loop {args.loop_steps} steps s", "formula s", f"protocol {PROTOCOL_STEPS} steps h",
         "ratio", "LMN share"],
        [(r[0], f"{r[5]:.1f}", f"{r[6]:.1f}", f"{r[7] / 3600:.2f}", f"{base[7] / r[7]:.2f}x",
          f"{(PROTOCOL_STEPS // LMN_EVERY + 1) * r[3] / r[7]:.0%}") for r in rows]))


if __name__ == "__main__":
    main()
