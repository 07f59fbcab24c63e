"""Lesson 07 exercises: the phase boundaries of a run, its generalizing window, and a phase step
that noisy accuracies cannot fool."""


def phase_boundaries(rows):
    """★ (10 min) (memorization step, generalization step) of a run's rows (dicts with step,
    train_acc, test_acc, in step order; an accuracy may be None where it was not evaluated).

    Memorization: the first step with train_acc ≥ 1; generalization: the first with test_acc ≥ 1
    — the first time it gets there, even if it drops again later. None for a boundary the run
    never reached.
    """
    first = lambda key: next((r["step"] for r in rows if r.get(key) is not None and r[key] >= 1.0), None)
    return first("train_acc"), first("test_acc")


def generalizing_window(rows, column="lmn_h1"):
    """★★ (10 min) The rows from memorization to generalization, both included, where ``column`` is
    not None (boundaries as in phase_boundaries).

    If the run never generalized, the window runs to the last row; if it never memorized, it is [].
    """
    mem, gen = phase_boundaries(rows)
    if mem is None:
        return []
    end = gen if gen is not None else rows[-1]["step"]
    return [r for r in rows if mem <= r["step"] <= end and r.get(column) is not None]


def settled_step(rows, key="train_acc", threshold=0.99, patience=3):
    """★★★ (25 min) The step where ``key`` settles at or above ``threshold``, despite noise.

    That is the step of the first row that starts a stretch of ``patience`` consecutive
    evaluations with key ≥ threshold — or a shorter stretch that lasts to the last evaluation
    of the run. Rows where key is None were not evaluated: skip them (they neither break nor
    extend a stretch). None when key never settles.
    """
    evaluated = [r for r in rows if r.get(key) is not None]
    start, length = None, 0
    for r in evaluated:
        if r[key] >= threshold:
            start, length = (r["step"] if length == 0 else start), length + 1
            if length >= patience:
                return start
        else:
            length = 0
    return start if length > 0 else None                    # a stretch still running at the end
