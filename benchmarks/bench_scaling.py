"""LMN's time and memory against N, the number of points: layer_lmn from h1, float64.

L has N² entries and each needs one line through the tail, so the pair loop's time grows as
N²; eq (3)'s eigenvalues of the N × N matrix L add an N³ term that is small at these sizes.
The memory is bounded chunks plus L itself (N² float64) and its eigenvalue workspace. Each N
runs in a fresh process: the CPU time of one layer_lmn, then the tracemalloc peak of a second.
The exponents are least-squares slopes of log(time) and log(memory) against log(N) over the
largest half of the N values.

The points are distinct token pairs of a network with V tokens (V = ⌈√N_max⌉, at least 55:
3025 pairs), otherwise the paper's MLP for addition (emb 32, hidden 100, 31 classes) at
initialisation, seed 0: LMN's cost depends on the shapes, not on the weights' values.

Run from the repository root:  python benchmarks/bench_scaling.py [--quick] [--threads 1] [--avx2]
"""
import argparse
import math
import subprocess
import sys
import time
from pathlib import Path

import common



def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="N = 50, 100, 200 (seconds)")
    ap.add_argument("--ns", type=int, nargs="+", default=None,
                    help="the N values (default 100 200 400 800 1600 3000)")
    ap.add_argument("--layer", default="h1", help="the layer (default h1)")
    ap.add_argument("--backend", choices=("numpy", "torch"), default="numpy",
                    help="numpy: layer_lmn; torch: the torch backend's LMN (with --device)")
    ap.add_argument("--device", default="cpu", help="torch device (with --backend torch)")
    common.add_common_args(ap)
    ap.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--vocab", type=int, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    args.ns = args.ns or ([50, 100, 200] if args.quick else [100, 200, 400, 800, 1600, 3000])
    args.vocab = args.vocab or max(55, math.ceil(math.sqrt(max(args.ns))))
    return args


def setup(n, vocab):
    import numpy as np
    import lmn_edu
    rng = np.random.default_rng(0)
    params = lmn_edu.init_params(rng, vocab, 31)
    pairs = np.stack(np.meshgrid(np.arange(vocab), np.arange(vocab), indexing="ij"), -1).reshape(-1, 2)
    return params, pairs[rng.permutation(len(pairs))[:n]]


def lmn_function(args):
    """The LMN call to time: layer_lmn, or the torch backend's LMN on args.device."""
    import lmn_edu
    if args.backend == "numpy":
        return lambda params, inputs: lmn_edu.layer_lmn(params, inputs, args.layer)
    from lmn_edu.backends import get_backend
    from lmn_edu.train import setup_run

    def run(params, inputs):
        backend = get_backend("torch", "float64", args.device)
        config = lmn_edu.RunConfig(task="add", backend="torch", device=args.device).validated()
        task, tr, te, _ = setup_run(config)
        backend.setup(params, task, tr, te, lmn_edu.AdamW())
        return backend.lmn(inputs, (args.layer,))[args.layer]
    return run


def child(args, n):
    """In a fresh process: CPU (or, on a GPU, wall) time of one LMN at N = n, then the
    tracemalloc peak of another (host memory), and the peak RSS growth. On a GPU: the peak RSS
    growth and the device's peak allocation of the one run. Prints four numbers."""
    import resource
    import tracemalloc
    params, inputs = setup(n, args.vocab)
    fn = lmn_function(args)
    fn(params, inputs[:20])                                  # imports, BLAS and device warm-up
    now = time.perf_counter if args.device != "cpu" else common.clock(args.threads)
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = now()
    value = fn(params, inputs)
    t = now() - t0
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    grown = (rss1 - rss0) * 1024                             # ru_maxrss is in KiB on Linux
    if args.device != "cpu":                                 # on a GPU: the device's peak, and no second run
        import torch
        print(t, grown, torch.cuda.max_memory_allocated(), value)
        return
    tracemalloc.start()
    fn(params, inputs)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(t, peak, grown, value)


def run_child(args, n):
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", str(n), "--layer", args.layer,
           "--backend", args.backend, "--device", args.device, "--threads", str(args.threads),
           "--vocab", str(args.vocab)]
    cmd += ["--avx2"] if args.avx2 else []
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.split()
    return float(out[0]), int(out[1]), int(out[2]), float(out[3])


def slope(ns, ys):
    """Least-squares slope of log y against log N over the largest half of the N values."""
    import numpy as np
    k = max(2, (len(ns) + 1) // 2)
    x, y = np.log(ns[-k:]), np.log(np.maximum(ys[-k:], 1e-12))
    return float(np.polyfit(x, y, 1)[0])


def main(argv=None):
    args = parse_args(argv)
    common.prepare(args)
    if args.child is not None:
        child(args, args.child)
        return
    now = common.clock(args.threads) if args.device == "cpu" else time.perf_counter
    print(common.machine_line(args.threads, now))
    what = "layer_lmn" if args.backend == "numpy" else f"the torch backend's LMN on {args.device}"
    print(f"{what} from {args.layer}, float64, params at init, {args.vocab}-token MLP; one fresh process per N\n")
    rows, ts, mems = [], [], []
    for n in sorted(args.ns):
        t, peak, rss, value = run_child(args, n)
        ts.append(t)
        mems.append(peak)
        pairs = n * (n - 1) // 2
        rows.append((n, pairs, f"{t:.2f}", f"{t / pairs * 1e6:.2f}", f"{peak / 1e6:.1f}", f"{n * n * 8 / 1e6:.1f}",
                     f"{rss / 1e6:.1f}", f"{value:.2f}"))
    host, third = ("tracemalloc peak MB", "peak RSS growth MB") if args.device == "cpu" else (
        "peak RSS growth MB", "device peak MB")
    print(common.table(["N", "pairs", "LMN s", "µs per pair", host, "L alone MB", third, "LMN"], rows))
    ns = sorted(args.ns)
    print(f"\nfitted exponents over N = {ns[-max(2, (len(ns) + 1) // 2):]}: time ∝ N^{slope(ns, ts):.2f}, "
          f"memory ({host[:-3]}) ∝ N^{slope(ns, mems):.2f}")


if __name__ == "__main__":
    main()
