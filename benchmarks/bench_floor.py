"""How close to its matmul bound can LMN get with NumPy? The cost of each NumPy pass of the h1 path.

bench_lmn.py (b) compares layer_lmn(h1) with its matmul bound: the matmul after the tail's first
SiLU (hidden 100 -> 31 outputs) at the 19 interior points of every pair. Every other step of the
pair loop is elementwise NumPy work on the same hidden values, one pass over memory per ufunc call.
This script times each of those passes on one tile of the engine's size (chunking.tile_shape),
per hidden value, against the matmul, in one run:

    the line        z = [1, λ] @ [x_i; x_j − x_i]          one K = 2 matmul (eq 1)
    the product     e^(−z) = e^(−(1−λ) z_i) · e^(−λ z_j)   from the per-point tables (no exp)
    + 1, divide     silu(z) = z / (1 + e^(−z))
    r² from sums    y − y0, [1; λ] @ y, Σ y² on the 31 outputs (eq 2)

and, for comparison, the direct exp the tables replace and a second composition of the SiLU
(d-major: z and 1 + e^(−z) as batched K = 2 outer products, then one divide). The floor printed at
the end is the bound plus the cheaper of the two SiLU compositions plus r², before Python's
per-tile cost: the best any evaluation built from these passes can do on this CPU. (A cheaper
composition may exist; these are the cheapest we found, with the d-major one at its best block
size.) When the floor is above 2x, the goal of bench_lmn (b) is out of reach of NumPy's
one-pass-per-operation model here, and a fused kernel would be needed. The engine's own ratio
(layer_lmn at N points, whole run) is measured in the same run for comparison.

Run from the repository root:  python benchmarks/bench_floor.py [--avx2] [--n 400] [--repeats 5]
"""
import argparse

import common

D, K, M = 100, 31, 19                                        # hidden width, outputs, interior λ points


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=common.at_least(2), default=400,
                    help="points for the engine's layer_lmn(h1), at least 2 (default 400)")
    ap.add_argument("--repeats", type=common.at_least(1), default=5, help="timing repeats, best kept (default 5)")
    common.add_common_args(ap)
    return ap.parse_args(argv)


def per_value(fn, values, repeats, now, inner=20):
    """Best seconds per hidden value of ``inner`` calls of fn, over ``repeats``."""
    t, _ = common.best_of(lambda: [fn() for _ in range(inner)], repeats, now)
    return t / (inner * values)


def passes(repeats, now):
    """{pass: ns per hidden value} on one tile of the engine's size."""
    import numpy as np
    from lmn_edu.chunking import tile_shape
    rng = np.random.default_rng(0)
    R, C = tile_shape(M * D)                                 # the engine's tile for this width
    lam = np.linspace(0, 1, M + 2)[1:-1]
    x_i, x_j = rng.normal(size=(R, 1, D)), rng.normal(size=(1, C, D))
    ends = np.stack(np.broadcast_arrays(x_i, x_j - x_i))     # (2, R, C, D)
    mix = np.stack([np.ones(M), lam], axis=1)                # (M, 2)
    e_i = np.exp(-(1 - lam)[:, None, None, None] * np.broadcast_to(x_i, (R, C, D)))   # (M, R, C, D), rows repeated
    e_j = np.exp(-lam[:, None, None, None] * x_j)            # (M, 1, C, D)
    z, E = np.empty((M, R, C, D)), np.empty((M, R, C, D))
    W3 = rng.normal(size=(D, K)) / 10
    y = np.empty((M * R * C, K))
    np.matmul(mix, ends.reshape(2, -1), out=z.reshape(M, -1))
    np.multiply(e_i, e_j, out=E)
    E += 1.0
    # d-major: for each (λ, unit) a block's z and 1 + e^(−z) are (RD × 2) @ (2 × CD) outer products,
    # one λ at a time, on 32 × 32 pairs (its best shape here: the batched matmuls need big blocks)
    RD = CD = 32
    a, b = rng.normal(size=(D, RD)), rng.normal(size=(D, CD))
    A = np.stack([a, np.ones((D, RD))], axis=-1)            # (D, RD, 2): [(1 − λ) z_i, 1]
    B = np.stack([np.ones((D, CD)), b], axis=-2)             # (D, 2, CD): [1; λ z_j]
    P = np.stack([np.ones((D, RD)), np.exp(-a)], axis=-1)   # [1, e^(−(1 − λ) z_i)]
    Q = np.stack([np.ones((D, CD)), np.exp(-b)], axis=-2)    # [1; e^(−λ z_j)]
    zd, Ed = np.empty((D, RD, CD)), np.empty((D, RD, CD))
    dmajor_scale = (M * R * C) / (RD * CD)                   # calls per tile's worth of values
    y0, s12 = rng.normal(size=(R, 1, K)), np.empty((2, R * C * K))
    mix2 = np.ascontiguousarray(mix.T)                       # (2, M)
    values = M * R * C * D
    y4 = y.reshape(M, R, C, K)
    runs = {
        "W3 matmul (the bound's work)": lambda: np.matmul(z.reshape(-1, D), W3, out=y),
        "line: [1, λ] @ ends (K = 2 matmul)": lambda: np.matmul(mix, ends.reshape(2, -1), out=z.reshape(M, -1)),
        "product of the tables e_i · e_j": lambda: np.multiply(e_i, e_j, out=E),
        "+ 1 (in place)": lambda: np.add(E, 1.0, out=E),
        "divide z / E (in place)": lambda: np.divide(z, E, out=z),
        "r²: y − y0": lambda: np.subtract(y4, y0, out=y4),
        "r²: [1; λ] @ y": lambda: np.matmul(mix2, y.reshape(M, -1), out=s12),
        "r²: Σ y²": lambda: np.einsum("ij,ij->j", y.reshape(M, -1), y.reshape(M, -1)),
        "direct exp (what the tables replace)": lambda: np.exp(z, out=E),
    }
    dmajor = {
        "d-major: z and 1 + e^(−z) as K = 2 outer products": lambda: (np.matmul(A, B, out=zd), np.matmul(P, Q, out=Ed)),
        "d-major: divide": lambda: np.divide(zd, Ed, out=zd),
    }
    out = {}
    for name, fn in dmajor.items():
        np.matmul(P, Q, out=Ed)
        out[name] = per_value(fn, D * RD * CD, repeats, now, inner=int(20 * dmajor_scale)) * 1e9
    for name, fn in runs.items():
        if name.startswith("divide"):
            z[...] = 1.5                                     # no denormals from repeated division
        out[name] = per_value(fn, values, repeats, now) * 1e9
        if name.startswith("direct exp"):
            np.multiply(e_i, e_j, out=E)
            E += 1.0
    return (R, C), out


