"""The engine (engine.py): one pair loop of eq (1)-(2) for every fast path, checked against the plain
definition (lmn.connectivity_matrix) on both ops tables, in both precisions, for every layer and
output; the factored exponentials against the direct path, with the overflow guard; points of any
dtype and outputs of any scale (issue 18); the size checks."""
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from rounding import connectivity_rounding_bound, engine_r_squared
from strategies import SETTINGS, float_arrays, small_model

import lmn_edu
from lmn_edu import chunking, engine, lmn
from lmn_edu.mlp import tail_stages
from lmn_edu.mlp_lmn import tail_function
from lmn_edu.ops import NUMPY_OPS, torch_ops

try:
    import torch  # noqa: F401
    HAVE_TORCH = True
except ImportError:
    HAVE_TORCH = False

OPS = ["numpy", pytest.param("torch", marks=pytest.mark.skipif(not HAVE_TORCH, reason="torch is not installed"))]


def get_ops(name):
    return NUMPY_OPS if name == "numpy" else torch_ops("cpu")


def on(ops, stages):
    """The stages with their arrays as the ops' kind."""
    return [(s[0],) + tuple(a if a is None or callable(a) else ops.asarray(a, None) for a in s[1:]) for s in stages]


def run(ops, V, stages, **kw):
    return engine.connectivity(ops.asarray(V, None), on(ops, stages), ops=ops, **kw)


# --- the contract: the engine's L is eq (2)'s L -------------------------------------------------

@pytest.mark.parametrize("ops_name", OPS)
@pytest.mark.parametrize("factor_exp", [True, False])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("layer", ["emb", "z1", "h1", "z2", "h2"])
@pytest.mark.parametrize("output", ["logits", "probs"])
def test_engine_equals_the_definition(monkeypatch, ops_name, factor_exp, dtype, layer, output):
    params, inputs, _ = small_model(3, n=14, emb=4, hidden=7, scale=2.0)
    X = lmn_edu.representations(params, inputs)[layer]
    f = tail_function(params, layer, output)
    want = lmn_edu.connectivity_matrix(f, X)
    ops = get_ops(ops_name)
    monkeypatch.setattr(type(ops), "factor_exp", factor_exp)       # both paths, on both ops tables
    L = run(ops, X, tail_stages(params, layer, output), dtype=dtype)
    assert L.dtype == np.float64 and L.shape == want.shape
    assert np.all(np.diag(L) == 1.0) and np.array_equal(L, L.T)
    # float64: equal up to rounding (tests/rounding.py, a bound); float32: to float32's tolerance, measured
    tol = connectivity_rounding_bound(f, X) + 1e-12 if dtype == "float64" else 2e-3
    assert np.all(np.abs(L - want) <= tol)
    assert (layer, output) == ("h2", "logits") or np.any(want < 0.999)        # a non-trivial L was compared


@pytest.mark.parametrize("ops_name", OPS)
def test_any_callable_tail(ops_name):
    ops = get_ops(ops_name)
    rng = np.random.default_rng(0)
    X, A = rng.normal(size=(12, 3)), rng.normal(size=(3, 4))
    xp_tanh = np.tanh if ops_name == "numpy" else torch.tanh
    L = run(ops, X, [("affine", A, None), ("fn", lambda x: xp_tanh(x) ** 2)])
    want = lmn_edu.connectivity_matrix(lambda x: np.tanh(x @ A) ** 2, X)
    np.testing.assert_allclose(L, want, rtol=0, atol=1e-9)


@pytest.mark.parametrize("ops_name", OPS)
def test_all_affine_tail_gives_ones(ops_name):
    rng = np.random.default_rng(1)
    L = run(get_ops(ops_name), rng.normal(size=(6, 3)), [("affine", rng.normal(size=(3, 5)), rng.normal(size=5)),
                                                         ("affine", rng.normal(size=(5, 2)), None)])
    np.testing.assert_array_equal(L, np.ones((6, 6)))


@pytest.mark.parametrize("chunk, table", [(1, engine.TABLE_FLOATS), (7, 500), (300, 1), (10 ** 9, engine.TABLE_FLOATS),
                                          (10 ** 9, 500)])
