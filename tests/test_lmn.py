"""Eq (1)-(3) on known cases, and the properties LMN must have (hypothesis)."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import SETTINGS, float_arrays

import lmn_edu
from lmn_edu.lmn import r_squared


def points(seed, n, d, scale=1.0):
    return np.random.default_rng(seed).normal(size=(n, d)) * scale


# --- eq (1)-(2): r² along a line -------------------------------------------------------------

def test_lambda_grid():
    assert np.allclose(lmn_edu.lambdas(), np.arange(21) * 0.05)


def test_r2_line_parabola_kink_flat():
    lam = lmn_edu.lambdas()
    curves = np.stack([3 * lam - 1, (lam - 0.5) ** 2, np.abs(lam - 0.3), np.full_like(lam, 2.5)], axis=1)
    r2 = r_squared(curves[None], lam)[0]
    assert np.isclose(r2[0], 1.0, atol=1e-15)       # a line
    assert np.isclose(r2[1], 0.0, atol=1e-15)       # a symmetric parabola (the paper's example)
    assert 0.2 < r2[2] < 0.95                        # a kink: in between
    assert r2[3] == 1.0                              # flat: constant is linear (0/0 rule)


def test_r2_is_squared_pearson():
    rng = np.random.default_rng(0)
    lam = lmn_edu.lambdas()
    y = rng.normal(size=(4, 21, 3))
    expected = [[np.corrcoef(lam, y[p, :, k])[0, 1] ** 2 for k in range(3)] for p in range(4)]
    np.testing.assert_allclose(r_squared(y, lam), expected, rtol=1e-12)


def test_flat_rule_ignores_rounding_noise():
    lam = lmn_edu.lambdas()
    y = 1e3 + 1e-13 * np.random.default_rng(1).normal(size=(1, 21, 1))
    assert r_squared(y, lam)[0, 0] == 1.0


# --- properties ------------------------------------------------------------------------------

@SETTINGS
@given(data=st.data(), n=st.integers(2, 12), d_in=st.integers(1, 6), d_out=st.integers(1, 6),
       scale=st.floats(1e-3, 1e3))
def test_affine_map_has_L_one_and_LMN_one(data, n, d_in, d_out, scale):
    A = data.draw(float_arrays((d_in, d_out), 3 * scale), "A")
    b = data.draw(float_arrays(d_out, 3 * scale), "b")
    X = data.draw(float_arrays((n, d_in), 3 * scale), "X")
    L = lmn_edu.connectivity_matrix(lambda x: x @ A + b, X)
    np.testing.assert_allclose(L, 1.0, atol=1e-9)
    assert np.isclose(lmn_edu.linear_mapping_number(L), 1.0, atol=1e-6)


@SETTINGS
@given(data=st.data(), c=st.integers(1, 8), size=st.integers(1, 6))
def test_block_diagonal_all_ones_gives_c(data, c, size):
    L = np.kron(np.eye(c), np.ones((size, size)))
    perm = np.array(data.draw(st.permutations(range(c * size)), "perm"))
    L = L[perm][:, perm]                                   # the blocks need not be contiguous
    assert np.isclose(lmn_edu.linear_mapping_number(L), c, rtol=1e-9)
    assert np.isclose(lmn_edu.nonlinear_entropy(L), np.log2(c), atol=1e-9)


def nonlinear(A, B):
    """x -> tanh(x A) B: A (d_in, 5), B (5, d_out)."""
    return lambda x: np.tanh(x @ A) @ B


def nonlinear_weights(d_in, d_out):
    """(A, B) for nonlinear: A in ±6 and B in ±3 (3 σ of the normal draws 2·N(0, 1) and N(0, 1))."""
    return st.tuples(float_arrays((d_in, 5), 6.0), float_arrays((5, d_out), 3.0))


@SETTINGS
@given(data=st.data(), n=st.integers(2, 15), d_in=st.integers(1, 4), d_out=st.integers(1, 4))
def test_L_symmetric_unit_diagonal_in_unit_interval(data, n, d_in, d_out):
    f = nonlinear(*data.draw(nonlinear_weights(d_in, d_out), "A, B"))
    L = lmn_edu.connectivity_matrix(f, data.draw(float_arrays((n, d_in), 6.0), "X"))
    assert np.array_equal(L, L.T)
    assert np.all(np.diag(L) == 1.0)
    assert np.all((L >= 0) & (L <= 1))


@SETTINGS
@given(data=st.data(), n=st.integers(1, 15), d_in=st.integers(1, 4))
def test_LMN_between_1_and_N(data, n, d_in):
    f = nonlinear(*data.draw(nonlinear_weights(d_in, 3), "A, B"))
    L = lmn_edu.connectivity_matrix(f, data.draw(float_arrays((n, d_in), 9.0), "X"))
    v = lmn_edu.linear_mapping_number(L)
    assert 1.0 - 1e-12 <= v <= n + 1e-9


@SETTINGS
@given(data=st.data(), n=st.integers(2, 12))
def test_LMN_invariant_to_point_order(data, n):
    f, X = nonlinear(*data.draw(nonlinear_weights(2, 3), "A, B")), data.draw(float_arrays((n, 2), 6.0), "X")
    perm = np.array(data.draw(st.permutations(range(n)), "perm"))
    L, Lp = lmn_edu.connectivity_matrix(f, X), lmn_edu.connectivity_matrix(f, X[perm])
    np.testing.assert_allclose(Lp, L[perm][:, perm], atol=1e-12)
    assert np.isclose(lmn_edu.linear_mapping_number(L), lmn_edu.linear_mapping_number(Lp), rtol=1e-9)


@SETTINGS
@given(data=st.data(), n=st.integers(2, 10), k=st.integers(3, 40))
def test_n_lambda_any(data, n, k):
    f, X = nonlinear(*data.draw(nonlinear_weights(2, 2), "A, B")), data.draw(float_arrays((n, 2), 3.0), "X")
    L = lmn_edu.connectivity_matrix(f, X, n_lambda=k)
    assert L.shape == (n, n) and np.all((L >= 0) & (L <= 1))


def fixed_nonlinear(seed, d_in, d_out):
    rng = np.random.default_rng(seed)
    return nonlinear(rng.normal(size=(d_in, 5)) * 2, rng.normal(size=(5, d_out)))


def test_duplicate_points_are_linearly_connected():
    X = np.array([[0.3, -1.0], [0.3, -1.0], [2.0, 1.0]])
    L = lmn_edu.connectivity_matrix(fixed_nonlinear(0, 2, 2), X)
    assert L[0, 1] == 1.0


def test_chunking_does_not_change_L(monkeypatch):
    f, X = fixed_nonlinear(3, 3, 2), points(3, 30, 3)
    L = lmn_edu.connectivity_matrix(f, X)
    monkeypatch.setattr(lmn_edu.chunking, "CHUNK_FLOATS", 1)           # one pair per chunk
    np.testing.assert_array_equal(lmn_edu.connectivity_matrix(f, X), L)


def test_negative_eigenvalues_are_taken_absolute():
    L = np.array([[1.0, 0.9, 0.0], [0.9, 1.0, 0.9], [0.0, 0.9, 1.0]])   # not PSD
    mu, p = lmn_edu.spectrum(L)
    assert mu.min() < 0
    np.testing.assert_allclose(p, np.abs(mu) / np.abs(mu).sum())
    assert np.isclose(lmn_edu.nonlinear_entropy(L), -(p * np.log2(p)).sum())


def test_identity_matrix_gives_N():
    assert np.isclose(lmn_edu.linear_mapping_number(np.eye(7)), 7.0)


# --- bad input -------------------------------------------------------------------------------

@pytest.mark.parametrize("X, match", [
    (np.zeros(5), "2-D"),
    (np.zeros((0, 3)), "at least one"),
    (np.array([[0.0, np.nan]]), "NaN"),
    (np.array([[np.inf, 1.0]]), "NaN or inf"),
])
def test_connectivity_rejects_bad_points(X, match):
    with pytest.raises(lmn_edu.LMNInputError, match=match):
        lmn_edu.connectivity_matrix(lambda x: x, X)


def test_connectivity_rejects_bad_f_and_n_lambda():
    X = points(0, 4, 2)
    with pytest.raises(lmn_edu.LMNInputError, match="returned shape"):
        lmn_edu.connectivity_matrix(lambda x: x[:1], X)
    with pytest.raises(lmn_edu.LMNInputError, match="NaN"):
        lmn_edu.connectivity_matrix(lambda x: x * np.nan, X)
    with pytest.raises(lmn_edu.LMNInputError, match="n_lambda"):
        lmn_edu.connectivity_matrix(lambda x: x, X, n_lambda=1)


@pytest.mark.parametrize("L", [np.ones((2, 3)), np.array([[1.0, 0.2], [0.3, 1.0]]), np.array([[np.nan]])])
def test_entropy_rejects_bad_L(L):
    with pytest.raises(lmn_edu.LMNInputError):
        lmn_edu.nonlinear_entropy(L)
