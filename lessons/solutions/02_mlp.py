"""Lesson 02 exercises: a finite-difference gradient, the forward pass by hand, and one layer's
gradient by hand."""
import numpy as np


def central_difference(f, theta, h=1e-5):
    """★ (10 min) The gradient of a scalar function f at the 1-D array theta, by central differences.

    Entry k: (f(θ + h e_k) − f(θ − h e_k)) / 2h, e_k the k-th unit vector. Use the h you are
    given. Do not change theta.
    """
    g = np.zeros(len(theta))
    for k in range(len(theta)):
        e = np.zeros(len(theta))
        e[k] = h
        g[k] = (f(theta + e) - f(theta - e)) / (2 * h)
    return g


def forward(params, inputs):
    """★★ (15 min) The MLP's logits for token pairs, written out with NumPy only.

    params: dict emb (V, d), W1 (2d, H), b1, W2 (H, H), b2, W3 (H, C), b3; inputs: (N, 2) ints.
    Embed both tokens and concatenate (N, 2d), then Linear, SiLU, Linear, SiLU, Linear.
    SiLU(x) = x · sigmoid(x). Return (N, C) logits.
    """
    silu = lambda z: z / (1 + np.exp(-z))
    x = np.concatenate([params["emb"][inputs[:, 0]], params["emb"][inputs[:, 1]]], axis=1)   # (N, 2d)
    h1 = silu(x @ params["W1"] + params["b1"])
    h2 = silu(h1 @ params["W2"] + params["b2"])
    return h2 @ params["W3"] + params["b3"]


def output_layer_grad(h2, W3, b3, labels):
    """★★★ (25 min) The gradient of the mean cross-entropy loss with respect to W3 and b3, by hand.

    logits = h2 W3 + b3 with h2 (N, H), W3 (H, C), b3 (C,); labels (N,) class ids; the loss is
    the mean over the N rows of −log softmax(logits)[label]. Return (dW3 (H, C), db3 (C,)).
    Large logits (hundreds) must not overflow. No autograd: derive it.
    """
    z = h2 @ W3 + b3                                          # (N, C)
    e = np.exp(z - z.max(axis=1, keepdims=True))              # shifted: no overflow
    delta = e / e.sum(axis=1, keepdims=True)                  # softmax, (N, C)
    delta[np.arange(len(labels)), labels] -= 1.0              # ∂loss_n/∂z = softmax − one-hot
    delta /= len(labels)                                      # the mean over rows
    return h2.T @ delta, delta.sum(axis=0)
