"""The course around the lessons: what every lesson shares, and a command that checks exercises.

    python -m lmn_edu.course list                   the lessons, their exercises, ★ and minutes
    python -m lmn_edu.course check NN | all         check exercises: the student's stubs, or
        [--solutions] [--path FILE] [--json]        the reference solutions, or a submitted file
        [--hint [LEVEL]] [--seed S] [--timeout T]   (a folder for all); one line per exercise
    python -m lmn_edu.course notebooks              lessons/NN_*.py -> lessons/notebooks/NN_*.ipynb

The lessons live in ``lessons/`` of the repository checkout this package comes from (an editable
install): the lesson scripts, ``exercises/`` (stubs students edit), ``solutions/`` (reference
solutions, kept apart) and ``checks.py`` (one check per exercise, against the package).

The helpers below are here, not in the lessons folder, so that a lesson imports the same way
from the repository root, from ``lessons/`` or from a notebook kernel started anywhere.
How an exercise is checked (a child process, fresh random cases, forbidden calls): lmn_edu.grading.
Exit codes: 0 every exercise checked and passed, 1 one failed, 2 bad input (a lesson that does not
exist, a usage error, no lessons/ folder), 130 interrupted.
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
    from .files import write_figure
    write_figure(fig, path, dpi=110)
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
    from .rundir import snapshot_path
    return load_params(snapshot_path(PAPER_RESULTS / f"{task}-s{seed}", step))


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
    from .rundir import finished
    from .train import train

    config = config.validated()
    try:
        saved, rows = load_run(config.run_dir)
        same = all(saved.get(k) == v for k, v in config.to_dict().items() if k != "device")
        if same and rows and finished(config.run_dir):
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

CHECKS_MODULE = "lmn_edu_course_checks"   # the name checks.py is loaded under (its functions pickle by it)
SHOWN_LINES = 5                           # lines of what a failed exercise printed, shown under its verdict


def _need_lessons():
    from .errors import LMNInputError
    if not (LESSONS / "checks.py").is_file():
        raise LMNInputError("the course needs the lessons/ folder of a checkout of the lmn_edu repository, "
                            "which an installed package does not carry: clone the repository, "
                            "pip install -e it, and run this from there")


def lesson_files():
    """{"NN": path} of the lesson scripts."""
    return {p.name[:2]: p for p in sorted(LESSONS.glob("[0-9][0-9]_*.py"))}


def _load(path, name=None):
    name = name or f"_course_{path.parent.name}_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module                # so that its functions pickle by reference
    spec.loader.exec_module(module)
    return module


def load_checks():
    """{"NN": {name: Exercise}} of lessons/checks.py (see lmn_edu.grading)."""
    from .errors import LMNInputError
    from .grading import collect
    _need_lessons()
    try:
        return collect(_load(LESSONS / "checks.py", CHECKS_MODULE))
    except Exception as e:                    # a defect of the course, not of the student's work
        raise LMNInputError(f"lessons/checks.py does not load: {type(e).__name__}: {e}") from None


def _lesson(number):
    from .errors import LMNInputError
    text = str(number)
    key = f"{int(text):02d}" if text.isascii() and text.isdigit() and len(text) <= 2 else None
    files = lesson_files()
    if key not in files:
        raise LMNInputError(f"lesson {number!r} is not a lesson; choose one of {', '.join(files)} or all")
    return key, files[key]


def _submitted(folder, key, lesson):
    """The file of lesson ``key`` in a folder of submissions: NN_<name>.py, else the one NN_*.py."""
    exact = folder / lesson.name
    if exact.is_file():
        return exact, ""
    found = sorted(p for p in folder.glob(f"{key}_*.py") if p.is_file())
    if len(found) == 1:
        return found[0], ""
    if not found:
        return None, f"no file {key}_*.py in {folder}"
    return None, f"{len(found)} files {key}_*.py in {folder}: keep one"


def grade(lessons="all", solutions=False, path=None, seed=0, timeout=None):
    """[Result] of every exercise of ``lessons`` ("all", "NN" or a list of them): the student's stubs
    in lessons/exercises/, the reference solutions (``solutions``), or ``path`` (for one lesson a
    file or a folder, for several a folder of NN_*.py)."""
    from .errors import LMNInputError
    from .grading import TIMEOUT_S, Result, grade_file
    checks = load_checks()
    keys = [k for k in lesson_files() if k in checks] if lessons == "all" else \
        [_lesson(n)[0] for n in ([lessons] if isinstance(lessons, (str, int)) else lessons)]
    for key in keys:
        if key not in checks:
            raise LMNInputError(f"lesson {key} has no exercises to check")
    if solutions and path is not None:
        raise LMNInputError("--solutions and --path: choose one")
    if path is not None:
        path = Path(path)
        if not path.exists():
            raise LMNInputError(f"--path {path}: no such file or folder")
        if path.is_file() and len(keys) > 1:
            raise LMNInputError(f"--path {path}: checking several lessons needs a folder of NN_*.py files")
    folder = LESSONS / ("solutions" if solutions else "exercises")
    protect = None if solutions else LESSONS / "solutions"
    results = []
    for key in keys:
        lesson = lesson_files()[key]
        if path is not None and path.is_file():
            target, missing = path, ""
        else:
            target, missing = _submitted(path if path is not None else folder, key, lesson)
        if target is None:
            results += [Result(key, ex.name, False, missing, ex.stars, ex.minutes, seed)
                        for ex in checks[key].values()]
            continue
        own = protect is not None and target.resolve().is_relative_to(protect.resolve())
        results += grade_file(checks[key].values(), target, checks=(LESSONS / "checks.py", CHECKS_MODULE),
                              seed=seed, timeout=timeout or TIMEOUT_S, protect=None if own else protect)
    return results


def run_checks(number, solutions=False, seed=0, path=None, timeout=None):
    """Check lesson ``number``'s exercises: [(name, passed, reason)] (see ``grade``)."""
    return [(r.exercise, r.passed, r.reason) for r in grade(number, solutions, path, seed, timeout)]


