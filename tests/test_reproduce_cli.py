"""``python -m lmn_edu.reproduce`` as a user runs it: bad folders, bad files and bad values give a
one-line error and exit 2, and never overwrite a report; a folder holding another run is refused."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lmn_edu.history import History

ROOT = Path(__file__).resolve().parents[1]


def _run(*args, cwd=None):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "lmn_edu.reproduce", *map(str, args)], capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=300)


def _one_line_error(p, *words):
    assert p.returncode == 2, p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in p.stderr, p.stderr
    for w in words:
        assert w in lines[0], lines[0]


def _finished_run(folder, steps=500):
    folder.mkdir(parents=True)
    config = {"task": "add", "seed": 0, "steps": steps, "backend": "numpy", "dtype": "float64",
              "eval_every": 10, "lmn_layers": ["h1"], "lmn_points": "train", "lmn_output": "logits",
              "train_frac": 0.8, "lr": 0.001, "weight_decay": 0.2, "n_lambda": 21, "emb_dim": 32, "hidden": 100}
    h = History(folder, config, ["lmn_h1"])
    for step in range(0, steps + 1, 10):
        h.append({"step": step, "train_loss": 1.0, "train_acc": 1.0, "test_loss": 1.0, "test_acc": 0.5,
                  "l2": 30.0, "time_s": 0.0, "lmn_h1": None})
    h.close()
    return folder


def test_an_empty_folder_is_refused_and_the_report_kept(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "reproduction.md").write_text("the old report\n")
    (tmp_path / "empty").mkdir()
    p = _run("--from", tmp_path / "empty", "--docs", docs)
    _one_line_error(p, "holds no run folder")
    assert (docs / "reproduction.md").read_text() == "the old report\n"


@pytest.mark.parametrize("damage", ["truncated", "null", "rows-missing-keys", "folder-for-file", "legacy-no-rows"])
def test_malformed_runs_give_one_line_errors(tmp_path, damage):
    res = tmp_path / "res"
    run = _finished_run(res / "add-s0")
    if damage == "truncated":
        (run / "config.json").write_text('{"task": "add", "st')
    elif damage == "null":
        (run / "config.json").write_text("null")
    elif damage == "rows-missing-keys":
        (run / "history.jsonl").write_text('{"step": 0, "train_acc": 1.0}\n')
    elif damage == "folder-for-file":
        (run / "history.jsonl").unlink()
        (run / "history.jsonl").mkdir()
    else:
        import shutil
        shutil.rmtree(run)
        (res / "add-s0.json").write_text(json.dumps({"config": {}}))
        (res / "add-s0").mkdir()
        (res / "add-s0" / "config.json").write_text(json.dumps({"config": {}}))
    p = _run("--from", res, "--docs", tmp_path / "docs")
    _one_line_error(p, "add-s0")
    assert not (tmp_path / "docs" / "reproduction.md").exists()


@pytest.mark.parametrize("threads", ["0", "-3", "100000"])
def test_bad_thread_counts(tmp_path, threads):
    p = _run("--threads", threads, "--backend", "numpy", "--results", tmp_path, "--no-report")
    _one_line_error(p, "--threads")


def test_a_finished_run_with_other_settings_is_not_taken_for_the_new_one(tmp_path):
    _finished_run(tmp_path / "add-s0", steps=500)
    p = _run("--tasks", "add", "--seeds", "0", "--steps", "30", "--backend", "numpy", "--results", tmp_path,
             "--no-report")
    _one_line_error(p, "steps=500", "asked: 30")


def test_bad_task_and_missing_from_folder(tmp_path):
    _one_line_error(_run("--tasks", "mul", "--no-report"), "task='mul'")
    _one_line_error(_run("--from", tmp_path / "nowhere"), "is not a folder")


def test_from_needs_neither_torch_nor_scipy(tmp_path):
    """--from rebuilds the report with torch, scipy and scikit-learn made unimportable."""
    res = tmp_path / "res"
    _finished_run(res / "add-s0")
    code = ("import runpy, sys\n"
            "for m in ('torch', 'scipy', 'sklearn'): sys.modules[m] = None\n"
            f"sys.argv = ['reproduce', '--from', {str(res)!r}, '--docs', {str(tmp_path / 'docs')!r}]\n"
            "runpy.run_module('lmn_edu.reproduce', run_name='__main__')\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert p.returncode == 0, p.stderr
    assert (tmp_path / "docs" / "reproduction.md").exists()
