import json

import numpy as np
import pytest

import lmn_edu
from lmn_edu.analysis import phase_steps
from lmn_edu.history import load_history, load_run
from lmn_edu.train import TrainingDiverged, lmn_steps, setup_run, train


def tiny(tmp_path, **kw):
    base = dict(task="s4", steps=40, eval_every=10, lmn_every=20, lmn_log=0, out=str(tmp_path), hidden=16, emb_dim=8)
    base.update(kw)
    return lmn_edu.RunConfig(**base)


def test_short_run_writes_history_and_config(tmp_path):
    config = tiny(tmp_path)
    history = train(config)
    run_dir = tmp_path / "s4-numpy-s0"
    rows = load_history(run_dir)
    assert [r["step"] for r in rows] == [0, 10, 20, 30, 40]
    assert rows == history.rows
    assert [r["lmn_h1"] is not None for r in rows] == [True, False, True, False, True]
    assert rows[-1]["train_loss"] < rows[0]["train_loss"]
    saved = json.loads((run_dir / "config.json").read_text())
    assert saved["task"] == "s4" and saved["lmn_layers"] == ["h1"] and saved["dtype"] == "float64"
    assert saved.pop("device_used") == "cpu"
    assert lmn_edu.RunConfig.from_dict(saved) == config.validated()
    csv_lines = (run_dir / "history.csv").read_text().splitlines()
    assert csv_lines[0].split(",")[:2] == ["step", "train_loss"] and len(csv_lines) == 6
    assert set(history.final_params) == {"emb", "W1", "b1", "W2", "b2", "W3", "b3"}


def test_same_seed_same_numbers(tmp_path):
    a = train(tiny(tmp_path / "a")).rows
    b = train(tiny(tmp_path / "b")).rows
    strip = lambda rows: [{k: v for k, v in r.items() if k != "time_s"} for r in rows]
    assert strip(a) == strip(b)
    c = train(tiny(tmp_path / "c", seed=1)).rows
    assert strip(a) != strip(c)


def test_setup_run_is_split_then_init():
    config = lmn_edu.RunConfig(task="add").validated()
    task, tr, te, params = setup_run(config)
    rng = np.random.default_rng(0)
    tr2, _ = lmn_edu.split(task, 0.8, rng)
    p2 = lmn_edu.init_params(rng, 31, 31)
    assert np.array_equal(tr, tr2) and all(np.array_equal(params[k], p2[k]) for k in p2)


def test_loop_matches_manual_adamw(tmp_path):
    # the loop is nothing but full-batch AdamW on the train split
    from autograd import grad
    from lmn_edu.mlp import loss
    config = tiny(tmp_path, steps=5, eval_every=5, lmn_every=5).validated()
    task, tr, _, params = setup_run(config)
    opt = lmn_edu.AdamW(lr=config.lr, weight_decay=config.weight_decay)
    state = opt.init(params)
    for _ in range(5):
        params, state = opt.step(params, grad(loss)(params, task.inputs[tr], task.labels[tr]), state)
    final = train(config).final_params
    assert all(np.array_equal(final[k], params[k]) for k in params)


def test_divergence_keeps_history(tmp_path):
    config = tiny(tmp_path, lr=1e300, eval_every=1)
    with pytest.raises(TrainingDiverged, match="step"):
        train(config)
    rows = load_history(tmp_path / "s4-numpy-s0")
    assert rows[0]["step"] == 0 and rows[0]["train_loss"] is not None
    assert rows[-1]["train_loss"] is None            # NaN is stored as null in JSON


def test_lmn_points_and_layers(tmp_path):
    rows = train(tiny(tmp_path, steps=2, lmn_every=2, lmn_points="all",
                      lmn_layers=("emb", "h1", "h2"))).rows
    assert np.isclose(rows[-1]["lmn_h2"], 1.0)
    assert rows[-1]["lmn_emb"] > 1.0 and rows[-1]["lmn_h1"] > 1.0


def test_phase_steps():
    rows = [{"step": s, "train_acc": a, "test_acc": b}
            for s, a, b in [(0, 0.1, 0.0), (100, 1.0, 0.2), (200, 1.0, 1.0), (300, 1.0, 1.0)]]
    assert phase_steps(rows) == (100, 200)
    assert phase_steps(rows[:2]) == (100, None)


