"""mlp.logsumexp: the value of log Σ exp(x), stable for large |x|, and autograd's gradients right."""
import numpy as np
import pytest
from autograd import grad
from autograd.test_util import check_grads
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from lmn_edu import mlp

finite = st.floats(-30, 30, allow_nan=False, allow_infinity=False)
arrays = hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=5), elements=finite)


@settings(max_examples=50, deadline=None)
@given(x=arrays, shift=st.floats(-1e3, 1e3), data=st.data())
def test_equals_the_definition_and_is_shift_invariant(x, shift, data):
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1))
    direct = np.log(np.sum(np.exp(x), axis=axis))               # safe: |x| <= 30
    np.testing.assert_allclose(mlp.logsumexp(x, axis=axis), direct, rtol=1e-13, atol=1e-13)
    # shifting x shifts the result; exp(x + 1000) alone would overflow
    np.testing.assert_allclose(mlp.logsumexp(x + shift, axis=axis), direct + shift, rtol=1e-13, atol=1e-10)


def test_keepdims_and_extremes():
    x = np.array([[1000.0, 1000.0, -1000.0], [-1e4, -1e4 - np.log(3.0), -np.inf]])
    out = mlp.logsumexp(x, axis=1, keepdims=True)
    assert out.shape == (2, 1)
    np.testing.assert_allclose(out[:, 0], [1000.0 + np.log(2.0), -1e4 + np.log(4.0 / 3.0)], rtol=1e-15)


@pytest.mark.parametrize("scale", [1.0, 50.0, 1e3])
def test_gradients_check_grads(scale):
    # first and second order, forward and reverse: also where the shift m is far from 0
    x = np.random.default_rng(0).normal(size=(4, 6)) * scale
    check_grads(lambda v: mlp.logsumexp(v, axis=1), modes=["fwd", "rev"], order=2)(x)


def test_gradient_is_softmax_also_at_ties():
    # the maximum is attained twice: the shift's share of the gradient must still vanish
    x = np.array([[3.0, 3.0, -1.0, 0.5]])
    g = grad(lambda v: mlp.logsumexp(v, axis=1).sum())(x)
    e = np.exp(x - x.max())
    np.testing.assert_allclose(g, e / e.sum(), rtol=1e-14)


def test_softmax_and_cross_entropy_stay_finite_for_huge_logits():
    z = np.array([[800.0, 0.0, -800.0], [0.0, 800.0, 0.0]])
    np.testing.assert_allclose(mlp.softmax(z), [[1, 0, 0], [0, 1, 0]], atol=1e-300)
    assert mlp.cross_entropy(z, np.array([0, 1])) == 0.0
    assert mlp.cross_entropy(z, np.array([2, 0])) == pytest.approx((1600.0 + 800.0) / 2)
