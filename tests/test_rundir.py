"""The run folder (rundir.py): one owner writes it, checks it when read, marks it finished only at
its end; a malformed folder is one line naming the file and the field; a folder only read is not
written into."""
import errno
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

import lmn_edu
from lmn_edu import files, rundir
from lmn_edu.train import StopTraining, train

ROOT = Path(__file__).resolve().parents[1]
PAPER = ROOT / "results" / "paper"


def tiny(tmp_path, **kw):
    base = dict(task="s4", steps=20, eval_every=10, lmn_every=20, lmn_log=0, lmn_layers=(), out=str(tmp_path),
                hidden=8, emb_dim=4)
    return lmn_edu.RunConfig(**{**base, **kw})


# --- the finished marker ---------------------------------------------------------------------

def test_finished_only_at_the_end(tmp_path):
    config = tiny(tmp_path)
    train(config)
    assert rundir.finished(config.run_dir) == {"step": 20, "reason": "last step"}

    def stop_at_10(row, backend):
        if row["step"] == 10:
            raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        train(config, callback=stop_at_10, overwrite=True)
    assert rundir.finished(config.run_dir) is None                     # history.json exists, yet unfinished
    assert (config.run_dir / "history.json").exists() and not (config.run_dir / "finished.json").exists()

    def enough(row, backend):
        if row["step"] == 10:
            raise StopTraining("seen enough")
    history = train(config, callback=enough, overwrite=True)
    assert rundir.finished(config.run_dir) == {"step": 10, "reason": "seen enough"}
    assert history.final_params is not None and (config.run_dir / "params.npz").exists()


def test_committed_runs_are_finished():
    for cfg in PAPER.rglob("config.json"):
        assert rundir.finished(cfg.parent) is not None, cfg.parent


@pytest.mark.slow
def test_interrupted_s4_study_run_is_resumed(tmp_path, monkeypatch):
    # The S4 precision study took "history.json exists" for "finished": a run interrupted at step
    # 100 of 200 was listed as finished and never run again.
    pytest.importorskip("torch")
    from lmn_edu.reproduce import precision_report as s4_report, precision_study as s4

    def interrupt_at_100(hold=s4.HOLD, stable=s4.STABLE):
        def callback(row, backend):
            if row["step"] == 100:
                raise KeyboardInterrupt
        return callback
    monkeypatch.setattr(s4, "_stop_when_held", interrupt_at_100)
    with pytest.raises(KeyboardInterrupt):
        s4.run_one(0, "float64", 200, tmp_path)
    study = s4_report.load_study(tmp_path)
    assert study["unfinished"] == [("s0-float64", 100)] and study["runs"]["float64"] == {}
    monkeypatch.undo()
    assert s4.run_one(0, "float64", 200, tmp_path) == "s0-float64: ran all 200 steps"     # resumed
    assert s4.run_one(0, "float64", 200, tmp_path) == "s0-float64: done already"
    study = s4_report.load_study(tmp_path)
    assert study["unfinished"] == [] and list(study["runs"]["float64"]) == [0]


def test_legacy_folder_without_marker(tmp_path):
    folder = tmp_path / "old"
    shutil.copytree(PAPER / "xor-s0", folder, ignore=shutil.ignore_patterns("finished.json"))
    assert rundir.finished(folder) == {"step": 20000, "reason": "last step"}     # its last row is its last step
    rows = rundir.load_rows(folder)
    files.write_atomic(folder / "history.jsonl", "".join(json.dumps(r) + "\n" for r in rows[:-5]))
    assert rundir.finished(folder) is None


# --- writing -----------------------------------------------------------------------------------

def test_rows_are_numbers(tmp_path):
    h = rundir.History(tmp_path, {"task": "add"}, ["lmn_h1", "lmn_h1"])
    assert h.columns.count("lmn_h1") == 1
    h.append({"step": np.int64(0), "train_loss": np.float32(0.5), "lmn_h1": float("nan")})
    with pytest.raises(lmn_edu.LMNInputError, match='"train_acc" is \'high\''):
        h.append({"step": 1, "train_acc": "high"})
    with pytest.raises(lmn_edu.LMNInputError, match="step"):
        h.append({"step": 0})
    h.close()
    assert rundir.load_rows(tmp_path) == [{**dict.fromkeys(h.columns), "step": 0, "train_loss": 0.5}]


