"""How fast is layer_lmn? Issue 6's benchmarks (a), (b) and (d), measured side by side in one run.

(a) layer_lmn against the direct evaluation of eq (1)–(2): lmn.connectivity_matrix with the
    whole tail of the network (every one of the 21 points of every pair through it).
(b) layer_lmn against its arithmetic bound: the FLOPs of the fast path divided by the
    throughput of a plain NumPy matmul of the tail's main shape, timed here and now.
    A breakdown times each part of one chunk on its own, to show where the time goes.
(d) the peak memory of layer_lmn at N = 961 (every input of addition mod 31), in a fresh
    process: the tracemalloc peak of NumPy's arrays and the growth of the peak RSS.

Run from the repository root:  python benchmarks/bench_lmn.py [--quick] [--threads 1]
"""
import argparse
import subprocess
import sys
import time
from pathlib import Path

import common


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="N = 300, one repeat (about a minute)")
    ap.add_argument("--n", type=int, default=None, help="points for (a) and (b) (default 768, the train set)")
    ap.add_argument("--layers", nargs="+", default=["h1", "emb"], help="layers to time (default h1 emb)")
    ap.add_argument("--repeats", type=int, default=None, help="timing repeats, best kept (default 3; quick 1)")
    ap.add_argument("--threads", type=int, default=1,
                    help="BLAS threads (default 1: single-core numbers; 0 leaves the environment's setting)")
    ap.add_argument("--memory-child", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    args.n = args.n or (300 if args.quick else 768)
    args.repeats = args.repeats or (1 if args.quick else 3)
    return args


def setup(n):
    """Params at initialisation on addition mod 31 (seed 0) and the first n training inputs.

    LMN's cost does not depend on the values of the weights, only on the shapes.
    """
    import numpy as np
    import lmn_edu
    task = lmn_edu.make_task("add")
    rng = np.random.default_rng(0)
    train_idx, _ = lmn_edu.split(task, 0.8, rng)
    params = lmn_edu.init_params(rng, task.vocab_size, task.n_classes)
    idx = train_idx if n <= len(train_idx) else np.arange(len(task))
    return params, task.inputs[idx[:n]]


NOW = time.process_time                                     # set in main (common.clock)


def best_of(fn, repeats):
    return common.best_of(fn, repeats, NOW)


# --- (a) --------------------------------------------------------------------------------

def direct_lmn(params, inputs, layer):
    """Eq (1)–(3) straight from the definition: all 21 points of each pair through the whole tail."""
    import lmn_edu
    reps = lmn_edu.representations(params, inputs)
    L = lmn_edu.connectivity_matrix(lmn_edu.tail_function(params, layer), reps[layer])
    return lmn_edu.linear_mapping_number(L)


def bench_direct(params, inputs, layers, repeats):
    """Rows (layer, precision, direct s, layer_lmn s, speed-up, FLOP ratio, relative LMN difference)."""
    import lmn_edu
    rows = []
    for layer in layers:
        t = {"direct": float("inf"), "float64": float("inf"), "float32": float("inf")}
        v = {}
        for _ in range(repeats):                 # interleaved, so all see the same machine load
            for key in t:
                run = ((lambda: direct_lmn(params, inputs, layer)) if key == "direct" else
                       (lambda: lmn_edu.layer_lmn(params, inputs, layer, precision=key)))
                seconds, v[key] = best_of(run, 1)
                t[key] = min(t[key], seconds)
        for precision in ("float64", "float32"):
            rows.append((layer, precision, t["direct"], t[precision], t["direct"] / t[precision],
                         flop_ratio(params, layer), abs(v[precision] - v["direct"]) / v["direct"]))
    return rows


# --- (b) --------------------------------------------------------------------------------

def chunk_plan(params, inputs, layer, dtype="float64"):
    """What the fast path computes for one layer: V, its steps, the chunk size and shapes."""
    import numpy as np
    import lmn_edu
    from lmn_edu import mlp_lmn
    p64 = mlp_lmn._as_float64(params)
    prefix, rest = mlp_lmn._split_tail(p64, layer, "logits")
    V = np.asarray(prefix(lmn_edu.representations(p64, inputs)[layer]), dtype=dtype)
    steps = [mlp_lmn._step({k: v.astype(dtype) for k, v in p64.items()}, *stage) for stage in rest]
    m = len(lmn_edu.lambdas()) - 2
    d, d_out = V.shape[1], params["W3"].shape[1]
    per_pair = max(m, 2) * max(d, d_out)
    pairs_per_chunk = max(1, lmn_edu.chunking.CHUNK_FLOATS // per_pair)
    return p64, V, rest, steps, m, pairs_per_chunk


def line_flops(stages, params, n_pairs, points, d):
    """FLOPs of pushing ``points`` points of each pair's line through ``stages`` and taking r².

    Counted as 2·K per output of each matmul and 1 per element of each elementwise pass, per
    point: the line (4 per coordinate: a K = 2 matmul, or 2 multiplies and 2 adds), each stage
    (affine: 2·d_in·d_out + d_out; SiLU: 4 passes; softmax: 4), and the r² sums (8 passes over
    the output). Endpoint outputs computed once per point and the eigenvalues are left out.
    """
    from lmn_edu import mlp_lmn
    per_point, width = 4 * d, d
    for name, kind, fn in stages:
        if kind == "affine":
            W = params[mlp_lmn._AFFINE_PARAMS[name][0]]
            per_point += 2 * W.shape[0] * W.shape[1] + W.shape[1]
            width = W.shape[1]
        else:
            per_point += 4 * width
    per_point += 8 * width
    return n_pairs * points * per_point


def flop_ratio(params, layer, n_lambda=21):
    """FLOPs of the direct eq (1)-(2) over those of the fast path: the speed-up that two equally
    efficient implementations would show. Direct: all n_lambda points through the whole tail;
    fast: the n_lambda − 2 interior points through the tail after the affine prefix."""
    import numpy as np
    import lmn_edu
    from lmn_edu import mlp_lmn
    width = {k: v.shape[1] for k, v in lmn_edu.representations(params, np.zeros((1, 2), int)).items()}
    stages = mlp_lmn._tail_stages(params, layer, "logits")
    _, rest = mlp_lmn._split_tail(params, layer, "logits")
    start = stages[len(stages) - len(rest) - 1][0] if len(rest) < len(stages) else layer   # where lines are drawn
    direct = line_flops(stages, params, 1, n_lambda, width[layer])
    return direct / line_flops(rest, params, 1, n_lambda - 2, width[start])


def matmul_gflops(rows, k, n_out, dtype="float64", repeats=20):
    """Throughput of a plain NumPy matmul (rows, k) @ (k, n_out) into a given output, GFLOP/s."""
    import numpy as np
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(rows, k)).astype(dtype), rng.normal(size=(k, n_out)).astype(dtype)
    out = np.empty((rows, n_out), dtype)
    t, _ = best_of(lambda: [np.matmul(a, b, out=out) for _ in range(10)], repeats)
    return 2 * rows * k * n_out * 10 / t / 1e9


def main_shape(params, rest):
    """The tail's largest matmul: (d_in, d_out) of its affine stage with the most FLOPs."""
    from lmn_edu import mlp_lmn
    shapes = [params[mlp_lmn._AFFINE_PARAMS[name][0]].shape for name, kind, _ in rest if kind == "affine"]
    return max(shapes, key=lambda s: s[0] * s[1])


def bench_bound(params, inputs, layers, t_fast):
    """Rows (layer, precision, GFLOP, matmul shape, GFLOP/s, bound s, layer_lmn s, ratio)."""
    rows = []
    n = len(inputs)
    for layer in layers:
        for precision in ("float64", "float32"):
            p64, V, rest, steps, m, P = chunk_plan(params, inputs, layer)
            flops = line_flops(rest, p64, n * (n - 1) // 2, m, V.shape[1])
            k, n_out = main_shape(p64, rest)
            gflops = matmul_gflops(m * P, k, n_out, precision)
            bound = flops / (gflops * 1e9)
            t = t_fast[layer, precision]
            rows.append((layer, precision, flops / 1e9, f"({m * P}, {k}) @ ({k}, {n_out})", gflops, bound,
                         t, t / bound))
    return rows


def breakdown(params, inputs, layer, repeats=20):
    """Each part of one full chunk timed on its own, scaled to all pairs: seconds per part.

    A part that overwrites its input gets a fresh copy each time; the copy's time is subtracted.
    """
    import numpy as np
    import lmn_edu
    from lmn_edu import mlp_lmn
    p64, V, rest, steps, m, P = chunk_plan(params, inputs, layer)
    n, d = V.shape
    n_chunks = (n * (n - 1) // 2) / P
    lam = lmn_edu.lambdas()
    i, j = next(lmn_edu.chunking.pair_chunks(n, 1, max_floats=P))
    scratch = lmn_edu.chunking.Scratch()
    y_end = mlp_lmn._run(steps, V.copy(), lmn_edu.chunking.Scratch())
    mix = np.stack([np.ones(m), lam[1:-1]], axis=1)

    def timed(fn, x_in):
        buf = x_in.copy()
        t_all, _ = best_of(lambda: (np.copyto(buf, x_in), fn(buf)), repeats)
        t_copy, _ = best_of(lambda: np.copyto(buf, x_in), repeats)
        return max(t_all - t_copy, 0.0) * n_chunks

    def line(_):
        ends = scratch("ends", (2, P, d))
        np.take(V, i, axis=0, out=ends[0])
        np.take(V, j, axis=0, out=ends[1])
        ends[1] -= ends[0]
        return np.matmul(mix, ends.reshape(2, -1), out=scratch("line", (m, P * d)))

    out = {"line, eq (1)": timed(line, V[:1])}
    x = line(None).reshape(m * P, d).copy()
    for (name, kind, fn), step in zip(rest, steps):
        label = f"{name} ({'matmul + bias' if kind == 'affine' else fn.__name__})"
        out[label] = timed(lambda buf, step=step: step(buf, scratch), x)
        x = step(x.copy(), scratch).copy()
    y_in = x.reshape(m, P, -1)
    out["r² from sums"] = timed(lambda buf: mlp_lmn._line_r_squared(y_end[i], buf, y_end[j], lam), y_in)
    return out


# --- (d) --------------------------------------------------------------------------------

def memory_child(layer):
    """Runs in a fresh process: peak memory at N = 961 of the pair loop (layer_connectivity)
    and of the whole layer_lmn (with eq (3)'s checks and eigenvalues). Prints three numbers."""
    import resource
    import tracemalloc
    import lmn_edu
    params, inputs = setup(961)
    lmn_edu.layer_lmn(params, inputs[:20], layer)            # warm up imports and BLAS buffers
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    lmn_edu.layer_lmn(params, inputs, layer)
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    peaks = []
    for fn in (lmn_edu.layer_connectivity, lmn_edu.layer_lmn):
        tracemalloc.start()
        fn(params, inputs, layer)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    print(*peaks, (rss1 - rss0) * 1024)                    # ru_maxrss is in KiB on Linux


def bench_memory(layer, threads):
    cmd = [sys.executable, str(Path(__file__).resolve()), "--memory-child", layer, "--threads", str(threads)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.split()
    return [int(v) for v in out]


# --- report -----------------------------------------------------------------------------

def main(argv=None):
    global NOW
    args = parse_args(argv)
    common.set_threads(args.threads)
    NOW = common.clock(args.threads)
    if args.memory_child:
        memory_child(args.memory_child)
        return
    import lmn_edu
    print(common.machine_line(args.threads, NOW))
    print(f"addition mod 31, params at init (seed 0), N = {args.n} points, {args.n * (args.n - 1) // 2} pairs,"
          f" 21 λ values, CHUNK_FLOATS = {lmn_edu.chunking.CHUNK_FLOATS}, best of {args.repeats}\n")

    rows = bench_direct(*setup(args.n), args.layers, args.repeats)
    print("(a) layer_lmn against the direct eq (1)-(2) in float64 (goal: at least 5x faster)")
    print(common.table(["layer", "layer_lmn precision", "direct s", "layer_lmn s", "speed-up",
                        "FLOP ratio direct / fast", "|Δ LMN| / LMN"],
                       [(r[0], r[1], f"{r[2]:.2f}", f"{r[3]:.2f}", f"{r[4]:.1f}x", f"{r[5]:.1f}x", f"{r[6]:.1e}")
                        for r in rows]))
    t_fast = {(r[0], r[1]): r[3] for r in rows}

    rows = bench_bound(*setup(args.n), args.layers, t_fast)
    print("\n(b) layer_lmn against its arithmetic bound: FLOPs / throughput of a plain matmul (goal: within 2x)")
    print(common.table(["layer", "precision", "GFLOP", "matmul shape", "matmul GFLOP/s", "bound s", "layer_lmn s",
                 "ratio"],
                [(r[0], r[1], f"{r[2]:.1f}", r[3], f"{r[4]:.1f}", f"{r[5]:.2f}", f"{r[6]:.2f}", f"{r[7]:.1f}x")
                 for r in rows]))

    print("\n    where the time goes, float64 (each part of one chunk timed alone, scaled to all pairs; seconds)")
    parts = {layer: breakdown(*setup(args.n), layer) for layer in args.layers}
    for layer, b in parts.items():
        total = sum(b.values())
        print(f"    {layer}: " + "; ".join(f"{k} {v:.2f}" for k, v in b.items())
              + f"; sum {total:.2f} (whole run {t_fast[layer, 'float64']:.2f})")

    loop, whole, rss = bench_memory("h1", args.threads)
    n = 961
    print(f"\n(d) peak memory of LMN from h1 at N = {n} ({n * (n - 1) // 2} pairs); L itself is"
          f" N² float64 = {n * n * 8 / 1e6:.1f} MB")
    print(common.table(["measure", "MB"],
                [("tracemalloc peak, layer_connectivity (the pair loop, L included)", f"{loop / 1e6:.1f}"),
                 ("tracemalloc peak, layer_lmn (+ eq (3): checks of L, eigenvalues)", f"{whole / 1e6:.1f}"),
                 ("growth of the process's peak RSS over layer_lmn (getrusage)", f"{rss / 1e6:.1f}")]))

if __name__ == "__main__":
    main()
