"""The course around the lessons: what every lesson shares, and a command that checks exercises.

    python -m lmn_edu.course list                   the lessons and their exercises
    python -m lmn_edu.course check NN [--solutions] check lesson NN's exercises (a student's stubs,
                                                    or the reference solutions)
    python -m lmn_edu.course notebooks              lessons/NN_*.py -> lessons/notebooks/NN_*.ipynb

The lessons live in ``lessons/`` of the repository checkout this package comes from (an editable
install): the lesson scripts, ``exercises/`` (stubs students edit), ``solutions/`` (reference
solutions, kept apart) and ``checks.py`` (one check per exercise, against the package).

The helpers below are here, not in the lessons folder, so that a lesson imports the same way
from the repository root, from ``lessons/`` or from a notebook kernel started anywhere.
Exit codes: 0 all passed, 1 an exercise failed, 2 bad input (a lesson that does not exist).
"""
import importlib.util
import os
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
LESSONS = REPO / "lessons"


# --- what every lesson shares ------------------------------------------------------------

def quick():
    """Quick mode (``LMN_EDU_QUICK=1``): the lesson finishes in seconds; it says what it shrank."""
    return os.environ.get("LMN_EDU_QUICK", "").strip() not in ("", "0", "false", "False")


def pick(quick_value, full_value):
    """``quick_value`` in quick mode, else ``full_value``."""
    return quick_value if quick() else full_value


def output_root():
    """Where every lesson writes, whatever the working directory: ``$LMN_EDU_FIGURES`` when set,
    else ``lesson_output/`` in the repository checkout (so lesson 08 finds lesson 07's run)."""
    return Path(os.environ.get("LMN_EDU_FIGURES") or REPO / "lesson_output")


def figure_dir(lesson):
    """The folder this lesson writes to (created)."""
    path = output_root() / lesson
    path.mkdir(parents=True, exist_ok=True)
    return path


def _in_kernel():
    return "ipykernel" in sys.modules


def show(path):
    """Show a saved figure inline when running in a notebook kernel; as a script, say where it is."""
    print(f"figure: {path}")
    if _in_kernel():
        from IPython.display import Image, display
        display(Image(filename=str(path)))


def save(fig, lesson, name):
    """Save a matplotlib Figure as <figure_dir>/<name>.png and show it (inline in a notebook)."""
    path = figure_dir(lesson) / f"{name}.png"
    fig.savefig(path, dpi=110)
    show(path)
    return path


_START = [time.perf_counter()]


