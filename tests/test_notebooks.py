"""Lessons open as notebooks: generated with jupytext, executed with nbclient in quick mode, figures inline.

Two notebooks, one started from the repository root and one from lessons/, so that the imports
and the output folder are checked from both. Skips when jupytext, nbclient or ipykernel is missing.
"""
import pytest

jupytext = pytest.importorskip("jupytext")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

from lmn_edu import course  # noqa: E402


@pytest.mark.parametrize("lesson, start_in", [("04", "lessons"), ("07", "root")])
def test_notebook_runs_and_shows_its_figures(lesson, start_in, tmp_path, monkeypatch):
    monkeypatch.setenv("LMN_EDU_QUICK", "1")
    monkeypatch.setenv("LMN_EDU_FIGURES", str(tmp_path / "out"))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    path = course.write_notebooks(tmp_path / "notebooks")
    nb_path = next(p for p in path if p.name.startswith(lesson))
    nb = jupytext.read(nb_path)
    cwd = course.LESSONS if start_in == "lessons" else course.REPO
    nbclient.NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}).execute()
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    images = [o for o in outputs if o.output_type == "display_data" and "image/png" in o.get("data", {})]
    assert images, "no figure was shown inline"
    assert any((tmp_path / "out").rglob("*.png")), "no figure was saved to the output folder"


def test_every_lesson_converts_to_a_notebook(tmp_path):
    paths = course.write_notebooks(tmp_path)
    assert len(paths) == len(course.lesson_files())
    for p in paths:
        nb = jupytext.read(p)
        assert nb.cells[0].cell_type == "markdown" and "Goals" in nb.cells[0].source
        assert any(c.cell_type == "markdown" and "## Exercises" in c.source for c in nb.cells)
