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
from autograd import grad

import lmn_edu
from lmn_edu import analysis
from lmn_edu.grading import close, exercise
from lmn_edu.mlp import logsumexp, silu

# Forbidden names shared by several checks: the package's own LMN pipeline.
R2 = ("lmn_edu.lmn.r_squared", "lmn_edu.lmn.r_squared_from_sums", "lmn_edu.analysis.pearson")
CONNECTIVITY = ("lmn_edu.lmn.connectivity_matrix", "lmn_edu.lmn.lmn_of", "lmn_edu.mlp_lmn.layer_connectivity",
                "lmn_edu.mlp_lmn.layer_lmn", "lmn_edu.mlp_lmn.layers_lmn", "lmn_edu.engine.connectivity") + R2
EIGEN_TO_LMN = ("lmn_edu.lmn.spectrum", "lmn_edu.lmn.nonlinear_entropy", "lmn_edu.lmn.linear_mapping_number",
                "lmn_edu.lmn.lmn_of", "lmn_edu.analysis.negative_eigenvalues")
TAILS = ("lmn_edu.mlp_lmn.tail_function", "lmn_edu.mlp.forward", "lmn_edu.mlp.representations",
         "lmn_edu.mlp.stages", "lmn_edu.mlp.tail_stages")


def equal(got, want, what):
    """Assert that got (ints, bools, None, or a sequence of them) is exactly want."""
    if want is None or isinstance(want, (bool, int, np.integer)):
        if want is None:
            ok = got is None
        elif isinstance(want, bool):
            ok = isinstance(got, (bool, np.bool_)) and bool(got) == want
        else:
            ok = isinstance(got, (int, np.integer)) and not isinstance(got, (bool, np.bool_)) and got == want
        assert ok, f"{what}: got {got!r}, expected {want!r}"
        return
    g, w = np.asarray(got), np.asarray(want)
    assert g.shape == w.shape, f"{what}: got shape {g.shape} ({got!r:.80}), expected shape {w.shape}"
    bad = np.argwhere(g != w)
    if len(bad):
        i = tuple(int(k) for k in bad[0])
        raise AssertionError(f"{what}: at index {i if len(i) > 1 else i[0]} got {g[i]!r}, expected {w[i]!r} "
                             f"({len(bad)} of {w.size} entries differ)")


# --- 01 ------------------------------------------------------------------------------------

def _table(task, keep=slice(None)):
    """The V × V operation table of the task's pairs ``keep`` (default all), −1 where a pair is missing."""
    T = np.full((task.vocab_size,) * 2, -1)
    T[task.inputs[keep, 0], task.inputs[keep, 1]] = task.labels[keep]
    return T


@exercise("01", stars=1, minutes=5,
          hints=("Every row of the data says where one answer goes in the table.",
                 "Start from a V × V table that marks every entry as missing, then write each answer "
                 "at row a, column b.",
                 "NumPy can write many entries at once when you index with two arrays of row and "
                 "column positions; the rows of the data may come in any order and some may be missing."))
def check_operation_table(fn, rng):
    for name in lmn_edu.TASKS:
        task = lmn_edu.make_task(name)
        keep = rng.permutation(len(task))[: int(rng.integers(1, len(task) + 1))]   # any rows, in any order
        want = _table(task, keep)
        got = fn(task.inputs[keep], task.labels[keep], task.vocab_size)
        assert np.asarray(got).dtype.kind in "iu", f"{name}: got a table of dtype {np.asarray(got).dtype}, expected ints"
        equal(got, want, f"{name}, {len(keep)} of {len(task)} pairs")
    V = int(rng.integers(1, 9))                                        # a made-up table, full
    labels = rng.integers(0, V, size=V * V)
    inputs = np.stack(np.divmod(np.arange(V * V), V), axis=1)
    equal(fn(inputs, labels, V), labels.reshape(V, V), f"a random {V}×{V} table")
    task = lmn_edu.make_task(str(rng.choice(lmn_edu.TASKS)))         # the last symbols in no pair: V is not
    keep = np.flatnonzero(task.inputs.max(axis=1) < task.vocab_size - 2)   # the largest symbol seen plus 1
    equal(fn(task.inputs[keep], task.labels[keep], task.vocab_size), _table(task, keep),
          f"{task.name}, only the pairs of the first {task.vocab_size - 2} of its {task.vocab_size} symbols")


@exercise("01", stars=1, minutes=5,
          hints=("Compare the table with its mirror image across the diagonal.",
                 "a ∘ b = b ∘ a says that entry (a, b) equals entry (b, a): count the entries where the "
                 "table and its transpose agree.",
                 "Ordered pairs: (a, b) and (b, a) both count, and so does every (a, a)."))
def check_commuting_pairs(fn, rng):
    for _ in range(5):
        n = int(rng.integers(1, 9))
        T = rng.integers(0, n, size=(n, n))
        equal(fn(T), int(np.sum(T == T.T)), f"a random {n}×{n} table")
    equal(fn(_table(lmn_edu.make_task("s4"))), 120, "S4 (24 × 5 conjugacy classes)")
    n = int(rng.integers(2, 12))
    equal(fn(np.add.outer(np.arange(n), np.arange(n)) % n), n * n, f"addition mod {n} (commutative)")


# A loop: a Latin square with an identity (0) and inverses, but not associative (the smallest
# such has 5 elements). Every check below must tell it from a group.
LOOP5 = np.array([[0, 1, 2, 3, 4], [1, 0, 3, 4, 2], [2, 4, 0, 1, 3], [3, 2, 4, 0, 1], [4, 3, 1, 2, 0]])


def _relabel(T, perm):
    """The same operation with symbol s renamed perm[s] (entries outside the symbols stay as they are)."""
    out = np.empty_like(T)
    out[np.ix_(perm, perm)] = np.where(T < len(T), perm[np.minimum(T, len(T) - 1)], T)
    return out


@exercise("01", stars=2, minutes=20,
          hints=("Check the four properties one at a time, and stop at the first that fails.",
                 "The identity is the symbol whose row and column both repeat the symbols in order; "
                 "it need not be 0. An inverse of a is some b with a ∘ b = b ∘ a = e.",
                 "Associativity is a statement about all V³ triples: build (a ∘ b) ∘ c and a ∘ (b ∘ c) "
                 "as two V × V × V arrays by indexing the table with the table, and compare them."))
def check_is_group(fn, rng):
    n = int(rng.integers(2, 9))
    cases = [("S4", _table(lmn_edu.make_task("s4")), True),
             (f"Z{n}", np.add.outer(np.arange(n), np.arange(n)) % n, True),
             ("Z2 × Z2", np.bitwise_xor.outer(np.arange(4), np.arange(4)), True),
             ("the trivial group", np.zeros((1, 1), int), True),
             ("a 5-element loop (identity, inverses, Latin square; not associative)", LOOP5, False),
             (f"subtraction mod {n + 1}", np.subtract.outer(np.arange(n + 1), np.arange(n + 1)) % (n + 1), False),
             (f"max on {n} symbols (associative, identity 0, no inverses)",
              np.maximum.outer(np.arange(n), np.arange(n)), False),
             (f"a ∘ b = a on {n} symbols (associative, no identity)", np.repeat(np.arange(n)[:, None], n, axis=1), False)]
    broken = np.add.outer(np.arange(n), np.arange(n)) % n
    broken[rng.integers(n), rng.integers(n)] = n                  # one entry outside the symbols
    cases.append((f"Z{n} with one entry outside the {n} symbols", broken, False))
    for name, T, want in cases:
        T = _relabel(T, rng.permutation(len(T)))                   # symbols in a random order
        equal(fn(T), want, name)


# --- 02 ------------------------------------------------------------------------------------

def _sines_and_quadratic(c, B, t):
    """f(t) = Σ c_k sin t_k + tᵀ B t. Its central difference is known exactly: c cos(t) sin(h)/h + (B + Bᵀ) t."""
    return float(c @ np.sin(t) + t @ B @ t)


@exercise("02", stars=1, minutes=10, forbid=("autograd.grad",),
          hints=("Nudge one coordinate at a time, once up and once down.",
                 "The difference of the two values of f, divided by the distance between the two points "
                 "(2h), estimates that coordinate's derivative.",
                 "Build each nudged point as a new array: θ itself must stay as it was, and use the h "
                 "you are given (the check uses large ones, where the answer depends on h)."))
def check_central_difference(fn, rng):
    for _ in range(3):
        d = int(rng.integers(1, 7))
        c, B, theta = rng.normal(size=d), rng.normal(size=(d, d)), rng.normal(size=d)
        h = float(rng.uniform(0.01, 0.3))
        want = c * np.cos(theta) * np.sin(h) / h + (B + B.T) @ theta     # exact, not the gradient
        before = theta.copy()
        close(fn(partial(_sines_and_quadratic, c, B), theta, h), want, f"central difference with h = {h}",
              rtol=1e-9, atol=1e-9)
        assert np.array_equal(theta, before), "θ was changed"          # the call's changes come back


def _random_params(rng, square=False):
    V, C = int(rng.integers(2, 9)), int(rng.integers(2, 9))
    d, H = int(rng.integers(1, 6)), int(rng.integers(1, 8))
    return lmn_edu.init_params(rng, V, C, emb_dim=d, hidden=H), V


