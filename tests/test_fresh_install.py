"""What a fresh `pip install -r requirements.txt` gives is enough: no scipy, scikit-learn, torch or
notebook tools at `import lmn_edu` or in the main run. Tested by blocking them in a subprocess,
so the test means the same on a machine where they happen to be installed."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("scipy", "sklearn", "torch", "jupytext", "nbclient", "ipykernel")

BLOCKED = """
import importlib.abc, runpy, sys
HEAVY = {heavy!r}
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in HEAVY:
            raise ModuleNotFoundError(f"No module named {{name!r}} (blocked by the test)", name=name)
sys.meta_path.insert(0, Block())
import lmn_edu, lmn_edu.run, lmn_edu.train, lmn_edu.analysis, lmn_edu.plots, lmn_edu.backends
import numpy as np
params = lmn_edu.init_params(np.random.default_rng(0), 31, 31)
print("LMN", lmn_edu.layer_lmn(params, lmn_edu.make_task("add").inputs[:20], "h1"))
sys.argv = ["lmn_edu.run", "--steps", "3", "--eval-every", "1", "--lmn-layers", "--no-progress", "--out", {out!r}]
runpy.run_module("lmn_edu.run", run_name="__main__")
"""


def test_import_and_main_run_need_nothing_heavy(tmp_path):
    code = BLOCKED.format(heavy=HEAVY, out=str(tmp_path / "runs"))
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                          env={**os.environ, "MPLBACKEND": "Agg"}, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "LMN" in proc.stdout and "train acc" in proc.stdout          # LMN, and the run's summary line


def test_requirements_name_only_the_light_dependencies():
    tomllib = pytest.importorskip("tomllib")                          # Python >= 3.11
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = {d.split(">")[0].split("=")[0].split("<")[0].strip() for d in project["dependencies"]}
    assert names == {"numpy", "autograd", "matplotlib", "tqdm", "threadpoolctl"}
    assert "-e ." in (ROOT / "requirements.txt").read_text().splitlines()
    assert "-e .[dev]" in (ROOT / "requirements-dev.txt").read_text().splitlines()
