"""Lesson 03 exercises: the decay alone, how long it takes to halve a weight, and one AdamW step.
Run `python -m lmn_edu.course check 03` to check your work (`--hint` for a hint).
"""
import numpy as np


def decay_after(theta0, lr, weight_decay, t):
    """★ (5 min) θ after t AdamW steps with a zero gradient, from θ₀ (an array), in closed form (no loop)."""
    raise NotImplementedError("your turn: see the docstring")


def steps_to_halve(lr, weight_decay):
    """★ (10 min) The smallest whole number of zero-gradient AdamW steps t ≥ 1 after which every
    weight is at most half its starting size: (1 − ηλ)ᵗ ≤ ½. Assume 0 < ηλ < 1. Return an int.
    """
    raise NotImplementedError("your turn: see the docstring")


def adamw_step(theta, g, m, v, t, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.2):
    """★★ (20 min) One AdamW step on one array. Returns the new (theta, m, v); change none of the inputs.

    t is the number of this step, starting at 1 (m and v hold the moments after step t − 1).
    Decoupled decay first: θ ← θ (1 − η λ); then the moments m ← β₁ m + (1 − β₁) g,
    v ← β₂ v + (1 − β₂) g², and the bias-corrected step θ ← θ − η m̂ / (√v̂ + ε) with
    m̂ = m / (1 − β₁ᵗ), v̂ = v / (1 − β₂ᵗ).
    """
    raise NotImplementedError("your turn: see the docstring")