def header(title, quick_note, full_note):
    """Print the lesson's title and what this mode does; one BLAS thread (the lessons' matrices
    are small: threads cost more than they give, and on a busy machine they fight over cores)."""
    if not any(os.environ.get(v) for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")):
        from threadpoolctl import threadpool_limits
        threadpool_limits(1)
    _START[0] = time.perf_counter()
    print(f"== {title} ==")
    if quick():
        print(f"quick mode (LMN_EDU_QUICK=1): {quick_note}")
    else:
        print(f"full mode: {full_note}  (set LMN_EDU_QUICK=1 for a short version)")


def check(condition, message):
    """A fact the lesson teaches, which must hold: print it with a tick, or stop the lesson."""
    if not condition:
        raise AssertionError(f"check failed: {message}")
    print(f"  ✓ {message}")


def compare(condition, message, evidence=True, missing="run too short"):
    """A claim of the paper measured on this run, reported either way; never stops the lesson.

    ``evidence``: False when the run did not reach the phase the claim needs: then no verdict,
    only "not tested".
    """
    if not evidence:
        print(f"  – not tested ({missing}): {message}")
        return None
    print(f"  {'✓ agrees:' if condition else '✗ differs:'} {message}")
    return bool(condition)


def observe(condition, message):
    """What the lesson predicted, seen or not on this run (not a claim of the paper); never stops."""
    print(f"  {'✓ observed:' if condition else '✗ not observed:'} {message}")
    return bool(condition)


def done():
    print(f"done in {time.perf_counter() - _START[0]:.0f} s ({'quick' if quick() else 'full'} mode)")


# --- the committed full runs (results/paper) ---------------------------------------------

def paper_run(task, seed=0):
    """(config, rows) of the committed full-size run of ``task`` and ``seed`` (its run folder)."""
    from .history import PAPER_RESULTS, load_run
    return load_run(PAPER_RESULTS / f"{task}-s{seed}")


def paper_snapshot(step, task="add", seed=0):
    """The params of the committed full run at ``step`` (Appendix B: steps 0, 200, 7600, 10600)."""
    from .history import PAPER_RESULTS, load_params
    return load_params(PAPER_RESULTS / f"{task}-s{seed}" / "snapshots" / f"step{step:06d}.npz")


def paper_connectivity(step):
    """(L, order, eigenvalues) of Appendix B at ``step``, measured on the committed run's 768
    training pairs (h1 -> logits). L is stored to float16 precision (about 3e-4); returned as float64."""
    from .history import PAPER_RESULTS
    with np.load(PAPER_RESULTS / "appendix_b.npz") as z:
        return z[f"L{step}"].astype(np.float64), z[f"order{step}"], z[f"mu{step}"]


# --- training runs of the lessons (full mode) --------------------------------------------

def run_history(config):
    """(rows, final params) of a finished run with this RunConfig: the one already in its folder
    (lessons 07–09 study the same run), else trained now."""
    from .history import load_params, load_run
    from .train import train

    config = config.validated()
    try:
        saved, rows = load_run(config.run_dir)
        same = all(saved.get(k) == v for k, v in config.to_dict().items() if k != "device")
        if same and rows and rows[-1]["step"] == config.steps:
            print(f"reusing the finished run in {config.run_dir} (delete the folder to train again)")
            return rows, load_params(config.run_dir / "params.npz")
    except (OSError, ValueError):
        pass
    print(f"training {config.task} for {config.steps} steps; the run folder is {config.run_dir}")
    from tqdm.auto import tqdm
    history = train(config, progress=None if quick() else tqdm, overwrite=True)
    return history.rows, history.final_params


def add_run_config():
    """The addition run lessons 07–09 share in full mode: the paper's setting, LMN of emb, h1, h2."""
    from .config import RunConfig
    return RunConfig(task="add", lmn_layers=("emb", "h1", "h2"), lmn_every=500, out=str(output_root() / "runs"))


# --- exercises ---------------------------------------------------------------------------

def lesson_files():
    """{"NN": path} of the lesson scripts."""
    return {p.name[:2]: p for p in sorted(LESSONS.glob("[0-9][0-9]_*.py"))}


def _load(path):
    spec = importlib.util.spec_from_file_location(f"_course_{path.parent.name}_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _lesson(number):
    from .errors import LMNInputError
    key = f"{int(number):02d}" if str(number).isdigit() else None
    files = lesson_files()
    if key not in files:
        raise LMNInputError(f"lesson={number!r} is not a lesson; choose one of {', '.join(files)}")
    return key, files[key]


def load_checks():
    """{"NN": {name: Exercise}} of lessons/checks.py (see lmn_edu.grading)."""
    from .grading import collect
    return collect(_load(LESSONS / "checks.py"))


def run_checks(number, solutions=False, seed=0, path=None):
    """Check lesson ``number``'s exercises: [(name, passed, message)].

    The student's stub in lessons/exercises/, the reference solution (``solutions``), or ``path``."""
    from .errors import LMNInputError
    key, lesson = _lesson(number)
    checks = load_checks().get(key, {})
    if not checks:
        raise LMNInputError(f"lesson={number!r} has no exercises to check")
    target = Path(path) if path else LESSONS / ("solutions" if solutions else "exercises") / lesson.name
    if not target.exists():
        raise LMNInputError(f"{target} is missing")
    module = _load(target)
    results = []
    for name, ex in checks.items():
        fn = getattr(module, name, None)
        hint = ex.hints[0]
        try:
            if fn is None:
                raise AssertionError(f"{target.name} defines no function {name}")
            ex.check(fn, np.random.default_rng(seed))
            results.append((name, True, ""))
        except NotImplementedError:
            results.append((name, False, f"not implemented yet. Hint: {hint}"))
        except Exception as e:   # a student's bug of any kind is a failed exercise, not a crash
            results.append((name, False, f"{type(e).__name__}: {e}. Hint: {hint}"))
    return results


def write_notebooks(out=None):
    """lessons/NN_*.py (``# %%`` cells) -> <out>/NN_*.ipynb with jupytext; returns the paths."""
    import jupytext
    out = Path(out or LESSONS / "notebooks")
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for path in lesson_files().values():
        nb = jupytext.read(path, fmt="py:percent")
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        target = out / f"{path.stem}.ipynb"
        jupytext.write(nb, target)
        paths.append(target)
    return paths


def main(argv=None):
    import argparse

    from .errors import LMNInputError
    parser = argparse.ArgumentParser(prog="python -m lmn_edu.course", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="the lessons and their exercises")
    c = sub.add_parser("check", help="check a lesson's exercises")
    c.add_argument("lesson", help="lesson number, e.g. 04")
    c.add_argument("--solutions", action="store_true", help="check the reference solutions instead")
    n = sub.add_parser("notebooks", help="write lessons/notebooks/NN_*.ipynb (needs jupytext)")
    n.add_argument("--out", default=None, help="folder for the notebooks")
    args = parser.parse_args(argv)
    try:
        if args.command == "list":
            checks = load_checks()
            for key, path in lesson_files().items():
                print(f"{path.stem:36s} exercises: {', '.join(checks.get(key, {})) or '—'}")
            return 0
        if args.command == "notebooks":
            try:
                paths = write_notebooks(args.out)
            except ModuleNotFoundError as e:
                raise LMNInputError(f"writing notebooks needs {e.name} (pip install jupytext)") from None
            print(f"{len(paths)} notebooks in {paths[0].parent}")
            return 0
        results = run_checks(args.lesson, args.solutions)
    except LMNInputError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    for name, ok, message in results:
        print(f"{'✓' if ok else '✗'} {name}" + ("" if ok else f": {message}"))
    passed = sum(ok for _, ok, _ in results)
    print(f"{passed} of {len(results)} exercises pass")
    return 0 if passed == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
