"""Lesson 07 exercises: the phase boundaries of a run, and its generalizing window."""


def phase_boundaries(rows):
    """(memorization step, generalization step) of a run's rows (dicts with step, train_acc, test_acc).

    Memorization: the first step with train_acc ≥ 1; generalization: the first with test_acc ≥ 1.
    None for a boundary the run never reached.
    """
    first = lambda key: next((r["step"] for r in rows if r.get(key) is not None and r[key] >= 1.0), None)
    return first("train_acc"), first("test_acc")


def generalizing_window(rows, column="lmn_h1"):
    """The rows from memorization to generalization, both included, where ``column`` is not None.

    If the run never generalized, the window runs to the last row; if it never memorized, it is [].
    """
    mem, gen = phase_boundaries(rows)
    if mem is None:
        return []
    end = gen if gen is not None else rows[-1]["step"]
    return [r for r in rows if mem <= r["step"] <= end and r.get(column) is not None]
