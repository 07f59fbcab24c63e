"""The reproduction package: table arithmetic, linearity statistics, the report from a synthetic
folder, a tiny deferred protocol run filled from its snapshots, a grid fill by retraining."""
import json

import numpy as np
import pytest

from lmn_edu import analysis
from lmn_edu.history import History, load_run, rewrite_rows
from lmn_edu.reproduce import fill, protocol, readings, summary
from lmn_edu.reproduce.report import build_report


def _history(seed=0):
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
        row["lmn_h1"] = lmn if step % 20 == 0 else None
        rows.append(row)
    return rows


def _write_run(folder, rows, task="add", seed=0, steps=500):
    config = {"task": task, "seed": seed, "steps": steps, "backend": "numpy", "dtype": "float64",
              "eval_every": 10, "lmn_layers": ["h1"], "device_used": "cpu"}
    folder.mkdir(parents=True)
    h = History(folder, config, ["lmn_h1"])
    for r in rows:
        h.append(r)
    h.close()
    return folder


def test_summarize_on_a_constructed_history():
    rows = _history()
    s = summary.summarize(rows, "add")
    assert (s["mem_step"], s["gen_step"]) == (100, 300)
    assert (s["lmn_peak"], s["lmn_peak_step"]) == (60.0, 100)
    assert s["n_r"] == len(range(100, 301, 20))
    assert s["r_lmn"] == pytest.approx(1.0, abs=1e-12)
    assert s["lmn_15k"] is None                        # not measured near 15k: no value invented


def test_linearity_tells_a_line_from_a_curve():
    x = np.linspace(1.0, 3.0, 40)
    line = analysis.linearity(x, 2 * x + 1)
    curve = analysis.linearity(x, (x - 0.5) ** 2)
    assert line["r2_lin"] == pytest.approx(1.0) and curve["r"] > 0.97          # r alone: both "linear"
    assert curve["curve_share"] == pytest.approx(1.0, abs=1e-9)
    assert curve["dw"] < 0.1                                                   # one-signed stretches
    alternating = np.where(np.arange(40) % 2 == 0, 1.0, -1.0)
    assert analysis.durbin_watson(alternating) == pytest.approx(4 * 39 / 40)
    assert analysis.spearman(x, np.exp(x)) == pytest.approx(1.0)
    assert analysis.spearman([3, 1, 2, 2, 5, 1], [1, 2, 3, 4, 5, 6]) == pytest.approx(-0.1176979772, abs=1e-9)
    assert analysis.linearity([1.0, 2.0], [1.0, 2.0])["r2_quad"] is None       # too few points


def test_grid_steps_and_refinement_order():
    rows = _history()
    assert fill.grid_steps(rows, 100) == [100, 200, 300]
    order = fill.refinement_order(range(0, 4001, 50))
    assert sorted(order) == list(range(0, 4001, 50))
    assert order.index(2000) < order.index(1500) < order.index(1550)


def test_rewrite_rows_keeps_columns_and_adds_new_ones(tmp_path):
    folder = _write_run(tmp_path / "run", _history())
    config, rows = load_run(folder)
    rows[1]["lmn_h1"] = 7.5
    rows[2]["lmn_emb"] = 3.0
    rewrite_rows(folder, rows)
    _, back = load_run(folder)
    assert back[1]["lmn_h1"] == 7.5 and back[2]["lmn_emb"] == 3.0 and back[0]["lmn_emb"] is None
    assert json.loads((folder / "history.json").read_text()) == back
    assert (folder / "history.csv").read_text().split("\n")[0].endswith("lmn_h1,lmn_emb")


def test_lmn_from_eigenvalues():
    assert readings.lmn_from_eigenvalues(np.array([1.0, 1.0, 0.0])) == pytest.approx(2.0)
    mu = np.array([2.0, 1.0, -1.0])
    assert readings.lmn_from_eigenvalues(mu, "abs") > readings.lmn_from_eigenvalues(mu, "clip")


