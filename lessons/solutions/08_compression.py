"""Lesson 08 exercises: R² of a straight-line fit, and Spearman's rank correlation."""
import numpy as np


def linear_fit_r2(x, y):
    """R² of the least-squares line y ≈ a x + b, from the 1-D arrays x and y."""
    xc, yc = x - x.mean(), y - y.mean()
    return float((xc @ yc) ** 2 / ((xc @ xc) * (yc @ yc)))


def spearman(x, y):
    """Spearman's ρ of x and y (no ties): the Pearson correlation of their ranks."""
    rx, ry = np.argsort(np.argsort(x)).astype(float), np.argsort(np.argsort(y)).astype(float)
    rx, ry = rx - rx.mean(), ry - ry.mean()
    return float(rx @ ry / np.sqrt((rx @ rx) * (ry @ ry)))