def engine_ratio(n, repeats, now, ns_w3):
    """(seconds, ratio) of layer_lmn(h1) at n points against the bound at this run's W3 rate."""
    import numpy as np
    import lmn_edu
    task = lmn_edu.make_task("add")
    rng = np.random.default_rng(0)
    train_idx, _ = lmn_edu.split(task, 0.8, rng)
    params = lmn_edu.init_params(rng, task.vocab_size, task.n_classes)
    inputs = task.inputs[train_idx[:n]] if n <= len(train_idx) else task.inputs[:n]
    t, _ = common.best_of(lambda: lmn_edu.layer_lmn(params, inputs, "h1"), max(1, repeats // 2), now)
    bound = len(inputs) * (len(inputs) - 1) // 2 * M * D * ns_w3 * 1e-9
    return t, t / bound


def main(argv=None):
    args = parse_args(argv)
    common.prepare(args)
    now = common.clock(args.threads)
    print(common.machine_line(args.threads, now))
    (R, C), ns = passes(args.repeats, now)
    w3 = ns["W3 matmul (the bound's work)"]
    print(f"\nOne tile of the engine's size: {M} interior λ × {R} rows × {C} columns × {D} hidden units, float64;"
          f" best of {args.repeats}; ns per hidden value, and as a share of the W3 matmul's")
    print(common.table(["pass", "ns / value", "× W3"], [(k, f"{v:.2f}", f"{v / w3:.2f}") for k, v in ns.items()]))
    tiles = ns["line: [1, λ] @ ends (K = 2 matmul)"] + ns["product of the tables e_i · e_j"] \
        + ns["+ 1 (in place)"] + ns["divide z / E (in place)"]
    dmajor = ns["d-major: z and 1 + e^(−z) as K = 2 outer products"] + ns["d-major: divide"]
    r2 = ns["r²: y − y0"] + ns["r²: [1; λ] @ y"] + ns["r²: Σ y²"]
    floor = (w3 + min(tiles, dmajor) + r2) / w3
    t, ratio = engine_ratio(args.n, args.repeats, now, w3)
    print(common.table(
        ["composition", "ns / value", "ratio to the bound"],
        [("SiLU from the tables, as the engine does it (line, product, + 1, divide)", f"{tiles:.2f}", ""),
         ("SiLU d-major (two outer-product matmuls, divide)", f"{dmajor:.2f}", ""),
         ("r² from sums", f"{r2:.2f}", ""),
         ("**floor**: W3 + the cheaper SiLU + r², no Python cost", f"{w3 + min(tiles, dmajor) + r2:.2f}", f"**{floor:.2f}x**"),
         (f"the engine: layer_lmn(h1), N = {args.n}, whole run ({t:.2f} s)", "", f"{ratio:.2f}x")]))
    verdict = "above" if floor > 2 else "below"
    print(f"\nThe floor is {verdict} the goal of 2x on this CPU.")


if __name__ == "__main__":
    main()
