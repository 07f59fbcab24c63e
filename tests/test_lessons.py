"""Every lesson runs to the end in quick mode (LMN_EDU_QUICK=1), headless, from a fresh folder."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

LESSONS_DIR = Path(__file__).resolve().parents[1] / "lessons"
LESSONS = sorted(LESSONS_DIR.glob("[0-9][0-9]_*.py"))
PACKAGE = LESSONS_DIR.parent / "lmn_edu"


def test_there_are_at_least_ten_lessons():
    assert len(LESSONS) >= 10, [p.name for p in LESSONS]


@pytest.mark.parametrize("lesson", LESSONS, ids=[p.stem for p in LESSONS])
def test_lesson_runs_in_quick_mode(lesson, tmp_path):
    env = {**os.environ, "LMN_EDU_QUICK": "1", "MPLBACKEND": "Agg", "PYTHONIOENCODING": "utf-8"}
    env.pop("LMN_EDU_FIGURES", None)
    proc = subprocess.run([sys.executable, str(lesson)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, encoding="utf-8", timeout=600)
    assert proc.returncode == 0, f"{lesson.name} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    assert "✓" in proc.stdout, f"{lesson.name} printed no check"
    figures = tmp_path / "lesson_figures" / lesson.stem
    assert any(figures.glob("*.png")), f"{lesson.name} wrote no figure to {figures}"
    assert not any(PACKAGE.rglob("*.png")) and not any(PACKAGE.rglob("history.json")), \
        "a lesson wrote into the package"
