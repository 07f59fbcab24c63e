"""Issue 6 (c): one training step of the NumPy + autograd backend against the same step in torch.

Both take one full-batch AdamW step (lr 1e-3, weight decay 0.2) of the paper's MLP on the
768 training pairs of addition mod 31, from the same initial weights, on the CPU, in float64
and in float32. The NumPy side is the package's own backend (autograd gradients, our AdamW);
the torch side is written here in plain torch (F.silu, F.cross_entropy, torch.optim.AdamW),
so the benchmark needs nothing but torch. The first losses of both must agree.

Run from the repository root:  python benchmarks/bench_step.py [--quick] [--threads 1]
"""
import argparse

import common


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


def setup():
    import numpy as np
    import lmn_edu
    task = lmn_edu.make_task("add")
    rng = np.random.default_rng(0)
    train_idx, test_idx = lmn_edu.split(task, 0.8, rng)
    params = lmn_edu.init_params(rng, task.vocab_size, task.n_classes)
    return task, train_idx, test_idx, params


def numpy_stepper(dtype):
    """(step, backend): the package's NumPy backend, one AdamW step per call."""
    import lmn_edu
    from lmn_edu.backends.numpy_backend import NumpyBackend
    task, train_idx, test_idx, params = setup()
    backend = NumpyBackend(dtype=dtype)
    backend.setup(params, task, train_idx, test_idx, lmn_edu.AdamW(lr=1e-3, weight_decay=0.2))
    return backend.step, backend


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
    """Seconds per step: the best of ``repeats`` runs of ``n_steps`` steps."""
    t, _ = common.best_of(lambda: [step() for _ in range(n_steps)], repeats, now)
    return t / n_steps


def main(argv=None):
    args = parse_args(argv)
    common.set_threads(args.threads)
    import torch
    now = common.clock(args.threads)
    print(common.machine_line(args.threads, now, f", torch {torch.__version__}"))
    print(f"one full-batch AdamW step, addition mod 31 (768 training pairs), best of {args.repeats}"
          f" x {args.steps} steps\n")
    rows = []
    for dtype in ("float64", "float32"):
        (np_step, backend), torch_step = numpy_stepper(dtype), torch_stepper(dtype, args.threads)
        first_np, first_torch = np_step(), torch_step()          # also warms both up
        t_np = time_steps(np_step, args.steps, args.repeats, now)
        t_torch = time_steps(torch_step, args.steps, args.repeats, now)
        held = sorted({str(v.dtype) for v in backend.params().values()})   # what the steps really ran in
        rows.append((dtype, t_np * 1e3, t_torch * 1e3, t_np / t_torch, abs(first_np - first_torch), held))
    print("(c) NumPy + autograd step against torch on the CPU (goal: within 2x)")
    print(common.table(["dtype asked", "NumPy+autograd ms", "torch ms", "ratio", "first loss |Δ|",
                        "NumPy params after the steps"],
                       [(r[0], f"{r[1]:.2f}", f"{r[2]:.2f}", f"{r[3]:.2f}x", f"{r[4]:.1e}", ", ".join(r[5]))
                        for r in rows]))


if __name__ == "__main__":
    main()
