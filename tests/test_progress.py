"""progress.Remaining on the default schedule with fake durations (no clock): after the first 5%
of the run the end it predicts (time so far + estimated time left) swings by less than 2×,
where a rate-of-steps estimate (what a plain progress bar shows) swings far more; and train()
shows it on the bar."""
import numpy as np
import pytest

import lmn_edu
from lmn_edu.progress import Remaining, format_seconds
from lmn_edu.train import lmn_steps, train


def simulate(config, estimate, seed=0, t_step=0.005, t_row=0.02, t_lmn=3.0):
    """Run the default schedule on fake durations (log-normal, 30% spread) and return
    (step, predicted total seconds: elapsed + estimated left) at every row after the first."""
    rng = np.random.default_rng(seed)
    lmn_at = set(lmn_steps(config))
    rows = sorted(set(range(0, config.steps + 1, config.eval_every)) | lmn_at | {config.steps})
    work = []                                                # (step, kind, seconds) in run order
    for step in range(config.steps + 1):
        if step in rows:
            work.append((step, "row", t_row * rng.lognormal(0, 0.3)))
            if step in lmn_at:
                work.append((step, "lmn", t_lmn * rng.lognormal(0, 0.3)))
        if step < config.steps:
            work.append((step, "step", t_step * rng.lognormal(0, 0.3)))
    elapsed = np.cumsum([w[2] for w in work])                # seconds up to the end of each unit
    totals = {"step": config.steps, "row": len(rows), "lmn": len(lmn_at)}
    out, est = [], estimate(totals)
    for i, (step, kind, seconds) in enumerate(work):
        est.done(kind, seconds)
        if kind == "row" and i + 1 < len(work) and step > 0:
            out.append((step, elapsed[i] + est.seconds_left()))
    return out


class RecentRate:
    """What a plain bar does: steps left × the mean time per step over the last 100 steps,
    everything (LMN included) counted as steps' time."""

    def __init__(self, totals):
        self.total, self.times, self.pending = totals["step"], [], 0.0

    def done(self, kind, seconds):
        if kind == "step":
            self.times.append(seconds + self.pending)
            self.pending = 0.0
        else:
            self.pending += seconds

    def seconds_left(self):
        recent = self.times[-100:]
        return (self.total - len(self.times)) * sum(recent) / len(recent)


def swing(trace, steps):
    """max / min of the predicted total after the first 5% of the steps."""
    ends = [end for step, end in trace if step >= 0.05 * steps]
    return max(ends) / min(ends)


@pytest.mark.parametrize("seed", [0, 1])
def test_predicted_end_swings_less_than_2x_after_5_percent(seed):
    config = lmn_edu.RunConfig().validated()                 # 20 000 steps, 41 LMN (20 log-spaced)
    assert len(lmn_steps(config)) == 41
    assert swing(simulate(config, Remaining, seed), config.steps) < 1.3
    # the same schedule misleads a rate-of-steps estimate: the test can tell them apart
    assert swing(simulate(config, RecentRate, seed), config.steps) > 2


def test_unknown_until_each_kind_is_timed_and_zero_at_the_end():
    left = Remaining({"step": 3, "lmn": 1})
    assert left.seconds_left() is None
    left.done("step", 1.0)
    assert left.seconds_left() is None                       # LMN not timed yet
    left.done("lmn", 10.0)
    assert left.seconds_left() == pytest.approx(2.0)
    left.done("step", 3.0)
    assert left.seconds_left() == pytest.approx(2.0)         # one step left at the mean, 2 s
    left.done("step", 2.0)
    assert left.seconds_left() == 0.0


def test_format_seconds():
    assert [format_seconds(s) for s in (None, float("nan"), 5.4, 754, 3723)] == ["?", "?", "00:05", "12:34", "1:02:03"]


class FakeBar:
    """Records what train() shows, as tqdm would."""
    made = []

    def __init__(self, **kw):
        self.kw, self.postfixes, self.n = kw, [], 0
        FakeBar.made.append(self)

    def set_postfix(self, post, refresh=True):
        self.postfixes.append(dict(post))

    def update(self, n):
        self.n += n

    def close(self):
        pass


def test_train_shows_the_time_left(tmp_path):
    config = lmn_edu.RunConfig(task="s4", steps=30, eval_every=10, lmn_every=20, lmn_log=0, out=str(tmp_path),
                               hidden=8, emb_dim=4)
    train(config, progress=FakeBar)
    bar = FakeBar.made[-1]
    assert bar.n == 30 and "{postfix}" in bar.kw["bar_format"] and "{remaining}" not in bar.kw["bar_format"]
    lefts = [p["left"] for p in bar.postfixes]
    assert len(lefts) == 4 and lefts[-1] == "00:00"           # rows at 0, 10, 20, 30
    assert all(s == "?" or s[2] == ":" for s in lefts)