@exercise("02", stars=2, minutes=15, forbid=TAILS,
          hints=("Follow the arrows of the diagram at the top of lesson 02, one line of code per arrow.",
                 "Each token picks a row of emb; the two rows side by side make one input of length 2d.",
                 "A Linear layer is a matrix product plus a bias; SiLU acts entry by entry. Check each "
                 "intermediate shape against the docstring."))
def check_forward(fn, rng):
    for _ in range(3):
        params, V = _random_params(rng)
        x = rng.integers(0, V, size=(int(rng.integers(1, 12)), 2))
        close(fn(params, x), lmn_edu.forward(params, x), "logits")


def _mean_cross_entropy(Wb, h2, labels):
    return lmn_edu.cross_entropy(h2 @ Wb["W3"] + Wb["b3"], labels)


@exercise("02", stars=3, minutes=25,
          forbid=("lmn_edu.mlp.cross_entropy", "lmn_edu.mlp.loss", "lmn_edu.mlp.softmax", "lmn_edu.mlp.logsumexp",
                  "autograd.grad"),
          hints=("Work out the derivative of one row's loss with respect to its logits first.",
                 "For one row, ∂loss/∂logit_c is the softmax probability of class c, minus 1 for the "
                 "labelled class. The chain rule through logits = h2 W3 + b3 does the rest; do not forget "
                 "the mean over rows.",
                 "A softmax of large logits overflows unless you subtract each row's largest logit first: "
                 "the probabilities do not change."))
def check_output_layer_grad(fn, rng):
    g = grad(_mean_cross_entropy)
    for offset in (0.0, 0.0, 800.0):                              # 800: e^logit overflows
        N, H, C = int(rng.integers(1, 10)), int(rng.integers(1, 6)), int(rng.integers(2, 7))
        h2, W3, b3 = rng.normal(size=(N, H)), rng.normal(size=(H, C)), offset + rng.normal(size=C)
        labels = rng.integers(0, max(1, C - 1), size=N)           # the last class never occurs
        want = g({"W3": W3, "b3": b3}, h2, labels)
        got = fn(h2, W3, b3, labels)
        assert isinstance(got, (tuple, list)) and len(got) == 2, "return the pair (dW3, db3)"
        close(got[0], want["W3"], f"dW3 (N = {N}, logits up to {np.abs(h2 @ W3 + b3).max():.0f})", rtol=1e-7, atol=1e-10)
        close(got[1], want["b3"], "db3", rtol=1e-7, atol=1e-10)


# --- 03 ------------------------------------------------------------------------------------

def _adamw_steps(opt, theta, grads, state=None):
    """θ after opt's steps with these gradients, from ``state`` (default: a fresh one)."""
    params, state = {"w": theta}, state or opt.init({"w": theta})
    for g in grads:
        params, state = opt.step(params, {"w": g}, state)
    return params["w"], state


@exercise("03", stars=1, minutes=5, forbid=("lmn_edu.adamw.AdamW.step",),
          hints=("What does one step do to θ when the gradient is zero?",
                 "With g = 0 the moments stay 0 and only the decay acts: each step multiplies θ by the "
                 "same factor.",
                 "t steps multiply by that factor t times: a power. It holds for t = 0 too."))
def check_decay_after(fn, rng):
    for _ in range(3):
        theta0 = rng.normal(size=tuple(rng.integers(1, 4, size=int(rng.integers(1, 3)))))
        lr, wd, t = float(rng.uniform(1e-4, 0.05)), float(rng.uniform(0, 1)), int(rng.integers(0, 300))
        want, _ = _adamw_steps(lmn_edu.AdamW(lr=lr, weight_decay=wd), theta0, [np.zeros_like(theta0)] * t)
        close(fn(theta0, lr, wd, t), want, f"θ after {t} zero-gradient steps (lr {lr}, weight decay {wd})")


@exercise("03", stars=1, minutes=10,
          hints=("Solve (1 − ηλ)ᵗ = ½ for t, then think about whole numbers.",
                 "Take logarithms of both sides. The t you get is rarely a whole number: which whole "
                 "number is the first one at or past it?",
                 "ln 2 / (ηλ) is only an approximation, poor when ηλ is not small; and a t of exactly "
                 "one step must be possible."))
def check_steps_to_halve(fn, rng):
    cases = [(1.0, 0.5), (1.0, 0.75), (0.4, 0.5), (0.1, 0.1), (1e-3, 0.2), (float(rng.uniform(0.2, 0.9)), 1.0)]
    cases += [(float(10 ** rng.uniform(-4, -1)), float(rng.uniform(0.01, 1))) for _ in range(4)]
    for lr, wd in cases:
        q, t = 1 - lr * wd, fn(lr, wd)
        assert isinstance(t, (int, np.integer)) and t >= 1, f"lr {lr}, weight decay {wd}: got {t!r}, expected an int ≥ 1"
        assert q ** t <= 0.5, f"lr {lr}, weight decay {wd}: after {t} steps θ is still × {q ** t!r} > ½"
        assert t == 1 or q ** (t - 1) > 0.5, \
            f"lr {lr}, weight decay {wd}: {t - 1} steps already halve θ (× {q ** (t - 1)!r})"


@exercise("03", stars=2, minutes=20, forbid=("lmn_edu.adamw.AdamW.step",),
          hints=("Write the five lines of the update in the order the docstring gives them.",
                 "The decay acts on θ before the Adam step, and only on θ — not on the gradient, not on "
                 "the moments.",
                 "The bias corrections use this step's number t; m and v are returned uncorrected, "
                 "so the next step can continue from them."))
def check_adamw_step(fn, rng):
    lr, wd = float(10 ** rng.uniform(-4, -1)), float(rng.uniform(0.01, 1))
    betas, eps = (float(rng.uniform(0.5, 0.95)), float(rng.uniform(0.9, 0.9999))), float(10 ** rng.uniform(-10, -6))
    opt = lmn_edu.AdamW(lr=lr, betas=betas, eps=eps, weight_decay=wd)
    what = f"(lr {lr}, betas {betas}, eps {eps}, weight decay {wd})"
    theta = rng.normal(size=(3, 2))
    m, v, state = np.zeros_like(theta), np.zeros_like(theta), None
    for t in range(1, 5):                                          # from the start
        g = rng.normal(size=theta.shape)
        want, state = _adamw_steps(opt, theta, [g], state)
        args = [theta, g, m, v]
        before = [x.copy() for x in args]
        theta, m, v = fn(*args, t, lr=lr, betas=betas, eps=eps, weight_decay=wd)
        for old, arg, name in zip(before, args, "θgmv"):
            assert np.array_equal(old, arg), f"step {t}: the input {name} was changed in place"
        close(theta, want, f"θ after step {t} {what}")
        close(m, state["m"]["w"], f"m after step {t}")
        close(v, state["v"]["w"], f"v after step {t}")
    t = int(rng.integers(5, 2000))                                 # resumed at a later step
    theta, g, m, v = rng.normal(size=4), rng.normal(size=4), rng.normal(size=4), rng.uniform(0.1, 2, size=4)
    want, _ = _adamw_steps(opt, theta, [g], {"t": t - 1, "m": {"w": m}, "v": {"w": v}})
    close(fn(theta, g, m, v, t, lr=lr, betas=betas, eps=eps, weight_decay=wd)[0], want,
          f"θ after step {t}, resumed from given m, v")
    g, m, v = eps * rng.normal(size=4), eps * rng.normal(size=4), eps ** 2 * rng.uniform(0.1, 2, size=4)
    want, _ = _adamw_steps(opt, theta, [g], {"t": t - 1, "m": {"w": m}, "v": {"w": v}})   # √v̂ near ε: where ε goes counts
    close(fn(theta, g, m, v, t, lr=lr, betas=betas, eps=eps, weight_decay=wd)[0], want,
          f"θ after step {t} with gradients as small as ε = {eps} (θ − η m̂ / (√v̂ + ε))")


# --- 04 ------------------------------------------------------------------------------------

def _r2_reference(y, lam):
    """The package's r² of one curve, with the exercise's flat-line tolerance 1e-12."""
    return lmn_edu.r_squared(np.asarray(y, float)[None, :, None], lam, rtol=1e-12)[0, 0]


@exercise("04", stars=2, minutes=15, forbid=R2,
          hints=("r² is the square of a correlation coefficient you know; mind the one curve where it is 0/0.",
                 "Centre y and λ on their means: r² = (Σ ỹ λ̃)² / (Σ ỹ² · Σ λ̃²). A falling line has r = −1 "
                 "but r² = 1.",
                 "A constant curve has no spread: compare its standard deviation with 1e-12 × its largest "
                 "|value|, not with exactly 0 (rounding leaves a little), and return 1 there."))
