"""The transformer (lmn_edu/transformer.py) against its torch twin and against Nanda's causal model.

Small sizes (p = 7, d_model 8, 2 heads, d_mlp 16) in float64: forward and gradients agree to
rounding, a short training history agrees row by row, and the LMN identities hold.
"""
import importlib.util

import numpy as np
import pytest
from autograd import grad
from autograd.test_util import check_grads

from lmn_edu import transformer as T
from lmn_edu.config import RunConfig
from lmn_edu.errors import LMNInputError
from lmn_edu.lmn import connectivity_matrix, linear_mapping_number
from lmn_edu.mlp import cross_entropy
from lmn_edu.train import setup_run, train

needs_torch = pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="torch is not installed")
P, D, H, M = 7, 8, 2, 16


def small(seed=0):
    rng = np.random.default_rng(seed)
    params = T.init_params(rng, P, P, D, H, M)
    params["b_in"] = 0.1 * rng.standard_normal(M)            # Nanda's zero biases would hide a bias bug
    params["b_out"] = 0.1 * rng.standard_normal(D)
    a, b = np.meshgrid(np.arange(P), np.arange(P), indexing="ij")
    inputs = np.stack([a.ravel(), b.ravel()], axis=1)          # (49, 2)
    return params, inputs, (inputs.sum(axis=1) % P)


def to_torch(params):
    import torch
    return {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in params.items()}


def test_shapes_and_init():
    params, inputs, _ = small()
    assert set(params) == set(T.PARAM_NAMES)
    assert params["W_E"].shape == (P + 1, D) and params["W_U"].shape == (D, P)
    reps = T.representations(params, inputs, H)
    assert [reps[k].shape for k in T.LAYERS] == [(49, 3 * D), (49, D), (49, D), (49, P)]
    big = T.init_params(np.random.default_rng(1), 50, 50, 64, 4, 256)
    assert np.std(big["W_in"]) == pytest.approx(1 / 8, rel=0.05)          # N(0, 1/d_model)
    assert np.std(big["W_U"]) == pytest.approx(1 / np.sqrt(51), rel=0.05)  # N(0, 1/d_vocab)
    assert not big["b_in"].any() and not big["b_out"].any()


def test_misuse_is_named():
    params, inputs, _ = small()
    with pytest.raises(LMNInputError, match="d_model"):
        T.init_params(np.random.default_rng(0), P, P, 10, 4, 16)
    with pytest.raises(LMNInputError, match="W_U"):
        T.forward({**params, "W_U": params["W_U"][:3]}, inputs, H)
    with pytest.raises(LMNInputError, match="token ids"):
        T.forward(params, inputs + P, H)
    with pytest.raises(LMNInputError, match="layer"):
        T.layers_lmn(params, inputs, ("h1",), H)


def test_gradients_match_finite_differences():
    params, inputs, labels = small()
    check_grads(lambda p: cross_entropy(T.forward(p, inputs, H), labels), modes=["rev"], order=1)(params)


def causal_logits(p, inputs, n_heads):
    """Nanda's model as he writes it: every position, a causal mask, the logits at the last one."""
    import torch
    N = len(inputs)
    x = p["W_E"][torch.cat([inputs, torch.full((N, 1), P)], dim=1)] + p["W_pos"]      # (N, 3, d)
    dh = D // n_heads
    q, k, v = (torch.einsum("npd,dhe->nhpe", x, p[w].view(D, n_heads, dh)) for w in ("W_Q", "W_K", "W_V"))
    scores = torch.einsum("nhqe,nhke->nhqk", q, k) / np.sqrt(dh)
    mask = torch.tril(torch.ones(3, 3, dtype=torch.bool))
    a = torch.softmax(scores.masked_fill(~mask, -1e10), dim=-1)
    z = torch.einsum("nhqk,nhke->nqhe", a, v).reshape(N, 3, D)
    x = x + z @ p["W_O"]
    x = x + torch.relu(x @ p["W_in"] + p["b_in"]) @ p["W_out"] + p["b_out"]
    return (x @ p["W_U"])[:, -1]


@needs_torch
def test_forward_and_gradients_match_torch_and_the_causal_model():
    import torch
    from lmn_edu.backends import torch_transformer as TT
    params, inputs, labels = small()
    pt, xt = to_torch(params), torch.tensor(inputs)
    ours = T.forward(params, inputs, H)
    for theirs in (TT.forward(pt, xt, H), causal_logits(pt, xt, H)):
        np.testing.assert_allclose(theirs.detach().numpy(), ours, rtol=1e-12, atol=1e-13)
    reps, treps = T.representations(params, inputs, H), TT.representations(pt, xt, H)
    for k in T.LAYERS:
        np.testing.assert_allclose(treps[k].detach().numpy(), reps[k], rtol=1e-12, atol=1e-13)
    g = grad(lambda p: cross_entropy(T.forward(p, inputs, H), labels))(params)
    torch.nn.functional.cross_entropy(causal_logits(pt, xt, H), torch.tensor(labels)).backward()
    for k in T.PARAM_NAMES:
        np.testing.assert_allclose(pt[k].grad.numpy(), g[k], rtol=1e-10, atol=1e-13, err_msg=k)


def config(backend, **kw):
    return RunConfig(model="transformer", task="add", modulus=P, backend=backend, dtype="float64", steps=30,
                     train_frac=0.5, lr=3e-3, weight_decay=1.0, beta2=0.98, d_model=D, n_heads=H, d_mlp=M,
                     eval_every=10, lmn_every=15, lmn_log=0, lmn_n_points=12, name=f"tr-{backend}", **kw)


