"""How fast is LMN? layer_lmn and module_lmn timed side by side in one run, on the CPU at hand.

(a) layer_lmn against the direct evaluation of eq (1)–(2): lmn.connectivity_matrix with the
    whole tail of the network (every one of the 21 points of every pair through it).
(b) layer_lmn against its own matmul bound: the matmuls no method of evaluating the lines can
    avoid (those after the tail's first nonlinearity, at the 19 interior points of every pair:
    pairs × 19 × Σ 2·d_in·d_out FLOP), at the rate a plain NumPy matmul of each shape reaches
    in this run ((19 × 512, d_in) @ (d_in, d_out), into a given output).
(c) module_lmn of the same tail written as a torch module, against the generic torch
    algorithm the package had before its shared engine (benchmarks/baseline_module_lmn.py).
(d) the peak memory of layer_lmn at N = 961 (every input of addition mod 31; --quick: N), in
    a fresh process: the tracemalloc peak of NumPy's arrays and the growth of the peak RSS.
LMN against N (time and memory, the fitted exponent): bench_scaling.py.

Only the package's public functions are called (layer_lmn, connectivity_matrix,
tail_function, representations, module_lmn), so the script measures whatever algorithm
they use.

Run from the repository root:  python benchmarks/bench_lmn.py [--quick] [--threads 1] [--avx2]
"""
import argparse
import subprocess
import sys
import time
from pathlib import Path

import common

# The paper's MLP: for each layer, the weight matrices after the tail's first nonlinearity.
# The matmuls before it (W1 from emb, W2 from h1) are affine in λ and can be folded into the
# points, so only these are the bound.
BOUND_MATMULS = {"emb": ("W2", "W3"), "z1": ("W2", "W3"), "h1": ("W3",), "z2": ("W3",)}
BOUND_ROWS = 19 * 512                                       # rows of the reference matmul


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="N = 200, one repeat (seconds)")
    ap.add_argument("--n", type=int, default=None, help="points (default 768, the train set; quick 200)")
    ap.add_argument("--layers", nargs="+", default=["h1", "emb"], help="layers to time (default h1 emb)")
    ap.add_argument("--repeats", type=int, default=None, help="timing repeats, best kept (default 3; quick 1)")
    ap.add_argument("--no-direct", action="store_true", help="skip (a)'s direct eq (1)-(2) (the slowest part)")
    ap.add_argument("--no-torch", action="store_true", help="skip (c)")
    common.add_common_args(ap)
    ap.add_argument("--memory-child", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    args.n = args.n or (200 if args.quick else 768)
    args.repeats = args.repeats or (1 if args.quick else 3)
    return args


def setup(n):
    """Params at initialisation on addition mod 31 (seed 0) and the first n training inputs
    (all 961 inputs when n > 768). LMN's cost depends on the shapes, not the weights' values."""
    import numpy as np
    import lmn_edu
    task = lmn_edu.make_task("add")
    rng = np.random.default_rng(0)
    train_idx, _ = lmn_edu.split(task, 0.8, rng)
    params = lmn_edu.init_params(rng, task.vocab_size, task.n_classes)
    idx = train_idx if n <= len(train_idx) else np.arange(len(task))
    return params, task.inputs[idx[:n]]


NOW = time.process_time                                     # set in main (common.clock)


def timed(fn):
    t0 = NOW()
    value = fn()
    return NOW() - t0, value


def interleaved(runs, repeats):
    """{name: (best seconds, value)} for a dict of thunks, run in turn ``repeats`` times, so
    that all see the same machine load."""
    best = {k: (float("inf"), None) for k in runs}
    for _ in range(repeats):
        for k, fn in runs.items():
            t, v = timed(fn)
            best[k] = (min(best[k][0], t), v)
    return best


# --- (a) --------------------------------------------------------------------------------

def direct_lmn(params, inputs, layer):
    """Eq (1)–(3) straight from the definition: all 21 points of each pair through the whole tail."""
    import lmn_edu
    reps = lmn_edu.representations(params, inputs)
    L = lmn_edu.connectivity_matrix(lmn_edu.tail_function(params, layer), reps[layer])
    return lmn_edu.linear_mapping_number(L)


def fast_runs(params, inputs, layer, direct):
    import lmn_edu
    runs = {p: (lambda p=p: lmn_edu.layer_lmn(params, inputs, layer, precision=p)) for p in ("float64", "float32")}
    if direct:
        runs["direct"] = lambda: direct_lmn(params, inputs, layer)
    return runs


# --- (b) --------------------------------------------------------------------------------

def matmul_seconds_per_flop(d_in, d_out, dtype, repeats=10):
    """1 / the rate of a plain (BOUND_ROWS, d_in) @ (d_in, d_out) matmul into a given output."""
    import numpy as np
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(BOUND_ROWS, d_in)).astype(dtype), rng.normal(size=(d_in, d_out)).astype(dtype)
    out = np.empty((BOUND_ROWS, d_out), dtype)
    t = min(timed(lambda: [np.matmul(a, b, out=out) for _ in range(5)])[0] for _ in range(repeats))
    return t / (5 * 2 * BOUND_ROWS * d_in * d_out)