def check_r_squared_line(fn, rng):
    n = int(rng.integers(3, 40))
    lam = np.sort(rng.uniform(-2, 3, size=n))                      # any λ, not only 0 … 1
    c = float(rng.normal() * 10 ** rng.uniform(-3, 6))
    curves = {"random": rng.normal(size=n), "falling line": -3 * lam + 1, "rising line": 2 * lam - 5,
              "exponential": np.exp(rng.normal() * lam), "kink": np.abs(lam - rng.uniform(-2, 3)),
              "all zeros": np.zeros(n), f"constant {c}": np.full(n, c),
              "constant with rounding noise (spread 1e-14 of its size)": c * (1 + 1e-14 * rng.normal(size=n)),
              "a big offset plus a small bend": 1e6 + (lam - lam.mean()) ** 2}
    for name, y in curves.items():
        close(fn(y, lam), _r2_reference(y, lam), f"for the {name} curve (n = {n}), r²", rtol=1e-9, atol=1e-9)
    for name, y in {"tiny curve (values near 1e-13, not flat: the tolerance is relative)": 1e-13 * rng.normal(size=n),
                    "constant 1e6 with rounding noise": 1e6 * (1 + 1e-14 * rng.normal(size=n))}.items():
        close(fn(y, lam), _r2_reference(y, lam), f"for the {name} curve (n = {n}), r²", rtol=1e-9, atol=1e-9)
    y = c * (1 + 1e-8 * rng.normal(size=n))                         # tiny, but far above the tolerance: a real curve
    close(fn(y, lam), _r2_reference(y, lam), "r² of a curve whose spread is 1e-8 of its size (not flat)",
          rtol=1e-4, atol=1e-6)


def _tanh_layer(W, b, x):
    return np.tanh(x @ W + b)                                      # (M, K)


def _random_layer(rng, d=None, k=None):
    d, k = d or int(rng.integers(1, 5)), k or int(rng.integers(2, 5))
    W, b = 1.5 * rng.normal(size=(d, k)), rng.normal(size=k)
    W[:, -1] = 0.0                                                 # one output constant along every line
    return partial(_tanh_layer, W, b), d


@exercise("04", stars=2, minutes=15, forbid=CONNECTIVITY,
          hints=("One line, n_lambda points on it, one curve per output: average their r².",
                 "Evaluate f on all the points of the line in one call: a (n_lambda, D) batch in, "
                 "(n_lambda, K) out; each column is a curve in λ.",
                 "λ runs from 0 to 1 with both ends included, n_lambda values (count the points, "
                 "not the gaps); a constant output column is a straight line."))
def check_connectivity_pair(fn, rng):
    for n_lambda in (None, 3, int(rng.integers(4, 40))):
        f, d = _random_layer(rng)
        xi, xj = rng.normal(size=d), rng.normal(size=d)
        want = lmn_edu.connectivity_matrix(f, np.stack([xi, xj]), n_lambda or 21)[0, 1]
        got = fn(f, xi, xj) if n_lambda is None else fn(f, xi, xj, n_lambda)
        close(got, want, f"L_ij with {n_lambda or 'the default'} λ values, f: R^{d} → R^{len(f.args[1])}",
              rtol=1e-9, atol=1e-9)


def _noisy_tanh(W, noise, x):
    """tanh(x W) with relative noise on every output, as kernels that round differently give."""
    y = np.tanh(x @ W)
    return y * (1 + noise * np.random.default_rng().normal(size=y.shape))


@exercise("04", stars=3, minutes=30, forbid=CONNECTIVITY,
          hints=("You have L_ij for one pair already: what is left is which pairs to compute, and the ones "
                 "you need not compute.",
                 "L is symmetric with L_ii = 1, so only the pairs i < j need f. Walking from a point to "
                 "itself is a line that does not move.",
                 "With noisy arithmetic, f returns slightly different numbers for equal inputs, so the "
                 "curve of two equal points is noise, not a line: decide those pairs from X, not from f."))
def check_connectivity_matrix(fn, rng):
    f, d = _random_layer(rng)
    n_lambda = int(rng.integers(3, 30))
    X = rng.normal(size=(int(rng.integers(2, 8)), d))
    close(fn(f, X, n_lambda), lmn_edu.connectivity_matrix(f, X, n_lambda), f"L of {len(X)} points, {n_lambda} λ values",
          rtol=1e-9, atol=1e-9)
    close(fn(f, X[:1]), np.ones((1, 1)), "L of a single point")
    d = int(rng.integers(1, 4))
    W = rng.normal(size=(d, int(rng.integers(1, 4))))
    X = rng.normal(size=(int(rng.integers(2, 6)), d))
    X = X[rng.integers(0, len(X), size=len(X) + 2)]                # some points twice
    noisy = partial(_noisy_tanh, W, 1e-9)                          # noise far above the flat-line tolerance
    close(fn(noisy, X), lmn_edu.connectivity_matrix(noisy, X), "L with repeated points and noisy f (equal points: 1)",
          rtol=0, atol=1e-5)


# --- 05 ------------------------------------------------------------------------------------

def _with_spectrum(rng, mu):
    """A symmetric matrix with eigenvalues mu (a random orthogonal basis)."""
    Q, _ = np.linalg.qr(rng.normal(size=(len(mu), len(mu))))
    L = Q @ np.diag(mu) @ Q.T
    return (L + L.T) / 2


def _blocks(*sizes):
    """Block-diagonal L: one block of ones per group."""
    group = np.repeat(np.arange(len(sizes)), sizes)
    return (group[:, None] == group[None, :]).astype(float)


def _random_L(rng, n=12):
    W = rng.normal(size=(2, 3))
    return lmn_edu.connectivity_matrix(partial(_tanh_layer, 3 * W, np.zeros(3)), rng.normal(size=(n, 2)))


@exercise("05", stars=1, minutes=10, forbid=EIGEN_TO_LMN,
          hints=("Turn the eigenvalues into a probability distribution, then take its entropy.",
                 "A probability cannot be negative: the distribution is built from the sizes |μ|, "
                 "normalised to sum to 1.",
                 "Entropy in bits uses log base 2; a zero eigenvalue contributes nothing (0 · log 0 = 0), "
                 "so leave it out rather than take log 0."))
def check_entropy_from_eigenvalues(fn, rng):
    n = int(rng.integers(2, 12))
    mu = rng.normal(size=n) * rng.uniform(0.1, 10)
    mu[0], mu[1] = -abs(mu[0]), 0.0                                # one negative, one exactly zero
    spectra = {"random, some negative, one zero": mu, "3, −1, 0 and 1": np.array([3.0, -1, 0, 1]),
               "one nonzero": np.eye(1, n, 0)[0] * rng.uniform(1, 5),
               "three equal blocks": np.repeat([4.0, 4.0, 4.0, 0.0], [1, 1, 1, 9])}
    for name, mu in spectra.items():
        mu = rng.permutation(mu)
        close(fn(mu), lmn_edu.nonlinear_entropy(_with_spectrum(rng, mu)), f"S_NL in bits, {name}: μ = {mu.tolist()}",
              rtol=1e-9, atol=1e-9)


@exercise("05", stars=1, minutes=5, forbid=EIGEN_TO_LMN,
          hints=("LMN is 2 to the power of the entropy you computed in the exercise before.",
                 "The entropy needs the eigenvalues of L; L is symmetric, and NumPy has a routine for "
                 "the eigenvalues of symmetric matrices.",
                 "2 ** S, not e ** S: the entropy is in bits."))
def check_lmn(fn, rng):
    n = int(rng.integers(2, 10))
    cases = {"a network's L": _random_L(rng, int(rng.integers(3, 15))), f"identity {n}×{n}": np.eye(n),
             f"all ones {n}×{n}": np.ones((n, n)), "blocks of 3, 2 and 1": _blocks(3, 2, 1),
             "the chain x₁ — x₂ — x₃ (a negative eigenvalue)": np.array([[1.0, 1, 0], [1, 1, 1], [0, 1, 1]])}
    for name, L in cases.items():
        close(fn(L), lmn_edu.linear_mapping_number(L), f"LMN of {name}", rtol=1e-9)




@exercise("05", stars=2, minutes=20, forbid=EIGEN_TO_LMN,
          hints=("Build L for small sizes first and look at its eigenvalues: how many are not zero?",
                 "Guess eigenvectors that are constant on each block: L maps the vector that is 1 on "
                 "block 1 and 0 elsewhere to a combination of the two block vectors. That gives a 2 × 2 "
                 "problem.",
                 "Every vector that sums to zero within each block is mapped to 0. The two eigenvalues "
                 "of the 2 × 2 problem are all the entropy needs."))
def check_two_block_lmn(fn, rng):
    cases = [(1, 1, 0.0), (5, 5, 1.0), (int(rng.integers(1, 9)), int(rng.integers(1, 9)), 0.0)]
    cases += [(int(rng.integers(1, 13)), int(rng.integers(1, 13)), float(rng.uniform())) for _ in range(3)]
    for n1, n2, eps in cases:
        want = lmn_edu.linear_mapping_number(eps + (1 - eps) * _blocks(n1, n2))
        close(fn(n1, n2, eps), want, f"blocks of {n1} and {n2}, ε = {eps}", rtol=1e-9)
        k = int(10 ** rng.uniform(5, 6.5))                         # L would have (k (n1 + n2))² entries
        close(fn(k * n1, k * n2, eps), want, f"blocks of {k * n1} and {k * n2}, ε = {eps} (the same LMN: "
              "scaling both blocks scales every eigenvalue)", rtol=1e-9)


