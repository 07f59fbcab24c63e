"""analysis.py: phases, windows, peaks and turning points, spectral order (NumPy only)."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lmn_edu import analysis


def rows_of(train_acc, test_acc, lmn=None, every=100):
    lmn = lmn or [None] * len(train_acc)
    return [{"step": i * every, "train_acc": a, "test_acc": b, "lmn_h1": v}
            for i, (a, b, v) in enumerate(zip(train_acc, test_acc, lmn))]


def test_phases_and_window():
    rows = rows_of([0.2, 1.0, 1.0, 1.0, 1.0], [0.0, 0.1, 0.5, 1.0, 1.0], [5, 9, None, 4, 3])
    assert analysis.phase_steps(rows) == (100, 300)
    assert [r["step"] for r in analysis.phase_window(rows)] == [100, 300]      # step 200 has no LMN
    assert analysis.reached(rows, "generalized") and analysis.reached(rows[:3], "memorized")
    assert not analysis.reached(rows[:3], "generalized")
    unfinished = rows_of([0.2, 1.0, 1.0], [0.0, 0.1, 0.5], [5, 9, 8])
    assert [r["step"] for r in analysis.phase_window(unfinished)] == [100, 200]   # to the end of the run
    assert analysis.phase_window(rows_of([0.1, 0.2], [0.0, 0.0], [1, 2])) == []   # never memorized


@pytest.mark.parametrize("values, prominence, expected", [
    ([0, 2, 0], 0.0, [1]),
    ([0, 2, 1, 3, 0], 0.0, [1, 3]),
    ([0, 2, 1, 3, 0], 1.5, [3]),            # the peak at 2 stands only 1 above its higher base
    ([0, 1, 1, 1, 0], 0.0, [2]),            # a plateau counts once, at its middle
    ([0, 1, 1, 2], 0.0, []),                # a plateau that rises on is no peak
    ([3, 2, 1], 0.0, []),                   # the ends are never peaks
])
def test_peaks(values, prominence, expected):
    assert list(analysis.peaks(values, prominence)) == expected


def test_turning_points_of_a_double_descent():
    steps = np.arange(0, 2000, 100)
    values = [30, 28, 25, 20, 16, 15, 16, 18, 20, 21, 20, 19, 18, 17, 16, 16, 15, 15, 14, 14]
    assert analysis.turning_points(steps, values, after=0) == [("min", 500, 15.0), ("max", 900, 21.0)]
    assert analysis.turning_points(steps, values, after=1000) == []          # no minimum after step 1000
    assert analysis.turning_points(steps, values, prominence=10) == []


@settings(max_examples=40, deadline=None)
@given(values=st.lists(st.integers(0, 5), min_size=3, max_size=30), prominence=st.sampled_from([0.0, 0.5, 2.0]))
def test_peaks_match_scipy_where_installed(values, prominence):
    signal = pytest.importorskip("scipy.signal")
    v = np.array(values, dtype=float)
    assert list(analysis.peaks(v, prominence)) == list(signal.find_peaks(v, prominence=prominence)[0])


def test_spectral_order_finds_blocks():
    rng = np.random.default_rng(0)
    labels = rng.permutation(np.repeat([0, 1, 2], [12, 8, 5]))               # three blocks, shuffled
    L = np.where(labels[:, None] == labels[None, :], 1.0, 0.05)             # (25, 25)
    order = analysis.spectral_order(L, n_clusters=3)
    assert sorted(order) == list(range(25))
    runs = [labels[i] for i in order]
    changes = sum(a != b for a, b in zip(runs, runs[1:]))
    assert changes == 2                                                      # each block contiguous
    assert [runs.count(runs[0]), runs.count(runs[-1])] == [12, 5]           # largest first, smallest last


def test_pearson():
    assert analysis.pearson([1, 2, 3], [2, 4, 6]) == pytest.approx(1.0)
    assert analysis.pearson([1, 2], [2, 4]) is None and analysis.pearson([1, 1, 1], [1, 2, 3]) is None


# --- levels_off: hand-made curves ---------------------------------------------------------

def _curve(f, stop=20000, every=250):
    steps = np.arange(0, stop + 1, every)
    return steps, f(steps.astype(float))


def test_levels_off_on_a_kinked_line():
    # falls 6 per 1k steps up to step 6000, then 0.3 per 1k: a twenty-fold slow-down, as in add seed 1
    steps, v = _curve(lambda s: np.where(s <= 6000, 50 - 6e-3 * s, 14 - 3e-4 * (s - 6000)))
    out = analysis.levels_off(steps, v, after_step=6000, before_start=0)
    assert out["rate_before"] == pytest.approx(-6.0) and out["rate_after"] == pytest.approx(-0.3)
    assert out["ratio"] == pytest.approx(0.05) and out["levels_off"] is True
    assert out["before"] == (0, 6000, 25) and out["after"] == (6000, 11000, 21)


def test_a_straight_line_does_not_level_off():
    steps, v = _curve(lambda s: 50 - 2e-3 * s)
    out = analysis.levels_off(steps, v, after_step=8000, before_start=0)
    assert out["ratio"] == pytest.approx(1.0) and out["levels_off"] is False


def test_a_halved_rate_is_not_levelling_off_but_a_tenth_is():
    for slow, expected in ((0.5, False), (0.1, True)):
        steps, v = _curve(lambda s: np.where(s <= 5000, -4e-3 * s, -20 - slow * 4e-3 * (s - 5000)))
        out = analysis.levels_off(steps, v, after_step=5000, before_start=0)
        assert out["ratio"] == pytest.approx(slow) and out["levels_off"] is expected


def test_a_rise_after_the_step_is_a_rate_too():
    # XOR's bump: falls, then climbs back as fast: not levelling off, and the sign says which way
    steps, v = _curve(lambda s: np.where(s <= 3000, 35 - 5e-3 * s, 20 + 5e-3 * (s - 3000)))
    out = analysis.levels_off(steps, v, after_step=3000, before_start=0, window=2000)
    assert out["rate_after"] == pytest.approx(5.0) and out["ratio"] == pytest.approx(-1.0)
    assert out["levels_off"] is False


def test_exponential_decay_levels_off_only_well_after_its_time_scale():
    steps, v = _curve(lambda s: 10 + 40 * np.exp(-s / 2000))
    late = analysis.levels_off(steps, v, after_step=8000, before_start=0)
    assert late["levels_off"] is True and 0 < late["ratio"] < 0.2
    early = analysis.levels_off(steps, v, after_step=1000, before_start=0, window=1000)
    assert early["levels_off"] is False


def test_levels_off_is_not_tested_on_too_few_points():
    steps, v = _curve(lambda s: 50 - 2e-3 * s, stop=10000, every=1000)
    out = analysis.levels_off(steps, v, after_step=9000, before_start=0)   # after: steps 9000, 10000 only
    assert out["levels_off"] is None and out["ratio"] is None and out["after"][2] == 2
    flat = analysis.levels_off(*_curve(lambda s: 0 * s + 3), after_step=5000, before_start=0)
    assert flat["levels_off"] is None                                       # no earlier rate to compare with


@pytest.mark.parametrize("kwargs", [dict(after_step=0, before_start=100), dict(window=0), dict(fraction=1.0)])
def test_levels_off_rejects_bad_arguments(kwargs):
    args = dict(after_step=500, before_start=0) | kwargs
    with pytest.raises(analysis.LMNInputError):
        analysis.levels_off([0, 1, 2], [3, 2, 1], **args)


def test_negative_eigenvalues_leaves_out_rounding_zeros():
    from lmn_edu.analysis import negative_eigenvalues
    L = np.kron(np.eye(3), np.ones((3, 3)))                 # eigenvalues 3, 3, 3 and six zeros
    mu = np.linalg.eigvalsh(L)
    assert not negative_eigenvalues(mu).any()
    assert negative_eigenvalues(mu - 1e-10).sum() == 6      # a real (if small) negative part is counted
    L2 = np.array([[1.0, 0.9, 0.0], [0.9, 1.0, 0.9], [0.0, 0.9, 1.0]])   # not PSD: one μ = 1 − 0.9·√2 < 0
    assert negative_eigenvalues(np.linalg.eigvalsh(L2)).tolist() == [True, False, False]
    assert negative_eigenvalues([]).shape == (0,)
