"""Lesson 02 exercises: a finite-difference gradient, the forward pass by hand, and one layer's
gradient by hand. Run `python -m lmn_edu.course check 02` to check your work (`--hint` for a hint).
"""
import numpy as np


def central_difference(f, theta, h=1e-5):
    """★ (10 min) The gradient of a scalar function f at the 1-D array theta, by central differences.

    Entry k: (f(θ + h e_k) − f(θ − h e_k)) / 2h, e_k the k-th unit vector. Use the h you are
    given. Do not change theta.
    """
    raise NotImplementedError("your turn: see the docstring")


def forward(params, inputs):
    """★★ (15 min) The MLP's logits for token pairs, written out with NumPy only.

    params: dict emb (V, d), W1 (2d, H), b1, W2 (H, H), b2, W3 (H, C), b3; inputs: (N, 2) ints.
    Embed both tokens and concatenate (N, 2d), then Linear, SiLU, Linear, SiLU, Linear.
    SiLU(x) = x · sigmoid(x). Return (N, C) logits.
    """
    raise NotImplementedError("your turn: see the docstring")


def output_layer_grad(h2, W3, b3, labels):
    """★★★ (25 min) The gradient of the mean cross-entropy loss with respect to W3 and b3, by hand.

    logits = h2 W3 + b3 with h2 (N, H), W3 (H, C), b3 (C,); labels (N,) class ids; the loss is
    the mean over the N rows of −log softmax(logits)[label]. Return (dW3 (H, C), db3 (C,)).
    Large logits (hundreds) must not overflow. No autograd: derive it.
    """
    raise NotImplementedError("your turn: see the docstring")
