"""primitives.py: the hand-written gradients equal autograd's on the textbook formulas (to
float64 rounding), at first and second order, in forward and reverse mode, for float64 and
float32, and the training loss built from them equals the old one and torch's."""
import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad, value_and_grad
from autograd.test_util import check_grads
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from strategies import small_model

from lmn_edu import mlp
from lmn_edu import primitives as P

rng = np.random.default_rng(0)


# --- the formulas the primitives replace, in plain autograd.numpy ---------------------------

def old_sigmoid(x):
    return 0.5 * (anp.tanh(0.5 * x) + 1.0)


def old_logsumexp(x, axis=-1):
    m = anp.max(x, axis=axis, keepdims=True)
    return anp.squeeze(m + anp.log(anp.sum(anp.exp(x - m), axis=axis, keepdims=True)), axis=axis)


def old_loss(params, inputs, labels):
    E = params["emb"]
    h = anp.concatenate([E[inputs[:, 0]], E[inputs[:, 1]]], axis=1)
    h = h @ params["W1"] + params["b1"]
    h = h * old_sigmoid(h)
    h = h @ params["W2"] + params["b2"]
    h = h * old_sigmoid(h)
    z = h @ params["W3"] + params["b3"]
    return anp.mean(old_logsumexp(z, axis=1) - z[np.arange(len(z)), labels])


# --- values -----------------------------------------------------------------------------------

@settings(max_examples=50, deadline=None)
@given(x=hnp.arrays(np.float64, hnp.array_shapes(max_dims=3, max_side=6), elements=st.floats(-800, 800)))
def test_sigmoid_and_silu_equal_the_definitions(x):
    with np.errstate(over="ignore"):
        direct = 1.0 / (1.0 + np.exp(-x))
    np.testing.assert_allclose(P.sigmoid(x), direct, rtol=4e-16, atol=0)        # relative: also σ ≈ e^x
    np.testing.assert_allclose(P.sigmoid(x), old_sigmoid(x), rtol=0, atol=3e-16)  # the tanh form, absolute
    np.testing.assert_allclose(P.silu(x), x * direct, rtol=1e-15, atol=0)


@pytest.mark.parametrize("dtype, low", [(np.float64, -800.0), (np.float32, -100.0)])
def test_sigmoid_no_warning_keeps_dtype_and_scalars(dtype, low):
    x = np.array([low, -1.0, 0.0, 1.0, -low], dtype=dtype)
    with np.errstate(over="raise", invalid="raise"):        # an overflow warning would raise here
        s = P.sigmoid(x)
    assert s.dtype == dtype and s[0] == 0.0 and s[2] == 0.5 and s[-1] == 1.0
    assert P.sigmoid(0.0) == 0.5 and np.ndim(P.sigmoid(0.0)) == 0
    assert P.sigmoid(np.arange(3)).dtype == np.float64        # integers become float64


def test_gathers_equal_fancy_indexing():
    E = rng.normal(size=(5, 3))
    idx = np.array([4, 0, 4, 2, 4, 1])
    np.testing.assert_array_equal(P.take_rows(E, idx), E[idx])
    g = rng.normal(size=(6, 3))
    expected = np.zeros((5, 3))
    np.add.at(expected, idx, g)
    np.testing.assert_allclose(P.add_rows(g, idx, 5), expected, rtol=1e-15)
    x = rng.normal(size=(6, 4))
    labels = np.array([3, 0, 0, 1, 2, 3])
    np.testing.assert_array_equal(P.pick(x, labels), x[np.arange(6), labels])
    placed = P.place(labels * 1.0 + 1, labels, 4)
    assert placed.sum() == (labels + 1).sum() and np.all(placed[np.arange(6), labels] == labels + 1)


def test_affine_equals_the_product():
    x, W, b = rng.normal(size=(7, 4)), rng.normal(size=(4, 3)), rng.normal(size=3)
    np.testing.assert_allclose(P.affine(x, W, b), x @ W + b, rtol=1e-15)