def test_tiles_and_column_blocks_do_not_change_L(monkeypatch, chunk, table):
    params, inputs, _ = small_model(4, n=23)
    X = lmn_edu.representations(params, inputs)["h1"]
    L = run(NUMPY_OPS, X, tail_stages(params, "h1"))
    monkeypatch.setattr(chunking, "CHUNK_FLOATS", chunk)
    monkeypatch.setattr(engine, "TABLE_FLOATS", table)
    np.testing.assert_allclose(run(NUMPY_OPS, X, tail_stages(params, "h1")), L, rtol=0, atol=1e-13)


# --- the factored exponentials ------------------------------------------------------------------

KINDS = ["silu", "sigmoid", "tanh"]
def _exp_form(kind):
    """The direct values, from e^(−z) (accurate to an ulp where SiLU is tiny, unlike its tanh form)."""
    def f(z):
        with np.errstate(over="ignore"):
            e = np.exp(-z)
        return z / (1 + e) if kind == "silu" else 1 / (1 + e)
    return f


DIRECT = {"silu": _exp_form("silu"), "sigmoid": _exp_form("sigmoid"), "tanh": np.tanh}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_factored_values_equal_the_direct_ones(kind, dtype):
    rng = np.random.default_rng(2)
    Z = (rng.normal(size=(9, 6)) * 8).astype(dtype)           # (N, d) points before the nonlinearity
    small = Z.copy() * 1e-4                                    # lines near 0, where tanh's values are small
    lam = lmn_edu.lambdas()
    inner = lam[1:-1]
    c = engine.FACTORED[kind]
    w_i, w_j = (1 - inner)[:, None, None].astype(dtype), inner[:, None, None].astype(dtype)
    for Z, near_0 in ((Z, False), (small, True)):
        ti = engine._side_tables(NUMPY_OPS, w_i, Z[:3], c, repeat=6)
        tj = engine._side_tables(NUMPY_OPS, w_j, Z[3:], c)
        line = (w_i * Z[:3][None])[:, :, None] + (w_j * Z[3:][None])[:, None]      # (m, 3, 6, d), eq (1)
        z = line.copy()                                        # SiLU's numerator: the lines themselves
        got = engine._factored(NUMPY_OPS, kind, ti, tj, slice(0, 6), z, np.empty_like(z), near_0)
        want = DIRECT[kind](line.astype(np.float64))
        # a few ulps of each value; tanh: of the curve's scale, as the line itself (its z is a sum)
        scale = np.abs(want) if kind != "tanh" else np.abs(want).max(axis=(0, 3), keepdims=True)
        assert got.dtype == dtype
        assert np.all(np.abs(got - want) <= 16 * np.finfo(dtype).eps * scale + 1e-300)


@pytest.mark.parametrize("ops_name", OPS)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_factored_path_equals_direct_path_and_the_guard_holds(monkeypatch, ops_name, kind, dtype):
    ops = get_ops(ops_name)
    monkeypatch.setattr(type(ops), "factor_exp", True)
    rng = np.random.default_rng(5)
    V = rng.normal(size=(16, 5)) * 3                           # points before the nonlinearity
    big = 6 * engine._guard(np.dtype(dtype), engine.FACTORED[kind])
    V[3, 1], V[7, 1] = big, -big                               # two points whose factors would overflow
    W = rng.normal(size=(5, 3))
    stages = [(kind,), ("affine", W, rng.normal(size=3))]
    with warnings.catch_warnings():
        warnings.simplefilter("error")                         # no overflow, no invalid value
        L = run(ops, V, stages, dtype=dtype)
    monkeypatch.setattr(engine, "FACTORED", {})                # every tile on the direct path
    direct = run(ops, V, stages, dtype=dtype)
    f = lambda x: DIRECT[kind](x) @ W                          # noqa: E731
    tol = connectivity_rounding_bound(f, V) + 1e-12 if dtype == "float64" else 1e-3
    assert np.all(np.isfinite(L)) and np.all(np.abs(L - direct) <= tol)
    assert np.all(np.abs(L - lmn_edu.connectivity_matrix(f, V)) <= tol)
    # and the guard is what holds: without it the factors overflow (inf · 0) on those points
    monkeypatch.setattr(engine, "FACTORED", {"silu": 1.0, "sigmoid": 1.0, "tanh": 2.0})
    monkeypatch.setattr(engine, "_guard", lambda dtype, c: np.inf)
    with np.errstate(all="ignore"), pytest.raises(lmn_edu.errors.NotFiniteError):
        run(ops, V, stages, dtype=dtype)


