"""Float32 LMN is right on any CPU: tested with injected noise, never with this CPU's kernels.

Float32 kernels need not round a row the same at another position of a batch (AMD vs Intel), so
a flat curve carries noise of a few float32 ulps. Two rules make LMN independent of that:
a line from a point to itself is linear by definition (L_ij = 1), and the flat-line tolerance
follows the precision of the arithmetic (lmn.flat_rtol): above float32's noise, below real bends.
Here the noise is injected: a few ulps of the curve's size (about 1e-7 relative), different at
every batch position, as the worst CPU would give.
"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lmn_edu
from lmn_edu import engine
from lmn_edu.lmn import FLAT_RTOL, flat_rtol, r_squared
from rounding import engine_r_squared

EPS32 = float(np.finfo(np.float32).eps)
SETTINGS = settings(max_examples=30, deadline=None)
seeds = st.integers(0, 2 ** 32 - 1)


def noisy(y, rng, ulps=4.0):
    """y plus uniform noise of up to ``ulps`` float32 ulps of each curve's largest |y|, as float32.

    y: (P, n_lambda, d) curves."""
    scale = np.abs(y).max(axis=(1, 2), keepdims=True)                     # (P, 1, 1)
    return (y + rng.uniform(-ulps, ulps, y.shape) * EPS32 * scale).astype(np.float32)


def flat_curves(rng, p, n_lambda, d, magnitude):
    """(P, n_lambda, d) constant curves of random levels up to ``magnitude``."""
    levels = rng.uniform(-1, 1, (p, 1, d)) * magnitude
    return np.broadcast_to(levels, (p, n_lambda, d)).copy()


def bent(y, lam, bend):
    """Each curve times 1 + bend · 4λ(1 − λ): a parabola of relative height ``bend``, r² ≈ 0."""
    return y * (1 + bend * 4 * lam * (1 - lam))[None, :, None]


def test_the_tolerance_follows_the_dtype():
    assert flat_rtol(np.float64) == FLAT_RTOL                          # float64 unchanged
    assert flat_rtol(np.int64) == FLAT_RTOL                            # integers are exact
    assert 10 * EPS32 < flat_rtol(np.float32) < 1e-4 / 4               # above noise, below a 1e-4 bend's spread
    assert flat_rtol("float32") == flat_rtol(np.dtype(np.float32))


# --- r² of one curve: lmn.r_squared (generic) and the fast path's sums -------------------------

@SETTINGS
@given(seed=seeds, p=st.integers(1, 6), n_lambda=st.integers(3, 25), d=st.integers(1, 8),
       magnitude=st.sampled_from([1e-3, 1.0, 30.0, 1e4]), ulps=st.floats(0.5, 8.0))
def test_noisy_flat_curves_count_as_flat_in_float32(seed, p, n_lambda, d, magnitude, ulps):
    rng = np.random.default_rng(seed)
    lam = lmn_edu.lambdas(n_lambda)
    y32 = noisy(flat_curves(rng, p, n_lambda, d, magnitude), rng, ulps)
    np.testing.assert_array_equal(r_squared(y32, lam), 1.0)           # rtol from y's dtype
    got = engine_r_squared(y32, lam, flat_rtol(np.float32))          # the engine's sums
    np.testing.assert_array_equal(got, 1.0)


@SETTINGS
@given(seed=seeds, p=st.integers(1, 6), n_lambda=st.sampled_from([11, 21, 41]), d=st.integers(1, 8),
       magnitude=st.sampled_from([1e-3, 1.0, 30.0, 1e4]), bend=st.sampled_from([1e-4, 1e-3, 0.1]))
def test_a_bend_of_1e_4_is_not_flat_in_float32(seed, p, n_lambda, d, magnitude, bend):
    rng = np.random.default_rng(seed)
    lam = lmn_edu.lambdas(n_lambda)
    levels = flat_curves(rng, p, n_lambda, d, magnitude)
    levels[np.abs(levels) < 0.5 * magnitude] = 0.5 * magnitude        # every curve near the curve's size
    y32 = noisy(bent(levels, lam, bend), rng)
    r2 = r_squared(y32, lam)
    assert np.all(r2 < 0.2)                                            # a symmetric bend: r² ≈ 0, not 1
    got = engine_r_squared(y32, lam, flat_rtol(np.float32))
    np.testing.assert_allclose(got, r2, atol=1e-6)


def test_float64_tolerance_would_read_that_noise_as_curvature():
    # why the tolerance must follow the dtype: the same noisy curves judged with float64's rule
    rng = np.random.default_rng(0)
    lam = lmn_edu.lambdas()
    y32 = noisy(flat_curves(rng, 4, 21, 20, 1.0), rng)
    assert np.all(r_squared(y32, lam) == 1.0)
    assert np.mean(r_squared(y32, lam, rtol=FLAT_RTOL)) < 0.5


# --- whole matrices: generic, fast path, torch, with noise injected where the kernels run -------

def noisy_function(f, seed, ulps=4.0):
    """f, returning float32 with noise that depends on the row's position in the batch."""
    rng = np.random.default_rng(seed)

    def g(x):
        y = np.asarray(f(x), dtype=np.float64)                            # (M, d_out)
        scale = np.abs(y).max()
        return (y + rng.uniform(-ulps, ulps, y.shape) * EPS32 * scale).astype(np.float32)
    return g