@pytest.mark.parametrize("kw, match", [
    (dict(task="mul"), "task"), (dict(backend="jax"), "backend"), (dict(steps=0), "steps"),
    (dict(eval_every=0), "eval_every"), (dict(lmn_every=-5), "lmn_every"), (dict(train_frac=1.0), "train_frac"),
    (dict(lmn_layers=("h3",)), "lmn_layers"), (dict(lmn_log=-1), "lmn_log"),
    (dict(lmn_points="val"), "lmn_points"), (dict(lmn_output="softmax"), "lmn_output"),
    (dict(n_lambda=1), "n_lambda"), (dict(n_lambda=2), "at least 3"),
    (dict(lr=float("inf")), "lr"), (dict(lr=float("nan")), "lr"), (dict(name="a/b"), "name"),
    (dict(snapshot_steps=(30_000,)), "snapshot_steps"), (dict(snapshot_steps=(-1,)), "snapshot_steps"), (dict(snapshot_steps="all"), "snapshot_steps"),
    (dict(loss_dtype="float16"), "loss_dtype"), (dict(precision_diagnostics="yes"), "precision_diagnostics"), (dict(dtype="float16"), "dtype"), (dict(device="tpu"), "device"),
    (dict(lr=0.0), "lr"), (dict(weight_decay=-1.0), "weight_decay"), (dict(device="cuda"), "cuda"),
])
def test_config_validation(kw, match):
    with pytest.raises(lmn_edu.LMNInputError, match=match):
        lmn_edu.RunConfig(**kw).validated()


def test_write_atomic_never_leaves_half_a_file(tmp_path, monkeypatch):
    import os
    from lmn_edu.history import write_atomic
    target = tmp_path / "history.json"
    write_atomic(target, '{"old": true}')

    def crash(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError):
        write_atomic(target, '{"new": true, "long": "' + "x" * 10_000 + '"}')
    assert json.loads(target.read_text()) == {"old": True}         # the old file, whole
    assert [p.name for p in tmp_path.iterdir()] == ["history.json"]  # no temporary left behind


def test_written_files_are_readable_by_all(tmp_path):
    from lmn_edu.history import write_atomic
    write_atomic(tmp_path / "x.json", "{}")
    assert (tmp_path / "x.json").stat().st_mode & 0o044 == 0o044


# --- the schedule, snapshots, callback ---------------------------------------------------

def test_default_schedule_sees_the_early_peak_within_todays_budget():
    steps = lmn_steps(lmn_edu.RunConfig().validated())
    assert len([s for s in steps if s < 1000]) >= 8              # LMN peaks near steps 300-850
    assert len(steps) <= 41                                      # 0, 500, …, 20 000 before: 41 values
    assert steps[0] == 0 and steps[-1] == 20_000 and steps == sorted(set(steps))


def test_schedule_without_layers_or_log_points():
    assert lmn_steps(lmn_edu.RunConfig(lmn_layers=()).validated()) == []
    assert lmn_steps(lmn_edu.RunConfig(steps=45, lmn_every=20, lmn_log=0).validated()) == [0, 20, 40, 45]


def test_snapshots_and_callback(tmp_path):
    seen = []
    config = tiny(tmp_path, lmn_layers=(), snapshot_steps=(0, 30))
    history = train(config, callback=lambda row, backend: seen.append((row["step"], backend.params()["b3"].copy())))
    assert [s for s, _ in seen] == [r["step"] for r in history.rows] == [0, 10, 20, 30, 40]
    assert "lmn_h1" not in history.rows[0]
    snaps = sorted(p.name for p in (tmp_path / "s4-numpy-s0" / "snapshots").iterdir())
    assert snaps == ["step000000.npz", "step000030.npz"]
    with np.load(tmp_path / "s4-numpy-s0" / "snapshots" / "step000030.npz") as z:
        assert np.array_equal(z["b3"], seen[3][1])


def test_lmn_snapshots_follow_the_lmn_schedule(tmp_path):
    train(tiny(tmp_path, snapshot_steps="lmn"))
    snaps = sorted(p.name for p in (tmp_path / "s4-numpy-s0" / "snapshots").iterdir())
    assert snaps == ["step000000.npz", "step000020.npz", "step000040.npz"]