# --- 06 ------------------------------------------------------------------------------------

@exercise("06", stars=1, minutes=10, forbid=EIGEN_TO_LMN,
          hints=("You do not need L: lesson 05 showed what its eigenvalues are for blocks.",
                 "A block of ones of size s has one nonzero eigenvalue, s. So p is the share of the "
                 "points in each region.",
                 "Count the points per distinct label — the labels can be any integers, negative or "
                 "large, so count distinct values rather than positions 0 … R−1."))
def check_ideal_soft_count(fn, rng):
    for _ in range(4):
        names = rng.choice(np.arange(-1000, 10 ** 6), size=int(rng.integers(1, 7)), replace=False)
        region = rng.choice(names, size=int(rng.integers(1, 40)))
        same = (region[:, None] == region[None, :]).astype(float)
        close(fn(region), lmn_edu.linear_mapping_number(same), f"ideal soft count of regions {region.tolist()}", rtol=1e-9)
    region = rng.permutation([-7, -7, -7, 10 ** 12, 3, 3])                    # negative, huge, unequal: 2^H(½, ⅓, ⅙)
    close(fn(region), 2 ** -(np.log2([1 / 2, 1 / 3, 1 / 6]) @ [1 / 2, 1 / 3, 1 / 6]),
          f"ideal soft count of regions {region.tolist()}", rtol=1e-9)


FLOAT_ERRORS = (FloatingPointError, RuntimeWarning)   # what a strict_floats exercise's overflow raises


def _first_overflow(fn, z, beta):
    """The first entry of z on which fn(·, beta) alone raises a floating-point error, or None."""
    for x in z:
        try:
            fn(np.array([x]), beta)
        except FLOAT_ERRORS:
            return float(x)
    return None


@exercise("06", stars=1, minutes=5, forbid=("lmn_edu.mlp.silu", "lmn_edu.mlp.sigmoid"), strict_floats=True,
          hints=("Where can exp(−β z) blow up?",
                 "For very negative β z, e^(−β z) overflows to inf; for very positive β z, e^(β z) does. "
                 "Pick a way to write the sigmoid that never exponentiates a large positive number.",
                 "sigmoid(x) can be written with tanh(x / 2), which never overflows. Choosing between two "
                 "formulas entry by entry still computes both on every entry."))
def check_sharp_silu(fn, rng):
    # The answer runs with overflow, invalid and divide by zero raised (strict_floats): z / (1 + e^(−βz))
    # gives the right-looking −0 where e^(−βz) is inf, so only the overflow itself tells it apart.
    z = np.concatenate([rng.normal(size=20) * 3, [-1e4, -50.0, 0.0, 1e-300, 50.0, 1e4]])
    for beta in (1.0, float(rng.uniform(2, 100)), 1e3, 1e6):
        try:
            got = fn(z, beta)
        except FLOAT_ERRORS as e:
            x = _first_overflow(fn, z, beta)
            at = f"z = {x!r}" if x is not None else "these z together"
            raise AssertionError(f"with β = {beta}, at {at}: {type(e).__name__}: {e}. The exercise asks for no "
                                 "overflow and no warning (np.where computes both of its branches on every "
                                 "entry: the one it throws away must not overflow either)") from None
        # Compared relative to 1 + |z|: the sigmoid's tanh form (1 + tanh) loses up to ε·|z| where z
        # is very negative, as good an answer as the exponential form the package uses.
        got = np.asarray(got, dtype=np.float64)
        scale = 1 + np.abs(z)
        close(got / scale, silu(beta * z) / beta / scale, f"silu_β(z) / (1 + |z|) with β = {beta}",
              rtol=1e-9, atol=4e-16)


@exercise("06", stars=2, minutes=15,
          hints=("Each unit bends where its pre-activation x·w_k + b_k is zero.",
                 "Solve for x unit by unit, skipping units with w_k = 0, which never cross zero.",
                 "Keep only the positions strictly between lo and hi (a kink exactly at an end is not "
                 "inside), sort them, and list a position shared by two units once."))
def check_relu_kinks(fn, rng):
    for _ in range(5):
        lo = float(rng.integers(-16, 0)) / 8
        hi = lo + float(rng.integers(1, 32)) / 8
        x = np.concatenate([[lo, hi], rng.integers(int(8 * lo) - 8, int(8 * hi) + 8, size=6) / 8])   # dyadic: exact
        x = np.concatenate([x, x[rng.integers(len(x), size=2)], [(lo + hi) / 2] * 2])                   # shared kinks
        w = rng.choice([-1, 1], size=len(x)) * 2.0 ** rng.integers(-3, 4, size=len(x))
        b = -w * x                                                                  # unit k bends at x_k, exactly
        w, b = np.append(w, 0.0), np.append(b, rng.normal())                        # a unit that never bends
        want = np.unique(x[(x > lo) & (x < hi)])
        got = np.asarray(fn(w, b, lo, hi), dtype=float)
        assert got.ndim == 1 and np.all(np.diff(got) > 0), f"kinks inside ({lo}, {hi}): got {got.tolist()}, not sorted " \
                                                             "increasing with each position once"
        close(got, want, f"kinks inside ({lo}, {hi})", rtol=0, atol=1e-12)
    w, b = np.array([1.0, 1.0, 1.0, -1.0, 2.0]), np.array([-0.5, 0.25, 0.0, 0.75, 1.0])   # the units bend out of order
    close(fn(w, b, -1.0, 1.0), [-0.5, -0.25, 0.0, 0.5, 0.75], "kinks inside (-1, 1) of units bending at "
          "0.5, −0.25, 0, 0.75, −0.5 (sorted, the answer)", rtol=0, atol=1e-12)



def _patterns(w1, b1, W2, b2, x):
    """The on/off pattern of every unit of both layers at the points x (M,): (M, H1 + H2) bools."""
    z1 = x[:, None] * w1 + b1                                     # (M, H1)
    z2 = np.maximum(z1, 0) @ W2 + b2                              # (M, H2)
    return np.concatenate([z1 > 0, z2 > 0], axis=1), np.concatenate([z1, z2], axis=1)


@exercise("06", stars=3, minutes=30,
          hints=("Do it layer by layer: you already know where the first layer bends.",
                 "Between two consecutive kinks of the first layer, every unit of that layer is either on "
                 "or off, so the first layer is an affine function of x there, and so is every "
                 "pre-activation of the second layer: solve for its zero on that piece only.",
                 "A zero of a second-layer unit counts only if it falls inside the piece where you "
                 "solved for it. Collect the kinks of both layers, keep those strictly inside (lo, hi), "
                 "sort them and list each once."))
def check_relu_region_edges(fn, rng):
    for _ in range(8):
        H1, H2 = int(rng.integers(2, 7)), int(rng.integers(1, 7))
        w1, b1 = rng.normal(size=H1), rng.normal(size=H1)
        W2, b2 = rng.normal(size=(H1, H2)), rng.normal(size=H2)
        w1[0] = 0.0                                               # a unit that never switches
        b2[-1] = -100.0                                           # a second-layer unit that stays off
        lo = float(rng.uniform(-4, -1))
        hi = lo + float(rng.uniform(1, 6))
        if H1 > 1:
            b1[1] = -w1[1] * lo                                   # a first-layer kink at lo: not inside
        _region_edges_are_exact(fn, w1, b1, W2, b2, lo, hi)
    # Units relu(x) and relu(−x), then relu(x) − ½ (an edge at ½), relu(−x) − 1 (at −1) and their sum + ½
    # (never 0): each second-layer unit switches on one piece only; solved on the other, it "switches" outside it.
    _region_edges_are_exact(fn, np.array([1.0, -1.0]), np.zeros(2), np.array([[1.0, 0, 1], [0, 1, 1]]),
                            np.array([-0.5, -1.0, 0.5]), -2.0, 2.0)


def _region_edges_are_exact(fn, w1, b1, W2, b2, lo, hi):
    """fn's edges are inside (lo, hi), sorted, each once, where the on/off pattern really changes, and complete."""
    H1, H2 = W2.shape
    what = f"a net with {H1} and {H2} units on ({lo}, {hi})"
    got = np.asarray(fn(w1, b1, W2, b2, lo, hi), dtype=float).ravel()
    assert np.all((got > lo) & (got < hi)), f"{what}: edges outside the interval: {got.tolist()}"
    assert np.all(np.diff(got) > 0), f"{what}: edges not sorted or listed twice: {got.tolist()}"
    pattern, z = _patterns(w1, b1, W2, b2, got)
    scale = 1 + np.abs(z).max(initial=0)
    off = np.abs(z).min(axis=1, initial=np.inf) if len(got) else np.zeros(0)
    bad = np.flatnonzero(off > 1e-9 * scale)
    assert not len(bad), (f"{what}: at x = {float(got[bad[0]])!r} no unit switches (the nearest pre-activation is "
                          f"{float(off[bad[0]])!r} from 0): an edge must be exact, not from a grid")
    delta = 1e-7 * (hi - lo)
    before, _ = _patterns(w1, b1, W2, b2, got - delta)
    after, _ = _patterns(w1, b1, W2, b2, got + delta)
    same = np.flatnonzero(np.all(before == after, axis=1))
    assert not len(same), f"{what}: at x = {float(got[same[0]])!r} a unit touches 0 but the pattern does not change"
    grid = np.linspace(lo, hi, 20_001)[1:-1]                  # the ends themselves are not inside
    change = np.flatnonzero(np.any(np.diff(_patterns(w1, b1, W2, b2, grid)[0], axis=0), axis=1))
    found = np.searchsorted(got, grid[change + 1] + 1e-12) - np.searchsorted(got, grid[change] - 1e-12)
    missed = change[found == 0]
    assert not len(missed), (f"{what}: the pattern changes between x = {float(grid[missed[0]])!r} and "
                             f"{float(grid[missed[0] + 1])!r}, but no edge is listed there")


