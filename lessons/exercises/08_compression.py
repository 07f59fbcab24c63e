"""Lesson 08 exercises: R² of a straight-line fit, and Spearman's rank correlation.
Run `python -m lmn_edu.course check 08` to check your work.
"""
import numpy as np


def linear_fit_r2(x, y):
    """R² of the least-squares line y ≈ a x + b, from the 1-D arrays x and y."""
    raise NotImplementedError("your turn: see the docstring")


def spearman(x, y):
    """Spearman's ρ of x and y (no ties): the Pearson correlation of their ranks."""
    raise NotImplementedError("your turn: see the docstring")