@needs_torch
def test_training_history_matches_torch(tmp_path):
    rows = {b: train(config(b, out=str(tmp_path))).rows for b in ("numpy", "torch")}
    assert [r["step"] for r in rows["numpy"]] == [0, 10, 15, 20, 30]
    assert rows["numpy"][-1]["train_loss"] < rows["numpy"][0]["train_loss"]
    for a, b in zip(rows["numpy"], rows["torch"]):
        for k in ("train_loss", "test_loss", "l2", "train_acc", "test_acc"):
            assert b[k] == pytest.approx(a[k], rel=1e-9, abs=1e-12), (a["step"], k)
        for k in ("lmn_emb", "lmn_attn"):
            if a.get(k) is not None:
                assert b[k] == pytest.approx(a[k], rel=1e-7), (a["step"], k)


def test_run_folder_records_the_model(tmp_path):
    import json
    cfg = config("numpy", out=str(tmp_path))
    train(cfg)
    saved = json.loads((cfg.validated().run_dir / "config.json").read_text())
    assert saved["model"] == "transformer" and saved["seed"] == 0 and saved["lmn_layers"] == ["emb", "attn"]
    assert RunConfig.from_dict(saved).validated() == cfg.validated()


def test_lmn_identities():
    """From mlp the tail is affine (LMN = 1); from attn only the "=" position reaches the logits:
    the full residual stream after attention (positions 0, 1 carried along) gives the same L."""
    params, inputs, _ = small()
    X = inputs[:15]
    reps = T.representations(params, X, H)
    L_mlp = connectivity_matrix(T.tail_function(params, "mlp", H), reps["mlp"])
    assert linear_mapping_number(L_mlp) == pytest.approx(1.0, abs=1e-9)
    assert T.layers_lmn(params, X, ("mlp",), H)["mlp"] == pytest.approx(1.0, abs=1e-9)   # engine: L = 1, no loop
    L_attn = connectivity_matrix(T.tail_function(params, "attn", H), reps["attn"])
    full = np.concatenate([reps["emb"][:, :2 * D], reps["attn"]], axis=1)   # (N, 3·d)
    L_full = connectivity_matrix(lambda x: T.tail_function(params, "attn", H)(x[:, 2 * D:]), full)
    np.testing.assert_allclose(L_full, L_attn, rtol=0, atol=1e-12)
    got = T.layers_lmn(params, X, ("emb", "attn"), H)                   # the engine's pair loop
    L_emb = connectivity_matrix(T.tail_function(params, "emb", H), reps["emb"])   # eq (2) as written
    assert got["attn"] == pytest.approx(linear_mapping_number(L_attn), rel=1e-10)
    assert got["emb"] == pytest.approx(linear_mapping_number(L_emb), rel=1e-10)
    assert 1.0 < got["emb"] < len(X) and 1.0 < got["attn"] < len(X)
    low = T.layers_lmn(params, X, ("emb", "attn"), H, precision="float32")
    for k in ("emb", "attn"):
        assert low[k] == pytest.approx(got[k], rel=1e-3)


@needs_torch
def test_lmn_matches_torch_backend():
    from lmn_edu.adamw import AdamW
    from lmn_edu.backends import get_backend
    cfg = config("numpy").validated()
    task, tr, te, params = setup_run(cfg)
    out = {}
    for name in ("numpy", "torch"):
        b = get_backend(name, "float64", "cpu", model="transformer", n_heads=H)
        b.setup(params, task, tr, te, AdamW(lr=1e-3))
        out[name] = b.lmn(task.inputs[tr][:12], ("emb", "attn", "mlp"))
        out[name + "32"] = b.lmn(task.inputs[tr][:12], ("emb", "attn"), precision="float32")
    for k in ("emb", "attn", "mlp"):
        assert out["torch"][k] == pytest.approx(out["numpy"][k], rel=1e-9)
    for k in ("emb", "attn"):
        assert out["torch32"][k] == pytest.approx(out["numpy"][k], rel=1e-3)


def test_report_builds_from_run_folders(tmp_path):
    from lmn_edu import transformer_report
    cfg = config("numpy", out=str(tmp_path / "results"))
    train(cfg)
    text = transformer_report.build(tmp_path / "results", tmp_path / "docs")
    assert (tmp_path / "docs" / "transformer.md").read_text() == text
    assert "| tr-numpy | 0 | 7 |" in text and "## In short" in text
    assert (tmp_path / "docs" / "figures" / "transformer" / "transformer_emb.png").exists()
    assert "not tested" in text                    # 30 steps: the model never memorizes
    with pytest.raises(LMNInputError, match="no transformer run"):
        transformer_report.load(tmp_path / "docs")


@pytest.mark.parametrize("backend", ["numpy", pytest.param("torch", marks=needs_torch)])
def test_command_line(tmp_path, backend, capsys):
    from lmn_edu.run import main
    args = ["--model", "transformer", "--modulus", "7", "--d-model", "8", "--n-heads", "2", "--d-mlp", "16",
            "--steps", "20", "--eval-every", "10", "--lmn-every", "10", "--lmn-log", "0", "--lmn-n-points", "10",
            "--backend", backend, "--out", str(tmp_path), "--no-progress"]
    assert main(args) == 0
    run = tmp_path / f"transformer-add-{backend}-s0"
    assert (run / "figures" / "fig2.png").exists() and (run / "history.jsonl").exists()
    assert main(args + ["--lmn-layers", "h1", "--overwrite"]) == 2
    assert main(args + ["--n-heads", "3", "--overwrite"]) == 2
    err = capsys.readouterr().err
    assert "error: lmn_layers='h1'" in err and "d_model=8 must be a multiple of n_heads=3" in err
