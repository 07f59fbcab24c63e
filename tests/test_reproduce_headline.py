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
