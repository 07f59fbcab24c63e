"""The fast path for our MLP's layers equals eq (1)-(2) evaluated directly, and the affine-prefix identity."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lmn_edu
from lmn_edu.probe import tail_function

SETTINGS = settings(max_examples=10, deadline=None)


def model(seed, n=14, vocab=9, classes=6, emb=4, hidden=7, scale=1.0):
    rng = np.random.default_rng(seed)
    params = lmn_edu.init_params(rng, vocab, classes, emb_dim=emb, hidden=hidden)
    params = {k: v * scale for k, v in params.items()}
    inputs = rng.integers(0, vocab, size=(n, 2))
    return params, inputs


@SETTINGS
@given(seed=st.integers(0, 10_000), layer=st.sampled_from(lmn_edu.PROBE_LAYERS),
       output=st.sampled_from(["logits", "probs"]), scale=st.floats(0.5, 3.0))
def test_fast_path_equals_generic_path(seed, layer, output, scale):
    params, inputs = model(seed, scale=scale)
    reps = lmn_edu.representations(params, inputs)
    generic = lmn_edu.connectivity_matrix(tail_function(params, layer, output), reps[layer])
    fast = lmn_edu.layer_connectivity(params, inputs, layer, output)
    np.testing.assert_allclose(fast, generic, atol=1e-9)


@SETTINGS
@given(seed=st.integers(0, 10_000), scale=st.floats(0.5, 3.0))
def test_affine_prefix_identity(seed, scale):
    params, inputs = model(seed, scale=scale)
    v = lmn_edu.layers_lmn(params, inputs, lmn_edu.PROBE_LAYERS)
    assert np.isclose(v["emb"], v["z1"], rtol=1e-9)
    assert np.isclose(v["h1"], v["z2"], rtol=1e-9)
    assert np.isclose(v["h2"], 1.0, rtol=1e-9)
    # and from h2 the direct evaluation agrees that nothing bends
    reps = lmn_edu.representations(params, inputs)
    L = lmn_edu.connectivity_matrix(tail_function(params, "h2"), reps["h2"])
    np.testing.assert_allclose(L, 1.0, atol=1e-9)


def test_h2_to_probs_is_not_trivial():
    params, inputs = model(1, scale=3.0)
    assert lmn_edu.layer_lmn(params, inputs, "h2", output="probs") > 1.01


def test_layer_lmn_matches_layers_lmn_and_is_deterministic():
    params, inputs = model(2)
    both = lmn_edu.layers_lmn(params, inputs, ("emb", "h1"))
    assert both["h1"] == lmn_edu.layer_lmn(params, inputs, "h1")
    assert both["emb"] == lmn_edu.layer_lmn(params, inputs, "emb")
    assert 1.0 <= both["h1"] <= len(inputs)


def test_float32_params_give_float64_lmn():
    params, inputs = model(3)
    p32 = {k: v.astype(np.float32) for k, v in params.items()}
    v64 = lmn_edu.layer_lmn({k: v.astype(np.float64) for k, v in p32.items()}, inputs)
    assert lmn_edu.layer_lmn(p32, inputs) == v64


def test_untrained_network_on_add_is_far_from_one():
    # at initialisation the paper sees strong but not perfect linear connectivity
    task = lmn_edu.make_task("add")
    rng = np.random.default_rng(0)
    params = lmn_edu.init_params(rng, 31, 31)
    v = lmn_edu.layer_lmn(params, task.inputs[:120], "h1")
    assert 1.5 < v < 120


@pytest.mark.parametrize("kw, match", [(dict(layer="logits"), "layer"), (dict(layer="h3"), "layer"),
                                       (dict(output="softmax"), "output"), (dict(n_lambda=1), "n_lambda")])
def test_bad_arguments(kw, match):
    params, inputs = model(0)
    with pytest.raises(lmn_edu.LMNInputError, match=match):
        lmn_edu.layer_lmn(params, inputs, **kw)
