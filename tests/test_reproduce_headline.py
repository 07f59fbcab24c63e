"""The numbers behind the report's verdicts (reproduce/headline.py, summary bands): hand-made runs
where the answer is known, including ones where LMN must lose."""
import numpy as np
import pytest

from lmn_edu.reproduce import headline, sections, summary


def _rows(lmn, test_loss, train_loss=None, l2=None, every=250, mem=1, gen=None):
    """Rows every ``every`` steps; train acc 1 from row ``mem``, test acc 1 from row ``gen``."""
    n = len(lmn)
    train_loss = train_loss if train_loss is not None else np.linspace(1.0, 0.01, n)
    l2 = l2 if l2 is not None else np.linspace(40, 30, n)
    return [{"step": i * every, "train_acc": 1.0 if i >= mem else 0.5,
             "test_acc": 1.0 if gen is not None and i >= gen else 0.5, "test_loss": float(test_loss[i]),
             "train_loss": float(train_loss[i]), "l2": float(l2[i]), "lmn_h1": float(lmn[i])} for i in range(n)]


def test_lmn_beats_the_covariates_when_test_loss_is_a_line_in_it():
    steps = np.arange(40) * 250.0
    lmn = 50 - 30 * np.sqrt(steps / steps[-1]) + 0.3 * np.sin(steps / 700)   # not a function of the step alone
    rows = _rows(lmn, 0.1 * lmn - 0.5)
    c = headline.covariates(rows, "add")
    assert c["n"] == 39 and c["r2"]["lmn"] == pytest.approx(1.0)
    assert c["beats"] == {"l2": True, "neg_log_step": True, "log_train_loss": True}


def test_lmn_loses_to_log_step_when_test_loss_is_a_line_in_log_step():
    steps = np.maximum(np.arange(40) * 250.0, 1.0)              # the rows' steps (log of 0 avoided)
    loss = 3 - 0.5 * np.log(steps)
    lmn = 10 + (loss - loss.min()) ** 2                                       # monotone, curved in the loss
    c = headline.covariates(_rows(lmn, loss), "add")
    assert c["r2"]["neg_log_step"] == pytest.approx(1.0) and c["beats"]["neg_log_step"] is False


def test_after_generalization_levels_and_rebound():
    # falls to 20 at generalization (row 10), climbs back to 34 by row 30 and stays: a return, not a bump
    lmn = np.concatenate([np.linspace(36, 20, 11), np.linspace(20, 34, 20)[1:], np.full(20, 33.0)])
    rows = _rows(lmn, np.linspace(3, 0.1, len(lmn)), every=250, mem=0, gen=10)
    a = headline.after_generalization(rows)
    assert a["gen_step"] == 2500 and a["trough"] == (2500, 20.0)
    assert a["rebound"][1] == pytest.approx(34.0) and a["rebound_of_peak"] == pytest.approx(34 / 36)
    assert a["fall_from_rebound"] == pytest.approx(1 / 34)
    assert a["levels"]["levels_off"] is False and a["levels"]["rate_after"] > 0
    assert headline.after_generalization(_rows(lmn, lmn, mem=0, gen=None)) is None


def test_phase_lags_count_the_rise_after_memorization():
    lmn = np.concatenate([np.linspace(10, 30, 5), np.linspace(30, 40, 4)[1:], np.linspace(40, 10, 20)[1:]])
    rows = _rows(lmn, lmn / 10, every=100, mem=2, gen=None)
    g = headline.phase_lags(rows)
    assert g["mem_step"] == 200 and g["lmn"] == 700 - 200 and not g["generalized"]
    assert g["lmn_fall"] == pytest.approx(-1.0)


def test_band_edges_are_marked_within_the_seeds_spread():
    # add seed 0's peak 45.2 against 45.05–60.95: 0.15 from the edge, the seeds' SD is ~6
    assert summary.at_edge("lmn_peak", [45.2, 49.6, 57.2])[0] is True
    assert summary.at_edge("lmn_peak", [52.0, 53.0, 54.0]) == [False, False, False]
    assert summary.at_edge("turns", [1, 2]) == [None, None]
    assert summary.verdict([True, True, False], [True, False, False]) == "partly (2/3 seeds; 1 at the band's edge)"
    assert summary.verdict([None, None]) == "not tested"


def test_outcome_words_and_seed_counts():
    assert headline.outcome([True, True]) == ("reproduced", 2)
    assert headline.outcome([True, False, None]) == ("partly", 2)
    assert headline.outcome([False]) == ("not", 1)
    assert headline.outcome([None]) == ("not tested", 0)