def bound(params, n, layer, dtype, n_lambda=21):
    """(GFLOP, seconds, shapes) of the matmuls no method can avoid, at this run's matmul rate."""
    pairs, inner = n * (n - 1) // 2, n_lambda - 2
    flops, seconds, shapes = 0, 0.0, []
    for name in BOUND_MATMULS[layer]:
        d_in, d_out = params[name].shape
        f = pairs * inner * 2 * d_in * d_out
        flops += f
        seconds += f * matmul_seconds_per_flop(d_in, d_out, dtype)
        shapes.append(f"{d_in}x{d_out}")
    return flops / 1e9, seconds, " + ".join(shapes)


# --- (c) --------------------------------------------------------------------------------

def torch_tail(params, layer):
    """The tail of the MLP after ``layer`` as a torch nn.Sequential (float64), and its input's name."""
    import torch
    nn = torch.nn

    def linear(k):
        W, b = params["W" + k], params["b" + k]
        lin = nn.Linear(*W.shape).double()
        with torch.no_grad():
            lin.weight.copy_(torch.as_tensor(W.T))
            lin.bias.copy_(torch.as_tensor(b))
        return lin
    blocks = {"h1": [linear("2"), nn.SiLU(), linear("3")],
              "emb": [linear("1"), nn.SiLU(), linear("2"), nn.SiLU(), linear("3")]}[layer]
    return nn.Sequential(*blocks)


def module_runs(params, inputs, layer):
    import lmn_edu
    import baseline_module_lmn
    X = lmn_edu.representations(params, inputs)[layer]
    module = torch_tail(params, layer)
    return {"module_lmn": lambda: lmn_edu.module_lmn(module, X),
            "baseline": lambda: baseline_module_lmn.module_lmn(module, X)}


# --- (d) --------------------------------------------------------------------------------

def memory_child(layer, n):
    """Runs in a fresh process: peak memory at N = n of layer_connectivity (the pair loop) and
    of the whole layer_lmn (with eq (3)'s checks and eigenvalues). Prints three numbers."""
    import resource
    import tracemalloc
    import lmn_edu
    params, inputs = setup(n)
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


def bench_memory(layer, n, args):
    cmd = [sys.executable, str(Path(__file__).resolve()), "--memory-child", layer, "--n", str(n),
           "--threads", str(args.threads)]
    cmd += ["--avx2"] if args.avx2 else []
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.split()
    return [int(v) for v in out]


# --- report -----------------------------------------------------------------------------

