"""Softmax Collapse diagnostics (precision.py), the float64 loss, and both backends agreeing.

Float64 checks are tight; float32 checks never rely on bitwise float32 kernels: they use
margins far from the rounding threshold or tolerances of a few samples.
"""
import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lmn_edu import precision
from lmn_edu.adamw import AdamW
from lmn_edu.config import RunConfig
from lmn_edu.train import start_backend


def margin_logits(margins, n_classes=5, dtype=np.float32):
    """(N, C) logits with label 0 leading every other class by ``margins[i]``; labels (N,)."""
    z = np.zeros((len(margins), n_classes))
    z[:, 0] = margins
    return z.astype(dtype), np.zeros(len(margins), dtype=int)


# --- the pure functions -------------------------------------------------------------------

def test_collapse_margins_are_the_papers():
    assert precision.collapse_margin(np.float32) == pytest.approx(16.64, abs=0.01)
    assert precision.collapse_margin(np.float64) == pytest.approx(36.74, abs=0.01)


def test_large_margins_collapse_in_float32_but_not_float64():
    margins = [5.0, 25.0, 30.0, 45.0]           # below both, between (x2), beyond both thresholds
    for dtype, expected in ((np.float32, [False, True, True, True]), (np.float64, [False, False, False, True])):
        z, y = margin_logits(margins, dtype=dtype)
        loss = precision.per_sample_loss(z, y)
        assert loss.dtype == dtype
        assert list(loss == 0) == expected
        assert list(precision.correct_class_grad(z, y) == 0) == expected
        assert precision.zero_loss_frac(z, y) == np.mean(expected)
        assert precision.zero_grad_frac(z, y) == np.mean(expected)
    # in float64 the margin-25 sample keeps a loss of 4 e^-25 (four wrong classes)
    z, y = margin_logits([25.0], dtype=np.float64)
    assert precision.per_sample_loss(z, y)[0] == pytest.approx(4 * math.exp(-25), rel=1e-12)


def test_margins():
    z = np.array([[3.0, 1.0, 2.5], [0.0, 4.0, 1.0]])
    np.testing.assert_allclose(precision.margins(z, [0, 0]), [0.5, -4.0])
    z, y = margin_logits([5.0, 25.0])
    w = {"w": np.ones(2, dtype=np.float32)}
    assert precision.diagnostics(z, y, w, w, 1e-3, 0.2)["max_margin"] == 25.0


def test_a_wrong_argmax_never_collapses():
    z, y = margin_logits([-40.0], dtype=np.float32)           # the label trails by 40
    assert precision.per_sample_loss(z, y)[0] == pytest.approx(40 + math.log(4), rel=1e-6)
    assert precision.zero_loss_frac(z, y) == 0


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(-30, 30), min_size=2, max_size=8), st.integers(0, 7))
def test_per_sample_loss_is_cross_entropy(row, label):
    label = label % len(row)
    z = np.array([row])
    expected = math.log(sum(math.exp(v - row[label]) for v in row))
    assert precision.per_sample_loss(z, [label])[0] == pytest.approx(expected, rel=1e-12, abs=1e-12)


def test_an_update_below_half_an_ulp_rounds_away():
    lr, wd = 1e-3, 0.2
    params = {"w": np.array([1.0, 1.0, 0.0, 1.0], dtype=np.float32)}
    updates = {"w": np.array([1e-9, 1e-3, 1e-9, 0.0])}        # rounds; moves; moves 0; no update
    assert precision.rounded_update_frac(params, updates, lr, wd) == 0.25
    params64 = {"w": params["w"].astype(np.float64)}
    assert precision.rounded_update_frac(params64, updates, lr, wd) == 0.0


def test_adamw_update_is_the_step_adamw_takes():
    rng = np.random.default_rng(0)
    params = {"a": rng.normal(size=(3, 4)), "b": rng.normal(size=5)}
    opt = AdamW()
    state = opt.init(params)
    for _ in range(3):                                          # a state with history
        grads = {k: rng.normal(size=v.shape) for k, v in params.items()}
        params, state = opt.step(params, grads, state)
    grads = {k: rng.normal(size=v.shape) for k, v in params.items()}
    u = precision.adamw_update(grads, state["m"], state["v"], state["t"], opt.lr, opt.betas, opt.eps)
    new, _ = opt.step(params, grads, state)
    for k in params:
        np.testing.assert_allclose(new[k], params[k] * (1 - opt.lr * opt.weight_decay) - u[k], rtol=1e-14)


