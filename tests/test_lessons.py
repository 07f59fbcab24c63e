"""Every lesson runs to the end in quick mode (LMN_EDU_QUICK=1), headless, writing only to its output folder."""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

LESSONS_DIR = Path(__file__).resolve().parents[1] / "lessons"
LESSONS = sorted(LESSONS_DIR.glob("[0-9][0-9]_*.py"))
REPO = LESSONS_DIR.parent
NO_TORCH = "PyTorch is not installed"

# Runs a lesson as `python lessons/NN.py` would, but with `import torch` failing.
WITHOUT_TORCH = """
import importlib.abc, runpy, sys
class NoTorch(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ImportError("torch is blocked for this test")
sys.meta_path.insert(0, NoTorch())
runpy.run_path(sys.argv[1], run_name="__main__")
"""


def run_lesson(lesson, cwd, out, *prefix):
    env = {**os.environ, "LMN_EDU_QUICK": "1", "MPLBACKEND": "Agg", "PYTHONIOENCODING": "utf-8",
           "LMN_EDU_FIGURES": str(out)}
    proc = subprocess.run([sys.executable, *prefix, str(lesson)], cwd=cwd, env=env,
                          capture_output=True, text=True, encoding="utf-8", timeout=600)
    assert proc.returncode == 0, f"{lesson.name} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout


def test_there_are_thirteen_lessons_each_with_goals_and_exercises():
    assert [p.name[:2] for p in LESSONS] == [f"{k:02d}" for k in range(1, 14)], [p.name for p in LESSONS]
    for lesson in LESSONS:
        text = lesson.read_text(encoding="utf-8")
        for part in ("**Goals.**", "**Prerequisites.**", "**Time.**", "## Exercises", "**Open question.**",
                     "**Predict, then run.**", f"python -m lmn_edu.course check {lesson.name[:2]}"):
            assert part in text, f"{lesson.name} lacks {part}"


def test_each_lesson_lists_its_checked_exercises_with_stars_and_minutes():
    from lmn_edu import course
    checks = course.load_checks()
    for lesson in LESSONS:
        exercises = checks.get(lesson.name[:2], {})
        text = lesson.read_text(encoding="utf-8")
        for name, ex in exercises.items():
            entry = f"{'★' * ex.stars} ({ex.minutes} min) **Implement** `{name}`"
            assert entry in text, f"{lesson.name} does not list {entry}"
        stars = [ex.stars for ex in exercises.values()]
        assert stars == sorted(stars), f"{lesson.name}: exercises not ordered easy to hard: {stars}"


def test_each_docstring_gives_the_checks_stars_and_minutes():
    # what the student reads first (the stub's docstring) says what the checker and the listing say
    import ast
    from lmn_edu import course
    for lesson, exercises in course.load_checks().items():
        for kind in ("exercises", "solutions"):
            path = LESSONS_DIR / kind / course.lesson_files()[lesson].name
            tree = ast.parse(path.read_text(encoding="utf-8"))
            docs = {n.name: ast.get_docstring(n) or "" for n in tree.body if isinstance(n, ast.FunctionDef)}
            for name, ex in exercises.items():
                want = f"{'★' * ex.stars} ({ex.minutes} min) "
                assert docs.get(name, want).startswith(want), f"{kind}/{path.name} {name}: {docs[name][:30]!r}, not {want!r}"


def test_hints_go_from_a_nudge_to_the_idea_without_code():
    from lmn_edu import course
    code = re.compile(r"np\.|\[:|\bdef |\breturn \w+\(|\blambda\b|\w+\(\w+\)\s*$|==|\+=|\bimport\b")
    for lesson, exercises in course.load_checks().items():
        for name, ex in exercises.items():
            assert len(ex.hints) >= 3, f"{lesson} {name}: {len(ex.hints)} hints, expected three levels"
            for hint in ex.hints:
                assert not code.search(hint), f"{lesson} {name}: a hint reads like code: {hint!r}"


def test_lessons_use_the_package_not_copies():
    for lesson in LESSONS:
        text = lesson.read_text(encoding="utf-8")
        assert not re.search(r"^\s*(import|from)\s+(scipy|sklearn)", text, re.M), f"{lesson.name} imports scipy/sklearn"
        assert "for step in range" not in text, f"{lesson.name} has its own training loop"
        assert "_common" not in text and "sys.path" not in text, f"{lesson.name} patches imports"


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    # One output folder for all lessons, as for a student running them in order.
    return tmp_path_factory.mktemp("lesson_output")


@pytest.mark.parametrize("lesson", LESSONS, ids=[p.stem for p in LESSONS])
def test_lesson_runs_in_quick_mode(lesson, out, tmp_path):
    # from a folder that is neither the root nor lessons/: the output still lands in one place
    text = run_lesson(lesson, tmp_path, out)
    if NO_TORCH in text and "✓" not in text:
        return                      # a torch-only lesson on a machine without torch: it said so and stopped
    assert "✓" in text, f"{lesson.name} printed no check"
    assert "step None" not in text
    assert any((out / lesson.stem).glob("*.png")), f"{lesson.name} wrote no figure to {out / lesson.stem}"
    assert not list(tmp_path.iterdir()), f"{lesson.name} wrote into the working directory"
    assert not any((REPO / "lmn_edu").rglob("*.png")), "a lesson wrote into the package"


@pytest.mark.parametrize("lesson", [p for p in LESSONS if p.name[:2] in ("07", "08", "09", "11", "13")],
                         ids=lambda p: p.stem)
def test_quick_mode_reads_the_committed_run_and_gives_verdicts(lesson, out, tmp_path):
    text = run_lesson(lesson, tmp_path, out)
    assert "the run folder is" not in text, f"{lesson.name} trained in quick mode"
    assert "agrees:" in text or "differs:" in text


TORCH_LESSONS = [p for p in LESSONS if "import torch" in p.read_text(encoding="utf-8")]


@pytest.mark.parametrize("lesson", TORCH_LESSONS, ids=[p.stem for p in TORCH_LESSONS])
def test_lesson_runs_without_torch(lesson, tmp_path):
    text = run_lesson(lesson, tmp_path, tmp_path, "-c", WITHOUT_TORCH)
    assert NO_TORCH in text, f"{lesson.name} did not say that torch is absent"
