"""Lesson 08 exercises: R² of a straight-line fit, Spearman's rank correlation with ties, and how
much of a line's misfit is curvature. Run `python -m lmn_edu.course check 08` (`--hint` for a hint).
"""
import numpy as np


def linear_fit_r2(x, y):
    """★ (5 min) R² of the least-squares line y ≈ a x + b, from the 1-D arrays x and y (x not constant).

    A constant y is fitted exactly by a flat line: return 1.0 then. Return a float.
    """
    raise NotImplementedError("your turn: see the docstring")


def spearman(x, y):
    """★★ (15 min) Spearman's ρ of x and y: the Pearson correlation of their ranks.

    Ranks run 0 … n−1 from the smallest value; tied values all get the mean of the ranks they
    occupy (1, 5, 5, 7 has ranks 0, 1.5, 1.5, 3). Neither x nor y is constant. Return a float.
    """
    raise NotImplementedError("your turn: see the docstring")


def curve_share(x, y):
    """★★★ (25 min) Is y a line in x, or a curve? The share of the line's misfit that a parabola removes:

    (R²_quad − R²_lin) / (1 − R²_lin), with R²_lin, R²_quad the R² of the least-squares line and
    parabola in x. 0: no curvature at all; 1: y is exactly a parabola. x may be far from 0
    (values near 10⁴ spread by 1): solve the fit so that it stays accurate there.
    """
    raise NotImplementedError("your turn: see the docstring")
