"""Shared hypothesis strategies, settings and small models for the tests.

Property tests draw the arrays themselves (hypothesis.extra.numpy), not seeds for a random
generator: when a property fails, hypothesis shrinks the arrays towards zeros and small
shapes and prints them, so the counterexample can be read and copied into a plain test.
A drawn seed shrinks only to another seed.

Every strategy is bounded: finite floats in a given range, small shapes. Floats are drawn
on a grid (multiples of 1/32 of the bound): differences between drawn values are then 0 or
at least 1/32 of the bound, as for the normal draws these tests used before, where two
nearly equal points (whose line carries only rounding noise) never occur.
"""
import numpy as np
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import lmn_edu

# Hypothesis settings: no deadline (timings vary between machines), few examples (seconds).
SETTINGS = settings(max_examples=25, deadline=None)
LAYER_SETTINGS = settings(max_examples=10, deadline=None)     # for whole-MLP LMN properties

GRID = 32


def grid_floats(bound=1.0, steps=GRID):
    """Finite floats in [-bound, bound], multiples of bound / steps; shrink towards 0."""
    return st.integers(-steps, steps).map(lambda k: k * (bound / steps))


def float_arrays(shape, bound=1.0):
    """A float64 array of the given shape, entries from grid_floats(bound)."""
    return hnp.arrays(np.float64, shape, elements=grid_floats(bound))


def token_pairs(vocab, n):
    """(n, 2) int64 token pairs, each token in [0, vocab)."""
    return hnp.arrays(np.int64, (n, 2), elements=st.integers(0, vocab - 1))


def mlp_params(vocab, classes, emb=4, hidden=6, scale=1.0):
    """A params dict of our MLP, drawn as arrays in the ranges of its initialisation, times scale.

    Linear weights and biases in ±1/√fan_in (torch's default init); embeddings in ±3
    (the init draws them N(0, 1)).
    """
    def linear(fan_in, shape):
        return float_arrays(shape, scale / np.sqrt(fan_in))

    return st.fixed_dictionaries({
        "emb": float_arrays((vocab, emb), 3.0 * scale),
        "W1": linear(2 * emb, (2 * emb, hidden)), "b1": linear(2 * emb, (hidden,)),
        "W2": linear(hidden, (hidden, hidden)), "b2": linear(hidden, (hidden,)),
        "W3": linear(hidden, (hidden, classes)), "b3": linear(hidden, (classes,)),
    })


@st.composite
def mlp_problems(draw, n=12, vocab=9, classes=5, emb=4, hidden=6, scale=1.0):
    """(params, inputs): a small MLP drawn by mlp_params and n token pairs."""
    params = draw(mlp_params(vocab, classes, emb, hidden, scale))
    return params, draw(token_pairs(vocab, n))


# --- small fixed models, for tests that are not properties ------------------------------------

def small_model(seed=0, n=12, vocab=9, classes=5, emb=4, hidden=6, scale=1.0):
    """(params, inputs, labels) of a small MLP at its initialisation, times scale.

    Drawn in one order (params, inputs, labels) from np.random.default_rng(seed), so a test
    that asks for the same sizes always gets the same numbers.
    """
    rng = np.random.default_rng(seed)
    params = lmn_edu.init_params(rng, vocab, classes, emb_dim=emb, hidden=hidden)
    params = {k: v * scale for k, v in params.items()}
    inputs = rng.integers(0, vocab, size=(n, 2))
    labels = rng.integers(0, classes, size=n)
    return params, inputs, labels