# --- r² from sums: the value of lmn.r_squared on the whole curve --------------------------------

@st.composite
def curves(draw, p, n_lambda, d, offset, spread):
    """(P, n_lambda, d) curves: smooth random ones, one exactly flat, one flat up to rounding; and λ."""
    lam = lmn_edu.lambdas(n_lambda)
    coef = draw(float_arrays((p, 4, d), 3.0))
    y = sum(coef[:, k, None, :] * lam[None, :, None] ** k for k in range(4))   # cubic in λ
    y = offset + spread * y
    y[0, :, 0] = offset
    y[-1, :, -1] = offset + 1e-14 * abs(offset) * draw(float_arrays(n_lambda, 3.0))
    return y, lam


@SETTINGS
@given(data=st.data(), p=st.integers(1, 6), n_lambda=st.integers(3, 30), d=st.integers(1, 5),
       offset=st.sampled_from([0.0, 1.0, -30.0, 1e4]), spread=st.sampled_from([1e-3, 1.0, 50.0]),
       scale=st.sampled_from([1.0, 1e-200, 1e200]))
def test_r_squared_from_sums_equals_r_squared(data, p, n_lambda, d, offset, spread, scale):
    y, lam = data.draw(curves(p, n_lambda, d, offset, spread))
    y = y * scale
    expected = lmn_edu.r_squared(y, lam)
    got = engine_r_squared(y, lam)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-9)
    assert got[0, 0] == 1.0 and got[-1, -1] == 1.0                            # the flat-line rule


def test_r_squared_from_sums_keeps_precision_far_from_zero():
    lam = lmn_edu.lambdas()
    y = (1e6 + 1e-3 * (lam - 0.5) ** 2)[None, :, None]        # a short parabola on a large offset
    assert abs(engine_r_squared(y, lam)[0, 0] - lmn_edu.r_squared(y, lam)[0, 0]) < 1e-6


# --- issue 18: points of any dtype, outputs of any scale, sizes -----------------------------------

@SETTINGS
@given(seed=st.integers(0, 2 ** 32 - 1), exponent=st.integers(-664, 664),
       dtype=st.sampled_from(["uint8", "int8", "int16", "int32", "int64", "uint64", "float16", "float32", "float64"]))
def test_any_scale_and_any_point_dtype_give_the_float64_lmn(seed, exponent, dtype):
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 6, size=(9, 2)).astype(dtype)          # small integers: exact in every dtype
    A = rng.normal(size=(2, 3))
    scale = 2.0 ** exponent                                    # 1e-200 … 1e200, and exact: f's values only rescale
    f = lambda x: np.tanh(x @ A - 2.0)                         # noqa: E731
    reference = lmn_edu.connectivity_matrix(f, X.astype(np.float64))
    L = lmn_edu.connectivity_matrix(lambda x: scale * f(x), X)
    np.testing.assert_array_equal(L, reference)
    assert lmn_edu.lmn_of(lambda x: scale * f(x), X) == lmn_edu.linear_mapping_number(reference)
    # a scale that rounds f's values: the same L up to what that rounding can move (tests/rounding.py)
    L = lmn_edu.connectivity_matrix(lambda x: 3.7 * scale * f(x), X)
    assert np.all(np.abs(L - reference) <= connectivity_rounding_bound(f, X.astype(np.float64)) + 1e-12)
    E = engine.connectivity(X, [("affine", A, -2.0 * np.ones(3)), ("tanh",), ("affine", scale * np.eye(3), None)],
                            ops=NUMPY_OPS, dtype="float64")    # float32 points: the tail still in float64
    assert np.all(np.abs(E - reference) <= connectivity_rounding_bound(f, X.astype(np.float64)) + 1e-12)
    assert np.any(reference < 0.999)


