"""The reproduction driver: schedule, table arithmetic, report from a synthetic folder, a tiny run."""
import json

import numpy as np
import pytest

from lmn_edu import LMNInputError
from lmn_edu import reproduce as rp


def test_schedule_steps_and_bad_specs():
    assert rp.schedule_steps("50", 200) == [0, 50, 100, 150, 200]
    assert rp.schedule_steps("50:100,200", 700) == [0, 50, 100, 200, 400, 600, 700]
    order = rp.refinement_order(rp.schedule_steps("50", 4000))
    assert sorted(order) == rp.schedule_steps("50", 4000)
    assert order.index(2000) < order.index(1500) < order.index(1550)
    for bad in ("", "0", "50:100", "50:100,20:50,10", "x"):
        with pytest.raises(LMNInputError, match="lmn_schedule"):
            rp.parse_schedule(bad)


def _history(n_gen=20, seed=0):
    """Rows every 10 steps: train acc 1 from step 100, test acc 1 from step 300; LMN every 20 steps.

    In the generalizing phase test_loss = 0.5 * lmn - 1 exactly and l2 falls like a square root.
    """
    rng = np.random.default_rng(seed)
    rows = []
    for step in range(0, 501, 10):
        lmn = 60.0 - 0.1 * (step - 100) if step >= 100 else 20.0 + 0.4 * step   # peak 60 at step 100
        row = {"step": step, "train_loss": 1.0, "train_acc": 1.0 if step >= 100 else 0.5,
               "test_loss": 0.5 * lmn - 1.0, "test_acc": 1.0 if step >= 300 else 0.2,
               "l2": 30.0 - np.sqrt(step) + 0.1 * rng.standard_normal(), "time_s": 0.0}
        if step % 20 == 0:
            row["lmn_h1"] = lmn
        rows.append(row)
    return rows


def test_summarize_on_a_constructed_history():
    rows = _history()
    s = rp.summarize(rows, "add")
    assert (s["mem_step"], s["gen_step"]) == (100, 300)
    assert (s["lmn_peak"], s["lmn_peak_step"]) == (60.0, 100)
    assert s["n_r"] == len(range(100, 301, 20))
    assert s["r_lmn"] == pytest.approx(1.0, abs=1e-12)
    test_loss, _, l2 = rp.generalizing_points(rows)
    assert s["r_l2"] == pytest.approx(np.corrcoef(l2, test_loss)[0, 1], abs=1e-12)
    assert s["lmn_15k"] is None                        # not measured near 15k: no value invented


def test_turning_points_finds_the_dip_and_the_bump():
    steps = np.arange(0, 2000, 50)
    values = 30 - 15 * np.exp(-((steps - 600) / 200.0) ** 2) + 5 * np.exp(-((steps - 1200) / 150.0) ** 2)
    tp = rp.turning_points(steps, values, after=200)
    assert [k for k, _, _ in tp] == ["min", "max"]
    assert tp[0][1] == 600 and tp[1][1] == 1200
    assert tp[0][2] == pytest.approx(values[steps == 600][0])
    assert rp.turning_points(steps, np.linspace(30, 10, len(steps))) == []


def test_report_rebuilds_from_a_synthetic_folder(tmp_path):
    results = tmp_path / "results"
    meta = {"steps": 500, "lmn_layers": ["h1"], "lmn_schedule": "20", "backend": "numpy",
            "dtype": "float64", "device": "cpu", "eval_every": 10}
    rp.save_run(rp.run_path(results, "add", 0), meta, _history(seed=0))
    rp.save_run(rp.run_path(results, "add", 1), meta, _history(seed=1))
    rp.save_run(rp.run_path(results, "xor", 0), meta, _history(seed=2)[:20])     # stopped early
    out = rp.build_report(results, tmp_path / "docs", ("add", "s4", "xor"), (0, 1))
    text = out.read_text()
    figs = tmp_path / "docs" / "figures" / "reproduction"
    for name in ("fig2.png", "vs_test_loss.png", "xor_turns.png"):
        assert (figs / name).stat().st_size > 1000
    assert "| s4 seed 0 | **missing**" in text
    assert "stopped at step 190" in text
    assert "| add | memorization step | ≈150–200 (Fig 2; App. B: 200) | 100 / 100 |" in text
    assert "1.000 (11) / 1.000 (11)" in text          # r(LMN, test loss), 11 points per seed
    assert "Fig 3: LMN of every layer (addition)" in text and "*Missing" in text


def test_a_tiny_protocol_run_and_fill(tmp_path):
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    results, cache = tmp_path / "res", tmp_path / "cache"
    # L on the 116 test points keeps the test fast; the protocol's default is the train points
    config = rp.make_config("s4", 0, steps=60, backend="torch", device="cpu", layers=("h1", "h2"), points="test")
    rows = rp.run_one(config, results, schedule="60", defer=cache, log=lambda m: None)
    assert [r["step"] for r in rows] == list(range(0, 61, 10))
    assert all(r["lmn_h1"] is None for r in rows)
    rp.fill(results, cache, [("s4", 0, ("h1", "h2"))], log=lambda m: None)
    meta, rows = rp.load_run(rp.run_path(results, "s4", 0))
    assert meta["lmn_schedule"] == "60" and meta["dtype"] == "float64" and meta["lmn_points"] == "test"
    measured = [r for r in rows if r["lmn_h1"] is not None]
    assert [r["step"] for r in measured] == [0, 60]
    assert all(r["lmn_h2"] == pytest.approx(1.0) for r in measured)   # h2 -> logits is affine
    # the deferred value equals the NumPy fast path on the same params
    import lmn_edu
    from lmn_edu.train import lmn_points, setup_run
    task, tr, te, _ = setup_run(rp.config_from_meta(meta))
    params = rp.load_params(rp.cache_path(cache, "s4", 0, 60))
    expect = lmn_edu.layer_lmn(params, lmn_points(task, tr, te, "test"), "h1")
    assert measured[1]["lmn_h1"] == pytest.approx(expect, rel=1e-9)
    assert rp.is_complete(rp.run_path(results, "s4", 0))
    assert json.loads(rp.run_path(results, "s4", 0).read_text())["rows"][0]["step"] == 0


def test_cli_rejects_bad_values(tmp_path, capsys):
    assert rp.main(["--tasks", "mul", "--no-report"]) == 2
    assert "task='mul'" in capsys.readouterr().err
    assert rp.main(["--lmn-schedule", "50:100", "--no-report"]) == 2
    assert rp.main(["--from", str(tmp_path / "nowhere")]) == 2
    assert "is not a folder" in capsys.readouterr().err