def test_a_researchers_own_loop(tmp_path):
    # History and load_run as a training loop of one's own uses them: its settings come back as given
    from lmn_edu.history import History, load_run
    settings = {"lr": 0.1, "width": 64, "my_setting": "x"}
    h = History(tmp_path, settings, ["val_loss"])
    h.append({"step": 0, "train_loss": 2.0, "val_loss": 2.5})
    h.append({"step": 5, "train_loss": 1.0, "val_loss": 1.5})
    assert rundir.finished(tmp_path) is None
    h.finish()
    config, rows = load_run(tmp_path)
    assert config == settings and [r["val_loss"] for r in rows] == [2.5, 1.5] and rows == h.rows
    assert rundir.finished(tmp_path) == {"step": 5, "reason": "last step"}


def test_notes_in_one_place(tmp_path):
    train(tiny(tmp_path))
    folder = tmp_path / "s4-numpy-s0"
    rundir.add_notes(folder, lmn_filled={"grid_every": 10, "steps": [10], "from": "x",
                                         "max_deviation_of_retrained_rows": 0.0})
    rundir.add_notes(folder, lmn_filled={"grid_every": 10, "steps": [20], "from": "x",
                                         "max_deviation_of_retrained_rows": 1e-12})
    assert rundir.load_config(folder)["lmn_filled"]["steps"] == [10, 20]
    with pytest.raises(lmn_edu.LMNInputError, match="note 'colour'"):
        rundir.add_notes(folder, colour="red")
    with pytest.raises(lmn_edu.LMNInputError, match='"lmn_deferred"'):
        rundir.add_notes(folder, lmn_deferred="yes")
    assert "colour" not in rundir.load_config(folder)


def test_a_full_disk_names_the_file(tmp_path, monkeypatch):
    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(files.os, "fsync", full)
    with pytest.raises(OSError) as info:
        files.write_atomic(tmp_path / "history.json", "[]")
    assert info.value.errno == errno.ENOSPC and info.value.filename == str(tmp_path / "history.json")
    assert list(tmp_path.iterdir()) == []                               # no temporary left behind


def test_figures_are_written_whole(tmp_path, monkeypatch):
    from lmn_edu.plots import fig2
    rows = [{"step": s, "train_acc": 0.5, "test_acc": 0.1, "l2": 3.0, "lmn_h1": 2.0} for s in (0, 10)]
    target = tmp_path / "figures" / "fig2.png"
    fig2(rows, target)
    before = target.read_bytes()
    monkeypatch.setattr(files.os, "replace", lambda a, b: (_ for _ in ()).throw(OSError(errno.ENOSPC, "full")))
    with pytest.raises(OSError, match="fig2.png"):
        fig2(rows, target, title="another")
    assert target.read_bytes() == before and [p.name for p in target.parent.iterdir()] == ["fig2.png"]


# --- reading: a malformed folder is one line naming the file and the field ---------------------

def _copy_run(tmp_path, name="xor-s0"):
    folder = tmp_path / name
    shutil.copytree(PAPER / name, folder)
    return folder


def _edit_config(folder, **changes):
    config = json.loads((folder / "config.json").read_text())
    config.update(changes)
    (folder / "config.json").write_text(json.dumps(config))


@pytest.mark.parametrize("changes, words", [
    (dict(lmn_layers=5), ["config.json", '"lmn_layers"', "5", "list of strings"]),
    (dict(lmn_filled="yes"), ["config.json", '"lmn_filled"', "'yes'"]),
    (dict(steps="20000"), ["config.json", '"steps"', "integer"]),
    (dict(lr=True), ["config.json", '"lr"', "number"]),
    (dict(snapshot_steps=[1.5]), ["config.json", '"snapshot_steps"']),
])
def test_config_of_the_wrong_type(tmp_path, changes, words):
    folder = _copy_run(tmp_path)
    _edit_config(folder, **changes)
    with pytest.raises(lmn_edu.LMNInputError) as info:
        rundir.load_run(folder)
    for w in words:
        assert w in str(info.value), (w, str(info.value))


