"""The fast path for our MLP's layers (mlp_lmn.py): it equals eq (1)-(2) evaluated directly,
the affine-prefix identity, chunking and memory (the engine's own pieces: tests/test_engine.py)."""
import tracemalloc

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import LAYER_SETTINGS, SETTINGS, mlp_problems, paper_model, small_model

import lmn_edu
from lmn_edu import chunking, engine
from lmn_edu.mlp_lmn import tail_function
from rounding import connectivity_rounding_bound

# The model of the first tests: 14 pairs, vocab 9, 6 classes, emb 4, hidden 7.
MODEL = dict(n=14, vocab=9, classes=6, emb=4, hidden=7)


def model(seed, scale=1.0):
    params, inputs, _ = small_model(seed, scale=scale, **MODEL)
    return params, inputs


@LAYER_SETTINGS
@given(data=st.data(), layer=st.sampled_from(lmn_edu.LMN_LAYERS),
       output=st.sampled_from(["logits", "probs"]), scale=st.floats(0.5, 3.0))
def test_fast_path_equals_generic_path(data, layer, output, scale):
    params, inputs = data.draw(mlp_problems(scale=scale, **MODEL), "params, inputs")
    reps = lmn_edu.representations(params, inputs)
    f = tail_function(params, layer, output)
    generic = lmn_edu.connectivity_matrix(f, reps[layer])
    fast = lmn_edu.layer_connectivity(params, inputs, layer, output)
    # equal up to rounding, which a near-flat curve amplifies (tests/rounding.py: a bound, not a guess)
    assert np.all(np.abs(fast - generic) <= connectivity_rounding_bound(f, reps[layer]) + 1e-12)



@pytest.mark.parametrize("seed", [225, 226, 227])
def test_fast_path_equals_generic_path_near_saturated_softmax(seed):
    # a regression case: softmax outputs near 1 that vary by ~1e-10 along a line (emb -> probs, scale 3)
    params, inputs = model(seed, scale=3.0)
    reps = lmn_edu.representations(params, inputs)
    f = tail_function(params, "emb", "probs")
    generic = lmn_edu.connectivity_matrix(f, reps["emb"])
    fast = lmn_edu.layer_connectivity(params, inputs, "emb", "probs")
    assert np.all(np.abs(fast - generic) <= connectivity_rounding_bound(f, reps["emb"]) + 1e-12)

@LAYER_SETTINGS
@given(data=st.data(), scale=st.floats(0.5, 3.0))
def test_affine_prefix_identity(data, scale):
    params, inputs = data.draw(mlp_problems(scale=scale, **MODEL), "params, inputs")
    v = lmn_edu.layers_lmn(params, inputs, lmn_edu.LMN_LAYERS)
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
    task, params = paper_model()
    v = lmn_edu.layer_lmn(params, task.inputs[:120], "h1")
    assert 1.5 < v < 120


@pytest.mark.parametrize("kw, match", [(dict(layer="logits"), "layer"), (dict(layer="h3"), "layer"),
                                       (dict(output="softmax"), "output"), (dict(n_lambda=1), "n_lambda")])
def test_bad_arguments(kw, match):
    params, inputs = model(0)
    with pytest.raises(lmn_edu.LMNInputError, match=match):
        lmn_edu.layer_lmn(params, inputs, **kw)
def small(seed, n=12):
    """The model of the later tests: n pairs, vocab 9, 5 classes, emb 4, hidden 6."""
    params, inputs, _ = small_model(seed, n=n)
    return params, inputs


# --- the whole fast path -----------------------------------------------------------------------

@SETTINGS
@given(data=st.data(), layer=st.sampled_from(["emb", "h1"]), output=st.sampled_from(["logits", "probs"]),
       n_lambda=st.integers(3, 9))
def test_fast_equals_generic_for_any_n_lambda(data, layer, output, n_lambda):
    params, inputs = data.draw(mlp_problems(), "params, inputs")
    reps = lmn_edu.representations(params, inputs)
    f = tail_function(params, layer, output)
    generic = lmn_edu.connectivity_matrix(f, reps[layer], n_lambda)
    fast = lmn_edu.layer_connectivity(params, inputs, layer, output, n_lambda)
    assert np.all(np.abs(fast - generic) <= connectivity_rounding_bound(f, reps[layer], n_lambda) + 1e-12)