# --- the backends -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def collapsed_params():
    """S4 params after 300 float64 steps (train accuracy 1, margins about 7), with the last
    layer scaled by 3: most training margins then lie between float32's and float64's thresholds."""
    pytest.importorskip("torch")
    config = RunConfig(task="s4", backend="torch", dtype="float64", device="cpu", lmn_layers=())
    backend, *_ = start_backend(config.validated())
    for _ in range(300):
        backend.step()
    p = backend.params()
    p["W3"], p["b3"] = 3 * p["W3"], 3 * p["b3"]
    return p


def backend_at(params, name, dtype, loss_dtype="auto", steps=3):
    config = RunConfig(task="s4", backend=name, dtype=dtype, loss_dtype=loss_dtype, device="cpu",
                       lmn_layers=()).validated()
    backend, *_ = start_backend(config, params)
    for _ in range(steps):                                      # an optimizer state with history
        backend.step()
    return backend


def test_diagnostics_leave_the_state_alone(collapsed_params):
    b = backend_at(collapsed_params, "torch", "float64")
    before = b.params()
    first = b.diagnostics()
    assert set(first) == set(precision.COLUMNS)
    assert b.diagnostics() == first
    for k, v in b.params().items():
        np.testing.assert_array_equal(v, before[k])


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_backends_agree(collapsed_params, dtype):
    # float64: after 3 steps (torch's AdamW state is read); float32: from the same params, since
    # Adam's first steps are about lr·sign(g) and tiny gradients of either sign turn ulp-level
    # differences between the kernels into whole steps
    steps = {"float64": 3, "float32": 0}[dtype]
    a = backend_at(collapsed_params, "numpy", dtype, steps=steps).diagnostics()
    b = backend_at(collapsed_params, "torch", dtype, steps=steps).diagnostics()
    n_train = 460
    # float64: the same arithmetic up to a few ulps; float32: a few samples (or entries) may sit
    # at the rounding edge and round either way on different kernels
    tol = {"float64": 1.5 / n_train, "float32": 10 / n_train}[dtype]
    for k in ("zero_loss_frac", "zero_grad_frac"):
        assert abs(a[k] - b[k]) <= tol, (k, a[k], b[k])
    assert a["max_margin"] == pytest.approx(b["max_margin"], rel={"float64": 1e-6, "float32": 1e-4}[dtype])
    assert abs(a["rounded_update_frac"] - b["rounded_update_frac"]) <= {"float64": 1e-6, "float32": 1e-3}[dtype]
    if dtype == "float32":
        assert a["zero_loss_frac"] > 0.5                          # the scaled margins collapse here …
    else:
        assert a["zero_loss_frac"] < 0.1                          # … and not in float64


@pytest.mark.parametrize("name", ["numpy", "torch"])
def test_float64_loss_on_float32_params(collapsed_params, name):
    if name == "torch":
        pytest.importorskip("torch")
    b32 = backend_at(collapsed_params, name, "float32", steps=0)
    b64loss = backend_at(collapsed_params, name, "float32", loss_dtype="float64", steps=0)
    ref = backend_at(collapsed_params, name, "float64", steps=0)
    loss32, loss64, loss_ref = b32.step(), b64loss.step(), ref.step()
    # float32 logits carry errors of ~1e-6 relative; the float64 loss of them is the float64 loss
    # of the float64 logits to about that (the margins are ~20, so to ~20e-6 in the exponent)
    assert loss64 == pytest.approx(loss_ref, rel=1e-3)
    assert loss32 < 0.5 * loss_ref                                # float32 drops the collapsed samples
    assert b64loss.diagnostics()["zero_loss_frac"] < 0.1         # measured in the loss dtype
    assert all(v.dtype == np.float32 for v in b64loss.params().values())


