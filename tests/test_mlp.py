import numpy as np
import pytest
from autograd import grad
from autograd.test_util import check_grads
from strategies import small_model

import lmn_edu
from lmn_edu import mlp


def small(seed=0, vocab=7):
    """9 pairs, 5 classes, emb 3, hidden 4."""
    return small_model(seed, n=9, vocab=vocab, classes=5, emb=3, hidden=4)


def test_shapes_and_init_bounds():
    params = lmn_edu.init_params(np.random.default_rng(0), 31, 31)
    shapes = {k: v.shape for k, v in params.items()}
    assert shapes == {"emb": (31, 32), "W1": (64, 100), "b1": (100,), "W2": (100, 100), "b2": (100,),
                      "W3": (100, 31), "b3": (31,)}
    assert all(v.dtype == np.float64 for v in params.values())
    for name, fan_in in [("W1", 64), ("b1", 64), ("W2", 100), ("W3", 100), ("b3", 100)]:
        assert np.abs(params[name]).max() <= 1 / np.sqrt(fan_in)
    big = lmn_edu.init_params(np.random.default_rng(1), 500, 2)["emb"]
    assert abs(big.mean()) < 0.02 and abs(big.std() - 1) < 0.02        # N(0, 1)


def test_representations_chain():
    params, inputs, _ = small()
    reps = lmn_edu.representations(params, inputs)
    assert list(reps) == list(lmn_edu.LAYERS)
    E = params["emb"]
    assert np.allclose(reps["emb"], np.hstack([E[inputs[:, 0]], E[inputs[:, 1]]]))
    assert np.allclose(reps["z1"], reps["emb"] @ params["W1"] + params["b1"])
    assert np.allclose(reps["h1"], reps["z1"] / (1 + np.exp(-reps["z1"])))
    assert np.allclose(reps["h2"], reps["z2"] / (1 + np.exp(-reps["z2"])))
    assert np.array_equal(reps["logits"], lmn_edu.forward(params, inputs))
    assert reps["logits"].shape == (9, 5)


def test_silu_matches_definition_and_is_stable():
    x = np.array([-800.0, -20.0, -1.0, 0.0, 1.0, 20.0, 800.0])
    with np.errstate(over="ignore"):
        expected = x / (1 + np.exp(-x))
    # exact to rounding (primitives.sigmoid is 1 / (1 + e^(-x)), relative accuracy also for x << 0)
    assert np.allclose(mlp.silu(x), expected, rtol=1e-13, atol=1e-15)
    assert np.all(np.isfinite(mlp.silu(x)))


def test_cross_entropy_matches_manual():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(6, 4)) * 5
    labels = rng.integers(0, 4, 6)
    p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    assert np.isclose(mlp.cross_entropy(logits, labels), -np.mean(np.log(p[np.arange(6), labels])), rtol=1e-13)


def test_softmax_sums_to_one():
    x = np.random.default_rng(0).normal(size=(5, 7)) * 50
    assert np.allclose(mlp.softmax(x).sum(1), 1.0, rtol=1e-14)


def test_gradients_check_grads():
    params, inputs, labels = small()
    check_grads(lambda p: mlp.loss(p, inputs, labels), modes=["rev"], order=1)(params)


@pytest.mark.parametrize("name", ["emb", "W1", "b1", "W2", "b3"])
def test_gradient_against_central_differences(name):
    params, inputs, labels = small(seed=2)
    g = grad(mlp.loss)(params, inputs, labels)[name]
    h = 1e-6
    rng = np.random.default_rng(5)
    for _ in range(5):
        idx = tuple(rng.integers(0, s) for s in params[name].shape)
        plus = {k: v.copy() for k, v in params.items()}
        minus = {k: v.copy() for k, v in params.items()}
        plus[name][idx] += h
        minus[name][idx] -= h
        fd = (mlp.loss(plus, inputs, labels) - mlp.loss(minus, inputs, labels)) / (2 * h)
        assert np.isclose(g[idx], fd, rtol=1e-6, atol=1e-9)


def test_embedding_gradient_only_for_used_tokens():
    params, inputs, labels = small(vocab=20)
    g = grad(mlp.loss)(params, inputs, labels)["emb"]
    unused = np.setdiff1d(np.arange(20), inputs.ravel())
    assert len(unused) > 0 and np.all(g[unused] == 0)


def test_l2_norm():
    params = {"a": np.array([3.0]), "b": np.array([[4.0]])}
    assert lmn_edu.l2_norm(params) == 5.0


def test_bad_inputs_shape():
    params, _, _ = small()
    with pytest.raises(lmn_edu.LMNInputError, match="shape"):
        lmn_edu.forward(params, np.zeros((4, 3), dtype=int))