# --- 07 ------------------------------------------------------------------------------------

def _accuracy(rng, i, first):
    """An accuracy at evaluation i that first reaches 1 at evaluation ``first`` (None: never), may
    drop again afterwards, and is sometimes not evaluated (None)."""
    if rng.random() < 0.1 and i != first:
        return None
    if first is None or i < first:
        return float(rng.uniform(0, 0.999))
    if i == first or rng.random() < 0.7:
        return 1.0
    return float(rng.uniform(0.9, 0.999))                          # a dip after reaching 1


def random_rows(rng):
    """A synthetic history: irregular steps; train and test accuracy first reach 1 at random
    evaluations (or never) and may dip again; LMN measured at some rows."""
    n = int(rng.integers(2, 40))
    mem = int(rng.integers(0, n + 3))
    gen = int(rng.integers(mem, n + 8))
    mem, gen = (mem if mem < n else None), (gen if gen < n else None)
    steps = np.cumsum(rng.integers(1, 30, size=n)) - 1
    rows = [{"step": int(s), "train_acc": _accuracy(rng, i, mem), "test_acc": _accuracy(rng, i, gen),
             "lmn_h1": float(rng.uniform(1, 50)) if rng.random() < 0.4 else None,
             "lmn_emb": float(rng.uniform(1, 50)) if rng.random() < 0.4 else None} for i, s in enumerate(steps)]
    if mem is not None and mem + 1 < n:
        rows[mem + 1]["train_acc"] = 0.97                         # reaches 1, then falls back
    for i in (mem, gen):
        if i is not None:
            rows[i].update(lmn_h1=1.5, lmn_emb=2.5)                # measured at the boundaries
    return rows


PHASES = ("lmn_edu.analysis.phase_steps", "lmn_edu.analysis.first_step", "lmn_edu.analysis.phase_window",
          "lmn_edu.analysis.reached", "lmn_edu.analysis.on_grid", "lmn_edu.analysis.window_arrays")


@exercise("07", stars=1, minutes=10, forbid=PHASES,
          hints=("Scan the rows in order and stop at the first one that qualifies.",
                 "Memorization is the first time train accuracy reaches 1, not the time from which it "
                 "stays there: later dips do not move it.",
                 "A row may lack an accuracy (None): skip it; a boundary never reached is None."))
def check_phase_boundaries(fn, rng):
    for _ in range(10):
        rows = random_rows(rng)
        got = fn(rows)
        equal(tuple(got) if isinstance(got, (tuple, list)) else got, analysis.phase_steps(rows),
              f"(memorized, generalized) of {len(rows)} rows")
    equal(tuple(fn([])), (None, None), "a history with no rows")


@exercise("07", stars=2, minutes=10, forbid=PHASES,
          hints=("Find the two boundaries first (your phase_boundaries), then keep the rows between them.",
                 "Both ends are in the window; a run that never generalized keeps going to its last row.",
                 "Keep only the rows where the requested column was measured — whichever column is asked for."))
def check_generalizing_window(fn, rng):
    for i in range(10):
        rows = random_rows(rng)
        column = ("lmn_h1", "lmn_emb")[i % 2]
        got = [r["step"] for r in fn(rows, column)]
        equal(got, [r["step"] for r in analysis.phase_window(rows, column)], f"steps of the window of {column}")
    rows = [{"step": 10 * i, "train_acc": 1.0 if i >= 1 else 0.5, "test_acc": 1.0 if i >= 4 else 0.5,
             "lmn_h1": None if i % 2 else 3.0, "lmn_emb": 2.0 if i % 2 else None} for i in range(6)]
    for column, want in (("lmn_emb", [10, 30]), ("lmn_h1", [20, 40])):
        equal([r["step"] for r in fn(rows, column)], want, f"steps of the window of {column}, measured every other row")


def settled_rows(rng):
    """(rows, key, threshold, patience, the answer): noisy accuracies whose settling step is planted.

    Before the answer, stretches at or above the threshold are shorter than ``patience``; the
    answer starts one that is not (or that runs to the end). Unevaluated rows are sprinkled in."""
    key = str(rng.choice(["train_acc", "test_acc"]))
    threshold = float(rng.choice([0.9, 0.95, 0.99, 1.0]))
    patience = int(rng.integers(1, 6))
    above = lambda: threshold if rng.random() < 0.3 else float(rng.uniform(threshold, 1.0))
    below = lambda: float(rng.uniform(threshold - 0.3, threshold - 1e-6))
    values, settle = [], None
    while len(values) < 40 and settle is None:
        if rng.random() < 0.25 * (1 + len(values) / 10):              # settle here
            if values and values[-1] >= threshold:
                values.append(below())                                # the stretch before must end first
            settle = len(values)
            values += [above() for _ in range(patience + int(rng.integers(0, 4)))]
            if rng.random() < 0.5:
                values += [below()] + [float(rng.uniform(threshold - 0.3, 1)) for _ in range(int(rng.integers(0, 6)))]
        else:
            values += [below()] + [above() for _ in range(int(rng.integers(0, patience)))]
    if settle is None or rng.random() < 0.2:
        if settle is None:
            values.append(below())                                    # never settles: end below
        else:                                                          # or: settle near the end, in a short stretch
            values = values[:settle] + [below()]
            settle = len(values)
            values += [above() for _ in range(int(rng.integers(1, patience + 1)))]
    rows, step = [], 0
    for k, v in enumerate(values):
        while rng.random() < 0.15:                                     # not evaluated
            rows.append({"step": step, key: None})
            step += int(rng.integers(1, 20))
        rows.append({"step": step, key: v, "index": k})
        step += int(rng.integers(1, 20))
    want = None if settle is None else next(r["step"] for r in rows if r.get("index") == settle)
    for r in rows:
        r.pop("index", None)
    return rows, key, threshold, patience, want


@exercise("07", stars=3, minutes=25, forbid=PHASES,
          hints=("Walk through the evaluations keeping track of the stretch you are in: where it started "
                 "and how long it is.",
                 "A value below the threshold ends the stretch; a row with no value changes nothing. When "
                 "a stretch reaches the patience, you have your answer: where it started.",
                 "If the run ends during a stretch that is still too short, that stretch counts; and a "
                 "value exactly at the threshold is at or above it."))
def check_settled_step(fn, rng):
    cases = [settled_rows(rng) for _ in range(12)]
    p = int(rng.integers(3, 6))
    ends = [0.5] * int(rng.integers(1, 4)) + [0.995] * (p - 1)       # a stretch too short, but to the end
    cases.append(([{"step": 10 * i, "test_acc": v} for i, v in enumerate(ends)], "test_acc", 0.99, p,
                  10 * (len(ends) - p + 1)))
    gap = [0.5, 1.0, None, 1.0, None, None, 1.0, 0.2, 1.0]             # None inside a stretch: skipped
    cases.append(([{"step": 10 * i, "train_acc": v} for i, v in enumerate(gap)], "train_acc", 1.0, 3, 10))
    for rows, key, threshold, patience, want in cases:
        values = [r[key] for r in rows]
        equal(fn(rows, key, threshold, patience), want,
              f"settled step of {key} (threshold {threshold}, patience {patience}) for values {values}")


# --- 08 ------------------------------------------------------------------------------------

LINEAR_FITS = ("lmn_edu.analysis.pearson", "lmn_edu.analysis.poly_r2", "lmn_edu.analysis.linearity",
               "lmn_edu.analysis.spearman", "lmn_edu.lmn.r_squared", "lmn_edu.lmn.r_squared_from_sums")


@exercise("08", stars=1, minutes=5, forbid=LINEAR_FITS,
          hints=("For a straight line with an intercept, R² has a short formula you met in lesson 04.",
                 "R² of the least-squares line is the squared Pearson correlation of x and y: its sign "
                 "does not matter.",
                 "A constant y leaves 0/0 in that formula; the docstring says what to return then."))
def check_linear_fit_r2(fn, rng):
    for _ in range(4):
        n = int(rng.integers(3, 30))
        x = rng.normal(size=n)
        y = rng.normal() * x + rng.normal(size=n) * rng.uniform(0.1, 3)
        close(fn(x, y), analysis.pearson(x, y) ** 2, f"R² of {n} points")
    close(fn(x, -5 * x + 1), 1.0, "R² of a falling line")
    close(fn(x, np.full(len(x), 2.0)), 1.0, "R² of a constant y")


