"""Lesson 09 exercises: the tails of the network after h1 and after the embedding.
Run `python -m lmn_edu.course check 09` to check your work.
"""
import numpy as np


def _silu(z):
    return z / (1 + np.exp(-z))


def tail_h1(params, h1):
    """The rest of the network after h1: h1 (N, H) -> logits (N, C)."""
    raise NotImplementedError("your turn: see the docstring")


def tail_emb(params, emb):
    """The rest of the network after the (concatenated) embedding: emb (N, 2d) -> logits (N, C)."""
    raise NotImplementedError("your turn: see the docstring")
