"""Lesson 09 exercises: the tails of the network after h1 and after the embedding."""
import numpy as np


def _silu(z):
    return z / (1 + np.exp(-z))


def tail_h1(params, h1):
    """The rest of the network after h1: h1 (N, H) -> logits (N, C)."""
    return _silu(h1 @ params["W2"] + params["b2"]) @ params["W3"] + params["b3"]


def tail_emb(params, emb):
    """The rest of the network after the (concatenated) embedding: emb (N, 2d) -> logits (N, C)."""
    return tail_h1(params, _silu(emb @ params["W1"] + params["b1"]))
