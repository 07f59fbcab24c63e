import numpy as np
import pytest
from autograd import grad
from strategies import small_model

import lmn_edu
from lmn_edu import mlp


def problem(seed=0):
    """20 pairs, vocab 6, 4 classes, emb 3, hidden 5."""
    return small_model(seed, n=20, vocab=6, classes=4, emb=3, hidden=5)


def run_ours(params, inputs, labels, steps, **kw):
    opt = lmn_edu.AdamW(**kw)
    state = opt.init(params)
    g = grad(mlp.loss)
    for _ in range(steps):
        params, state = opt.step(params, g(params, inputs, labels), state)
    return params


def test_matches_torch_adamw_100_steps():
    torch = pytest.importorskip("torch")
    params, inputs, labels = problem()
    kw = dict(lr=1e-2, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.2)
    ours = run_ours(params, inputs, labels, 100, **kw)

    tp = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in params.items()}
    opt = torch.optim.AdamW(list(tp.values()), **kw)
    x = torch.tensor(inputs)
    y = torch.tensor(labels)
    for _ in range(100):
        opt.zero_grad()
        h = torch.cat([tp["emb"][x[:, 0]], tp["emb"][x[:, 1]]], 1)
        h = torch.nn.functional.silu(h @ tp["W1"] + tp["b1"])
        h = torch.nn.functional.silu(h @ tp["W2"] + tp["b2"])
        loss = torch.nn.functional.cross_entropy(h @ tp["W3"] + tp["b3"], y)
        loss.backward()
        opt.step()
    for k in params:
        np.testing.assert_allclose(ours[k], tp[k].detach().numpy(), rtol=1e-10, atol=1e-10)


def test_step_is_pure():
    params, inputs, labels = problem()
    before = {k: v.copy() for k, v in params.items()}
    opt = lmn_edu.AdamW()
    state = opt.init(params)
    new, new_state = opt.step(params, grad(mlp.loss)(params, inputs, labels), state)
    assert all(np.array_equal(before[k], params[k]) for k in params)
    assert state["t"] == 0 and new_state["t"] == 1
    assert all(np.all(state["m"][k] == 0) for k in params)
    assert not np.array_equal(new["W1"], params["W1"])


def test_decay_is_decoupled():
    # zero gradient: Adam's update is 0, so only the decay acts: p_t = p_0 (1 - lr*wd)^t
    p = {"w": np.array([1.0, -2.0, 3.0])}
    opt = lmn_edu.AdamW(lr=0.1, weight_decay=0.5)
    state = opt.init(p)
    q = p
    for _ in range(7):
        q, state = opt.step(q, {"w": np.zeros(3)}, state)
    np.testing.assert_allclose(q["w"], p["w"] * (1 - 0.05) ** 7, rtol=1e-14)


def test_first_step_is_lr_times_sign():
    # bias correction makes the first Adam step ±lr for |g| >> eps
    p = {"w": np.zeros(4)}
    g = {"w": np.array([3.0, -0.5, 1e-3, -7.0])}
    opt = lmn_edu.AdamW(lr=0.01, weight_decay=0.0)
    q, _ = opt.step(p, g, opt.init(p))
    np.testing.assert_allclose(q["w"], -0.01 * np.sign(g["w"]), rtol=1e-4)


@pytest.mark.parametrize("kw", [dict(lr=0), dict(lr=-1), dict(betas=(0.9, 1.0)), dict(weight_decay=-0.1)])
def test_bad_hyperparameters(kw):
    with pytest.raises(lmn_edu.LMNInputError):
        lmn_edu.AdamW(**kw)


def test_float32_params_stay_float32():
    p = {"w": np.ones(3, dtype=np.float32)}
    opt = lmn_edu.AdamW()
    q, state = opt.step(p, {"w": np.ones(3, dtype=np.float32)}, opt.init(p))
    q, _ = opt.step(q, {"w": np.ones(3, dtype=np.float32)}, state)
    assert q["w"].dtype == np.float32


@pytest.mark.parametrize("param_dtype, grad_dtype", [(np.float32, np.float64), (np.float64, np.float32),
                                                     (np.float32, np.int64), (np.float16, np.float64)])
def test_params_keep_their_dtype_whatever_the_grads(param_dtype, grad_dtype):
    p = {"w": np.array([1.0, -2.0, 3.0], dtype=param_dtype)}
    g = {"w": np.array([3, -1, 2]).astype(grad_dtype)}
    opt = lmn_edu.AdamW(lr=0.1)
    q, state = opt.step(p, g, opt.init(p))
    q, state = opt.step(q, g, state)
    assert q["w"].dtype == param_dtype and state["m"]["w"].dtype == param_dtype == state["v"]["w"].dtype
    # the same numbers as with grads already in the param's dtype
    g_same = {"w": g["w"].astype(param_dtype)}
    r, s = opt.step(p, g_same, opt.init(p))
    r, _ = opt.step(r, g_same, s)
    np.testing.assert_array_equal(q["w"], r["w"])
