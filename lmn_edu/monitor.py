"""LMN in your own training loop: measured on a schedule, saved as a run folder of the project.

    mon = lmn_edu.LMNMonitor(net, X, "runs/my-run", every=100, steps=steps)
    with mon:
        for step in range(steps + 1):
            ...                                               # your own training step
            mon.step(step, train_loss=..., test_loss=..., train_acc=..., test_acc=...)

Each ``mon.step`` appends one row (the values you give, the parameters' L2 norm, the time) and,
when LMN is due, measures it on the fixed points X (eq 1–3) and adds it to the row as
``lmn_<name>``. The folder is the one ``python -m lmn_edu.run`` writes (history.py):
config.json, history.jsonl and history.csv appended row by row, history.json on close. So the
project's readers work on it as they are: ``history.load_run``, ``plots.fig2``,
``analysis.phase_steps`` (memorization: the first train_acc of 1; generalization: test_acc).

What is measured:

- a torch module (or a function of tensors): ``torch_lmn.module_lmn`` on X (N, *input_shape),
  in eval mode and without gradients, on the module's device and dtype; an nn.Sequential gets the
  affine-prefix fast path;
- a NumPy function of a batch, with X a NumPy array: the engine (engine.py, the function as one
  ``("fn", f)`` stage, in float64), the value of ``lmn.lmn_of`` to rounding, and torch is not
  needed. The function gets a batch (M, *input_shape) and must return (M, d_out) real numbers
  (an array or a nested list); another shape, bool or complex values: LMNInputError;
- several layers at once: a dict ``{name: model}``, where a model may also be a pair
  ``(to_layer, tail)``: ``to_layer`` maps X to that layer's representation (the points), and LMN
  is that of ``tail`` on them. For an nn.Sequential ``net``, ``{"x": net, "h1": (net[:2], net[2:])}``.

When LMN is due (``Schedule``): every ``every`` steps from step 0, ``log_steps`` more steps
log-spaced before the first of them, where LMN rises while a network memorizes (the rule of
``train.lmn_steps``), and the last step when ``steps`` is given; or at the steps ``at``. A
scheduled step you do not call ``step`` at is measured at the next call after it.
"""
import bisect
import json
import math
import numbers
import os
import sys
import time
import warnings
from types import SimpleNamespace

import numpy as np

from . import engine
from .config import MAX_LMN_LOG
from .errors import LMNInputError, NotFiniteError, check_array, check_int, show
from .history import BASE_COLUMNS, History, RunFolder
from .lmn import _check_output, _flat_points, check_spread, linear_mapping_number
from .ops import NUMPY_OPS
from .train import lmn_steps

# Seconds the row's LMN took (its name does not start with "lmn_": plots.fig2 plots those as LMN).
LMN_TIME_COLUMN = "time_lmn_s"


# --- when LMN is due ---------------------------------------------------------------------------