@exercise("08", stars=2, minutes=15, forbid=LINEAR_FITS,
          hints=("Spearman's ρ is Pearson's r computed on ranks instead of values.",
                 "Rank = position in sorted order. Tied values cannot each take a different position: "
                 "give all of them the mean of the positions they share.",
                 "Check your ranks on 1, 5, 5, 7 (0, 1.5, 1.5, 3) before correlating them."))
def check_spearman(fn, rng):
    for ties in (False, False, True, True, True):
        n = int(rng.integers(3, 25))
        while True:
            x = rng.integers(0, 4, size=n).astype(float) if ties else rng.normal(size=n)
            y = (x if ties else np.exp(x)) + (rng.integers(0, 3, size=n) if ties else 0.3 * rng.normal(size=n))
            if np.ptp(x) > 0 and np.ptp(y) > 0:
                break
        close(fn(x, y), analysis.spearman(x, y), f"Spearman ρ of x = {x.tolist()}, y = {y.tolist()}")


@exercise("08", stars=3, minutes=25, forbid=LINEAR_FITS,
          hints=("Fit a line and a parabola by least squares and compare how much of y each explains.",
                 "R² = 1 − (sum of squared residuals) / (sum of squared deviations of y from its mean), "
                 "for the line and for the parabola alike.",
                 "With x near 10⁴, x² is near 10⁸ and the columns 1, x, x² are almost parallel: the fit "
                 "loses its digits. Centre and scale x first — a parabola in the new variable is still a "
                 "parabola in x."))
def check_curve_share(fn, rng):
    for offset, curvature, noise in ((0, 1, 0.3), (0, 0, 0.3), (0, 1, 0), (1e4, 1, 0.1), (1e4, 0.3, 0.3)):
        n = int(rng.integers(6, 40))
        x = offset + rng.uniform(-1, 1, size=n)                     # any order
        u = x - offset
        y = rng.normal() + rng.normal() * u + curvature * rng.normal() * u ** 2 + noise * rng.normal(size=n)
        if curvature and not noise:
            y = 2.0 + 0.5 * u + 3.0 * u ** 2                         # an exact parabola: share 1
        want = analysis.linearity(x, y)["curve_share"]
        close(fn(x, y), want, f"curve share of {n} points, x near {offset:g}" +
              (", y an exact parabola" if curvature and not noise else ""), rtol=1e-6, atol=1e-7)


# --- 09 ------------------------------------------------------------------------------------

@exercise("09", stars=1, minutes=10, forbid=TAILS,
          hints=("Which layers of the diagram come after h1?",
                 "After h1: the second Linear layer (W2, b2), SiLU, and the output layer (W3, b3).",
                 "Nothing before h1 is used: not the embedding, not W1."))
def check_tail_h1(fn, rng):
    for _ in range(3):
        params, _ = _random_params(rng)
        h = rng.normal(size=(int(rng.integers(1, 10)), params["W2"].shape[0]))
        close(fn(params, h), lmn_edu.tail_function(params, "h1")(h), "logits from h1")


@exercise("09", stars=1, minutes=5, forbid=TAILS,
          hints=("The tail after the embedding is one layer longer than the tail after h1.",
                 "emb → W1, b1 → SiLU gives h1; from there you already have the rest.",
                 "The input here is the concatenated embedding (N, 2d), not token ids."))
def check_tail_emb(fn, rng):
    for _ in range(3):
        params, _ = _random_params(rng)
        e = rng.normal(size=(int(rng.integers(1, 10)), params["W1"].shape[0]))
        close(fn(params, e), lmn_edu.tail_function(params, "emb")(e), "logits from emb")


IN_H1 = "W2 was applied to "       # how a _CountedW2 that ran out of rows starts its message


class _CountedW2(np.ndarray):
    """W2 as the student's connectivity_via_z2 gets it: it counts the rows it is multiplied with
    (by @, np.matmul, np.dot, np.einsum, np.tensordot, np.inner, W2.dot) and refuses more than ``limit``.

    The exercise maps the N points to z2 once (N rows; with the differences of the pairs as well,
    N² at most) and walks the lines there; walking them in h1 multiplies W2 with n_lambda rows per
    pair. Views and copies share the count; what is computed from W2 is a plain array. Best effort:
    ``np.asarray(W2)`` and ``x.dot(W2)`` are not counted."""

    def __array_finalize__(self, obj):
        self.limit, self.used = getattr(obj, "limit", None), getattr(obj, "used", [0])

    def __reduce__(self):                         # the count does not travel: the same pickle before and after
        return (_counted_w2, (self.view(np.ndarray), self.limit))

    def _spend(self, operands):
        if self.ndim != 2 or self.shape[0] != self.shape[1]:      # a row or a slice of W2 (H, H): not counted
            return
        self.used[0] += sum(x.size // self.shape[0] for x in operands if isinstance(x, np.ndarray)
                            and not isinstance(x, _CountedW2) and x.size % self.shape[0] == 0)
        if self.used[0] > self.limit:
            raise AssertionError(f"{IN_H1}{self.used[0]} rows, more than the {self.limit} that the points and the "
                                 "differences of their pairs need: walk each line in z2, not in h1")

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if ufunc is np.matmul:
            self._spend(inputs)
        return getattr(ufunc, method)(*_plain(inputs), **_plain(kwargs))

    def dot(self, other, out=None):
        self._spend((other,))
        return np.dot(self.view(np.ndarray), _plain(other), **({} if out is None else {"out": out}))

    def __array_function__(self, func, types, args, kwargs):
        if func in (np.matmul, np.dot, np.einsum, np.tensordot, np.inner):
            self._spend(args)
        return func(*_plain(args), **_plain(kwargs))


def _counted_w2(W2, limit):
    out = np.asarray(W2).view(_CountedW2)
    out.limit, out.used = limit, [0]
    return out


def _plain(x):
    """x with every _CountedW2 in it (in tuples, lists, dicts) as a plain array."""
    if isinstance(x, _CountedW2):
        return x.view(np.ndarray)
    if isinstance(x, (tuple, list)):
        return type(x)(_plain(v) for v in x)
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    return x


def _via_z2(fn, params, h1, *n_lambda):
    """fn(params, h1, *n_lambda) with W2 counting its rows (a line walked in h1 fails the exercise)."""
    counted = {**params, "W2": _counted_w2(params["W2"], len(h1) ** 2)}
    try:
        return fn(counted, h1, *n_lambda)
    except AssertionError as e:
        if str(e).startswith(IN_H1):
            raise AssertionError(f"{str(e).split(' (')[0]} (the identity: the line from h1_i to h1_j maps onto the "
                                 "line from z2_i to z2_j)") from None
        raise


@exercise("09", stars=3, minutes=30, forbid=CONNECTIVITY + TAILS,
          hints=("Apply the affine map to the N points once; after that, every line lives in z2.",
                 "The line from z2_i to z2_j is z2_i + λ (z2_j − z2_i). Push its n_lambda points through "
                 "SiLU and the output layer, then take r² of each logit against λ and average.",
                 "Rows of h1 may repeat, and a W2 of low rank can map two different rows of h1 to the "
                 "same z2: then the curve is constant up to rounding, and the flat-line rule must say 1."))
def check_connectivity_via_z2(fn, rng):
    for n_lambda in (None, 3, int(rng.choice([5, 11, 17, 26, 40]))):
        params, _ = _random_params(rng)
        params["W3"][:, 0] *= 1e-14                                # logit 0 varies by 1e-14: flat
        params["b3"][0] = 1.0
        H = params["W2"].shape[0]
        h1 = rng.normal(size=(int(rng.integers(2, 7)), H))
        h1 = h1[rng.integers(0, len(h1), size=len(h1) + 1)]         # a repeated row
        want = lmn_edu.connectivity_matrix(lmn_edu.tail_function(params, "h1"), h1, n_lambda or 21)
        got = _via_z2(fn, params, h1) if n_lambda is None else _via_z2(fn, params, h1, n_lambda)
        close(got, want, f"L from h1 via z2, {len(h1)} points, {n_lambda or 'the default'} λ values", rtol=1e-9, atol=1e-9)
    params, _ = _random_params(rng)
    H = params["W2"].shape[0]
    a, c = rng.normal(size=H), rng.normal(size=H)
    params["W2"] = np.outer(a, c)                                  # rank 1: z2 only sees h1 · a
    h = rng.normal(size=(3, H))
    w = rng.normal(size=H)
    h = np.vstack([h, h[0] + w - (w @ a) / (a @ a) * a])            # same z2 as row 0, another h1
    want = lmn_edu.connectivity_matrix(lmn_edu.tail_function(params, "h1"), h)
    close(_via_z2(fn, params, h), want, "L from h1 via z2 with a rank-1 W2 (rows 0 and 3 share z2)", rtol=1e-9, atol=1e-9)


# --- 10 ------------------------------------------------------------------------------------

@exercise("10", stars=1, minutes=5,
          hints=("Which entries are off the diagonal, and how many are there?",
                 "There are N² − N of them: every entry but the N on the diagonal.",
                 "A boolean mask built from the identity matrix selects them all at once."))