def write_notebooks(out=None):
    """lessons/NN_*.py (``# %%`` cells) -> <out>/NN_*.ipynb with jupytext; returns the paths."""
    import jupytext

    from .errors import LMNInputError
    out = Path(out or LESSONS / "notebooks")
    if out.exists() and not out.is_dir():
        raise LMNInputError(f"--out {out}: not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise LMNInputError(f"--out {out}: cannot create the folder ({e.strerror})") from None
    paths = []
    for path in lesson_files().values():
        nb = jupytext.read(path, fmt="py:percent")
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        target = out / f"{path.stem}.ipynb"
        jupytext.write(nb, target)
        paths.append(target)
    return paths


def _stars(n):
    return "★" * n + "☆" * (3 - n)


def _print_list():
    checks = load_checks()
    for key, path in lesson_files().items():
        exercises = checks.get(key, {})
        print(f"{path.stem}" + ("" if exercises else "  (no exercises)"))
        for ex in exercises.values():
            print(f"  {_stars(ex.stars)} {ex.minutes:3d} min  {ex.name}")


def _report(results, args, seed):
    """Print the verdicts (one line each, hints on request) or one JSON object; the exit status."""
    import json
    passed = sum(r.passed for r in results)
    status = 0 if results and passed == len(results) else 1
    if args.json:
        source = "solutions" if args.solutions else str(args.path) if args.path else "exercises"
        print(json.dumps({"lessons": args.lesson, "source": source, "seed": seed, "timeout": args.timeout,
                          "passed": passed, "total": len(results),
                          "exercises": [r.as_dict() for r in results]}, ensure_ascii=False))
        return status
    checks = load_checks()
    for r in results:
        print(f"{'✓' if r.passed else '✗'} {r.lesson} {r.exercise}" + ("" if r.passed else f": {r.reason}"))
        printed = r.output.strip().splitlines() if not r.passed else []
        for line in printed[:SHOWN_LINES]:        # what the student printed, to debug with
            print(f"    │ {line[:200]}")
        if len(printed) > SHOWN_LINES:
            print(f"    │ … {len(printed) - SHOWN_LINES} more lines printed")
        if args.hint and not r.passed:
            hints = checks[r.lesson][r.exercise].hints
            level = min(args.hint, len(hints))
            print(f"    hint {level} of {len(hints)}: {hints[level - 1]}")
    print(f"{passed} of {len(results)} exercises pass (seed {seed}; --seed {seed} replays these cases)")
    if not args.hint and passed < len(results):
        print("stuck? --hint gives a nudge, --hint 2 and --hint 3 more of the idea")
    return status


def _argument_parser(**kwargs):
    """argparse, with a usage error as one ``error:`` line (exit 2), never the usage block."""
    import argparse

    from .errors import LMNInputError

    class Parser(argparse.ArgumentParser):
        def error(self, message):
            raise LMNInputError(message)
    return Parser(**kwargs)


def _positive(kind):
    def parse(text):
        import argparse
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not (value > 0 or (kind is int and value == 0)) or value != value or value == float("inf"):
            raise argparse.ArgumentTypeError(f"{text!r} must be positive")
        return value
    return parse


def main(argv=None):
    from .errors import LMNInputError
    from .grading import TIMEOUT_S
    from .sandbox import CheckerError
    parser = _argument_parser(prog="python -m lmn_edu.course", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="the lessons and their exercises, with difficulty and minutes")
    c = sub.add_parser("check", help="check a lesson's exercises, or all of them")
    c.add_argument("lesson", help="lesson number, e.g. 04, or all")
    c.add_argument("--solutions", action="store_true", help="check the reference solutions instead")
    c.add_argument("--path", default=None, help="check this file (for all: a folder of NN_*.py files)")
    c.add_argument("--json", action="store_true", help="print one JSON object, for a gradebook")
    c.add_argument("--hint", nargs="?", const=1, default=0, type=_positive(int), metavar="LEVEL",
                   help="a hint for each failed exercise: 1 a nudge, higher levels more of the idea")
    c.add_argument("--seed", default=None, type=_positive(int), help="replay the random cases of this seed")
    c.add_argument("--timeout", default=TIMEOUT_S, type=_positive(float), metavar="SECONDS",
                   help=f"seconds the calls of one exercise may take (default {TIMEOUT_S:g})")
    n = sub.add_parser("notebooks", help="write lessons/notebooks/NN_*.ipynb (needs jupytext)")
    n.add_argument("--out", default=None, help="folder for the notebooks")
    try:
        "✓✗★".encode(sys.stdout.encoding or "ascii")
    except (UnicodeEncodeError, LookupError):   # a console that cannot show the marks
        if hasattr(sys.stdout, "reconfigure"):
            sys.stdout.reconfigure(errors="replace")
    try:
        args = parser.parse_args(argv)
        _need_lessons()
        if args.command == "list":
            _print_list()
            return 0
        if args.command == "notebooks":
            try:
                paths = write_notebooks(args.out)
            except ModuleNotFoundError as e:
                raise LMNInputError(f"writing notebooks needs {e.name} (pip install jupytext)") from None
            print(f"{len(paths)} notebooks in {paths[0].parent}")
            return 0
        import secrets
        seed = args.seed if args.seed is not None else secrets.randbelow(10**6)
        results = grade(args.lesson, args.solutions, args.path, seed, args.timeout)
        return _report(results, args, seed)
    except (LMNInputError, CheckerError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:                     # the reader went away (| head): not our error, nor a failed exercise
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141                              # 128 + SIGPIPE, as the shell reports a command killed by it


if __name__ == "__main__":
    sys.exit(main())