@SETTINGS
@given(seed=seeds, n=st.integers(2, 12), d_in=st.integers(1, 4), d_out=st.integers(1, 5))
def test_generic_path_duplicates_and_flat_outputs_under_float32_noise(seed, n, d_in, d_out):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d_in))
    X[-1] = X[0]                                                        # a duplicate point
    A = rng.normal(size=(d_in, d_out))
    level = rng.uniform(-5, 5, d_out)
    const = noisy_function(lambda x: np.broadcast_to(level, (len(x), d_out)), seed)
    np.testing.assert_array_equal(lmn_edu.connectivity_matrix(const, X), 1.0)   # flat everywhere
    for ulps in (4.0, 1e4):                     # 1e4 ulps (1e-3) is no longer flat: the rule for points decides
        curved = noisy_function(lambda x: np.tanh(x @ A) ** 2 + 1.0, seed, ulps)
        L = lmn_edu.connectivity_matrix(curved, X)
        assert L[0, n - 1] == L[n - 1, 0] == 1.0                                 # a point: linear by definition


def test_generic_path_keeps_a_1e_4_bend_under_float32_noise():
    X = np.array([[0.0], [1.0], [2.0]])
    f = noisy_function(lambda x: 1.0 + 1e-4 * np.sin(3.0 * x), seed=0)          # bends by 1e-4 of its size
    L = lmn_edu.connectivity_matrix(f, X)
    assert L[0, 1] < 0.9 and L[1, 2] < 0.9


def add_kernel_noise(monkeypatch, ulps):
    """The engine's stages (endpoints and every tile) add up to ``ulps`` float32 ulps of noise to
    what they return, different at each row."""
    rng = np.random.default_rng(0)
    run = engine._run

    def noisy_run(ops, stages, x, scratch=None):
        out, widest = run(ops, stages, x, scratch)
        if out.dtype == np.float32:
            out += (rng.uniform(-ulps, ulps, out.shape) * EPS32 * np.abs(out).max()).astype(np.float32)
        return out, widest
    monkeypatch.setattr(engine, "_run", noisy_run)


@pytest.fixture
def noisy_kernels(monkeypatch):
    add_kernel_noise(monkeypatch, 4.0)


def small_model(seed, n=10, vocab=7, classes=5):
    rng = np.random.default_rng(seed)
    params = lmn_edu.init_params(rng, vocab, classes, emb_dim=3, hidden=6)
    return params, rng.integers(0, vocab, size=(n, 2))


@pytest.mark.parametrize("layer", ["emb", "h1"])
@pytest.mark.parametrize("output", ["logits", "probs"])
@pytest.mark.parametrize("ulps", [4.0, 1e4])
def test_fast_path_float32_duplicates_under_noisy_kernels(monkeypatch, layer, output, ulps):
    add_kernel_noise(monkeypatch, ulps)
    params, inputs = small_model(1)
    inputs = np.concatenate([inputs, inputs[:2]])                      # points 0 and 1 appear twice
    L = lmn_edu.layer_connectivity(params, inputs, layer, output, precision="float32")
    n = len(inputs)
    assert L[0, n - 2] == 1.0 and L[1, n - 1] == 1.0
    assert np.all(np.diag(L) == 1.0) and np.sum(L < 1.0) > 0           # the rest is measured


def test_fast_path_float32_flat_output_under_noisy_kernels(noisy_kernels):
    # a constant output coordinate (its weights zero): flat, r² = 1, as float64 says without noise
    params, inputs = small_model(2)
    params["W3"][:, 0] = 0.0
    L64 = lmn_edu.layer_connectivity(params, inputs, "h1")
    L32 = lmn_edu.layer_connectivity(params, inputs, "h1", precision="float32")
    np.testing.assert_allclose(L32, L64, rtol=0, atol=1e-3)
    params["W3"][:] = 0.0                                               # every output constant
    np.testing.assert_array_equal(lmn_edu.layer_connectivity(params, inputs, "h1", precision="float32"), 1.0)


# --- torch: the same rules on the device -------------------------------------------------------

def test_torch_float32_duplicates_and_flat_outputs_under_noise():
    torch = pytest.importorskip("torch")
    from lmn_edu.ops import torch_ops
    from lmn_edu.torch_lmn import connectivity
    rng = np.random.default_rng(3)
    gen = torch.Generator().manual_seed(0)
    W = torch.as_tensor(rng.normal(size=(3, 4)), dtype=torch.float32)

    def tail(x, ulps=4.0):                                              # tanh, plus a constant output, plus noise
        y = torch.cat([torch.tanh(x @ W), torch.full((len(x), 1), 2.5)], dim=1)
        return y + (torch.rand(y.shape, generator=gen) - 0.5) * 2 * ulps * EPS32 * y.abs().max()
    X = torch.as_tensor(rng.normal(size=(6, 3)), dtype=torch.float32)
    X[5] = X[0]
    for ulps in (4.0, 1e4):
        L = connectivity(lambda x: tail(x, ulps), X)
        assert L[0, 5] == L[5, 0] == 1.0
    L_const = connectivity(lambda x: tail(x)[:, 4:], X)                 # only the constant coordinate
    np.testing.assert_array_equal(L_const, 1.0)
    # the engine's r² on the device follows the same rule as lmn.r_squared
    lam = lmn_edu.lambdas()
    y32 = noisy(bent(flat_curves(rng, 3, 21, 4, 1.0) + 2.0, lam, 1e-4), rng)
    got = engine_r_squared(y32, lam, flat_rtol(np.float32), ops=torch_ops("cpu"))
    np.testing.assert_allclose(got, r_squared(y32, lam), atol=1e-9)
    assert np.all(got < 0.2)