def check_mean_offdiagonal(fn, rng):
    for n in (2, int(rng.integers(3, 15))):
        L = rng.uniform(-0.2, 1, size=(n, n))
        L = (L + L.T) / 2
        np.fill_diagonal(L, rng.uniform(0, 3, size=n))               # not 1: the diagonal must be left out
        close(fn(L), L[~np.eye(n, dtype=bool)].mean(), f"mean off-diagonal entry of a {n}×{n} matrix")


def _negative_reference(L):
    mu, p = lmn_edu.spectrum(L)
    neg = mu < -1e-12 * np.abs(mu).max()
    return float(np.mean(neg)), float(p[neg].sum())


@exercise("10", stars=2, minutes=15, forbid=EIGEN_TO_LMN,
          hints=("Compute the eigenvalues, decide which are negative, then count and weigh them.",
                 "The share is Σ|μ| over the negative ones divided by Σ|μ| over all of them; the fraction "
                 "is their number divided by N.",
                 "An eigenvalue that is 0 in exact arithmetic comes out as ±1e-16: use the docstring's "
                 "tolerance, so that neither the zeros nor their rounding count as negative."))
def check_negative_share(fn, rng):
    k, m = int(rng.integers(2, 5)), int(rng.integers(2, 5))
    mu = np.concatenate([rng.uniform(0.1, 5, size=4), -rng.uniform(0.1, 2, size=int(rng.integers(1, 4))), np.zeros(2)])
    cases = {"a network's L": _random_L(rng, int(rng.integers(5, 20))),
             "the chain x₁ — x₂ — x₃": np.array([[1.0, 1, 0], [1, 1, 1], [0, 1, 1]]),
             f"{k} blocks of {m} (zero eigenvalues, computed as ±1e-16)": np.kron(np.eye(k), np.ones((m, m))),
             "[[1, 1], [1, 1]] (an eigenvalue exactly 0)": np.ones((2, 2)),
             f"a matrix with eigenvalues {np.round(mu, 3).tolist()}": _with_spectrum(rng, rng.permutation(mu)),
             "a matrix with eigenvalues 5, 2, −1 and −1e-14, −1e-15 (rounding, not negative)":
                 _with_spectrum(rng, rng.permutation([5.0, 2.0, -1.0, -1e-14, -1e-15]))}
    for name, L in cases.items():
        got = fn(L)
        assert isinstance(got, (tuple, list)) and len(got) == 2, "return the pair (fraction, share)"
        close(got, _negative_reference(L), f"(negative fraction, their Σ|μ| share) of {name}", rtol=1e-9, atol=1e-9)


def planted_groups(rng, threshold):
    """(L, labels): a symmetric L whose link groups (L_ij > threshold, chained) are planted.

    Each group is joined by a random chain of links; other pairs inside a group are anything;
    pairs across groups are at most the threshold, some exactly at it. Shuffled."""
    n = int(rng.integers(1, 16))
    group = rng.integers(0, int(rng.integers(1, n + 1)), size=n)
    L = rng.uniform(threshold - 0.5, threshold, size=(n, n))
    L[rng.random((n, n)) < 0.2] = threshold                          # at the threshold: not a link
    same = group[:, None] == group[None, :]
    L[same] = rng.uniform(threshold - 0.5, 1.0, size=int(same.sum()))
    for g in np.unique(group):
        members = rng.permutation(np.flatnonzero(group == g))
        for i, j in zip(members[:-1], members[1:]):                  # a chain: links need not be transitive
            L[i, j] = L[j, i] = rng.uniform(threshold + 1e-9, 1.0)
    L = np.triu(L, 1) + np.triu(L, 1).T + np.eye(n)
    _, labels = np.unique(group, return_inverse=True)
    first = {}
    labels = np.array([first.setdefault(g, len(first)) for g in group])  # numbered by first point
    return L, labels


@exercise("10", stars=3, minutes=25,
          hints=("Think of the points as nodes of a graph, with an edge wherever L_ij is above the threshold.",
                 "A group is a connected component of that graph: start at a point without a group, give "
                 "it the next number, and spread that number along edges until nothing new is reached.",
                 "Number groups in the order of their first point — starting the search from points 0, "
                 "1, 2, … in order gives that for free. An entry equal to the threshold is not an edge."))
def check_linear_groups(fn, rng):
    for _ in range(6):
        threshold = float(rng.choice([0.5, 0.8, 0.9]))
        L, want = planted_groups(rng, threshold)
        equal(np.asarray(fn(L, threshold)), want, f"groups of a {len(L)}×{len(L)} L at threshold {threshold}")
    n = int(rng.integers(2, 8))
    equal(np.asarray(fn(np.eye(n), 0.5)), np.arange(n), f"groups of the {n}×{n} identity")
    equal(np.asarray(fn(np.ones((n, n)), 0.5)), np.zeros(n, int), f"groups of {n}×{n} ones")
    L = np.array([[1.0, 0.85, 0.6], [0.85, 1.0, 0.6], [0.6, 0.6, 1.0]])
    for threshold, want in ((0.9, [0, 1, 2]), (0.8, [0, 0, 1]), (0.5, [0, 0, 0])):
        equal(np.asarray(fn(L, threshold)), np.array(want), f"groups of {L.tolist()} at threshold {threshold}")


# --- 11 ------------------------------------------------------------------------------------

@exercise("11", stars=1, minutes=5,
          hints=("Extract bit k of each number first; the case number follows.",
                 "Shifting right by k moves bit k to position 0; masking with 1 keeps only it.",
                 "The case is 2 × (bit of a) + (bit of b), so (0, 0) → 0 … (1, 1) → 3; it works on whole "
                 "arrays at once, empty ones included."))
def check_bit_cases(fn, rng):
    task = lmn_edu.make_task("xor")
    a, b, y = task.inputs[:, 0], task.inputs[:, 1], task.labels
    for k in range(5):
        case = np.asarray(fn(a, b, k))
        equal(np.isin(case, (1, 2)), ((y >> k) & 1) == 1, f"XOR, bit {k}: output bit 1 exactly in cases (0, 1), (1, 0)")
    for _ in range(3):
        n, k = int(rng.integers(0, 20)), int(rng.integers(0, 12))
        a, b = rng.integers(0, 5000, size=n), rng.integers(0, 5000, size=n)
        equal(np.asarray(fn(a, b, k)).astype(int), 2 * ((a >> k) & 1) + ((b >> k) & 1), f"bit {k} of {n} random pairs")


def _random_curve(rng):
    """A random walk, half of the time on integers (so with flat stretches)."""
    n = int(rng.integers(0, 40))
    if rng.random() < 0.5:
        return np.cumsum(rng.integers(-2, 3, size=n)).astype(float)
    return np.cumsum(rng.normal(size=n))


TURNS = ("lmn_edu.analysis.peaks", "lmn_edu.analysis._local_maxima", "lmn_edu.analysis._prominence",
         "lmn_edu.analysis.turning_points")


@exercise("11", stars=2, minutes=15, forbid=TURNS,
          hints=("Compare each interior value with its neighbours.",
                 "Below both neighbours is a minimum. Equal neighbours are the hard part: walk to the end "
                 "of a run of equal values before deciding.",
                 "A run of equal values is a flat bottom only if the values on both sides of the whole run "
                 "are higher; report its middle index, (first + last) // 2."))
def check_local_minima(fn, rng):
    cases = [_random_curve(rng) for _ in range(8)]
    cases += [np.array([3.0, 1, 1, 1, 2]), np.array([3.0, 1, 1]), np.array([2.0, 1]), np.array([1.0, 2, 2, 1])]
    for v in cases:
        equal(np.asarray(fn(v), dtype=int).ravel(), analysis.peaks(-v), f"local minima of {v.tolist()}")


@exercise("11", stars=3, minutes=35, forbid=TURNS,
          hints=("Build it from pieces: the local minima and maxima, the prominence of one of them, and the "
                 "rule that picks the two turns.",
                 "Prominence asks how far you must descend from a peak before you can climb to something "
                 "higher — on the left and on the right; the peak stands out by the smaller of the two "
                 "descents. A minimum is a peak of −values.",
                 "Only the points at or after `after` take part. The maximum must come after the chosen "
                 "minimum; a wiggle smaller than the prominence is not a turn."))
def check_turning_points(fn, rng):
    v = np.array([3.0, 1, 2, 0, 4, 3, 5, 4.5, 6])                   # the first dip stands out by exactly 1
    cases = [(v, 1.0, 0), (v, 1.0, 25), (v, 1.5, 0), (v + 0.25 * rng.normal(), 0.5, 0)]
    for _ in range(10):
        v = _random_curve(rng)
        cases.append((v, float(rng.choice([0.0, 0.5, 1.0, 2.0, 3.0])), int(rng.integers(0, 10 * len(v) + 1))))
    for v, prominence, after in cases:
        steps = 10 * np.arange(len(v))
        want = analysis.turning_points(steps, v, after=after, prominence=prominence)
        got = fn(steps, v, after, prominence)
        got = [(str(k), int(s), float(x)) for k, s, x in got]
        equal(len(got), len(want), f"number of turning points of {v.tolist()} after step {after}, prominence {prominence}")
        for (kg, sg, xg), (kw, sw, xw) in zip(got, want):
            assert (kg, sg) == (kw, sw), f"turning points of {v.tolist()} at steps {steps.tolist()} (after {after}, " \
                                         f"prominence {prominence}): got {got}, expected {want}"
            close(xg, xw, f"value at the {kw} (step {sw})")