@pytest.mark.parametrize("chunk", [1, 7, 300, 10 ** 9])
def test_chunk_size_does_not_change_L(monkeypatch, chunk):
    params, inputs = small(4, n=25)
    L = lmn_edu.layer_connectivity(params, inputs, "emb")
    monkeypatch.setattr(lmn_edu.chunking, "CHUNK_FLOATS", chunk)
    np.testing.assert_allclose(lmn_edu.layer_connectivity(params, inputs, "emb"), L, rtol=0, atol=1e-13)


def test_duplicate_inputs_are_linearly_connected():
    params, inputs = small(5)
    inputs = np.concatenate([inputs, inputs[:2]])             # points 0, 1 appear twice
    L = lmn_edu.layer_connectivity(params, inputs, "h1")
    n = len(inputs)
    assert L[0, n - 2] == 1.0 and L[1, n - 1] == 1.0


def test_scratch_arrays_stay_within_the_chunk_bound(monkeypatch):
    sizes = []

    class Recording(chunking.Scratch):
        def __call__(self, name, shape, dtype=np.float64):
            sizes.append(int(np.prod(shape)))
            return super().__call__(name, shape, dtype)

    monkeypatch.setattr(engine, "Scratch", Recording)
    monkeypatch.setattr(lmn_edu.chunking, "CHUNK_FLOATS", 2000)
    params, inputs = small(7, n=40)
    lmn_edu.layer_connectivity(params, inputs, "emb")
    n, width = len(inputs), 6                                  # endpoints: (N, hidden) arrays, once
    loop = [s for s in sizes if s not in (n * width, n * 5)]
    assert loop and max(loop) <= 2000


def test_peak_memory_does_not_grow_with_pairs(monkeypatch):
    # extra memory beyond L: the per-point tables of engine.py, O(N · n_λ · width), and a few
    # chunk-sized arrays, not O(pairs)
    monkeypatch.setattr(lmn_edu.chunking, "CHUNK_FLOATS", 20_000)
    task, params = paper_model()
    inputs = task.inputs[:150]                                # 11 175 pairs × 19 points × 100 wide
    tracemalloc.start()
    try:
        lmn_edu.layer_connectivity(params, inputs, "h1")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    pairs_bytes = 150 * 149 // 2 * 19 * 100 * 8                # 170 MB if all pairs were held at once
    tables = 3 * 19 * 150 * 100 * 8                             # two j-side tables and a temporary
    assert peak < 150 ** 2 * 8 + tables + 16 * 20_000 * 8 + 1_000_000 < pairs_bytes / 10


# --- precision="float32": the tail in float32, the rest in float64 ------------------------------

def test_float32_tail_keeps_lmn_close():
    # measured property, on the paper's task at init: LMN within 1e-6 relative of float64
    task, params = paper_model()
    inputs = task.inputs[::12]                                  # 81 points
    for layer in ("emb", "h1"):
        v64 = lmn_edu.layer_lmn(params, inputs, layer)
        v32 = lmn_edu.layer_lmn(params, inputs, layer, precision="float32")
        assert v32 != v64 and abs(v32 - v64) / v64 < 1e-6      # float32 did run, and stayed close


def test_float32_tail_keeps_duplicates_linearly_connected():
    params, inputs = small(8)
    inputs = np.concatenate([inputs, inputs[:1]])
    L = lmn_edu.layer_connectivity(params, inputs, "emb", precision="float32")
    assert L.dtype == np.float64 and L[0, len(inputs) - 1] == 1.0


def test_float32_tail_to_probs_and_from_h2():
    params, inputs = small(9)
    for layer, output in [("h1", "probs"), ("h2", "probs"), ("h2", "logits")]:
        L64 = lmn_edu.layer_connectivity(params, inputs, layer, output)
        L32 = lmn_edu.layer_connectivity(params, inputs, layer, output, precision="float32")
        np.testing.assert_allclose(L32, L64, rtol=0, atol=1e-3)


@pytest.mark.parametrize("bad", ["float16", "double", 32, None])
def test_bad_precision_is_named(bad):
    params, inputs = small(0)
    with pytest.raises(lmn_edu.LMNInputError, match="precision"):
        lmn_edu.layer_lmn(params, inputs, precision=bad)