# --- run folders: never two runs in one --------------------------------------------------

def test_a_folder_holding_a_run_is_refused_unless_overwrite(tmp_path):
    config = tiny(tmp_path, snapshot_steps=(10,))
    train(config)
    with pytest.raises(lmn_edu.LMNInputError, match="already holds a run.*--overwrite"):
        train(config.__class__(**{**config.__dict__, "steps": 20}))
    assert load_run(tmp_path / "s4-numpy-s0")[1][-1]["step"] == 40      # the old run is untouched
    train(tiny(tmp_path, steps=20), overwrite=True)
    folder = tmp_path / "s4-numpy-s0"
    assert load_run(folder)[0]["steps"] == 20 and load_run(folder)[1][-1]["step"] == 20
    assert not (folder / "snapshots").exists()                         # nothing of the old run stays


def test_a_folder_being_written_is_refused(tmp_path):
    from lmn_edu.history import RunFolder
    held = RunFolder(tmp_path / "s4-numpy-s0")
    try:
        with pytest.raises(lmn_edu.LMNInputError, match="another run is writing"):
            train(tiny(tmp_path), overwrite=True)
    finally:
        held.release()
    train(tiny(tmp_path))                                              # free again


# --- history files: constant cost per row, whole rows after any stop ---------------------

def test_rows_are_appended_not_rewritten(tmp_path, monkeypatch):
    import lmn_edu.rundir as h
    calls = []
    real = h.write_atomic
    monkeypatch.setattr(h, "write_atomic", lambda path, data: (calls.append(path.name), real(path, data)))
    train(tiny(tmp_path, steps=200, eval_every=1, lmn_layers=()))
    # config.json at the start; params.npz, history.json and the finished marker at the end: none per row
    assert sorted(calls) == ["config.json", "finished.json", "history.json", "params.npz"]
    rows = load_history(tmp_path / "s4-numpy-s0")
    assert len(rows) == 201
    assert len((tmp_path / "s4-numpy-s0" / "history.csv").read_text().splitlines()) == 202


def test_a_row_cut_short_is_skipped_when_read(tmp_path):
    train(tiny(tmp_path))
    folder = tmp_path / "s4-numpy-s0"
    (folder / "history.json").unlink()                                 # as after a kill: no history.json
    with open(folder / "history.jsonl", "a") as fh:
        fh.write('{"step": 50, "train_lo')
    assert [r["step"] for r in load_history(folder)] == [0, 10, 20, 30, 40]


def test_a_full_disk_leaves_whole_rows(tmp_path, monkeypatch):
    import os
    import lmn_edu.rundir as h
    f = h._AppendFile(tmp_path / "x.jsonl")
    f.write('{"step": 0}\n')
    real = os.write
    monkeypatch.setattr(os, "write", lambda fd, data: real(fd, data[:5]))   # a short write, as on a full disk
    with pytest.raises(OSError):
        f.write('{"step": 1}\n')
    monkeypatch.setattr(os, "write", real)
    f.close()
    assert (tmp_path / "x.jsonl").read_text() == '{"step": 0}\n'


@pytest.mark.parametrize("content, match", [
    (None, "config.json is missing"), ("{", "config.json: not whole JSON"), ("null", "config.json: must be a JSON object"),
    ('{"task": "add"}', "history"),
])
def test_load_run_names_what_is_wrong(tmp_path, content, match):
    folder = tmp_path / "run"
    folder.mkdir()
    if content is not None:
        (folder / "config.json").write_text(content)
    with pytest.raises(lmn_edu.LMNInputError, match=match):
        load_run(folder)


def test_divergence_at_an_lmn_step_is_divergence(tmp_path):
    config = tiny(tmp_path, lr=1e6, steps=30, eval_every=1, lmn_every=1, lmn_points="test")
    with pytest.raises(TrainingDiverged, match="at step"):
        train(config)
    rows = load_history(tmp_path / "s4-numpy-s0")
    last = rows[-1]                                   # the diverged row is kept, without an LMN value
    assert last["lmn_h1"] is None and (last["train_loss"] is None or last["train_loss"] > rows[0]["train_loss"])
