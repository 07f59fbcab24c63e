"""Issue 6 (c): one training step of the NumPy + autograd backend against the same step in torch.

Both take one full-batch AdamW step (lr 1e-3, weight decay 0.2) of the paper's MLP on the
768 training pairs of addition mod 31, from the same initial weights, on the CPU, in float64
and in float32. The NumPy side is the package's own backend (autograd gradients, our AdamW);
the torch side is written here in plain torch (F.silu, F.cross_entropy, torch.optim.AdamW),
so the benchmark needs nothing but torch. The first losses of both must agree.

Run from the repository root:  python benchmarks/bench_step.py [--quick] [--threads 1]
"""
import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer steps and repeats (seconds)")
    ap.add_argument("--steps", type=int, default=None, help="steps per timing (default 200; quick 30)")
    ap.add_argument("--repeats", type=int, default=None, help="timings, best kept (default 5; quick 2)")
    ap.add_argument("--threads", type=int, default=1,
                    help="BLAS and torch threads (default 1: single-core numbers; 0 leaves the defaults)")
    args = ap.parse_args(argv)
    args.steps = args.steps or (30 if args.quick else 200)
    args.repeats = args.repeats or (2 if args.quick else 5)
    return args


def set_threads(threads):
    """BLAS reads these when NumPy is imported, so this must run first."""
    if threads > 0:
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = str(threads)


def clock(threads):
    """Process CPU time when single-threaded: on a shared machine it leaves out the time other
    processes hold the core. With several threads it would add them up, so wall time then."""
    return time.process_time if threads == 1 else time.perf_counter


def setup():
    import numpy as np
    import lmn_edu
    task = lmn_edu.make_task("add")
    rng = np.random.default_rng(0)
    train_idx, test_idx = lmn_edu.split(task, 0.8, rng)
    params = lmn_edu.init_params(rng, task.vocab_size, task.n_classes)
    return task, train_idx, test_idx, params


def numpy_stepper(dtype):
    """(step, first loss): the package's NumPy backend, one AdamW step per call."""
    import lmn_edu
    from lmn_edu.backends.numpy_backend import NumpyBackend
    task, train_idx, test_idx, params = setup()
    backend = NumpyBackend(dtype=dtype)
    backend.setup(params, task, train_idx, test_idx, lmn_edu.AdamW(lr=1e-3, weight_decay=0.2))
    return backend.step


def torch_stepper(dtype, threads):
    """The same step in plain torch: same weights (W is (in, out): x @ W + b), same data."""
    import torch
    import torch.nn.functional as F
    if threads > 0:
        torch.set_num_threads(threads)
    task, train_idx, _, params = setup()
    tdtype = {"float32": torch.float32, "float64": torch.float64}[dtype]
    p = {k: torch.tensor(v, dtype=tdtype, requires_grad=True) for k, v in params.items()}
    x = torch.as_tensor(task.inputs[train_idx])
    y = torch.as_tensor(task.labels[train_idx])
    opt = torch.optim.AdamW(p.values(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.2)

    def step():
        opt.zero_grad()
        h = torch.cat([p["emb"][x[:, 0]], p["emb"][x[:, 1]]], dim=1)             # (N, 64)
        h = F.silu(h @ p["W1"] + p["b1"])
        h = F.silu(h @ p["W2"] + p["b2"])
        loss = F.cross_entropy(h @ p["W3"] + p["b3"], y)
        loss.backward()
        opt.step()
        return float(loss.detach())
    return step


def time_steps(step, n_steps, repeats, now):
    best = float("inf")
    for _ in range(repeats):
        t0 = now()
        for _ in range(n_steps):
            step()
        best = min(best, (now() - t0) / n_steps)
    return best


def main(argv=None):
    args = parse_args(argv)
    set_threads(args.threads)
    sys.path.insert(0, str(ROOT))
    import platform
    import numpy as np
    import torch
    now = clock(args.threads)
    threads = args.threads if args.threads > 0 else "default"
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs; NumPy {np.__version__},"
          f" torch {torch.__version__}; threads: {threads};"
          f" clock: {'process CPU time' if now is time.process_time else 'wall'}")
    print(f"one full-batch AdamW step, addition mod 31 (768 training pairs), best of {args.repeats}"
          f" x {args.steps} steps\n")
    rows = []
    for dtype in ("float64", "float32"):
        np_step, torch_step = numpy_stepper(dtype), torch_stepper(dtype, args.threads)
        first_np, first_torch = np_step(), torch_step()          # also warms both up
        t_np = time_steps(np_step, args.steps, args.repeats, now)
        t_torch = time_steps(torch_step, args.steps, args.repeats, now)
        rows.append((dtype, t_np * 1e3, t_torch * 1e3, t_np / t_torch, abs(first_np - first_torch)))
    print("(c) NumPy + autograd step against torch on the CPU (goal: within 2x)")
    print("| dtype | NumPy+autograd ms | torch ms | ratio | first loss |Δ| |")
    print("|---|---|---|---|---|")
    for r in rows:
        print(f"| {r[0]} | {r[1]:.2f} | {r[2]:.2f} | {r[3]:.2f}x | {r[4]:.1e} |")


if __name__ == "__main__":
    main()
