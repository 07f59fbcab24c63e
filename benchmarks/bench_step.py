"""One training step of the NumPy + autograd backend against the same step in torch.

All take one full-batch AdamW step (lr 1e-3, weight decay 0.2) of the paper's MLP on the
768 training pairs of addition mod 31, from the same initial weights, on the CPU, in float64
and in float32. The NumPy side is the package's own backend (autograd gradients through the
primitives of lmn_edu/primitives.py, our AdamW); "textbook" is the same step with autograd
differentiating the plain formulas (tanh-form sigmoid, log-sum-exp and indexing in
autograd.numpy: the package before primitives.py), kept here as the baseline; the torch side
is written here in plain torch (F.silu, F.cross_entropy, torch.optim.AdamW), so the benchmark
needs nothing but torch. The first losses must agree. Timings are interleaved.

Run from the repository root:  python benchmarks/bench_step.py [--quick] [--threads 1] [--avx2]
"""
import argparse

import common


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer steps and repeats (seconds)")
    ap.add_argument("--steps", type=int, default=None, help="steps per timing (default 200; quick 30)")
    ap.add_argument("--repeats", type=int, default=None, help="timings, best kept (default 5; quick 2)")
    common.add_common_args(ap)
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


def textbook_loss(params, inputs, labels):
    """The loss as the package wrote it before primitives.py: autograd differentiates each call."""
    import autograd.numpy as anp
    import numpy as np

    def sigmoid(x):
        return 0.5 * (anp.tanh(0.5 * x) + 1.0)               # its VJP evaluates cosh

    E = params["emb"]
    h = anp.concatenate([E[inputs[:, 0]], E[inputs[:, 1]]], axis=1)   # VJP: np.add.at
    for k in ("1", "2"):
        h = anp.dot(h, params["W" + k]) + params["b" + k]
        h = h * sigmoid(h)
    z = anp.dot(h, params["W3"]) + params["b3"]
    m = anp.max(z, axis=1, keepdims=True)
    lse = anp.squeeze(m + anp.log(anp.sum(anp.exp(z - m), axis=1, keepdims=True)), axis=1)
    return anp.mean(lse - z[np.arange(len(z)), labels])


def textbook_stepper(dtype):
    """The same step with autograd on textbook_loss and the package's AdamW."""
    import numpy as np
    from autograd import value_and_grad
    import lmn_edu
    task, train_idx, _, params = setup()
    state = {"p": {k: v.astype(dtype) for k, v in params.items()}}
    opt = lmn_edu.AdamW(lr=1e-3, weight_decay=0.2)
    state["s"] = opt.init(state["p"])
    x, y = task.inputs[train_idx], task.labels[train_idx]
    vg = value_and_grad(textbook_loss)

    def step():
        value, grads = vg(state["p"], x, y)
        state["p"], state["s"] = opt.step(state["p"], grads, state["s"])
        return float(np.asarray(value))
    return step


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


def main(argv=None):
    args = parse_args(argv)
    common.prepare(args)
    import torch
    now = common.clock(args.threads)
    print(common.machine_line(args.threads, now, f", torch {torch.__version__}"))
    print(f"one full-batch AdamW step, addition mod 31 (768 training pairs), best of {args.repeats}"
          f" x {args.steps} steps, interleaved\n")
    rows = []
    for dtype in ("float64", "float32"):
        (np_step, backend) = numpy_stepper(dtype)
        steppers = {"numpy": np_step, "textbook": textbook_stepper(dtype), "torch": torch_stepper(dtype, args.threads)}
        first = {k: f() for k, f in steppers.items()}            # also warms them up
        best = {k: float("inf") for k in steppers}
        for _ in range(args.repeats):
            for k, f in steppers.items():
                t, _ = common.best_of(lambda: [f() for _ in range(args.steps)], 1, now)
                best[k] = min(best[k], t / args.steps)
        held = sorted({str(v.dtype) for v in backend.params().values()})   # what the steps really ran in
        diff = max(abs(first["numpy"] - first[k]) for k in ("textbook", "torch"))
        rows.append((dtype, f"{best['numpy'] * 1e3:.2f}", f"{best['textbook'] * 1e3:.2f}", f"{best['torch'] * 1e3:.2f}",
                     f"{best['numpy'] / best['torch']:.2f}x", f"{best['textbook'] / best['torch']:.2f}x",
                     f"{diff:.1e}", ", ".join(held)))
    print("NumPy + autograd step against torch on the CPU (goal: float64 within 1.5x)")
    print(common.table(["dtype asked", "NumPy+autograd ms", "textbook autograd ms", "torch ms", "ratio",
                        "textbook ratio", "first loss |Δ|", "NumPy params after the steps"], rows))


if __name__ == "__main__":
    main()