@pytest.mark.parametrize("bad_line, words", [
    ('{"step": 30, "test_acc": "0.5"}', ["history.jsonl", "row 4", '"test_acc"', "'0.5'", "number"]),
    ('{"step": 10}', ["history.jsonl", "row 4", '"step"', "after the last row"]),
    ('[1, 2]', ["history.jsonl", "row 4", "JSON object"]),
    ('{"step": 30,', ["history.jsonl", "line 4", "not a JSON row"]),
])
def test_rows_of_the_wrong_type(tmp_path, bad_line, words):
    folder = _copy_run(tmp_path)
    lines = (folder / "history.jsonl").read_text().splitlines()
    (folder / "history.jsonl").write_text("\n".join(lines[:3] + [bad_line] + lines[3:]) + "\n")
    with pytest.raises(lmn_edu.LMNInputError) as info:
        rundir.load_run(folder)
    assert "\n" not in str(info.value)
    for w in words:
        assert w in str(info.value), (w, str(info.value))


def test_truncated_archives(tmp_path):
    folder = _copy_run(tmp_path, "add-s0")
    snap = rundir.snapshot_path(folder, 200)
    snap.write_bytes(snap.read_bytes()[:1000])
    with pytest.raises(lmn_edu.LMNInputError, match=r"step000200\.npz: not a readable \.npz archive"):
        rundir.load_params(snap)
    cache = tmp_path / "appendix_b.npz"
    cache.write_bytes((PAPER / "appendix_b.npz").read_bytes()[:5000])
    from lmn_edu.reproduce.readings import appendix_b
    with pytest.raises(lmn_edu.LMNInputError, match=r"appendix_b\.npz: not a readable \.npz archive"):
        appendix_b(tmp_path)
    np.savez(tmp_path / "ints.npz", w=np.arange(3))
    with pytest.raises(lmn_edu.LMNInputError, match="'w' holds int64"):
        rundir.load_params(tmp_path / "ints.npz")


def _reproduce_from(folder, docs, capsys):
    from lmn_edu.reproduce.cli import main
    code = main(["--from", str(folder), "--docs", str(docs), "--tasks", "xor", "--seeds", "0"])
    return code, capsys.readouterr().err


def test_reproduce_from_a_malformed_folder_is_one_line(tmp_path, capsys):
    results = tmp_path / "results"
    folder = _copy_run(results)
    _edit_config(folder, lmn_layers=5)
    code, err = _reproduce_from(results, tmp_path / "docs", capsys)
    assert code == 2 and err.count("\n") == 1 and '"lmn_layers"' in err and "config.json" in err, err
    _edit_config(folder, lmn_layers=["h1"])
    (results / "notes.md").write_bytes("caf\xe9 au lait".encode("latin-1"))
    code, err = _reproduce_from(results, tmp_path / "docs", capsys)
    assert code == 2 and err.count("\n") == 1 and "notes.md: not UTF-8" in err, err
    assert not (tmp_path / "docs" / "reproduction.md").exists()


def _listing(folder):
    return {p: (p.stat().st_size, p.stat().st_mtime_ns) for p in Path(folder).rglob("*")}


@pytest.mark.slow
def test_reproduce_from_writes_nothing_into_its_folder(tmp_path, capsys):
    # add seed 0 with its snapshots and no appendix_b.npz: L is computed, and not cached there
    results = tmp_path / "results"
    _copy_run(results, "xor-s0")
    folder = _copy_run(results, "add-s0")
    for step in rundir.snapshot_steps(folder)[1:]:
        rundir.snapshot_path(folder, step).unlink()                     # one snapshot: L once
    before = _listing(results)
    os.chmod(results, 0o555)
    try:
        code, err = _reproduce_from(results, tmp_path / "docs", capsys)
    finally:
        os.chmod(results, 0o755)
    assert code == 0, err
    assert _listing(results) == before and (tmp_path / "docs" / "reproduction.md").exists()
