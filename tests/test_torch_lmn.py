"""LMN of a user's own torch module (lmn_edu.torch_lmn) against the generic NumPy definition."""
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import lmn_edu  # noqa: E402
from lmn_edu.errors import LMNInputError  # noqa: E402
from lmn_edu.lmn import connectivity_matrix, linear_mapping_number, lmn_of  # noqa: E402
from lmn_edu.torch_lmn import _layers, fold, module_connectivity, module_lmn  # noqa: E402


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
    (np.zeros(5), "at least 2-D"),
    (np.zeros((4, 0, 3)), "at least one point of at least one dimension"),
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
    with pytest.raises(LMNInputError, match=r"module cannot take a batch of X's points, shape \(2, 3\)"):
        module_lmn(net(d_in=5), points(n=5))
    with pytest.raises(LMNInputError, match=r"module must map .* returned shape \(2, 4, 2, 2\)"):
        module_lmn(torch.nn.Conv2d(1, 4, 3).double(), np.zeros((5, 1, 4, 4)))
    with pytest.raises(LMNInputError, match="n_lambda"):
        module_lmn(net(), points(n=5), n_lambda=2)


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


# --- points of any shape, and the affine prefix of an nn.Sequential folded ---------------------

def as_numpy_flat_f(module, shape):
    """The module as a NumPy function of flat rows (M, prod(shape)), for the generic definition."""
    def f(x):
        with torch.no_grad():
            return module(torch.as_tensor(x).reshape(-1, *shape)).numpy()
    return f


def with_running_stats(module, seed=0):
    """Batch-norm layers given non-trivial running statistics (so eval mode is not the identity)."""
    g = torch.Generator().manual_seed(seed)
    for m in module.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm) and m.running_mean is not None:
            m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=g, dtype=torch.float64))
            m.running_var.copy_(0.5 + torch.rand(m.running_var.shape, generator=g, dtype=torch.float64))
    return module


def cnn(seed=0, c=3):
    """A tiny CNN on 8x8 images: conv, batch norm, pooling, then nonlinear layers."""
    torch.manual_seed(seed)
    nn = torch.nn
    return with_running_stats(nn.Sequential(
        nn.Conv2d(1, c, 3, padding=1), nn.BatchNorm2d(c), nn.AvgPool2d(2), nn.Dropout(0.3),
        nn.SiLU(), nn.Conv2d(c, c, 3), nn.Tanh(), nn.Flatten(), nn.Linear(c * 4, 5)).double())


def images(n=50, seed=3):
    return np.random.default_rng(seed).normal(size=(n, 1, 8, 8))      # (n, 1, 8, 8)


# Networks with their input shape and the layers the fold applies to the points: (net, shape, folded).
def prefix_cases():
    nn = torch.nn
    torch.manual_seed(0)
    return {
        "mlp": (net(d_in=3, width=16), (3,), 1),
        "dropout-batchnorm-softmax": (with_running_stats(nn.Sequential(
            nn.Linear(3, 12), nn.Dropout(0.5), nn.BatchNorm1d(12), nn.SiLU(), nn.Linear(12, 8),
            nn.Sigmoid(), nn.Identity(), nn.Linear(8, 4), nn.Softmax(dim=-1)).double()), (3,), 3),
        "nested": (nn.Sequential(nn.Sequential(nn.Flatten(), nn.Linear(6, 10)), nn.ReLU(),
                                 nn.Sequential(nn.Linear(10, 10), nn.Tanh()), nn.Linear(10, 3)).double(), (2, 3), 2),
        "cnn": (cnn(), (1, 8, 8), 4),
        "conv1d": (with_running_stats(nn.Sequential(
            nn.Conv1d(2, 4, 3), nn.BatchNorm1d(4), nn.AvgPool1d(2), nn.Flatten(), nn.Linear(8, 6),
            nn.Tanh(), nn.Linear(6, 2)).double()), (2, 6), 5),
    }


@pytest.mark.parametrize("case", list(prefix_cases()))
def test_folded_affine_prefix_equals_unfolded(case):
    module, shape, n_folded = prefix_cases()[case]
    X = np.random.default_rng(1).normal(size=(30, *shape))
    L = module_connectivity(module.train(), X)
    # The same module as an opaque function (in eval mode: a function is not switched to it),
    # so not folded: the lines drawn in the input itself.
    module.eval()
    unfolded = module_connectivity(lambda x: module(x), X)
    generic = connectivity_matrix(as_numpy_flat_f(module, shape), X.reshape(len(X), -1))
    np.testing.assert_allclose(L, unfolded, rtol=0, atol=1e-12)
    np.testing.assert_allclose(L, generic, rtol=0, atol=1e-12)
    assert 1.5 < linear_mapping_number(L) < len(X)          # a non-trivial L was compared
    # The fold did apply the prefix: the points are those after the first n_folded layers.
    layers = _layers(module)
    with torch.no_grad():
        V, stages = fold(module, torch.as_tensor(X).reshape(len(X), -1), shape)
        expected = torch.nn.Sequential(*layers[:n_folded])(torch.as_tensor(X)).reshape(len(X), -1)
    np.testing.assert_allclose(V.numpy(), expected.numpy(), rtol=0, atol=1e-14)
    assert stages[0][0] != "affine"                          # the lines start at a nonlinearity


