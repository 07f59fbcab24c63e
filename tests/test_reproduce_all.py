"""``reproduce all`` and its parts: the plan, resumability (what is there is kept, a run of another
backend included, a run with other settings refused), what a rerun changed, the split × init cell,
and the whole chain at CI size (slow)."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lmn_edu.config import RunConfig
from lmn_edu.errors import LMNInputError
from lmn_edu.history import History
from lmn_edu.reproduce import cli, make, plan, snapshot, split_init
from lmn_edu.train import train

ROOT = Path(__file__).resolve().parents[1]


def test_old_spellings_map_onto_commands():
    assert cli._argv(["--from", "results/paper"]) == ["report", "--from", "results/paper"]
    assert cli._argv(["--threads", "1", "--no-report"])[0] == "train"
    assert cli._argv(["all", "--small"]) == ["all", "--small"]
    assert cli._argv([]) == ["--help"]
    names = {a.dest: a for a in cli.build_parser()._subparsers._group_actions}["command"].choices
    assert {"all", "runs", "readings", "appendix-b", "split-init", "precision", "report", "plan"} <= set(names)


def test_the_small_plan_has_the_committed_plans_shape(tmp_path):
    small = plan.small_plan()
    plan.save_plan(small, tmp_path / "plan.json")
    assert plan.load_plan(tmp_path / "plan.json") == json.loads(json.dumps(small))
    committed = plan.load_plan(ROOT / "results" / "paper" / plan.FILE)
    assert set(small) == set(committed) and set(small["runs"][0]) - {"lmn_points"} == set(committed["runs"][0])
    (tmp_path / "bad.json").write_text("[]")
    with pytest.raises(LMNInputError, match="not a plan"):
        plan.load_plan(tmp_path / "bad.json")


def _finished(folder, **config):
    config = {"task": "s4", "seed": 0, "steps": 20, "backend": "torch", "dtype": "float64", "eval_every": 10,
              "lmn_points": "train", "lmn_output": "logits", "train_frac": 0.8, "lr": 0.001,
              "weight_decay": 0.2, "n_lambda": 21, "emb_dim": 32, "hidden": 100, **config}
    folder.mkdir(parents=True)
    h = History(folder, config, ["lmn_h1"])
    for step in range(0, config["steps"] + 1, 10):
        h.append({"step": step, "train_loss": 1.0, "train_acc": 1.0, "test_loss": 1.0, "test_acc": 0.5,
                  "l2": 30.0, "time_s": 0.0, "lmn_h1": 5.0})
    h.finish()                                                        # the finished marker


def test_a_finished_run_of_another_backend_is_kept_and_one_with_other_steps_refused(tmp_path):
    spec = {"task": "s4", "seed": 0, "steps": 20, "eval_every": 10, "lmn": {"h1": [0, 10, 20]}, "snapshots": []}
    p = {"runs": [spec], "readings": [], "appendix_b": {"task": "add", "seed": 0, "steps": []}}
    _finished(tmp_path / "s4-s0")                                     # torch, as the committed runs
    config = make.run_config(spec, p, tmp_path, backend="numpy")
    assert make.run_state(config) == "finished"
    log = []
    make.make_runs(p, tmp_path, log=log.append)                       # kept, nothing measured again
    assert "kept" in log[0] and len(log) == 1
    with pytest.raises(LMNInputError, match="steps=20"):
        make.run_state(make.run_config({**spec, "steps": 30}, p, tmp_path))


def test_changes_say_which_file_and_number_differ(tmp_path):
    _finished(tmp_path / "s4-s0")
    before = snapshot.fingerprint(tmp_path)
    assert snapshot.changes(before, snapshot.fingerprint(tmp_path))[0].startswith("unchanged")
    path = tmp_path / "s4-s0" / "history.jsonl"
    rows = [json.loads(x) for x in path.read_text().splitlines()]
    rows[1]["test_loss"] = 1.25
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    lines = snapshot.changes(before, snapshot.fingerprint(tmp_path))
    assert "  changed s4-s0/history.jsonl (largest change: test_loss at step 10 by 0.25)" in lines


def test_a_diagonal_split_init_cell_is_the_seeds_own_run(tmp_path):
    cell = split_init.train_cell(3, 3, "float64", 40)
    config = RunConfig(task="s4", backend="numpy", steps=40, seed=3, eval_every=20, lmn_layers=(),
                       out=str(tmp_path), name="plain")
    rows = train(config).rows
    assert cell["final_test_acc"] == rows[-1]["test_acc"] and cell["steps"] == 40
    other = split_init.train_cell(3, 4, "float64", 40)                # another init: another run
    assert (other["split_seed"], other["init_seed"]) == (3, 4)
    entries = split_init.run_cells(tmp_path, [(3, 3, "float64", 40)], log=lambda m: None)
    again = split_init.run_cells(tmp_path, [(3, 3, "float64", 40)], log=lambda m: None)
    assert entries == again == split_init.load(tmp_path)              # kept, not trained again


@pytest.mark.slow
def test_all_small_runs_the_whole_chain_and_a_rerun_changes_nothing(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    cmd = [sys.executable, "-m", "lmn_edu.reproduce", "all", "--small", "--out", str(tmp_path / "out")]
    first = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900)
    assert first.returncode == 0, first.stderr
    assert "estimate:" in first.stdout and "took" in first.stdout
    out = tmp_path / "out"
    for name in ("add-s0/history.jsonl", "readings.json", "appendix_b.npz", "s4_split_init.json",
                 "s4_precision/s0-float64/history.json", "docs/reproduction.md"):
        assert (out / name).exists(), name
    assert sorted(p.name for p in (out / "add-s0" / "snapshots").iterdir()) == ["step000000.npz", "step000200.npz"]
    second = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900)
    assert second.returncode == 0 and "unchanged: all" in second.stdout, second.stdout[-2000:]
    assert np.load(out / "appendix_b.npz").files
