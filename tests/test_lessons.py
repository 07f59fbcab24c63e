"""Every lesson runs to the end in quick mode (LMN_EDU_QUICK=1), headless, from a fresh folder."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

LESSONS_DIR = Path(__file__).resolve().parents[1] / "lessons"
LESSONS = sorted(LESSONS_DIR.glob("[0-9][0-9]_*.py"))
PACKAGE = LESSONS_DIR.parent / "lmn_edu"
NO_TORCH = "PyTorch is not installed"

# Runs a lesson as `python lessons/NN.py` would, but with `import torch` failing.
WITHOUT_TORCH = """
import importlib.abc, os, runpy, sys
class NoTorch(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ImportError("torch is blocked for this test")
sys.meta_path.insert(0, NoTorch())
sys.path.insert(0, os.path.dirname(sys.argv[1]))
runpy.run_path(sys.argv[1], run_name="__main__")
"""


def run_lesson(lesson, cwd, *prefix):
    env = {**os.environ, "LMN_EDU_QUICK": "1", "MPLBACKEND": "Agg", "PYTHONIOENCODING": "utf-8"}
    env.pop("LMN_EDU_FIGURES", None)
    proc = subprocess.run([sys.executable, *prefix, str(lesson)], cwd=cwd, env=env,
                          capture_output=True, text=True, encoding="utf-8", timeout=600)
    assert proc.returncode == 0, f"{lesson.name} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout


def test_there_are_at_least_ten_lessons():
    assert len(LESSONS) >= 10, [p.name for p in LESSONS]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    # One folder for all lessons, as for a student running them in order: lessons 08 and 09
    # then reuse the training run lesson 07 left there (and so test that reuse).
    return tmp_path_factory.mktemp("lessons")


@pytest.mark.parametrize("lesson", LESSONS, ids=[p.stem for p in LESSONS])
def test_lesson_runs_in_quick_mode(lesson, workdir):
    out = run_lesson(lesson, workdir)
    if NO_TORCH in out and "✓" not in out:
        return                      # a torch-only lesson on a machine without torch: it said so and stopped
    assert "✓" in out, f"{lesson.name} printed no check"
    figures = workdir / "lesson_figures" / lesson.stem
    assert any(figures.glob("*.png")), f"{lesson.name} wrote no figure to {figures}"
    assert not any(PACKAGE.rglob("*.png")) and not any(PACKAGE.rglob("history.json")), \
        "a lesson wrote into the package"


TORCH_LESSONS = [p for p in LESSONS if "import torch" in p.read_text(encoding="utf-8")]


@pytest.mark.parametrize("lesson", TORCH_LESSONS, ids=[p.stem for p in TORCH_LESSONS])
def test_lesson_runs_without_torch(lesson, tmp_path):
    out = run_lesson(lesson, tmp_path, "-c", WITHOUT_TORCH)
    assert NO_TORCH in out, f"{lesson.name} did not say that torch is absent"