# --- gradients: check_grads compares with finite differences, order 2, both modes -------------

def test_check_grads_sigmoid_silu_logsumexp():
    x = rng.normal(size=(4, 5)) * 3
    for f in (P.sigmoid, P.silu, lambda v: P.logsumexp(v, axis=0), lambda v: P.logsumexp(v, axis=1, keepdims=True)):
        check_grads(f, modes=["fwd", "rev"], order=2)(x)


def test_check_grads_gathers_and_affine():
    E, idx = rng.normal(size=(5, 3)), np.array([4, 0, 4, 2, 4, 1])
    check_grads(lambda e: P.take_rows(e, idx) ** 2, modes=["fwd", "rev"], order=2)(E)
    check_grads(lambda g: P.add_rows(g, idx, 5) ** 2, modes=["fwd", "rev"], order=2)(rng.normal(size=(6, 3)))
    labels = np.array([3, 0, 0, 1, 2, 3])
    check_grads(lambda x: P.pick(x, labels) ** 2, modes=["fwd", "rev"], order=2)(rng.normal(size=(6, 4)))
    check_grads(lambda g: P.place(g, labels, 4) ** 2, modes=["fwd", "rev"], order=2)(rng.normal(size=6))
    W, b = rng.normal(size=(4, 3)), rng.normal(size=3)
    for x in (rng.normal(size=(7, 4)), rng.normal(size=4), rng.normal(size=(2, 5, 4))):   # any batch axes
        for argnum in range(3):
            check_grads(lambda *a: anp.sin(P.affine(*a)), argnum=argnum, modes=["fwd", "rev"], order=2)(x, W, b)


@pytest.mark.parametrize("scale", [1.0, 30.0])
def test_gradients_equal_the_old_formulas(scale):
    x = rng.normal(size=(6, 7)) * scale
    for new, old in [(P.sigmoid, old_sigmoid), (P.silu, lambda v: v * old_sigmoid(v)),
                     (lambda v: P.logsumexp(v, axis=1), lambda v: old_logsumexp(v, axis=1))]:
        g_new = grad(lambda v: anp.sum(anp.sin(new(v))))(x)
        g_old = grad(lambda v: anp.sum(anp.sin(old(v))))(x)
        np.testing.assert_allclose(g_new, g_old, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-12), (np.float32, 2e-5)])
def test_loss_and_gradients_equal_the_old_loss(dtype, rtol):
    params, inputs, labels = small_model(0, n=40, vocab=7, classes=5, emb=4, hidden=6)
    params = {k: v.astype(dtype) for k, v in params.items()}
    value, grads = value_and_grad(mlp.loss)(params, inputs, labels)
    old_value, old_grads = value_and_grad(old_loss)(params, inputs, labels)
    assert np.asarray(value).dtype == dtype
    np.testing.assert_allclose(value, old_value, rtol=rtol)
    for k in params:
        assert grads[k].dtype == dtype, k
        scale = np.abs(old_grads[k]).max()
        np.testing.assert_allclose(grads[k], old_grads[k], rtol=0, atol=rtol * scale, err_msg=k)


def test_loss_gradients_equal_torch():
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    params, inputs, labels = small_model(1, n=40, vocab=7, classes=5, emb=4, hidden=6)
    value, grads = value_and_grad(mlp.loss)(params, inputs, labels)
    tp = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    x = torch.as_tensor(inputs)
    h = torch.cat([tp["emb"][x[:, 0]], tp["emb"][x[:, 1]]], 1)
    h = F.silu(F.silu(h @ tp["W1"] + tp["b1"]) @ tp["W2"] + tp["b2"])
    loss = F.cross_entropy(h @ tp["W3"] + tp["b3"], torch.as_tensor(labels))
    loss.backward()
    assert value == pytest.approx(loss.item(), rel=1e-14)
    for k in params:
        np.testing.assert_allclose(grads[k], tp[k].grad.numpy(), rtol=1e-12, atol=1e-15, err_msg=k)