@torch.no_grad()
def test_sequential_stages():
    # Linear layers on vectors become affine stages (W as (in, out)); a conv after a nonlinearity
    # and everything after it are one "fn" stage.
    m = prefix_cases()["dropout-batchnorm-softmax"][0].eval()
    _, stages = fold(m, torch.zeros(1, 3, dtype=torch.float64), (3,))
    assert [s[0] for s in stages] == ["silu", "affine", "sigmoid", "affine", "softmax"]
    assert torch.equal(stages[1][1], m[4].weight.T) and torch.equal(stages[1][2], m[4].bias)
    _, stages = fold(cnn().eval(), torch.zeros(1, 64, dtype=torch.float64), (1, 8, 8))
    assert [s[0] for s in stages] == ["silu", "fn"]
    # Batch norm without running statistics normalizes by the batch's, even in eval mode: not affine.
    nn = torch.nn
    m = nn.Sequential(nn.Linear(3, 8), nn.BatchNorm1d(8, track_running_stats=False), nn.SiLU()).double().eval()
    V, stages = fold(m, torch.zeros(4, 3, dtype=torch.float64), (3,))
    assert V.shape == (4, 8) and stages[0][0] == "fn"


def test_affine_sequential_is_lmn_one_exactly():
    nn = torch.nn
    torch.manual_seed(0)
    m = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Dropout(0.2), nn.Linear(72, 3)).double()
    X = images(n=12)
    np.testing.assert_array_equal(module_connectivity(m, X), np.ones((12, 12)))
    m.eval()                                                  # a function is not switched to eval mode
    np.testing.assert_allclose(module_connectivity(lambda x: m(x), X), 1.0, rtol=0, atol=1e-12)


def test_cnn_on_images_any_shape():
    # A (50, 1, 8, 8) batch of images, as an array or a tensor, float64 or float32.
    m, X = cnn(), images()
    L = module_connectivity(m, X)
    assert L.shape == (50, 50)
    np.testing.assert_allclose(L, connectivity_matrix(as_numpy_flat_f(m.eval(), (1, 8, 8)), X.reshape(50, 64)),
                               rtol=0, atol=1e-12)
    assert module_lmn(m, torch.as_tensor(X)) == pytest.approx(linear_mapping_number(L), rel=1e-12)
    assert module_lmn(cnn().float(), X) == pytest.approx(linear_mapping_number(L), rel=1e-4)
    # Integer images (uint8, as images are stored) are the same points: no wrap-around in x_j − x_i.
    pixels = np.random.default_rng(4).integers(0, 256, size=(12, 1, 8, 8)).astype(np.uint8)
    np.testing.assert_allclose(module_connectivity(m, torch.as_tensor(pixels)),
                               module_connectivity(m, pixels.astype(np.float64)), rtol=0, atol=0)
    assert module_lmn(m, torch.as_tensor(X).bfloat16()) > 1.0              # bfloat16 points are taken too
    # A plain function of images, with no parameters: the points' own dtype and shape.
    f = lambda x: torch.tanh(x).flatten(1)[:, :5]                 # noqa: E731
    np.testing.assert_allclose(module_connectivity(f, X[:10]), connectivity_matrix(
        lambda x: np.tanh(x)[:, :5], X[:10].reshape(10, 64)), rtol=0, atol=1e-12)


def test_batchnorm_running_stats_untouched_and_modes_restored():
    m, X = cnn(), images(n=10)
    m.train()
    before = m[1].running_mean.clone()
    module_connectivity(m, X)
    assert torch.equal(m[1].running_mean, before) and all(c.training for c in m.modules())


@pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA is not available")
def test_cuda_module_on_images_equals_cpu():
    # The module's device and dtype: a float64 CNN on CUDA gives the CPU's L to rounding.
    m, X = cnn(), images(n=20)
    L_cpu = module_connectivity(m, X)
    m.cuda()
    np.testing.assert_allclose(module_connectivity(m, X), L_cpu, rtol=0, atol=1e-9)
    np.testing.assert_allclose(module_connectivity(m, torch.as_tensor(X).cuda()), L_cpu, rtol=0, atol=1e-9)
