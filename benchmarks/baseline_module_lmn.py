"""The baseline for module_lmn: the generic torch algorithm of eq (1)–(2) as the package had it
before the shared engine (every interior point of every line through the whole module, the
leading Linear included), copied here so that the benchmark can time it next to today's.

Not part of the package; only benchmarks/bench_lmn.py imports it.
"""
import numpy as np
import torch

import lmn_edu

CHUNK_FLOATS = 2 ** 19                                      # the CPU chunk size it used


def pair_chunks(n, per_pair_floats, max_floats):
    """(i, j) index arrays over the pairs i < j, in the order of np.triu_indices(n, 1)."""
    size = max(1, int(max_floats // max(per_pair_floats, 1)))
    r = np.arange(n)
    first = r * (2 * n - r - 1) // 2
    n_pairs = n * (n - 1) // 2
    for start in range(0, n_pairs, size):
        k = np.arange(start, min(start + size, n_pairs))
        i = np.searchsorted(first, k, side="right") - 1
        yield i, k - first[i] + i + 1


def r_squared(y, lam, rtol):
    """r² of each curve, λ-major: y (n_lambda, P, d) -> (P, d), flat curves 1."""
    y = y.to(torch.float64)
    lc = lam - lam.mean()
    yc = y - y.mean(dim=0, keepdim=True)
    cov = torch.tensordot(lc, yc, dims=1)
    var_y = (yc * yc).sum(dim=0)
    var_l = lc @ lc
    scale = y.abs().amax(dim=(0, 2))
    flat = var_y <= (rtol * scale[:, None]) ** 2 * len(lam)
    r2 = cov ** 2 / (var_y * var_l)
    return torch.where(flat, torch.ones_like(r2), r2).clamp(0.0, 1.0)


def module_lmn(module, X, n_lambda=21, rtol=1e-9):
    """LMN of ``module`` on the points X (N, d) float64, the old way."""
    lam = lmn_edu.lambdas(n_lambda)
    V = torch.as_tensor(X, dtype=torch.float64)
    n, d = V.shape
    with torch.no_grad():
        y_end = module(V)
        d_out = y_end.shape[1]
        lam_dev = torch.as_tensor(lam, dtype=torch.float64)
        inner = lam[1:-1]
        m = len(inner)
        mix = torch.as_tensor(np.stack([np.ones(m), inner], axis=1), dtype=V.dtype)
        values = []
        for i, j in pair_chunks(n, n_lambda * max(d, d_out), CHUNK_FLOATS):
            i_t, j_t = torch.as_tensor(i), torch.as_tensor(j)
            p = len(i)
            vi = V[i_t]
            ends = torch.stack([vi, V[j_t] - vi])                               # (2, P, d)
            point = (ends[1] == 0).all(dim=1)
            line = (mix @ ends.reshape(2, p * d)).reshape(m * p, d)             # (m * P, d), eq (1)
            y = torch.cat([y_end[i_t][None], module(line).reshape(m, p, d_out), y_end[j_t][None]])
            Lij = r_squared(y, lam_dev, rtol).mean(dim=1)                      # (P,), eq (2)
            values.append(torch.where(point, torch.ones_like(Lij), Lij))
        L = np.eye(n)
        rows, cols = np.triu_indices(n, k=1)
        L[rows, cols] = L[cols, rows] = torch.cat(values).numpy()
    return lmn_edu.linear_mapping_number(L)
