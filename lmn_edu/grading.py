"""Grading the course's exercises: how a check is declared, and how a verdict is reached.

A check lives in ``lessons/checks.py`` and is declared with :func:`exercise`::

    @exercise("04", stars=2, minutes=15, hints=("a nudge", "the idea", "more of the idea"),
              forbid=("lmn_edu.lmn.r_squared", "lmn_edu.r_squared"))
    def check_r_squared_line(fn, rng):      # checks r_squared_line of exercises/04_*.py
        y = rng.normal(size=21)
        close(fn(y, lam), want, "r²")       # AssertionError on a wrong answer; return None on pass

- ``fn`` is the student's function, ``rng`` a ``numpy.random.Generator`` seeded afresh every run
  (the seed is printed; ``--seed S`` replays it). Draw the cases from ``rng``: a table of answers
  copied from the checker's messages then fails the next run.
- A wrong answer raises ``AssertionError(message)``; :func:`close` writes the message for numbers.
  Anything else the check raises (the answer is None, of the wrong shape…) fails the exercise too.
- ``hints``: from a nudge to the idea, never the code; shown only with ``--hint [LEVEL]``.
- ``forbid``: dotted names of the package's own implementation(s) of what is being checked. An
  answer that calls one of them (directly, or through another package function that calls it)
  is reported as such and does not pass.
- ``stars`` (1–3) and ``minutes`` are the exercise's difficulty and the time it takes a student.
- ``timeout``: seconds the student's calls may take in all, when the command's ``--timeout``
  (default :data:`TIMEOUT_S`) is too short for this exercise.
- ``strict_floats``: for an exercise whose statement says "no overflow, no warning", the student's
  calls run with NumPy's floating-point errors (overflow, invalid, divide by zero; not underflow)
  raised as ``FloatingPointError`` and every ``RuntimeWarning`` raised as an error, so an answer
  that overflows to a right-looking value (z / inf = −0) still fails; the check sees the exception.
  The student's own ``np.errstate`` / ``np.seterr`` do not turn them off (NumPy 2).

The student's function runs in a child process (lmn_edu.sandbox); ``fn`` forwards each call to it.
What that means for a check:

- **A callable passed to the student must pickle by reference**: a module-level function of
  lessons/checks.py or of lmn_edu, or a ``functools.partial`` of one (``partial(_tanh_layer, W)``,
  not ``lambda x: np.tanh(x @ W)``). It runs in the child with every package function allowed.
  Other arguments travel as copies; what the student changes in place in an array, list or dict
  argument is copied back after the call (so "θ was changed" can be checked).
- Answers come back as data only: numbers, strings, lists, tuples, dicts, NumPy arrays (a torch
  tensor or an ndarray subclass comes back as an ndarray). An exception of the student's comes
  back as the same builtin type (a check may expect a ValueError), others as ``StudentError``.
- ``forbid`` names functions or methods (``lmn_edu.adamw.AdamW.step``), not classes.
- checks.py is loaded in each child too (so that its functions unpickle): keep its import light.
- The exercise passes only when the check returns normally after calling ``fn`` at least once and
  nothing happened in the child (an exit, a signal, a hang, an output flood, a forbidden call),
  even if the check caught the error.
"""
import zlib
from dataclasses import asdict, dataclass

import numpy as np

__all__ = ["Exercise", "exercise", "close", "collect", "Result", "grade_file", "case_rng", "TIMEOUT_S"]

TIMEOUT_S = 5.0   # seconds the student's calls of one exercise may take, by default
LOAD_FACTOR = 3   # loading the file may take this many times as long (a student may import torch)


@dataclass(frozen=True)
class Exercise:
    """One exercise: the function ``name`` of ``exercises/<lesson>_*.py`` and its check."""
    lesson: str
    name: str
    check: object             # check(fn, rng) -> None, raises AssertionError on a wrong answer
    stars: int
    minutes: int
    hints: tuple
    forbid: tuple
    timeout: float = None     # seconds for this exercise's calls; None: the command's --timeout
    strict_floats: bool = False   # the student's calls raise on overflow, invalid, divide and RuntimeWarning


def exercise(lesson, *, stars, minutes, hints, forbid=(), name=None, timeout=None, strict_floats=False):
    """Declare ``check_<name>`` as the check of exercise ``name`` of lesson ``lesson`` ("04")."""
    if not (isinstance(lesson, str) and len(lesson) == 2 and lesson.isascii() and lesson.isdigit()):
        raise ValueError(f"lesson={lesson!r}: two digits, e.g. '04'")
    if stars not in (1, 2, 3):
        raise ValueError(f"stars={stars!r}: 1, 2 or 3")
    if isinstance(hints, str) or not hints or not all(isinstance(h, str) and h for h in hints):
        raise ValueError("hints: a tuple of one or more strings, from a nudge to the idea")
    if isinstance(forbid, str):
        raise ValueError("forbid: a tuple of dotted names, e.g. ('lmn_edu.lmn.r_squared',)")

    def register(check):
        check.exercise = Exercise(lesson, name or check.__name__.removeprefix("check_"), check,
                                  int(stars), int(minutes), tuple(hints), tuple(forbid), timeout, bool(strict_floats))
        return check
    return register


