"""Lesson 02 exercises: the forward pass by hand, and a finite-difference gradient."""
import numpy as np


def forward(params, inputs):
    """The MLP's logits for token pairs, written out with NumPy only.

    params: dict emb (V, d), W1 (2d, H), b1, W2 (H, H), b2, W3 (H, C), b3; inputs: (N, 2) ints.
    Embed both tokens and concatenate (N, 2d), then Linear, SiLU, Linear, SiLU, Linear.
    SiLU(x) = x · sigmoid(x). Return (N, C) logits.
    """
    silu = lambda z: z / (1 + np.exp(-z))
    x = np.concatenate([params["emb"][inputs[:, 0]], params["emb"][inputs[:, 1]]], axis=1)   # (N, 2d)
    h1 = silu(x @ params["W1"] + params["b1"])
    h2 = silu(h1 @ params["W2"] + params["b2"])
    return h2 @ params["W3"] + params["b3"]


def central_difference(f, theta, h=1e-5):
    """The gradient of a scalar function f at the 1-D array theta, by central differences.

    Entry k: (f(θ + h e_k) − f(θ − h e_k)) / 2h, e_k the k-th unit vector. Do not change theta.
    """
    g = np.zeros(len(theta))
    for k in range(len(theta)):
        e = np.zeros(len(theta))
        e[k] = h
        g[k] = (f(theta + e) - f(theta - e)) / (2 * h)
    return g
