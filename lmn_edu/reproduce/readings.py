"""Measurements on saved params beyond the training curves: Appendix B's L, LMN under other
readings of the paper, and the Sec. 2 / Fig 1 sanity checks of the definition itself.

A "reading" is one choice the paper leaves open or that we had to make (which points L is built
on, which output, what to do with negative eigenvalues, the precision of the evaluation). Each is
measured on the same params so that only the reading differs.
"""
import json
from pathlib import Path

import numpy as np

from ..analysis import spectral_order
from ..config import RunConfig
from ..errors import LMNInputError
from ..files import read_json, read_npz, write_atomic
from ..rundir import load_params, load_run, save_params, snapshot_steps
from ..lmn import connectivity_matrix, linear_mapping_number
from ..mlp_lmn import layer_connectivity
from ..train import lmn_points, setup_run
from .fill import snapshot_path

READING_STEPS = (200, 500, 7600, 15000)
APPENDIX_B_STEPS = (0, 200, 7600)
OURS = "ours: h1 → logits, train points, |μ|, float64"
# name -> (layer, points, output, dtype, eigenvalues); what the paper states: the layer (h1), the
# output (logits, Sec. 3 footnote 3 and Fig 2) and |μ| (Sec. 2); the points and the precision are ours.
READINGS = {
    OURS: ("h1", "train", "logits", "float64", "abs"),
    "negative eigenvalues clipped to 0 (instead of |μ|)": ("h1", "train", "logits", "float64", "clip"),
    "all points (train + test)": ("h1", "all", "logits", "float64", "abs"),
    "probabilities as the output": ("h1", "train", "probs", "float64", "abs"),
    "h2 → probabilities (h2 → logits is 1)": ("h2", "train", "probs", "float64", "abs"),
    "float32 evaluation (same params)": ("h1", "train", "logits", "float32", "abs"),
}


def lmn_from_eigenvalues(mu, mode="abs"):
    """LMN = 2^entropy of the normalised eigenvalues; ``mode`` "abs" takes |μ| (eq 3, the paper),
    "clip" sets negative μ to 0 instead."""
    w = np.abs(mu) if mode == "abs" else np.clip(mu, 0.0, None)
    p = w[w > 0] / w.sum()
    return float(2.0 ** -(p * np.log2(p)).sum())


def _eigenvalues(config, params, layer, points, output, dtype):
    """Eigenvalues of L for one reading (readings that differ only in the eigenvalue rule share them)."""
    task, train_idx, test_idx, _ = setup_run(config)
    L = layer_connectivity(params, lmn_points(task, train_idx, test_idx, points), layer, output,
                           config.n_lambda, precision=dtype)                         # (N, N)
    return np.linalg.eigvalsh(L)


def measure_readings(results, snapshots, seeds, steps=READING_STEPS, readings=tuple(READINGS),
                     task="add", log=print):
    """LMN of each reading on the params of ``<snapshots>/<task>-s<seed>/snapshots/`` at ``steps``;
    appended to ``<results>/readings.json`` (entries already there are kept, not measured again)."""
    path = Path(results) / "readings.json"
    done = load_readings(results)
    for seed in seeds:
        config = RunConfig.from_dict(load_run(Path(results) / f"{task}-s{seed}")[0])
        for step in steps:
            snap = snapshot_path(Path(snapshots) / f"{task}-s{seed}", step)
            if not snap.exists():
                continue
            params, spectra = load_params(snap), {}
            for name in readings:
                if any((d["task"], d["seed"], d["step"], d["reading"]) == (task, seed, step, name) for d in done):
                    continue
                layer, points, output, dtype, mode = READINGS[name]
                key = (layer, points, output, dtype)
                if key not in spectra:
                    spectra[key] = _eigenvalues(config, params, *key)
                value = lmn_from_eigenvalues(spectra[key], mode)
                done.append({"task": task, "seed": seed, "step": step, "layer": layer, "points": points,
                             "output": output, "dtype": dtype, "eigenvalues": mode, "reading": name,
                             "lmn": value})
                write_atomic(path, json.dumps(done, indent=1) + "\n")
                log(f"reading {task}-s{seed} step {step} {name}: {value:.2f}")
    return done


