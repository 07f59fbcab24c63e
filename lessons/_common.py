"""Small things every lesson shares: quick mode, the figure folder, checks that print.

Quick mode (``LMN_EDU_QUICK=1``) makes every lesson finish in well under a minute by
shrinking steps and point sets; each lesson prints what it shrank.

Figures go to ``lesson_figures/<lesson>/`` under the current directory, or to
``$LMN_EDU_FIGURES/<lesson>/`` when that variable is set.
"""
import importlib.util
import os
import sys
import time
from pathlib import Path

# The lessons' matrices are small (at most ~800 × 100): BLAS threads cost more than they give
# there, and on a busy machine they fight over cores (we measured 10× slower training steps).
# Set before NumPy is imported; a value already in the environment wins.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

# Lessons run as `python lessons/NN_name.py` from a checkout where the package is not
# installed: then Python looks for imports beside the script, so point it at the repo root.
ROOT = Path(__file__).resolve().parent.parent
if importlib.util.find_spec("lmn_edu") is None:
    sys.path.insert(0, str(ROOT))

QUICK = os.environ.get("LMN_EDU_QUICK", "").strip() not in ("", "0", "false", "False")

_START = time.perf_counter()


def pick(quick, full):
    """``quick`` in quick mode, else ``full``."""
    return quick if QUICK else full


def figures_root():
    return Path(os.environ.get("LMN_EDU_FIGURES") or "lesson_figures")


def figure_dir(lesson):
    """The folder this lesson writes to (created)."""
    path = figures_root() / lesson
    path.mkdir(parents=True, exist_ok=True)
    return path


def save(fig, lesson, name):
    """Save a matplotlib Figure as <figure_dir>/<name>.png and say where."""
    path = figure_dir(lesson) / f"{name}.png"
    fig.savefig(path, dpi=110)
    print(f"figure: {path}")
    return path


def header(title, quick_note, full_note):
    """Print the lesson's title and what this mode does."""
    print(f"== {title} ==")
    if QUICK:
        print(f"quick mode (LMN_EDU_QUICK=1): {quick_note}")
    else:
        print(f"full mode: {full_note}  (set LMN_EDU_QUICK=1 for a short version)")


def check(condition, message):
    """A fact the lesson teaches, which must hold: print it with a tick, or stop the lesson."""
    if not condition:
        raise AssertionError(f"check failed: {message}")
    print(f"  ✓ {message}")


def compare(condition, message):
    """An empirical claim of the paper: print whether this run agrees; never stop the lesson.

    A single seed or a shortened quick run can honestly disagree with the paper: say so.
    """
    print(f"  {'✓ agrees:' if condition else '✗ differs:'} {message}")
    return bool(condition)


def done():
    mode = "quick" if QUICK else "full"
    print(f"done in {time.perf_counter() - _START:.0f} s ({mode} mode)")


def run_history(config):
    """(rows, final params) of a finished training run with this RunConfig.

    Full-size runs take many minutes, and lessons 07–09 study the same run: if an earlier
    lesson left a finished run with exactly this config in the folder, reuse it; else train
    (and save the final params as params.npz beside the history, as the command line does).
    """
    import json

    import numpy as np

    from lmn_edu.history import load_history
    from lmn_edu.train import train

    config = config.validated()
    run_dir = config.run_dir
    try:
        saved = json.loads((run_dir / "config.json").read_text())
        rows = load_history(run_dir)
        with np.load(run_dir / "params.npz") as z:
            params = {k: z[k] for k in z.files}
        same = all(saved.get(k) == v for k, v in config.to_dict().items() if k != "device")  # saved: the device used
        if same and rows and rows[-1]["step"] == config.steps:
            print(f"reusing the finished run in {run_dir} (delete the folder to train again)")
            return rows, params
    except (OSError, ValueError, KeyError):
        pass
    print(f"training {config.task} for {config.steps} steps; the run folder is {run_dir}")
    progress = None
    if not QUICK:
        from tqdm.auto import tqdm
        progress = tqdm
    history = train(config, progress=progress)
    np.savez(run_dir / "params.npz", **history.final_params)
    return history.rows, history.final_params


def add_run_config():
    """The addition run lessons 07–09 share: the paper's setting, LMN from emb, h1 and h2.

    Quick mode: 1000 steps (enough to memorize and for LMN to turn down), and LMN on the 193
    test pairs (not the 768 training pairs): the cost of L grows as the square of the points.
    """
    from lmn_edu import RunConfig

    out = str(figures_root() / ("runs-quick" if QUICK else "runs"))   # a quick run never overwrites a full one
    layers = ("emb", "h1", "h2")
    if QUICK:
        return RunConfig(task="add", steps=1000, eval_every=10, lmn_every=100, lmn_layers=layers,
                         lmn_points="test", out=out)
    return RunConfig(task="add", lmn_layers=layers, out=out)