def collect(module):
    """{"NN": {name: Exercise}} of the checks declared in ``module`` (a loaded checks.py), in order."""
    found = {}
    for value in vars(module).values():
        ex = getattr(value, "exercise", None)
        if isinstance(ex, Exercise):
            found.setdefault(ex.lesson, {})[ex.name] = ex
    return found


# --- comparing numbers ---------------------------------------------------------------------

def _num(x):
    """A number as its shortest exact repr: two different floats never print alike."""
    x = x.item() if isinstance(x, np.generic) else x
    return repr(x)


def close(got, want, what, rtol=1e-9, atol=1e-12):
    """Assert ``got`` ≈ ``want`` (|got − want| ≤ atol + rtol·|want|, NaN only where expected).

    The AssertionError names ``what`` and shows the values that differ in full (every digit), with
    their index for arrays and how many entries differ."""
    try:
        g = np.asarray(got)
    except (TypeError, ValueError):         # a ragged list
        g = np.asarray(None)
    if g.dtype.kind not in "biuf":          # None, strings, objects, complex numbers
        hint = " (does the function return its result?)" if got is None else ""
        raise AssertionError(f"{what}: got {_short(got)}, which is not a number or an array of numbers{hint}")
    g = g.astype(np.float64)
    w = np.asarray(want, dtype=np.float64)
    if g.shape != w.shape:
        raise AssertionError(f"{what}: got shape {g.shape}, expected {w.shape}")
    with np.errstate(invalid="ignore", over="ignore"):
        ok = np.isclose(g, w, rtol=rtol, atol=atol, equal_nan=True)
    if ok.all():
        return
    bad = np.argwhere(~ok)
    first = tuple(int(i) for i in bad[0])
    if g.ndim == 0:
        raise AssertionError(f"{what}: got {_num(g[()])}, expected {_num(w[()])}")
    where = first[0] if len(first) == 1 else first
    raise AssertionError(f"{what}: at index {where} got {_num(g[first])}, expected {_num(w[first])} "
                         f"({len(bad)} of {g.size} entries differ)")


def _short(x, n=80):
    text = repr(x)
    return text if len(text) <= n else text[:n] + "…"


# --- reaching a verdict --------------------------------------------------------------------

@dataclass
class Result:
    """The verdict on one exercise, as a gradebook wants it (``as_dict``)."""
    lesson: str
    exercise: str
    passed: bool
    reason: str            # "" when passed; else one line saying what happened
    stars: int
    minutes: int
    seed: int
    output: str = ""       # what the student's code printed during the exercise (capped)
    file: str = ""         # the file checked

    def as_dict(self):
        return asdict(self)


def case_rng(seed, lesson, name):
    """The random cases of exercise ``name``: the same for the same seed, whatever else is checked."""
    return np.random.default_rng([int(seed), int(lesson), zlib.crc32(name.encode())])


def _verdict(ex, fn, rng):
    """'' when the check passed on the student's ``fn``; else the reason, in one line."""
    from .sandbox import CheckerError, Incident, _one_line
    reason = ""
    try:
        ex.check(fn, rng)
    except Incident as e:
        reason = e.reason
    except CheckerError as e:
        reason = f"the checker could not run this exercise: {e}"
    except Exception as e:
        if e is fn.raised:                       # the student's own exception, passed through
            typename, message, where = e.student
            if typename == "NotImplementedError":
                reason = "not implemented yet (the function raises NotImplementedError)"
            else:
                reason = f"raised {typename}: {message}{where}"
        elif isinstance(e, AssertionError):
            reason = str(e) or "wrong answer"
        else:
            reason = f"the answer could not be checked ({type(e).__name__}: {e})"
    if fn.incident:                              # even if the check caught it
        reason = fn.incident
    elif not reason and fn.calls == 0:
        reason = "the check never called the function (a defect of the check)"
    return _one_line(reason, 500)


def grade_file(exercises, path, *, checks, seed, timeout=TIMEOUT_S, protect=None):
    """[Result] of each Exercise of ``exercises`` (one lesson's, in order) on the student's file.

    ``checks``: (path, module name) of the loaded checks module; ``protect``: a folder the
    student's code may not read (the reference solutions). One child process serves the file; a
    fresh one is started after an exercise that ended its child."""
    from .sandbox import Child, Clock, Incident, StudentFunction
    exercises = list(exercises)
    forbid = sorted({name for ex in exercises for name in ex.forbid})
    results, child, names, load_failure = [], None, set(), None
    try:
        for ex in exercises:
            limit = ex.timeout or timeout
            if load_failure is None and (child is None or child.dead):
                if child is not None:
                    child.close()
                child = Child(path, checks, forbid, protect)
                try:
                    names = child.load(LOAD_FACTOR * limit)
                except Incident as e:
                    load_failure = e.reason
            output = ""
            if load_failure is not None:
                reason = load_failure
            elif ex.name not in names:
                reason = f"{path.name} defines no function {ex.name}"
            else:
                child.take_output()
                fn = StudentFunction(child, ex.name, ex.forbid, Clock(limit), ex.strict_floats)
                reason = _verdict(ex, fn, case_rng(seed, ex.lesson, ex.name))
                if child.flooded and not fn.incident:   # it answered before the flood was seen
                    reason = child.flood_reason()
                output = child.take_output()
            results.append(Result(ex.lesson, ex.name, not reason, reason, ex.stars, ex.minutes, seed, output,
                                  str(path)))
    finally:
        if child is not None:
            child.close()
    return results