# --- 12 ------------------------------------------------------------------------------------

FLOATS = [np.float16, np.float32, np.float64] + (
    [np.longdouble] if np.finfo(np.longdouble).eps < np.finfo(np.float64).eps else [])


@exercise("12", stars=2, minutes=10,
          hints=("When does 1 + x round back to exactly 1 in floating point?",
                 "Numbers near 1 are spaced by the machine epsilon ε; 1 + x rounds to 1 once x is below "
                 "half that spacing.",
                 "Set e^(−m) equal to that half-spacing and solve for m — with the natural logarithm, "
                 "since the exponential is e^(−m)."))
def check_collapse_margin(fn, rng):
    for dtype in FLOATS:
        m = float(fn(dtype))
        one, name, slack = dtype(1), np.dtype(dtype).name, 0.01 if dtype is np.float16 else 0.001
        assert np.isfinite(m) and m > 0, f"{name}: got a margin of {m!r}"
        assert one + np.exp(dtype(-(1 + slack) * m)) == one, \
            f"{name}: just above your margin {m!r}, 1 + e^(−m) should round to 1"
        assert one + np.exp(dtype(-(1 - slack) * m)) > one, \
            f"{name}: just below your margin {m!r}, 1 + e^(−m) should stay above 1"


def _drifting_rows(rng, key):
    steps = rng.permutation(np.arange(0, 20 * int(rng.integers(3, 15)), 20))
    a = [{"step": int(s), key: (None if rng.random() < 0.2 else float(rng.normal() * 10 ** rng.uniform(-14, 2)))}
         for s in np.sort(steps)]
    if rng.random() < 0.5:
        a[int(rng.integers(len(a)))][key] = 0.0                        # a zero: the 1e-12 guard
    b = [{"step": r["step"], key: None if r[key] is None or rng.random() < 0.1
          else r[key] * (1 + rng.normal() * 1e-6) + rng.normal() * 1e-13} for r in a]
    b = [r for r in b if rng.random() < 0.8]                          # b misses some steps
    b += [{"step": int(s) + 10, key: float(rng.normal())} for s in steps[:2]]   # and has steps a lacks
    return a, [b[i] for i in rng.permutation(len(b))]                 # in another order


@exercise("12", stars=2, minutes=15,
          hints=("Pair the rows up by their step first; only then compare values.",
                 "The two lists need not line up position by position: look rows of one up by step "
                 "in the other (a dict from step to value).",
                 "Skip pairs where either value is missing; divide by max(|a|, 1e-12) so that a = 0 does "
                 "not divide by zero; return None when nothing was compared."))
def check_max_relative_difference(fn, rng):
    key = str(rng.choice(["train_loss", "lmn_h1"]))
    for _ in range(4):
        a, b = _drifting_rows(rng, key)
        at = {r["step"]: r[key] for r in b}
        diffs = [abs(r[key] - at[r["step"]]) / max(abs(r[key]), 1e-12) for r in a
                 if r[key] is not None and at.get(r["step"]) is not None]
        got = fn(a, b, key)
        if not diffs:
            equal(got, None, "no step measured in both")
        else:
            close(got, max(diffs), f"largest relative difference of {key} over {len(diffs)} matching steps")
    equal(fn([{"step": 0, key: 1.0}], [{"step": 10, key: 1.0}], key), None, "two histories with no step in common")
    close(fn([{"step": 0, key: 1.0}], [{"step": 0, key: 3.0}], key), 2.0, "a = 1 against b = 3 (|a − b| / |a|)")
    a = [{"step": 0, key: 0.0}, {"step": 1, key: 1e-13}]
    close(fn(a, [{"step": 1, key: 2e-13}, {"step": 0, key: 5e-13}], key), 0.5, f"{a} against values 5e-13 and 2e-13 "
          "(|a − b| / max(|a|, 1e-12))")


@exercise("12", stars=3, minutes=25, forbid=("lmn_edu.mlp.logsumexp", "lmn_edu.mlp.cross_entropy", "lmn_edu.mlp.loss",
                                             "lmn_edu.mlp.softmax"),
          hints=("Write logsumexp the stable way, then make sure every operation happens in the dtype.",
                 "Subtract each row's largest logit before exp: nothing overflows and the sum is at least 1. "
                 "Cast the logits to the dtype first; NumPy keeps the dtype as long as you do not mix in "
                 "float64 arrays.",
                 "When the label's logit is the largest by a wide margin, the sum is 1 + (less than half an "
                 "ulp), which rounds to exactly 1: its log is 0 and so is the loss. Computing in float64 and "
                 "casting at the end gives a tiny nonzero loss instead."))
def check_cross_entropy_in(fn, rng):
    big = {np.float16: 1e3, np.float32: 1e4, np.float64: 1e4}               # exp(logits) would overflow
    for dtype, offset in [(d, o) for d in big for o in (0.0, big[d])]:
        eps = float(np.finfo(dtype).eps)
        N, C = int(rng.integers(4, 12)), int(rng.integers(2, 8))
        z = rng.normal(size=(N, C)) * 3
        labels = rng.integers(0, C, size=N)
        collapse = np.log(2 / eps) + np.log(C) + 1.0
        wide = rng.random(N) < 0.5                                    # these samples collapse
        z[wide, labels[wide]] = z[wide].max(axis=1) + collapse + rng.uniform(0, 2, size=int(wide.sum()))
        z += offset
        zr = z.astype(dtype).astype(np.float64)                      # the logits as the dtype holds them
        want = logsumexp(zr, axis=1) - zr[np.arange(N), labels]
        got = fn(z, labels, dtype)
        assert np.asarray(got).dtype == np.dtype(dtype), \
            f"{np.dtype(dtype).name}: got losses of dtype {np.asarray(got).dtype}"
        got = np.asarray(got, dtype=np.float64)
        for n in np.flatnonzero(wide):
            margin = zr[n, labels[n]] - np.delete(zr[n], labels[n]).max()
            assert got[n] == 0, (f"{np.dtype(dtype).name}, sample {n}: a margin of {margin:.1f} collapses the loss "
                                 f"to exactly 0 in this dtype; got {got[n]!r}")
        close(got, want, f"{np.dtype(dtype).name} losses (logits up to {np.abs(z).max():.0f})", rtol=0,
              atol=16 * eps * (1 + np.abs(z).max()))


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
          hints=("Each pair (a, b) becomes a sequence of three tokens: a, b and the equals token, the last row of W_E.",
                 "Look each token up in W_E and add the position embedding of its place in the sequence.",
                 "Put the three vectors of a sequence side by side: one row of 3·d numbers per pair."))
def check_embed_sequences(fn, rng):
    from lmn_edu import transformer
    for p, d in ((5, 4), (7, 8)):
        params, inputs = _small_transformer(rng, p, d, 2, 8)
        inputs = inputs[rng.permutation(len(inputs))[:13]]
        close(fn(params, inputs), transformer.representations(params, inputs, 2)["emb"], "embedded sequences (N, 3·d)")


@exercise("13", stars=2, minutes=25,
          forbid=("lmn_edu.transformer.attention", "lmn_edu.transformer.stages", "lmn_edu.transformer.forward",
                  "lmn_edu.transformer.representations", "lmn_edu.transformer.tail_function"),
          hints=("Only the last position asks the question: one query from it, a key and a value from every position.",
                 "Split the columns of the query, keys and values into the heads; per head, score each position "
                 "by query times key over the square root of the head's width, and softmax over the three positions.",
                 "Mix each head's values with its weights, put the heads side by side, then apply W_O; the "
                 "residual is not added here."))
def check_attention_from_equals(fn, rng):
    from lmn_edu import transformer
    for heads in (1, 2, 4):
        params, inputs = _small_transformer(rng, 7, 8, heads, 16)
        x = transformer.embed(params, inputs[:11]) * 3.0               # larger scores: a softmax that matters
        close(fn(params, x, heads), transformer.attention(params, x, heads), f"attention output with {heads} heads")


@exercise("13", stars=3, minutes=40,
          forbid=("lmn_edu.transformer.layers_lmn", "lmn_edu.transformer.tail_function", "lmn_edu.transformer.stages"),
          hints=("Choose the points and the tail: the tail is everything the network does after that layer.",
                 "From emb the points are the flattened embedded sequences and the tail reshapes them, applies "
                 "the attention and adds the residual; from attn the points are the stream at the last position "
                 "after that, and the tail is the MLP block and the unembedding.",
                 "Build the connectivity matrix of the tail on the points with the package, then turn it into LMN."))
def check_transformer_lmn(fn, rng):
    from lmn_edu import transformer
    params, inputs = _small_transformer(rng)
    pts = inputs[rng.permutation(len(inputs))[:12]]
    want = transformer.layers_lmn(params, pts, ("emb", "attn"), 2)
    for layer in ("emb", "attn"):
        close(fn(params, pts, 2, layer), want[layer], f"LMN({layer} → logits)", rtol=1e-8)