def test_unsigned_points_do_not_wrap():
    X = np.array([[3, 5], [5, 3], [0, 9], [9, 0]], dtype=np.uint8)
    f = lambda x: np.tanh(x / 4.0) ** 2                        # noqa: E731
    np.testing.assert_array_equal(lmn_edu.connectivity_matrix(f, X), lmn_edu.connectivity_matrix(f, X.astype(float)))


@pytest.mark.parametrize("X, match", [
    (np.ones((3, 2), bool), "X must hold real numbers"),
    (np.ones((3, 2), complex), "X must hold real numbers"),
    (np.array([[1, 2], [3, "a"]], dtype=object), "X must hold real numbers"),
    (np.array([[2 ** 60, 0], [0, 1]], dtype=np.int64), "X holds integers beyond 2"),
])
def test_points_that_no_float_holds_are_refused(X, match):
    with pytest.raises(lmn_edu.LMNInputError, match=match):
        lmn_edu.connectivity_matrix(np.tanh, X)
    with pytest.raises(lmn_edu.LMNInputError, match=match.replace("X", "V")):
        engine.connectivity(X, [("tanh",)], ops=NUMPY_OPS)


def test_sizes_are_checked_before_allocating(monkeypatch):
    monkeypatch.setattr(lmn, "available_bytes", lambda: 10_000)
    X = np.random.default_rng(0).normal(size=(50, 3))
    with pytest.raises(lmn_edu.LMNInputError, match="X is too large"):
        lmn_edu.connectivity_matrix(np.tanh, X)
    with pytest.raises(lmn_edu.LMNInputError, match="X is too large"):
        engine.connectivity(X, [("tanh",)], ops=NUMPY_OPS)
    monkeypatch.setattr(lmn, "available_bytes", lambda: 100_000)
    with pytest.raises(lmn_edu.LMNInputError, match="n_lambda is too large"):
        lmn_edu.connectivity_matrix(np.tanh, X[:3], n_lambda=5000)
    with pytest.raises(lmn_edu.LMNInputError, match="n_lambda"):
        lmn_edu.lambdas(10 ** 8)                                # refused before linspace allocates


# --- stages as data: checked --------------------------------------------------------------------

@pytest.mark.parametrize("stages, match", [
    ("silu", "stages must be a list"),
    ([("gelu",)], r"stages\[0\]"),
    ([("affine", np.ones((4, 2)), None)], r"stages\[0\]: W has shape \(4, 2\); it must be \(3, d_out\)"),
    ([("affine", np.ones((3, 2)), np.ones(3))], r"stages\[0\]: b has shape"),
    ([("silu",), ("fn", 3)], r"stages\[1\] must be \('fn', callable\)"),
    ([("silu", 1)], r"stages\[0\] must be \('silu',\)"),
])
def test_bad_stages_are_named(stages, match):
    with pytest.raises(lmn_edu.LMNInputError, match=match):
        engine.connectivity(np.ones((4, 3)), stages, ops=NUMPY_OPS)


def test_bad_dtype_is_named():
    with pytest.raises(lmn_edu.LMNInputError, match="dtype"):
        engine.connectivity(np.ones((4, 3)), [("silu",)], ops=NUMPY_OPS, dtype="float16")


# --- one LMN-precision rule for both backends ------------------------------------------------------

@pytest.mark.skipif(not HAVE_TORCH, reason="torch is not installed")
def test_lmn_precision_is_the_same_rule_on_both_backends():
    from lmn_edu.backends import get_backend
    params, inputs, _ = small_model(6, n=16)
    task = lmn_edu.make_task("xor")
    tb = get_backend("torch", dtype="float32", device="cpu")
    opt = lmn_edu.AdamW()
    p32 = {k: v.astype(np.float32) for k, v in params.items()}
    tb.setup(p32, task, np.arange(10), np.arange(10, 20), opt)
    for precision in ("float64", "float32"):
        want = lmn_edu.layers_lmn(p32, inputs, ("emb", "h1"), precision=precision)
        got = tb.lmn(inputs, ("emb", "h1"), precision=precision)          # trained in float32 either way
        for layer in want:
            assert got[layer] == pytest.approx(want[layer], rel=1e-9 if precision == "float64" else 1e-5), layer