def test_cli_writes_the_diagnostics(tmp_path):
    from lmn_edu.run import main
    code = main(["--task", "s4", "--steps", "3", "--eval-every", "1", "--lmn-layers", "--no-progress",
                 "--precision-diagnostics", "--loss-dtype", "float64", "--dtype", "float32",
                 "--out", str(tmp_path)])
    assert code == 0
    run = tmp_path / "s4-numpy-s0"
    rows = [json.loads(line) for line in (run / "history.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [0, 1, 2, 3]
    for r in rows:
        for c in precision.COLUMNS:
            assert 0.0 <= r[c] <= 1.0
    header = (run / "history.csv").read_text().splitlines()[0].split(",")
    assert set(precision.COLUMNS) <= set(header)
    config = json.loads((run / "config.json").read_text())
    assert config["loss_dtype"] == "float64" and config["precision_diagnostics"] is True


# --- the S4 study's reading (reproduce/precision_study.py, precision_report.py) on made-up run folders ------------------------

def _s4():
    from lmn_edu.reproduce import precision_study as s4
    return s4


def _s4_report():
    from lmn_edu.reproduce import precision_report as s4_report
    return s4_report


def _rows(accs, every=1000, zero=0.0):
    return [{"step": i * every, "train_loss": 1e-3, "train_acc": 1.0, "test_loss": 1.0, "test_acc": a,
             "l2": 30.0, "zero_loss_frac": zero, "zero_grad_frac": zero, "rounded_update_frac": 1e-4}
            for i, a in enumerate(accs)]


def test_stable_generalization():
    s4 = _s4()
    assert s4.stable_generalization(_rows([0, 0.5, 1, 1, 1]), hold=2000) == 2000
    assert s4.stable_generalization(_rows([0, 1, 0.5, 1, 0.995, 1]), hold=2000) == 3000   # lost and regained
    assert s4.stable_generalization(_rows([0, 0.5, 1, 1]), hold=2000) is None              # not held long enough
    assert s4.stable_generalization(_rows([0, 1, 1, 0.9]), hold=0) is None                 # lost at the end


def _write_run(folder, name, rows, steps=30000, finished=True):
    run = folder / name
    run.mkdir(parents=True)
    (run / "config.json").write_text(json.dumps({"task": "s4", "steps": steps}))
    (run / "history.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    if finished:                                   # a run that ended: history.json and the finished marker
        (run / "history.json").write_text(json.dumps(rows))
        (run / "finished.json").write_text(json.dumps({"step": rows[-1]["step"], "reason": "test"}))


def test_section_counts_from_the_run_folders(tmp_path):
    s4_report = _s4_report()
    study = tmp_path / "s4_precision"
    _write_run(study, "s0-float32", _rows([0] * 31))                        # never
    _write_run(study, "s0-float64", _rows([0] * 15 + [1] * 4))              # 15 000, held to 18 000
    _write_run(study, "s1-float32", _rows([0] * 25 + [1] * 3, zero=0.1))    # 25 000, collapse seen
    _write_run(study, "s1-float64", _rows([0] * 10 + [1] * 3))              # 10 000
    _write_run(study, "s2-float32", _rows([0] * 5), finished=False)          # still running: not counted
    text = "\n".join(s4_report.section(tmp_path, figdir=tmp_path / "fig"))
    assert (tmp_path / "fig" / "s4_precision.png").exists()
    assert "| float32 | 2 | 1 | 1 | 0 | median 25\u202f000 (25\u202f000–25\u202f000) | median 25" in text
    assert "| float64 | 2 | 2 | 2 | 2 | median 12" in text
    assert "s2-float32 (stopped at step 4" in text
    assert "| 0 | – (ran to 30" in text
    assert "Softmax Collapse does occur in float32: 1 of 2 runs" in text
    assert "| 1 | 25\u202f000 | 0 | 0.1 (0) | – | 25\u202f000 |" in text     # collapse from step 0 on
    assert "its effect is not tested" in text


def test_parting_step():
    s4_report = _s4_report()
    a = _rows([0, 0.5, 0.9, 1.0])
    b = _rows([0, 0.51, 0.8, 1.0])
    assert s4_report.parting_step(a, b, "test_acc") == 2000           # 0.01 apart is the same; 0.1 is not
    assert s4_report.parting_step(a, a, "test_acc") is None
    b[3]["train_loss"] = 2e-3                                    # twice a's 1e-3
    assert s4_report.parting_step(a, b, "train_loss") == 3000