def test_report_rebuilds_from_a_synthetic_folder(tmp_path):
    results = tmp_path / "results"
    _write_run(results / "add-s0", _history(0))
    _write_run(results / "add-s1", _history(1), seed=1)
    _write_run(results / "xor-s0", _history(2)[:20], task="xor")               # stopped early
    out = build_report(results, tmp_path / "docs", ("add", "s4", "xor"), (0, 1))
    text = out.read_text()
    figs = tmp_path / "docs" / "figures" / "reproduction"
    for name in ("fig2.png", "xor_turns.png"):
        assert (figs / name).stat().st_size > 1000
    assert "| s4 seed 0 | **missing**" in text
    assert "stopped at step 190" in text
    assert "| add | memorization step | ≈150–200 (Fig 2, by eye; App. B's snapshot: 200) | 100 / 100 |" in text
    assert "1.000 (11) / 1.000 (11)" in text          # r(LMN, test loss), 11 points per seed
    assert "Fig 3: LMN of every layer (addition)" in text and "*Missing" in text
    assert "## Coverage of the paper's claims" in text


def test_a_tiny_deferred_protocol_run_filled_from_its_snapshots(tmp_path):
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    # L on the 116 test points keeps the test fast; the protocol's default is the train points
    config = protocol.make_config("s4", 5, tmp_path, steps=60, backend="torch", device="cpu",
                                  layers=("h1", "h2"), points="test", lmn_every=30, defer=True)
    assert config.lmn_layers == () and config.snapshot_steps == (0, 30, 60)
    protocol.run_protocol([config], [("h1", "h2")], log=lambda m: None)
    saved, rows = load_run(config.run_dir)
    assert saved["lmn_layers"] == ["h1", "h2"] and saved["lmn_deferred"] is True
    assert [r["step"] for r in rows] == list(range(0, 61, 10))
    fill.measure(config.run_dir, [0, 30, 60], ("h1", "h2"), log=lambda m: None)
    _, rows = load_run(config.run_dir)
    measured = [r for r in rows if r.get("lmn_h1") is not None]
    assert [r["step"] for r in measured] == [0, 30, 60]
    assert all(r["lmn_h2"] == pytest.approx(1.0) for r in measured)   # h2 -> logits is affine
    import lmn_edu
    from lmn_edu.config import RunConfig
    from lmn_edu.history import load_params
    from lmn_edu.train import lmn_points, setup_run
    task, tr, te, _ = setup_run(RunConfig.from_dict(saved))
    params = load_params(fill.snapshot_path(config.run_dir, 60))
    expect = lmn_edu.layer_lmn(params, lmn_points(task, tr, te, "test"), "h1")
    assert measured[2]["lmn_h1"] == pytest.approx(expect, rel=1e-9)
    # the same protocol again: finished with the same settings, skipped (nothing retrained)
    log = []
    protocol.run_protocol([config], [("h1", "h2")], log=log.append)
    assert "skipped" in log[0]


def test_fill_grid_retrains_identically_and_fills(tmp_path):
    pytest.importorskip("torch")
    config = protocol.make_config("s4", 5, tmp_path / "res", steps=200, backend="numpy", layers=("h1",),
                                  points="test", lmn_every=200)
    protocol.run_protocol([config], [("h1",)], log=lambda m: None)
    _, rows = load_run(config.run_dir)
    fill.GRID["s4"], old = 20, fill.GRID["s4"]
    try:
        mem, _ = analysis.phase_steps(rows)
        if mem is None:
            pytest.skip("the tiny run does not memorize")
        filled = fill.fill_grid(config.run_dir, tmp_path / "cache", log=lambda m: None)
    finally:
        fill.GRID["s4"] = old
    saved, rows = load_run(config.run_dir)
    assert filled and saved["lmn_filled"]["max_deviation_of_retrained_rows"] == 0.0
    assert all(r["lmn_h1"] is not None for r in rows if r["step"] in filled)
