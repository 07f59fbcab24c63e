"""The time a run has left, counted by kind of work: training steps, evaluation rows, LMN.

A progress bar that divides the steps left by the recent rate of steps is misled by LMN: a
measurement takes as long as hundreds of training steps, and the schedule packs many of them
into the first steps (log-spaced, where LMN rises and peaks) and spreads the rest out. While
the dense part runs, steps look slow and the estimate climbs to hours; after it, it falls.

Here each kind of work has its own count: the schedule says how many of each are left, the
run so far says how long one of each takes (the mean of those measured), and the time left is

    Σ_kind  (left of that kind) × (mean seconds of that kind)

which does not depend on how the kinds are spread over the run.
"""
import math


class Remaining:
    """Counts work done by kind and estimates the seconds left.

    ``totals``: kind -> how many units of that kind the whole run does, e.g.
    ``{"step": 20_000, "row": 201, "lmn": 41}``. Call ``done(kind, seconds)`` after each unit;
    ``seconds_left()`` is None until every kind with work left has been timed at least once.
    """

    def __init__(self, totals):
        self.totals = dict(totals)
        self.count = {k: 0 for k in self.totals}
        self.seconds = {k: 0.0 for k in self.totals}

    def done(self, kind, seconds):
        self.count[kind] += 1
        self.seconds[kind] += seconds

    def seconds_left(self):
        left = 0.0
        for kind, total in self.totals.items():
            todo = total - self.count[kind]
            if todo <= 0:
                continue
            if self.count[kind] == 0:
                return None                                  # a kind not timed yet: unknown
            left += todo * self.seconds[kind] / self.count[kind]
        return left


def format_seconds(seconds):
    """'1:02:03', '12:34', or '?' when unknown, as tqdm writes times."""
    if seconds is None or not math.isfinite(seconds):
        return "?"
    s = int(round(seconds))
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"