def main(argv=None):
    global NOW
    args = parse_args(argv)
    common.prepare(args)
    NOW = common.clock(args.threads)
    if args.memory_child:
        memory_child(args.memory_child, args.n)
        return
    torch_ok = not args.no_torch
    if torch_ok:
        try:
            import torch
            if args.threads > 0:
                torch.set_num_threads(args.threads)
        except ImportError:
            torch_ok = False
    params, inputs = setup(args.n)
    n = len(inputs)
    print(common.machine_line(args.threads, NOW))
    print(f"addition mod 31, params at init (seed 0), N = {n} points, {n * (n - 1) // 2} pairs, 21 λ values,"
          f" best of {args.repeats}\n")

    fast = {layer: interleaved(fast_runs(params, inputs, layer, not args.no_direct), args.repeats)
            for layer in args.layers}
    if not args.no_direct:
        print("(a) layer_lmn against the direct eq (1)-(2) (lmn.connectivity_matrix on the tail), float64 direct")
        rows = []
        for layer, r in fast.items():
            t_d, v_d = r["direct"]
            for p in ("float64", "float32"):
                t, v = r[p]
                rows.append((layer, p, f"{t_d:.2f}", f"{t:.2f}", f"{t_d / t:.1f}x", f"{abs(v - v_d) / v_d:.1e}"))
        print(common.table(["layer", "layer_lmn precision", "direct s", "layer_lmn s", "speed-up",
                            "|Δ LMN| / LMN"], rows))

    print("\n(b) layer_lmn against its own matmul bound (goal: float64 within 2x): the unavoidable matmuls"
          f" at the rate of a plain ({BOUND_ROWS}, d_in) @ (d_in, d_out) NumPy matmul in this run")
    rows = []
    for layer, r in fast.items():
        for p in ("float64", "float32"):
            gflop, t_bound, shapes = bound(params, n, layer, p)
            rows.append((layer, p, shapes, f"{gflop:.1f}", f"{gflop / t_bound:.1f}", f"{t_bound:.2f}",
                         f"{r[p][0]:.2f}", f"{r[p][0] / t_bound:.1f}x"))
    print(common.table(["layer", "precision", "matmuls", "GFLOP", "matmul GFLOP/s", "bound s", "layer_lmn s",
                        "ratio"], rows))

    if torch_ok:
        print(f"\n(c) module_lmn of the same tail as a torch nn.Sequential (float64, CPU, torch threads "
              f"{torch.get_num_threads()}, torch {torch.backends.cpu.get_cpu_capability()}) against the generic"
              " algorithm it replaced (every point through the whole module)")
        rows = []
        for layer in args.layers:
            r = interleaved(module_runs(params, inputs, layer), args.repeats)
            (t_new, v_new), (t_old, v_old) = r["module_lmn"], r["baseline"]
            rows.append((layer, f"{t_old:.2f}", f"{t_new:.2f}", f"{t_old / t_new:.1f}x",
                         f"{fast[layer]['float64'][0]:.2f}", f"{abs(v_new - v_old) / v_old:.1e}"))
        print(common.table(["tail from", "baseline s", "module_lmn s", "speed-up", "layer_lmn float64 s",
                            "|Δ LMN| / LMN"], rows))

    m = n if args.quick else 961
    loop, whole, rss = bench_memory("h1", m, args)
    print(f"\n(d) peak memory of LMN from h1 at N = {m} ({m * (m - 1) // 2} pairs); L itself is"
          f" N² float64 = {m * m * 8 / 1e6:.1f} MB")
    print(common.table(["measure", "MB"],
                       [("tracemalloc peak, layer_connectivity (the pair loop, L included)", f"{loop / 1e6:.1f}"),
                        ("tracemalloc peak, layer_lmn (+ eq (3): checks of L, eigenvalues)", f"{whole / 1e6:.1f}"),
                        ("growth of the process's peak RSS over layer_lmn (getrusage)", f"{rss / 1e6:.1f}")]))


if __name__ == "__main__":
    main()