class Schedule:
    """The steps at which LMN is due.

    Every ``every`` steps from 0, ``log_steps`` log-spaced steps before ``every`` (the rule of
    train.lmn_steps), and ``steps`` (the last step) when it is known; or exactly the steps ``at``.
    """

    def __init__(self, every=100, log_steps=10, steps=None, at=None):
        self.every = check_int("every", every, 1)
        self.log_steps = check_int("log_steps", log_steps, 0, MAX_LMN_LOG)
        self.steps = None if steps is None else check_int("steps", steps, 0)
        if at is not None:
            try:
                self.at = sorted({check_int("at", s, 0) for s in at})
            except TypeError:
                raise LMNInputError(f"at must be an iterable of steps, got {show(at)}") from None
            self._listed = self.at
        else:
            self.at = None
            # The list up to ``every`` (or the end, if before), then its multiples and the end:
            # a list of the whole run would take memory in proportion to steps / every.
            total = self.every if self.steps is None else min(self.every, self.steps)
            self._listed = lmn_steps(SimpleNamespace(lmn_layers=("any",), steps=total,
                                                     lmn_every=self.every, lmn_log=self.log_steps))

    def next(self, after):
        """The first scheduled step after step ``after``; None when there is none."""
        k = bisect.bisect_right(self._listed, after)
        candidates = self._listed[k:k + 1]
        if self.at is None:
            multiple = (after // self.every + 1) * self.every
            if self.steps is None or multiple <= self.steps:
                candidates.append(multiple)
            if self.steps is not None and self.steps > after:
                candidates.append(self.steps)              # the last step
        return min(candidates, default=None)

    def upto(self, limit):
        """The scheduled steps <= limit, in order."""
        out, s = [], self.next(-1)
        while s is not None and s <= limit:
            out.append(s)
            s = self.next(s)
        return out

    def to_dict(self):
        return {"every": self.every, "log_steps": self.log_steps, "steps": self.steps, "at": self.at}


# --- what is measured --------------------------------------------------------------------------

def _torch():
    """torch if the program already uses it (never imported here for a NumPy model)."""
    return sys.modules.get("torch")


def _is_torch(obj):
    torch = _torch()
    return torch is not None and (isinstance(obj, torch.nn.Module) or torch.is_tensor(obj))


def _specs(model):
    """{name: (to_layer or None, tail)} from a model, or a dict of models and (to_layer, tail) pairs."""
    models = model if isinstance(model, dict) else {"input": model}
    if not models:
        raise LMNInputError("model is an empty dict; give at least one name: module")
    specs = {}
    for name, m in models.items():
        if not isinstance(name, str) or not name or "," in name:
            raise LMNInputError(f"model's names must be non-empty strings without commas, got {show(name)}")
        to_layer, tail = m if isinstance(m, tuple) and len(m) == 2 else (None, m)
        for what, f in (("to_layer", to_layer), ("tail", tail)):
            if not callable(f) and (f is not None or what == "tail"):     # to_layer may be None, a tail not
                raise LMNInputError(f"model[{name!r}]: {what} must be a torch module or a function, got {show(f)}")
        specs[name] = (to_layer, tail)
    return specs


def _measure_torch(to_layer, tail, X, n_lambda):
    import torch
    from .torch_lmn import _points_on_device, eval_mode, module_lmn
    if to_layer is not None:
        V, shape = _points_on_device(to_layer, X)            # on to_layer's device, in its dtype
        with eval_mode(to_layer), torch.no_grad():
            X = to_layer(V.reshape(-1, *shape).clone())        # a copy: to_layer may write into its input
    return module_lmn(tail, X, n_lambda)


def _measure_numpy(to_layer, tail, X, n_lambda):
    """LMN of a NumPy function: the engine with one ("fn", f) stage, in float64 as lmn.lmn_of."""
    if to_layer is not None:
        X = to_layer(np.array(X, copy=True))                 # a copy: to_layer may write into its input
    X, shape = _flat_points(X, "X" if to_layer is None else "to_layer(X)")   # (N, D)
    check_spread("X" if to_layer is None else "to_layer(X)", X)

    def f(x):                                                 # (M, D) -> (M, d_out), each batch checked
        # as lmn.connectivity_matrix checks f: real, (M, d_out), finite (else NotFiniteError)
        return _check_output(tail(x.reshape(-1, *shape)), len(x))

    L = engine.connectivity(X, [("fn", f)], n_lambda, ops=NUMPY_OPS, dtype="float64")   # (N, N)
    return linear_mapping_number(L)


def _measure(specs, X, n_lambda):
    out = {}
    for name, (to_layer, tail) in specs.items():
        on_torch = _is_torch(X) or _is_torch(tail) or _is_torch(to_layer)
        try:
            out[name] = (_measure_torch if on_torch else _measure_numpy)(to_layer, tail, X, n_lambda)
        except LMNInputError as e:                           # say which model, keep the kind of error
            where = "model" if list(specs) == ["input"] else f"model[{name!r}]"
            raise type(e)(f"{where}: {e}") from None
    return out


def measure(model, X, n_lambda=21):
    """LMN now, {name: LMN}, for a model as LMNMonitor takes it (without a run folder)."""
    return _measure(_specs(model), X, n_lambda)


def _param_l2(module):
    """√(Σ p²) over a torch module's parameters, in float64 (the project's l2 column)."""
    return math.sqrt(sum(float((p.detach().double() ** 2).sum()) for p in module.parameters()))


def _number(key, value):
    """A row's value: None, or a real number (a NumPy scalar or a one-element tensor is read out)."""
    if value is None:
        return None
    is_scalar = getattr(value, "ndim", None) == 0                      # a NumPy scalar or 0-d array/tensor
    if is_scalar or (_is_torch(value) and value.numel() == 1):
        value = value.item()
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise LMNInputError(f"{key}={show(value)} must be a real number (or None)")
    return float(value)


class LMNMonitor:
    """Measure LMN during your own training loop and save the rows as a run folder.

    ``model``: a torch module, a function of a batch (torch or NumPy), or a dict of them by name
    (a value may be a pair (to_layer, tail)); see the module docstring. ``X``: the fixed points,
    (N, *input_shape), copied at the start. ``out``: the run folder (refused if it holds a run,
    unless ``overwrite``). ``every``, ``log_steps``, ``steps``, ``at``: when LMN is due (``Schedule``).
    ``n_lambda``: points per line, eq (1). ``config``: your settings (a JSON-able dict) for
    config.json, e.g. {"model": "mlp-2x64", "seed": 0, "lr": 1e-3}. ``columns``: names of values
    you will pass to ``step`` beyond the usual ones (train/test loss and accuracy, l2); if not
    given, those of the first ``step`` call. ``l2_of``: a torch module whose parameters' norm
    fills the ``l2`` column when ``step`` is not given one (default: ``model`` if it is a module;
    for a dict, its first value if that is a module, as in {"x": net, "h1": (net[:2], net[2:])}).
    """

    def __init__(self, model, X, out, *, every=100, log_steps=10, steps=None, at=None, n_lambda=21,
                 config=None, columns=(), l2_of=None, overwrite=False):
        self.specs = _specs(model)
        self.X = X.detach().clone() if _is_torch(X) else np.array(check_array("X", X), copy=True)
        if self.X.ndim < 2:
            raise LMNInputError(f"X must be an at least 2-D array (N points, *input_shape), got shape "
                                f"{tuple(self.X.shape)}")
        if not isinstance(out, (str, os.PathLike)):
            raise LMNInputError(f"out must be a folder path (a str or pathlib.Path), got {show(out)}")
        if not isinstance(overwrite, (bool, np.bool_)):
            raise LMNInputError(f"overwrite={show(overwrite)} must be True or False")
        self.n_lambda = n_lambda
        self.schedule = Schedule(every, log_steps, steps, at)
        whole = next(iter(model.values())) if isinstance(model, dict) and model else model
        self.l2_of = whole if l2_of is None and _is_torch(whole) else l2_of
        if self.l2_of is not None and not _is_torch(self.l2_of):
            raise LMNInputError(f"l2_of must be a torch module, got {show(self.l2_of)}")
        user = {} if config is None else config
        if not isinstance(user, dict):
            raise LMNInputError(f"config must be a dict of your settings, got {show(user)}")
        if not isinstance(user.get("model", ""), str):       # the run folder's readers take a string only
            raise LMNInputError(f"config['model']={show(user['model'])} must be a string (what the model is)")
        self.config = {"model": _describe(model), **user, "monitor": {
            "layers": list(self.specs), "points": len(self.X), "input_shape": list(self.X.shape[1:]),
            **self.schedule.to_dict(), "n_lambda": n_lambda}}
        try:
            json.dumps(self.config)
        except (TypeError, ValueError) as e:
            raise LMNInputError(f"config must hold JSON values only (numbers, strings, lists, dicts): {e}") from None
        if isinstance(columns, str) or not isinstance(columns, (list, tuple)) or \
                not all(isinstance(c, str) and c for c in columns):
            raise LMNInputError(f"columns={show(columns)} must be a list of names (non-empty strings)")
        self._declared = list(columns)
        self.last_lmn = {}
        self._last_step = None
        self._measured = -1                                  # the last step LMN was measured at
        _measure(self.specs, self.X[:2], n_lambda)            # misuse shows now, not at the first due step
        self._folder = RunFolder(out, overwrite)
        self.path = self._folder.path
        self._history = None
        self._closed = False
        self._start = time.perf_counter()

    # -- the schedule
    def due(self, step):
        """Is LMN measured at ``step``: a scheduled step after the last measurement is <= step."""
        step = check_int("step", step, 0)
        due = self.schedule.next(self._measured)
        return due is not None and due <= step

    # -- rows
    @property
    def rows(self):
        """The rows saved so far (dicts, as history.load_run reads them back)."""
        return [] if self._history is None else self._history.rows

    def _open(self, first_keys):
        lmn_cols = [f"lmn_{name}" for name in self.specs]
        extra = [k for k in list(self._declared) + list(first_keys) if k not in BASE_COLUMNS]
        columns = list(dict.fromkeys(lmn_cols + [LMN_TIME_COLUMN] + extra))
        self._history = History(self.path, self.config, columns)

    def step(self, step, **values):
        """Append the row of ``step`` (your values: train_loss, test_acc, …) and measure LMN if due.

        Returns the row as saved. Steps must increase from call to call. The LMN columns
        (``lmn_<name>``, ``time_lmn_s``) are the monitor's: a value given for one is refused.
        """
        if self._closed:
            raise LMNInputError("the monitor is closed; make a new one for another run")
        step = check_int("step", step, 0)
        if self._last_step is not None and step <= self._last_step:
            raise LMNInputError(f"step={step} must be greater than the previous step {self._last_step}")
        row = {k: _number(k, v) for k, v in values.items()}
        ours = [k for k in row if k == LMN_TIME_COLUMN or k in (f"lmn_{name}" for name in self.specs)]
        if ours:
            raise LMNInputError(f"{ours[0]} is written by the monitor (LMN and its time); give your values other names")
        if self._history is None:
            self._open(row)
        unknown = [k for k in row if k not in self._history.columns]
        if unknown:
            raise LMNInputError(f"{unknown[0]} is not a column of this run; name it in columns=(...) "
                                "when creating the monitor")
        row["step"] = step
        if self.due(step):
            t = time.perf_counter()
            self.last_lmn = self._lmn(step)
            row.update({f"lmn_{k}": v for k, v in self.last_lmn.items()})
            row[LMN_TIME_COLUMN] = time.perf_counter() - t
            self._measured = step
        if row.get("l2") is None and self.l2_of is not None:
            row["l2"] = _param_l2(self.l2_of)
        row.setdefault("time_s", time.perf_counter() - self._start)
        self._history.append(row)
        self._last_step = step
        return self._history.rows[-1]

    def _lmn(self, step):
        try:
            return _measure(self.specs, self.X, self.n_lambda)
        except NotFiniteError as e:                          # a diverged network: the row says "not measured"
            warnings.warn(f"LMN not measured at step {step}: {e}", RuntimeWarning, stacklevel=3)
            return dict.fromkeys(self.specs)

    # -- the end
    def close(self):
        """history.json written, the files closed, the folder released; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        try:
            if self._history is None:
                self._open(())
            self._history.close()
        finally:
            self._folder.release()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def _describe(model):
    """What config.json's "model" says when you do not: the model's class name(s)."""
    # one string, as every run folder's "model" is (rundir checks it): "x: Sequential, h1: Sequential"
    if isinstance(model, dict):
        return ", ".join(f"{k}: {_describe(v[1] if isinstance(v, tuple) else v)}" for k, v in model.items())
    return getattr(model, "__name__", type(model).__name__)
