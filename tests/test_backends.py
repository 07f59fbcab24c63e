"""The backend contract (backends.Backend): both backends pass the same tests.

Parametrized over numpy and torch (torch skips cleanly where it is not installed), as
minitorch runs one test suite over its tensor backends.
"""
import importlib.util

import numpy as np
import pytest

from lmn_edu.adamw import AdamW
from lmn_edu.backends import Backend, get_backend
from lmn_edu.config import RunConfig
from lmn_edu.errors import LMNInputError
from lmn_edu.train import setup_run

needs_torch = pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="torch is not installed")
BACKEND_NAMES = ["numpy", pytest.param("torch", marks=needs_torch)]
PARAM_KEYS = {"emb", "W1", "b1", "W2", "b2", "W3", "b3"}


def started(name, task="s4", dtype="float64", seed=0):
    config = RunConfig(task=task, seed=seed, emb_dim=4, hidden=8).validated()
    task_, train_idx, test_idx, params = setup_run(config)
    backend = get_backend(name, dtype, "cpu")
    backend.setup(params, task_, train_idx, test_idx, AdamW(lr=1e-2))
    return backend, task_, params


@pytest.mark.parametrize("name", BACKEND_NAMES)
def test_implements_the_protocol(name):
    backend, _, _ = started(name)
    assert isinstance(backend, Backend)
    assert backend.name == name and isinstance(backend.device_name, str)


@pytest.mark.parametrize("name", BACKEND_NAMES)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_step_returns_the_loss_before_it_and_lowers_it(name, dtype):
    backend, _, _ = started(name, dtype=dtype)
    before = backend.evaluate()["train_loss"]
    first = backend.step()
    assert isinstance(first, float) and first == pytest.approx(before, rel=1e-5)
    for _ in range(20):
        last = backend.step()
    assert last < first


@pytest.mark.parametrize("name", BACKEND_NAMES)
def test_evaluate_gives_the_metrics(name):
    backend, _, params = started(name)
    out = backend.evaluate()
    assert set(out) == {"train_loss", "train_acc", "test_loss", "test_acc", "l2"}
    assert all(isinstance(v, float) and np.isfinite(v) for v in out.values())
    assert 0 <= out["train_acc"] <= 1 and 0 <= out["test_acc"] <= 1
    assert out["l2"] == pytest.approx(np.sqrt(sum((v ** 2).sum() for v in params.values())), rel=1e-12)


@pytest.mark.parametrize("name", BACKEND_NAMES)
def test_params_are_a_copy_in_the_layout_of_mlp(name):
    backend, _, params = started(name)
    got = backend.params()
    assert set(got) == PARAM_KEYS
    assert all(isinstance(v, np.ndarray) and v.shape == params[k].shape for k, v in got.items())
    got["W1"][:] = 0
    assert np.any(backend.params()["W1"] != 0)


@pytest.mark.parametrize("name", BACKEND_NAMES)
def test_lmn_per_layer(name):
    backend, task, _ = started(name)
    out = backend.lmn(task.inputs[:12], ("emb", "h1", "h2"), "logits", 21)
    assert set(out) == {"emb", "h1", "h2"}
    assert out["h2"] == pytest.approx(1.0)                        # h2 -> logits is affine
    assert all(1.0 - 1e-9 <= v <= 12 + 1e-9 for v in out.values())


@pytest.mark.parametrize("name", BACKEND_NAMES)
def test_both_backends_give_the_same_numbers(name):
    reference, task, _ = started("numpy")
    backend, _, _ = started(name)
    for _ in range(5):
        assert backend.step() == pytest.approx(reference.step(), rel=1e-9)
    for k, v in reference.evaluate().items():
        assert backend.evaluate()[k] == pytest.approx(v, rel=1e-9, abs=1e-12), k
    pts = task.inputs[:10]
    assert backend.lmn(pts, ("h1",))["h1"] == pytest.approx(reference.lmn(pts, ("h1",))["h1"], rel=1e-9)


@pytest.mark.parametrize("name", BACKEND_NAMES)
@pytest.mark.parametrize("call, match", [
    (lambda b, x: b.lmn(x, ("h3",)), "layer"),
    (lambda b, x: b.lmn(x, ()), "layers"),
    (lambda b, x: b.lmn(x, ("h1",), output="softmax"), "output"),
    (lambda b, x: b.lmn(x[:, :1], ("h1",)), r"\(N, 2\)"),
])
def test_bad_lmn_arguments_are_named(name, call, match):
    backend, task, _ = started(name)
    with pytest.raises(LMNInputError, match=match):
        call(backend, task.inputs[:5])


@pytest.mark.parametrize("name", BACKEND_NAMES)
@pytest.mark.parametrize("kwargs, match", [(dict(dtype="float16"), "dtype='float16'"),
                                           (dict(loss_dtype="float16"), "loss_dtype")])
def test_bad_options_are_named(name, kwargs, match):
    with pytest.raises(LMNInputError, match=match):
        get_backend(name, **kwargs)


@pytest.mark.parametrize("name", BACKEND_NAMES)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_diagnostics_give_the_precision_columns(name, dtype):
    from lmn_edu.precision import COLUMNS
    backend, _, _ = started(name, dtype=dtype)
    backend.step()
    out = backend.diagnostics()
    assert set(out) == set(COLUMNS)
    assert all(isinstance(v, float) and 0.0 <= v <= 1.0 for v in out.values())
    assert out["zero_loss_frac"] == 0.0                      # at init no margin is anywhere near collapse