def load_readings(results):
    """The entries of ``<results>/readings.json`` ([] when absent); LMNInputError when unreadable."""
    path = Path(results) / "readings.json"
    if not path.exists():
        return []
    data = read_json(path)
    ok = isinstance(data, list) and all(isinstance(d, dict) and {"seed", "step", "reading", "lmn"} <= set(d)
                                        for d in data)
    if not ok:
        raise LMNInputError(f"{path}: malformed (a list of readings with seed, step, reading, lmn)")
    return data


def appendix_b(results, task="add", seed=0, layer="h1", steps=None, write_cache=False):
    """{step: (L, order, eigenvalues)}: Appendix B's L (float16) at the snapshots of ``<task>-s<seed>``
    (at ``steps``; default Appendix B's steps and seed 0's generalization step 10 600).

    Cached in ``<results>/appendix_b.npz``; L is computed only for snapshots not cached yet, the
    spectral order (analysis.spectral_order) only where the cache has none. The cache is written
    only with ``write_cache`` (after training): a folder the report is only read from stays as it is.
    """
    results = Path(results)
    cache = results / "appendix_b.npz"
    out = {}
    if cache.exists():
        z = read_npz(cache)
        try:
            out = {int(k[1:]): [z[k], z.get(f"order{k[1:]}"), z[f"mu{k[1:]}"]] for k in z if k[0] == "L"}
        except (ValueError, KeyError) as e:
            raise LMNInputError(f"{cache}: malformed ({type(e).__name__}: {e})") from None
    folder = results / f"{task}-s{seed}"
    snaps = snapshot_steps(folder)
    changed = False
    wanted = APPENDIX_B_STEPS + (10600,) if steps is None else tuple(steps)
    for s in [s for s in snaps if s not in out and s in wanted]:
        config = RunConfig.from_dict(load_run(folder)[0])
        task_, train_idx, test_idx, _ = setup_run(config)
        L = layer_connectivity(load_params(snapshot_path(folder, s)),
                               lmn_points(task_, train_idx, test_idx, config.lmn_points), layer,
                               config.lmn_output, config.n_lambda)                   # (N, N)
        out[s] = [L.astype(np.float16), None, np.linalg.eigvalsh(L)]
        changed = True
    for s, entry in out.items():
        if entry[1] is None:
            entry[1] = spectral_order(entry[0].astype(np.float64))
            changed = True
    if changed and write_cache:
        arrays = {}
        for s, (L, order, mu) in out.items():
            arrays.update({f"L{s}": L, f"order{s}": order, f"mu{s}": mu})
        save_params(cache, arrays, compressed=True)
    return {s: tuple(v) for s, v in sorted(out.items())}


def sanity_checks():
    """Sec. 2 / Fig 1 of the paper on functions whose answer is known: [(what, expected, LMN or L)].

    Cheap (NumPy, a few hundred points), so computed whenever the report is built.
    """
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(60, 3))                              # (60, 3)
    A, b = rng.normal(size=(3, 4)), rng.normal(size=4)
    x1 = np.linspace(-1, 1, 41)[:, None]                              # (41, 1)

    def kinks(k):                                                     # 1-D, k linear pieces (k-1 kinks)
        c = np.linspace(-1, 1, k + 1)[1:-1]
        return lambda x: np.abs(x - c[None, :]).sum(axis=1, keepdims=True) if k > 1 else 2 * x

    pair = np.array([[-1.0], [1.0]])
    out = [("affine map x ↦ Ax + b (60 points in R³)", "1 (one linear map)",
            linear_mapping_number(connectivity_matrix(lambda x: x @ A + b, X)))]
    for k in (1, 2, 4):
        out.append((f"1-D piecewise-linear map with {k} linear piece{'s' if k > 1 else ''} (41 points)",
                    f"{k}, if LMN counted linear regions (Fig 1's analogy)",
                    linear_mapping_number(connectivity_matrix(kinks(k), x1))))
    out.append(("L of the pair (−1, 1) under x ↦ x² (a symmetric parabola)", "L = 0 (Sec. 2)",
                float(connectivity_matrix(lambda x: x ** 2, pair)[0, 1])))
    return out
