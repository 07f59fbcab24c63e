"""Lesson 02 exercises: the forward pass by hand, and a finite-difference gradient.
Run `python -m lmn_edu.course check 02` to check your work.
"""
import numpy as np


def forward(params, inputs):
    """The MLP's logits for token pairs, written out with NumPy only.

    params: dict emb (V, d), W1 (2d, H), b1, W2 (H, H), b2, W3 (H, C), b3; inputs: (N, 2) ints.
    Embed both tokens and concatenate (N, 2d), then Linear, SiLU, Linear, SiLU, Linear.
    SiLU(x) = x · sigmoid(x). Return (N, C) logits.
    """
    raise NotImplementedError("your turn: see the docstring")


def central_difference(f, theta, h=1e-5):
    """The gradient of a scalar function f at the 1-D array theta, by central differences.

    Entry k: (f(θ + h e_k) − f(θ − h e_k)) / 2h, e_k the k-th unit vector. Do not change theta.
    """
    raise NotImplementedError("your turn: see the docstring")
