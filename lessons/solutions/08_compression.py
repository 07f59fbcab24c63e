"""Lesson 08 exercises: R² of a straight-line fit, Spearman's rank correlation with ties, and how
much of a line's misfit is curvature."""
import numpy as np


def linear_fit_r2(x, y):
    """★ (5 min) R² of the least-squares line y ≈ a x + b, from the 1-D arrays x and y (x not constant).

    A constant y is fitted exactly by a flat line: return 1.0 then. Return a float.
    """
    xc, yc = x - x.mean(), y - y.mean()
    if not np.any(yc):
        return 1.0
    return float((xc @ yc) ** 2 / ((xc @ xc) * (yc @ yc)))


def _ranks(v):
    v = np.asarray(v, dtype=float)
    r = np.empty(len(v))
    r[np.argsort(v, kind="stable")] = np.arange(len(v))
    for value in np.unique(v):                               # ties share the mean of their ranks
        r[v == value] = r[v == value].mean()
    return r


def spearman(x, y):
    """★★ (15 min) Spearman's ρ of x and y: the Pearson correlation of their ranks.

    Ranks run 0 … n−1 from the smallest value; tied values all get the mean of the ranks they
    occupy (1, 5, 5, 7 has ranks 0, 1.5, 1.5, 3). Neither x nor y is constant. Return a float.
    """
    rx, ry = _ranks(x), _ranks(y)
    rx, ry = rx - rx.mean(), ry - ry.mean()
    return float(rx @ ry / np.sqrt((rx @ rx) * (ry @ ry)))


def curve_share(x, y):
    """★★★ (25 min) Is y a line in x, or a curve? The share of the line's misfit that a parabola removes:

    (R²_quad − R²_lin) / (1 − R²_lin), with R²_lin, R²_quad the R² of the least-squares line and
    parabola in x. 0: no curvature at all; 1: y is exactly a parabola. x may be far from 0
    (values near 10⁴ spread by 1): solve the fit so that it stays accurate there.
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    s = (x - x.mean()) / x.std()                              # centred and scaled: a well-conditioned fit
    ss = ((y - y.mean()) ** 2).sum()

    def r2(degree):
        A = np.vander(s, degree + 1)                          # (n, degree + 1)
        coef = np.linalg.lstsq(A, y, rcond=None)[0]
        return 1 - ((y - A @ coef) ** 2).sum() / ss

    lin, quad = r2(1), r2(2)
    return float((quad - lin) / (1 - lin))
