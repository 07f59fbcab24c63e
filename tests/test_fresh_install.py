"""What a fresh `pip install -r requirements.txt` gives is enough: no scipy, scikit-learn, torch or
notebook tools at `import lmn_edu` or in the main run. Tested by blocking them in a subprocess,
so the test means the same on a machine where they happen to be installed."""
import importlib.util
import os
import shutil
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


def test_the_package_alone_works_from_any_folder(tmp_path):
    # as a wheel installs it: lmn_edu/ without the checkout around it (no results/, no lessons/)
    site = tmp_path / "site"
    shutil.copytree(ROOT / "lmn_edu", site / "lmn_edu", ignore=shutil.ignore_patterns("__pycache__"))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site), "MPLBACKEND": "Agg"}

    def command(*args):
        return subprocess.run([sys.executable, "-m", *args], cwd=elsewhere, capture_output=True, text=True,
                              env=env, timeout=300)
    r = command("lmn_edu.run", "--steps", "3", "--eval-every", "1", "--lmn-layers", "--no-progress")
    assert r.returncode == 0 and "train acc" in r.stdout, r.stderr[-2000:]
    assert (elsewhere / "runs" / "add-numpy-s0" / "finished.json").exists()
    if importlib.util.find_spec("torch") is not None:
        r = subprocess.run([sys.executable, "-c", "import torch, lmn_edu; torch.manual_seed(0); "
                            "print(lmn_edu.module_lmn(torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.Tanh()), "
                            "torch.randn(6, 2)))"], cwd=elsewhere, capture_output=True, text=True, env=env, timeout=300)
        assert r.returncode == 0 and float(r.stdout) >= 1.0, r.stderr[-2000:]
    for args in (["lmn_edu.reproduce", "--from", "results/paper"], ["lmn_edu.reproduce", "precision"],
                 ["lmn_edu.reproduce", "train", "--tasks", "xor"]):
        r = command(*args)
        lines = r.stderr.strip().splitlines()
        assert r.returncode == 2 and len(lines) == 1 and "checkout" in lines[0], r.stderr[-2000:]
