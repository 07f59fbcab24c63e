"""LMN of a user's own torch module (lmn_edu.torch_lmn) against the generic NumPy definition."""
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import lmn_edu  # noqa: E402
from lmn_edu.errors import LMNInputError  # noqa: E402
from lmn_edu.lmn import connectivity_matrix, lmn_of  # noqa: E402
from lmn_edu.torch_lmn import module_connectivity, module_lmn  # noqa: E402


def net(d_in=3, width=16, d_out=4, seed=0, dtype=torch.float64, dropout=0.0):
    torch.manual_seed(seed)
    layers = [torch.nn.Linear(d_in, width), torch.nn.Tanh()]
    if dropout:
        layers.append(torch.nn.Dropout(dropout))
    layers += [torch.nn.Linear(width, d_out)]
    return torch.nn.Sequential(*layers).to(dtype)


def as_numpy_f(module):
    """The module as a NumPy function, for the generic lmn.connectivity_matrix."""
    def f(x):
        with torch.no_grad():
            return module(torch.as_tensor(x)).numpy()
    return f


def points(n=40, d=3, seed=1):
    return np.random.default_rng(seed).normal(size=(n, d))   # (n, d)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_module_connectivity_equals_generic_definition(seed):
    m, X = net(seed=seed), points(seed=seed)
    L = module_connectivity(m, X)
    np.testing.assert_allclose(L, connectivity_matrix(as_numpy_f(m), X), rtol=0, atol=1e-9)
    assert module_lmn(m, X) == pytest.approx(lmn_of(as_numpy_f(m), X), rel=1e-9)
    assert 1.5 < module_lmn(m, X) < len(X)                    # a non-trivial number was compared


@pytest.mark.parametrize("n_lambda", [3, 5, 21])
def test_n_lambda(n_lambda):
    m, X = net(), points(n=15)
    np.testing.assert_allclose(module_connectivity(m, X, n_lambda=n_lambda),
                               connectivity_matrix(as_numpy_f(m), X, n_lambda=n_lambda), rtol=0, atol=1e-9)


def test_affine_module_has_lmn_one():
    torch.manual_seed(0)
    m = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Linear(8, 2)).double()
    L = module_connectivity(m, points())
    np.testing.assert_allclose(L, 1.0, rtol=0, atol=1e-12)
    assert module_lmn(m, points()) == pytest.approx(1.0, abs=1e-9)


def test_equals_our_mlp_fast_path():
    # The tail of our MLP from h1, written as an nn.Module: the generic helper on the h1
    # representations gives the fast path's L (mlp_lmn.py, affine prefix and all).
    task = lmn_edu.make_task("s4")
    params = lmn_edu.init_params(np.random.default_rng(0), task.vocab_size, task.n_classes)
    inputs = task.inputs[:45]
    tail = torch.nn.Sequential(torch.nn.Linear(100, 100), torch.nn.SiLU(), torch.nn.Linear(100, 24)).double()
    with torch.no_grad():
        tail[0].weight.copy_(torch.as_tensor(params["W2"].T))     # nn.Linear stores (out, in)
        tail[0].bias.copy_(torch.as_tensor(params["b2"]))
        tail[2].weight.copy_(torch.as_tensor(params["W3"].T))
        tail[2].bias.copy_(torch.as_tensor(params["b3"]))
    h1 = lmn_edu.representations(params, inputs)["h1"]
    np.testing.assert_allclose(module_connectivity(tail, h1),
                               lmn_edu.layer_connectivity(params, inputs, "h1"), rtol=0, atol=1e-9)


def test_tensor_or_array_and_float32():
    m32 = net(dtype=torch.float32)
    X = points()
    a = module_lmn(m32, X)
    b = module_lmn(m32, torch.as_tensor(X, dtype=torch.float32))
    assert a == pytest.approx(b, rel=1e-6)
    assert 1.0 <= a <= len(X)
    # float32 tail, float64 r² and flat-line tolerance: rounding only.
    assert a == pytest.approx(module_lmn(net(dtype=torch.float64), X), rel=1e-4)


def test_duplicate_points_are_exactly_linear_in_float32():
    X = points(n=3)
    X[1] = X[0]
    L = module_connectivity(net(dtype=torch.float32), X)
    assert L[0, 1] == 1.0 and L[0, 2] < 1.0


def test_eval_mode_and_training_mode_restored():
    m, X = net(dropout=0.5), points(n=25)
    m.train()
    first = module_connectivity(m, X)
    assert m.training and all(c.training for c in m)
    # Dropout is off while measuring, so f is one function and L is reproducible.
    np.testing.assert_array_equal(module_connectivity(m, X), first)
    m.eval()
    np.testing.assert_array_equal(module_connectivity(m, X), first)
    assert not m.training
    m[2].train()                                              # mixed modes come back as they were
    module_connectivity(m, X)
    assert [c.training for c in m] == [False, False, True, False] and not m.training


def test_plain_callable():
    X = points(n=20)
    f = torch.tanh
    L = module_connectivity(lambda x: f(x), X)
    np.testing.assert_allclose(L, connectivity_matrix(np.tanh, X), rtol=0, atol=1e-9)


@pytest.mark.parametrize("X,match", [
    (np.zeros(5), "2-D"),
    (np.full((4, 3), np.nan), "finite"),
    (np.zeros((0, 3)), "at least one point"),
])
def test_bad_points_raise(X, match):
    with pytest.raises(LMNInputError, match=match):
        module_lmn(net(), X)


def test_bad_module_output_raises():
    with pytest.raises(LMNInputError, match="returned shape"):
        module_lmn(lambda x: x.sum(dim=1), points(n=5))
    with pytest.raises(LMNInputError, match="NaN or inf"):
        module_lmn(lambda x: torch.log(x), -np.ones((5, 2)) - np.arange(10).reshape(5, 2))
    with pytest.raises(LMNInputError, match="module"):
        module_lmn(42, points(n=5))


def test_lazy_accessor():
    assert lmn_edu.module_lmn is module_lmn
    assert lmn_edu.module_connectivity is module_connectivity
    with pytest.raises(AttributeError):
        lmn_edu.no_such_name


def test_lazy_accessor_without_torch(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)           # import torch now fails
    monkeypatch.delitem(sys.modules, "lmn_edu.torch_lmn")
    monkeypatch.delattr(lmn_edu, "torch_lmn")
    with pytest.raises(LMNInputError, match="needs PyTorch"):
        lmn_edu.module_lmn


def test_docs_example_runs():
    # The five-line example of docs/torch.md and the module docstring.
    net_ = torch.nn.Sequential(torch.nn.Linear(2, 64), torch.nn.Tanh(), torch.nn.Linear(64, 3))
    X = torch.randn(200, 2, generator=torch.Generator().manual_seed(0))
    value = lmn_edu.module_lmn(net_, X)
    assert 1.0 <= value <= 200