def test_coverage_rows_rest_on_the_seeds_there_are():
    lmn = np.concatenate([np.linspace(30, 50, 3), np.linspace(50, 12, 40), np.linspace(12, 11.5, 25)])
    rows = _rows(lmn, 0.1 * lmn + 0.01 * np.sin(np.arange(len(lmn))), mem=1, gen=43)
    summ = {"add": {0: summary.summarize(rows, "add"), 1: None}}
    got = {r[1]: r for r in sections.coverage_rows(summ, {"appendix_b": {}}, emb_runs=1)}
    levels = got["for addition and S4, LMN levels off after grokking"]
    assert levels[2:4] == ("reproduced", "1 of 1")
    assert got["XOR's turning points are 15 and 20 (5 × 3 and 5 × 4)"][2:4] == ("not tested", "0")
    assert got["only h1's LMN tracks the hidden progress; emb and h2 plateau quickly after memorization"][3] == "1"


# --- each section's numbers, apart from its prose ----------------------------------------

def _summ():
    steps = np.arange(40) * 250.0
    lmn = 50 - 30 * np.sqrt(steps / steps[-1]) + 0.3 * np.sin(steps / 700)
    rows = _rows(lmn, 0.1 * lmn - 0.5, mem=1, gen=30)
    return {"add": {0: summary.summarize(rows, "add"), 1: summary.summarize(rows, "add")}}


def test_paper_rows_carry_per_seed_values_and_verdicts():
    from lmn_edu.reproduce import report
    rows = {r["label"]: r for r in report.paper_rows(_summ(), [0, 1])}
    assert rows["memorization step"]["ours"] == ["250", "250"] and rows["memorization step"]["verdict"].startswith("agrees")
    beats = next(r for label, r in rows.items() if label.startswith("R² of a line in LMN;"))
    assert beats["verdict"] == "agrees (2/2 seeds)"
    assert next(r for label, r in rows.items() if label.startswith("LMN slope"))["key"] == "levels_off"


def test_linearity_numbers_count_the_runs():
    n = sections.linearity_numbers(_summ())
    assert len(n["rows"]) == 2 and n["r_beats"][1] == 2 and len(n["dw"]) == 2


def test_readings_numbers_and_the_spread_of_our_reading():
    from lmn_edu.reproduce.readings import OURS
    rd = [{"seed": s, "step": st, "reading": OURS, "lmn": v} for s, vals in ((0, (53.0, 12.0)), (1, (26.5, 12.0)))
          for st, v in zip((500, 15000), vals)]
    n = sections.readings_numbers(rd)
    assert n["dist"][OURS][0] == pytest.approx(0.0) and n["dist"][OURS][1] == pytest.approx(np.log(2) / 2)
    assert n["spread"] == pytest.approx(np.log(2) / 2)


def test_split_init_tables_add_the_plain_runs_as_the_diagonal():
    cell = {"split_seed": 0, "init_seed": 1, "dtype": "float64", "steps": 300, "mem_step": 200, "gen_step": None,
            "final_test_acc": 0.5, "best_test_acc": 0.6}
    rows = _rows(np.linspace(30, 10, 4), np.linspace(3, 1, 4), every=100, mem=2, gen=3)
    tables = sections.split_init_tables([cell], {"s4": {0: ({"dtype": "float64", "steps": 300}, rows)}})
    assert set(tables[("float64", 300)]) == {(0, 1), (0, 0)}
    assert tables[("float64", 300)][(0, 0)]["gen_step"] == 300
    assert sections.split_init_tables([], {}) == {}


def test_precision_verdict_numbers():
    from lmn_edu.reproduce import precision_report as pr
    def run(accs, zero=0.0):
        return [{"step": i * 1000, "train_loss": 1e-3, "train_acc": 1.0, "test_loss": 1.0, "test_acc": a,
                 "l2": 30.0, "zero_loss_frac": zero, "zero_grad_frac": zero, "rounded_update_frac": 0.0}
                for i, a in enumerate(accs)]
    runs = {"float32": {0: run([0] * 31, zero=0.2)}, "float64": {0: run([0] * 15 + [1] * 16)},
            "float32-loss64": {0: run([0] * 15 + [1] * 16)}}
    n = pr.study_numbers({"runs": runs, "unfinished": [], "steps": [30000]})
    v = n["verdict"]
    assert (v["gen"]["float32"], v["gen"]["float64"], v["collapsed"]) == (0, 1, 1)
    assert v["failed"] == [0] and v["fixed"] == [0] and v["rem_like_f64"] == 1
    assert "consistent with Softmax Collapse explaining" in pr.render_answer(v)
    assert n["counts"]["float64"]["gen_early"] == 1 and n["diagnostics"]["float32"]["collapsed"] == 1
