"""One check per exercise: the student's function against the package, on small random cases.

Read by ``python -m lmn_edu.course check NN``. Each check is declared with
``lmn_edu.grading.exercise`` (its lesson, difficulty, minutes, hints and the package functions an
answer may not call): ``check_<name>(fn, rng)`` checks the function <name> of exercises/NN_*.py
and raises AssertionError with what went wrong. The student's function runs in another process:
a callable passed to it must be a module-level function of this file or of lmn_edu, or a
functools.partial of one (see lmn_edu.grading). Never import the solutions here.
"""
from functools import partial

import numpy as np

import lmn_edu
from lmn_edu import analysis
from lmn_edu.grading import close, exercise


def random_rows(rng, n=40):
    """A synthetic history: accuracies that rise to 1 at random steps (or never), LMN every 3rd row."""
    mem, gen = rng.integers(3, n // 2), rng.integers(n // 2, n + 8)      # gen ≥ n: never generalizes
    rows = []
    for i in range(n):
        rows.append({"step": 10 * i, "train_acc": 1.0 if i >= mem else rng.uniform(0, 0.99),
                     "test_acc": 1.0 if i >= gen else rng.uniform(0, 0.99),
                     "lmn_h1": float(rng.uniform(1, 50)) if i % 3 == 0 else None})
    return rows


# --- 01 ------------------------------------------------------------------------------------

@exercise("01", stars=1, minutes=10,
          forbid=(),
          hints=("T = np.full((V, V), -1); T[inputs[:, 0], inputs[:, 1]] = labels",))
def check_operation_table(fn, rng):
    for name in lmn_edu.TASKS:
        task = lmn_edu.make_task(name)
        perm = rng.permutation(len(task))                 # the rows in any order
        T = fn(task.inputs[perm], task.labels[perm], task.vocab_size)
        want = np.zeros((task.vocab_size,) * 2, dtype=int)
        want[task.inputs[:, 0], task.inputs[:, 1]] = task.labels
        assert np.array_equal(np.asarray(T), want), f"{name}: the table differs from the task's labels"


@exercise("01", stars=1, minutes=10,
          forbid=(),
          hints=("a pair (a, b) commutes when T[a, b] == T[b, a]; count ordered pairs, the diagonal included",))
def check_commuting_pairs(fn, rng):
    for _ in range(5):
        n = int(rng.integers(3, 9))
        T = rng.integers(0, n, size=(n, n))
        want = int(np.sum(T == T.T))
        assert fn(T) == want, f"random {n}×{n} table: got {fn(T)}, expected {want}"
    s4 = lmn_edu.make_task("s4")
    T = np.zeros((24, 24), int)
    T[s4.inputs[:, 0], s4.inputs[:, 1]] = s4.labels
    assert fn(T) == 120, "S4 has 120 commuting ordered pairs"


def _sin_quadratic(A, t):
    return float(np.sin(t) @ A @ t)


def _tanh_layer(W, x):
    return np.tanh(x @ W)


# --- 02 ------------------------------------------------------------------------------------

@exercise("02", stars=2, minutes=20,
          forbid=('lmn_edu.mlp.forward', 'lmn_edu.mlp.representations'),
          hints=("emb rows of both tokens concatenated, then W1/b1, SiLU x·sigmoid(x), W2/b2, SiLU, W3/b3",))
def check_forward(fn, rng):
    for emb_dim, hidden in ((4, 6), (8, 5)):
        params = lmn_edu.init_params(rng, 7, 5, emb_dim=emb_dim, hidden=hidden)
        x = rng.integers(0, 7, size=(11, 2))
        close(fn(params, x), lmn_edu.forward(params, x), "logits")


@exercise("02", stars=2, minutes=15,
          forbid=('autograd.grad',),
          hints=("for each entry k: (f(θ + h e_k) − f(θ − h e_k)) / 2h; do not change θ in place",))
def check_central_difference(fn, rng):
    A = rng.normal(size=(4, 4))
    theta = rng.normal(size=4)
    f = partial(_sin_quadratic, A)                        # grad: cos(t)·(A t) + Aᵀ sin(t)
    want = np.cos(theta) * (A @ theta) + A.T @ np.sin(theta)
    before = theta.copy()
    close(fn(f, theta, 1e-5), want, "gradient", rtol=1e-6, atol=1e-8)
    assert np.array_equal(theta, before), "θ was changed"


# --- 03 ------------------------------------------------------------------------------------

@exercise("03", stars=3, minutes=25,
          forbid=('lmn_edu.adamw.AdamW.step',),
          hints=("decay θ by (1 − ηλ) first; m, v moments; m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ); θ −= η m̂/(√v̂ + ε)",))
def check_adamw_step(fn, rng):
    opt = lmn_edu.AdamW(lr=0.01, betas=(0.8, 0.99), eps=1e-8, weight_decay=0.3)
    theta = rng.normal(size=(3, 2))
    ours, state = {"w": theta}, opt.init({"w": theta})
    m, v = np.zeros_like(theta), np.zeros_like(theta)
    for t in range(1, 6):
        g = rng.normal(size=theta.shape)
        theta, m, v = fn(theta, g, m, v, t, lr=0.01, betas=(0.8, 0.99), eps=1e-8, weight_decay=0.3)
        ours, state = opt.step(ours, {"w": g}, state)
        close(theta, ours["w"], f"θ after step {t}")


@exercise("03", stars=1, minutes=10,
          forbid=('lmn_edu.adamw.AdamW.step',),
          hints=("with a zero gradient only the decay acts: θ₀ (1 − ηλ)ᵗ",))
def check_decay_after(fn, rng):
    theta0 = rng.normal(size=5)
    opt = lmn_edu.AdamW(lr=1e-3, weight_decay=0.2)
    theta, state = {"w": theta0}, opt.init({"w": theta0})
    for t in range(1, 31):
        theta, state = opt.step(theta, {"w": np.zeros(5)}, state)
    close(fn(theta0, 1e-3, 0.2, 30), theta["w"], "θ after 30 zero-gradient steps")


# --- 04 ------------------------------------------------------------------------------------

@exercise("04", stars=2, minutes=15,
          forbid=('lmn_edu.lmn.r_squared', 'lmn_edu.analysis.pearson'),
          hints=("r² = cov(y, λ)² / (var y · var λ); a constant curve (std ≤ 1e-12·max|y|) counts as 1",))
def check_r_squared_line(fn, rng):
    lam = lmn_edu.lambdas(21)
    curves = [rng.normal(size=21), 3 * lam - 1, np.exp(rng.normal() * lam), np.full(21, 2.5),
              np.abs(lam - rng.uniform()), np.maximum(lam - 0.3, 0)]
    for y in curves:
        close(fn(y, lam), lmn_edu.r_squared(y[None, :, None], lam)[0, 0], "r²", rtol=1e-9, atol=1e-9)


@exercise("04", stars=2, minutes=20,
          forbid=('lmn_edu.lmn.connectivity_matrix', 'lmn_edu.lmn.lmn_of', 'lmn_edu.lmn.r_squared'),
          hints=("points x_i + λ(x_j − x_i) for the 21 λ, f on all of them, r² per output column, mean",))
def check_connectivity_pair(fn, rng):
    W = rng.normal(size=(3, 4))
    f = partial(_tanh_layer, W)                           # (M, 3) -> (M, 4)
    for _ in range(4):
        xi, xj = rng.normal(size=3), rng.normal(size=3)
        want = lmn_edu.connectivity_matrix(f, np.stack([xi, xj]))[0, 1]
        close(fn(f, xi, xj), want, "L_ij", rtol=1e-9, atol=1e-9)


# --- 05 ------------------------------------------------------------------------------------

def _random_L(rng, n=12):
    W = rng.normal(size=(2, 3))
    return lmn_edu.connectivity_matrix(lambda x: np.tanh(3 * x @ W), rng.normal(size=(n, 2)))


@exercise("05", stars=2, minutes=15,
          forbid=('lmn_edu.lmn.nonlinear_entropy', 'lmn_edu.lmn.spectrum', 'lmn_edu.lmn.linear_mapping_number'),
          hints=("p = |μ| / Σ|μ|; S = −Σ p log₂ p over the p > 0 (0 · log 0 = 0)",))
def check_entropy_from_eigenvalues(fn, rng):
    blocks = np.kron(np.eye(3), np.ones((4, 4)))          # 3 blocks: nine zero eigenvalues
    for L in (_random_L(rng), _random_L(rng, 7), blocks):
        mu, _ = lmn_edu.spectrum(L)
        close(fn(mu), lmn_edu.nonlinear_entropy(L), "S_NL (bits)", rtol=1e-9, atol=1e-12)


@exercise("05", stars=1, minutes=10,
          forbid=('lmn_edu.lmn.linear_mapping_number', 'lmn_edu.lmn.nonlinear_entropy', 'lmn_edu.lmn.lmn_of'),
          hints=("eigenvalues of the symmetric L (np.linalg.eigvalsh), then 2 ** entropy",))
def check_lmn(fn, rng):
    for L in (_random_L(rng), np.eye(5), np.ones((6, 6))):
        close(fn(L), lmn_edu.linear_mapping_number(L), "LMN", rtol=1e-9)


# --- 06 ------------------------------------------------------------------------------------

@exercise("06", stars=2, minutes=15,
          forbid=('lmn_edu.lmn.linear_mapping_number', 'lmn_edu.lmn.nonlinear_entropy'),
          hints=("fractions q of the points in each region (np.bincount); 2 ** (−Σ q log₂ q)",))
def check_ideal_soft_count(fn, rng):
    for _ in range(4):
        region = rng.integers(0, int(rng.integers(1, 7)), size=int(rng.integers(5, 40)))
        same = (region[:, None] == region[None, :]).astype(float)
        close(fn(region), lmn_edu.linear_mapping_number(same), "ideal soft count", rtol=1e-9)


@exercise("06", stars=2, minutes=15,
          forbid=(),
          hints=("unit k switches at x = −b_k / w_k (when w_k ≠ 0); keep those strictly inside (lo, hi), sorted",))
def check_relu_kinks(fn, rng):
    for _ in range(5):
        w, b = rng.normal(size=6), rng.normal(size=6)
        w[0] = 0.0                                        # a unit that never switches
        x = np.linspace(-2, 2, 400_001)
        on = (x[:, None] * w + b) > 0
        changes = x[1:][np.any(on[1:] != on[:-1], axis=1)]   # where the pattern changes on a fine grid
        got = np.sort(np.asarray(fn(w, b, -2.0, 2.0), dtype=float))
        assert len(got) == len(changes), f"{len(got)} kinks, expected {len(changes)}"
        close(got, changes, "kink positions", rtol=0, atol=2e-5)


# --- 07 ------------------------------------------------------------------------------------

@exercise("07", stars=1, minutes=10,
          forbid=('lmn_edu.analysis.phase_steps', 'lmn_edu.analysis.first_step'),
          hints=("first step with train_acc ≥ 1, first with test_acc ≥ 1; None when never",))
def check_phase_boundaries(fn, rng):
    for _ in range(10):
        rows = random_rows(rng)
        got, want = tuple(fn(rows)), analysis.phase_steps(rows)
        assert got == want, f"got {got}, expected {want} (memorized, generalized)"


@exercise("07", stars=2, minutes=15,
          forbid=('lmn_edu.analysis.phase_window',),
          hints=("rows from memorization to generalization (or the run's end), ends included, with the column measured",))
def check_generalizing_window(fn, rng):
    for _ in range(10):
        rows = random_rows(rng)
        got = [r["step"] for r in fn(rows, "lmn_h1")]
        want = [r["step"] for r in analysis.phase_window(rows, "lmn_h1")]
        assert got == want, f"steps {got}, expected {want}"


# --- 08 ------------------------------------------------------------------------------------

@exercise("08", stars=1, minutes=10,
          forbid=('lmn_edu.analysis.pearson', 'lmn_edu.analysis.poly_r2', 'lmn_edu.lmn.r_squared'),
          hints=("R² of a least-squares line is Pearson's r squared: cov² / (var x · var y)",))
def check_linear_fit_r2(fn, rng):
    for _ in range(5):
        x = rng.normal(size=20)
        y = rng.normal() * x + rng.normal(size=20) * rng.uniform(0.1, 3)
        close(fn(x, y), analysis.pearson(x, y) ** 2, "R²")


@exercise("08", stars=2, minutes=15,
          forbid=('lmn_edu.analysis.spearman', 'lmn_edu.analysis.ranks'),
          hints=("replace each value by its rank (np.argsort(np.argsort(x))), then Pearson r of the ranks",))
def check_spearman(fn, rng):
    for _ in range(5):
        x = rng.normal(size=15)
        y = np.exp(x) + 0.3 * rng.normal(size=15)
        rank = lambda v: np.argsort(np.argsort(v))
        close(fn(x, y), analysis.pearson(rank(x), rank(y)), "Spearman ρ")


# --- 09 ------------------------------------------------------------------------------------

@exercise("09", stars=2, minutes=15,
          forbid=('lmn_edu.mlp_lmn.tail_function',),
          hints=("h1 → z2 = h1 W2 + b2 → SiLU → h2 → logits = h2 W3 + b3",))
def check_tail_h1(fn, rng):
    params = lmn_edu.init_params(rng, 7, 5, emb_dim=4, hidden=6)
    h = rng.normal(size=(9, 6))
    close(fn(params, h), lmn_edu.tail_function(params, "h1")(h), "logits from h1")


@exercise("09", stars=2, minutes=15,
          forbid=('lmn_edu.mlp_lmn.tail_function',),
          hints=("emb (N, 2·emb_dim) → W1, b1 → SiLU → W2, b2 → SiLU → W3, b3",))
def check_tail_emb(fn, rng):
    params = lmn_edu.init_params(rng, 7, 5, emb_dim=4, hidden=6)
    e = rng.normal(size=(9, 8))
    close(fn(params, e), lmn_edu.tail_function(params, "emb")(e), "logits from emb")


# --- 10 ------------------------------------------------------------------------------------

@exercise("10", stars=1, minutes=5,
          forbid=(),
          hints=("mean of L over i ≠ j (mask with ~np.eye(N, dtype=bool))",))
def check_mean_offdiagonal(fn, rng):
    for n in (5, 12):
        L = _random_L(rng, n)
        close(fn(L), L[~np.eye(n, dtype=bool)].mean(), "mean off-diagonal L")


@exercise("10", stars=2, minutes=10,
          forbid=('lmn_edu.lmn.spectrum',),
          hints=("μ = eigvalsh(L); (share of μ < 0, Σ|μ| over the negative ones / Σ|μ|)",))
def check_negative_share(fn, rng):
    for L in (_random_L(rng, 15), np.array([[1.0, 1, 0], [1, 1, 1], [0, 1, 1]])):
        mu, p = lmn_edu.spectrum(L)
        close(fn(L), (np.mean(mu < 0), p[mu < 0].sum()), "(negative fraction, their Σ|μ| share)")


# --- 11 ------------------------------------------------------------------------------------

@exercise("11", stars=1, minutes=10,
          forbid=(),
          hints=("bit k of a number n is (n >> k) & 1; the case is 2·bit(a) + bit(b), so 0…3",))
def check_bit_cases(fn, rng):
    task = lmn_edu.make_task("xor")
    a, b, y = task.inputs[:, 0], task.inputs[:, 1], task.labels
    for k in range(5):
        case = np.asarray(fn(a, b, k))
        assert set(np.unique(case)) == {0, 1, 2, 3}, f"bit {k}: cases {np.unique(case)}, expected 0…3"
        assert np.array_equal(np.isin(case, (1, 2)), ((y >> k) & 1) == 1), \
            f"bit {k}: the output bit is 1 exactly for the cases (0, 1) and (1, 0)"
        assert np.array_equal(case, 2 * ((a >> k) & 1) + ((b >> k) & 1)), f"bit {k}: wrong case numbers"


@exercise("11", stars=1, minutes=10,
          forbid=('lmn_edu.analysis.peaks', 'lmn_edu.analysis._local_maxima'),
          hints=("index i (0 < i < n − 1) with values[i − 1] > values[i] < values[i + 1]",))
def check_local_minima(fn, rng):
    for _ in range(5):
        v = rng.normal(size=int(rng.integers(5, 30)))
        got = np.asarray(fn(v), dtype=int)
        close(got, analysis.peaks(-v), "indices of the local minima", rtol=0, atol=0)


# --- 12 ------------------------------------------------------------------------------------

@exercise("12", stars=2, minutes=15,
          forbid=(),
          hints=("1 + e^(−m) rounds to 1 once e^(−m) is below half the gap after 1, ε/2: m = ln(2/ε)",))
def check_collapse_margin(fn, rng):
    for dtype in (np.float32, np.float64):
        m = float(fn(dtype))
        one = dtype(1)
        assert one + np.exp(dtype(-1.001 * m)) == one, f"{np.dtype(dtype).name}: above the margin 1 + e^(−m) should round to 1"
        assert one + np.exp(dtype(-0.999 * m)) > one, f"{np.dtype(dtype).name}: below the margin 1 + e^(−m) should stay above 1"


@exercise("12", stars=1, minutes=10,
          forbid=(),
          hints=("max |a − b| / max(|a|, 1e-12) over the rows where both have the key",))
def check_max_relative_difference(fn, rng):
    a = [{"step": i, "x": float(rng.normal()) if i % 2 else None} for i in range(10)]
    b = [{**r, "x": None if r["x"] is None else r["x"] * (1 + rng.normal() * 1e-6)} for r in a]
    want = max(abs(x["x"] - y["x"]) / max(abs(x["x"]), 1e-12) for x, y in zip(a, b) if x["x"] is not None)
    close(fn(a, b, "x"), want, "largest relative difference")


# --- 13 ------------------------------------------------------------------------------------

def _small_transformer(rng, p=7, d=8, heads=2, d_mlp=16):
    """A small transformer with nonzero biases, and every token pair of addition mod p."""
    from lmn_edu import transformer
    params = transformer.init_params(rng, p, p, d, heads, d_mlp)
    params["b_in"], params["b_out"] = 0.1 * rng.normal(size=d_mlp), 0.1 * rng.normal(size=d)
    a, b = np.meshgrid(np.arange(p), np.arange(p), indexing="ij")
    return params, np.stack([a.ravel(), b.ravel()], axis=1)


@exercise("13", stars=1, minutes=10,
          forbid=("lmn_edu.transformer.embed", "lmn_edu.transformer.representations"),
          hints=("tokens = np.column_stack([inputs, np.full(N, V)]) with V = W_E.shape[0] − 1; "
                 "(W_E[tokens] + W_pos).reshape(N, -1)",))
def check_embed_sequences(fn, rng):
    from lmn_edu import transformer
    for p, d in ((5, 4), (7, 8)):
        params, inputs = _small_transformer(rng, p, d, 2, 8)
        inputs = inputs[rng.permutation(len(inputs))[:13]]
        close(fn(params, inputs), transformer.representations(params, inputs, 2)["emb"], "embedded sequences (N, 3·d)")


@exercise("13", stars=2, minutes=25,
          forbid=("lmn_edu.transformer.attention", "lmn_edu.transformer.stages", "lmn_edu.transformer.forward",
                  "lmn_edu.transformer.representations", "lmn_edu.transformer.tail_function"),
          hints=("reshape q to (M, H, d_head) and k, v to (M, 3, H, d_head); the scores are "
                 "np.einsum('mhe,mthe->mht', q, k) / sqrt(d_head), softmax over t (the last axis)",
                 "the residual is not added: the answer is z @ W_O, z the heads' mixes concatenated"))
def check_attention_from_equals(fn, rng):
    from lmn_edu import transformer
    for heads in (1, 2, 4):
        params, inputs = _small_transformer(rng, 7, 8, heads, 16)
        x = transformer.embed(params, inputs[:11]) * 3.0               # larger scores: a softmax that matters
        close(fn(params, x, heads), transformer.attention(params, x, heads), f"attention output with {heads} heads")


@exercise("13", stars=3, minutes=40,
          forbid=("lmn_edu.transformer.layers_lmn", "lmn_edu.transformer.tail_function", "lmn_edu.transformer.stages"),
          hints=("points for 'emb': the flattened embedded sequences; for 'attn': x[:, 2] + attention(x) with "
                 "x = those points reshaped to (N, 3, d)",
                 "the tail from 'attn' is r -> unembed(mlp_block(r)); from 'emb' it first reshapes and applies "
                 "the attention with its residual",
                 "lmn_edu.linear_mapping_number(lmn_edu.connectivity_matrix(tail, points))"))
def check_transformer_lmn(fn, rng):
    from lmn_edu import transformer
    params, inputs = _small_transformer(rng)
    pts = inputs[rng.permutation(len(inputs))[:12]]
    want = transformer.layers_lmn(params, pts, ("emb", "attn"), 2)
    for layer in ("emb", "attn"):
        close(fn(params, pts, 2, layer), want[layer], f"LMN({layer} → logits)", rtol=1e-8)
