"""The run folder: every file of it is written here and checked here when it is read back.

    <run folder>/config.json        the settings (round-trip to RunConfig), the device used, and the
                                    notes added after the run (add_notes: the only later edit)
                 history.jsonl      one JSON row per evaluation, appended as it is measured
                 history.csv        the same rows as CSV, appended
                 history.json       all rows as one JSON list, written whenever the run stops
                 params.npz         the final params
                 snapshots/         params at chosen steps, step{STEP:06d}.npz (snapshot_path)
                 figures/           PNG figures (write_figure)
                 finished.json      written last, only when the run reached its end: its step and why
                 .lock              held while a run writes into the folder

Appending keeps the cost of a row constant however long the run; a row is written with a
single ``write`` on a file opened for appending, so a killed run leaves whole rows (a write cut
short by a full disk is truncated away). Every other file is written whole, via a temporary file
and a rename. A folder is locked while a run writes to it, and a folder that already holds a run
is not written into unless asked to overwrite it.

Reading checks everything it returns: whole JSON files, the type of every known config value and
of every row field, readable archives of floating-point arrays. A malformed folder raises
LMNInputError in one line that names the file and the field. A folder that is only read is never
written into.
"""
import csv
import errno
import io
import json
import math
import numbers
import os
import shutil
import tempfile
import zipfile
from dataclasses import fields
from pathlib import Path

import numpy as np

from .errors import LMNInputError, show
from .interrupts import deferred

CONFIG, ROWS, ROWS_CSV, ROWS_JSON = "config.json", "history.jsonl", "history.csv", "history.json"
PARAMS, SNAPSHOTS, FIGURES, FINISHED, LOCK = "params.npz", "snapshots", "figures", "finished.json", ".lock"
BASE_COLUMNS = ("step", "train_loss", "train_acc", "test_loss", "test_acc", "l2", "time_s")
RUN_FILES = (CONFIG, ROWS, ROWS_CSV, ROWS_JSON, PARAMS, FINISHED)
RUN_FOLDERS = (SNAPSHOTS, FIGURES)
# config.json of a run written with the finished marker says so; older folders have no marker.
SCHEMA = 2

# The project's checkout: the folder above the package, when it holds the committed runs.
CHECKOUT = Path(__file__).resolve().parents[1]
PAPER_RESULTS = CHECKOUT / "results" / "paper"

try:                                    # POSIX: lock a run folder while a run writes to it
    import fcntl
except ImportError:                     # pragma: no cover - Windows: no lock, the overwrite rule still holds
    fcntl = None


def in_checkout(relative, what):
    """``CHECKOUT / relative`` if it exists, else LMNInputError: ``what`` needs the project's checkout."""
    path = CHECKOUT / relative
    if not path.exists():
        raise LMNInputError(f"{what} needs the project's checkout ({relative}/ beside the lmn_edu package); "
                            f"this lmn_edu is installed without it at {CHECKOUT}: run it from a clone "
                            "of the repository")
    return path


def snapshot_path(folder, step):
    """The snapshot of ``step`` in a run folder."""
    return Path(folder) / SNAPSHOTS / f"step{int(step):06d}.npz"


def snapshot_steps(folder):
    """The steps of the snapshots a run folder holds, sorted."""
    snaps = Path(folder) / SNAPSHOTS
    names = snaps.glob("step*.npz") if snaps.is_dir() else []
    return sorted(int(p.stem[4:]) for p in names if p.stem[4:].isdigit())


# --- writing -----------------------------------------------------------------------------

def _named(e, path):
    """An OSError that names ``path`` (a full disk raised from a write names no file)."""
    if isinstance(e, OSError) and not e.filename:
        return OSError(e.errno, e.strerror or str(e), str(path))
    return e


def write_atomic(path, data):
    """Write text or bytes to ``path`` via a temporary file and a rename: readers never see half a file."""
    path = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as e:
        raise _named(e, path) from None
    try:
        os.chmod(tmp, 0o644)                      # mkstemp makes 0600; a run's files are for everyone to read
        with os.fdopen(fd, "wb") as fh:
            fh.write(data.encode() if isinstance(data, str) else data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as e:
        if os.path.exists(tmp):
            os.unlink(tmp)
        if isinstance(e, OSError):
            raise _named(e, path) from None
        raise


def write_figure(fig, path, dpi=100):
    """A matplotlib figure to ``path`` (its format from the suffix), atomically like every other file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    fig.savefig(buf, format=path.suffix.lstrip(".") or "png", dpi=dpi)
    write_atomic(path, buf.getvalue())


def save_params(path, params, compressed=False):
    """Params (dict of arrays) to an .npz file, atomically."""
    buf = io.BytesIO()
    (np.savez_compressed if compressed else np.savez)(buf, **params)
    write_atomic(path, buf.getvalue())


def _number(name, value, where):
    """A row value as JSON stores it: a Python int or float (non-finite: None), or None."""
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise LMNInputError(f"{where}: {json.dumps(name)} is {show(value)}; it must be a number or null")
    if isinstance(value, numbers.Integral):
        return int(value)
    value = float(value)
    return value if math.isfinite(value) else None          # JSON has no NaN: stored as null


def _csv_line(row, columns):
    """One CSV line of ``row`` (a dict) in ``columns`` order; None is an empty cell."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow("" if row[c] is None else row[c] for c in columns)
    return buf.getvalue()


class _AppendFile:
    """A file that grows by whole records: each record is one write on an O_APPEND descriptor."""

    def __init__(self, path):
        self.path = Path(path)
        try:
            self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_TRUNC, 0o644)
        except OSError as e:
            raise _named(e, path) from None

    def write(self, text):
        data = text.encode()
        size = os.lseek(self.fd, 0, os.SEEK_END)
        try:
            if os.write(self.fd, data) != len(data):
                raise OSError(errno.ENOSPC, "short write (disk full?)")
        except OSError as e:
            os.ftruncate(self.fd, size)           # never leave half a record
            raise _named(e, self.path) from None

    def close(self):
        os.close(self.fd)


class RunFolder:
    """Claim a run folder: lock it, refuse one that holds a run unless ``overwrite``."""

    def __init__(self, path, overwrite=False):
        self.path = Path(path)
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            self._lock = open(self.path / LOCK, "w")
        except OSError as e:
            raise LMNInputError(f"out: cannot write to the run folder {self.path} ({e.strerror})") from None
        if fcntl is not None:
            try:
                fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                self._lock.close()
                raise LMNInputError(f"out: another run is writing to {self.path}; wait for it "
                                    "or choose another --out") from None
        held = [name for name in RUN_FILES + RUN_FOLDERS if (self.path / name).exists()]
        if held and not overwrite:
            self.release()
            raise LMNInputError(f"out: {self.path} already holds a run ({', '.join(held)}); "
                                "use --overwrite to replace it, or choose another --out")
        for name in held:                           # overwrite: nothing of the old run stays
            target = self.path / name
            shutil.rmtree(target) if target.is_dir() else target.unlink()

    def release(self):
        if not self._lock.closed:
            self._lock.close()


class History:
    """Rows of measurements (one per evaluation), appended to the run folder as they arrive.

    ``config_dict``: what config.json holds (JSON values). ``columns``: the row fields after
    BASE_COLUMNS. ``finish()`` when the run reached its end, ``close()`` on any other stop.
    """

    def __init__(self, run_dir, config_dict, columns):
        self.run_dir = Path(run_dir)
        self.columns = list(BASE_COLUMNS) + list(dict.fromkeys(c for c in columns if c not in BASE_COLUMNS))
        self.rows = []
        self.final_params = None
        write_atomic(self.run_dir / CONFIG, _config_text({"schema": SCHEMA, **config_dict}))
        self._jsonl = _AppendFile(self.run_dir / ROWS)
        self._csv = _AppendFile(self.run_dir / ROWS_CSV)
        self._csv.write(",".join(self.columns) + "\n")

    def append(self, row):
        where = f"{self.run_dir}: row of step {row.get('step')!r}"
        row = {c: _number(c, row.get(c), where) for c in self.columns}
        step = row["step"]
        if not isinstance(step, int) or step < 0 or (self.rows and step <= self.rows[-1]["step"]):
            raise LMNInputError(f"{where}: the step must be an integer after the last row's")
        with deferred():                          # a signal waits until the row is in both files
            self.rows.append(row)
            self._jsonl.write(json.dumps(row) + "\n")
            self._csv.write(_csv_line(row, self.columns))

    def close(self):
        """history.json (all rows at once) and the files closed; safe to call twice."""
        if self._jsonl is None:
            return
        self._jsonl.close()
        self._csv.close()
        self._jsonl = self._csv = None
        write_atomic(self.run_dir / ROWS_JSON, json.dumps(self.rows, indent=1) + "\n")

    def finish(self, reason="last step"):
        """Close, then mark the run finished (finished.json): call only when it reached its end."""
        self.close()
        step = self.rows[-1]["step"] if self.rows else None
        write_atomic(self.run_dir / FINISHED, json.dumps({"step": step, "reason": reason}) + "\n")


def _config_text(config):
    return json.dumps(config, indent=2) + "\n"


def add_notes(folder, **notes):
    """Record what was done to a run after it ended, in its config.json: the one later edit.

    Each note is checked against NOTES. A dict note is merged into the one already there
    (``steps`` lists are united); any other value replaces it.
    """
    folder = Path(folder)
    saved = load_config(folder)
    for key, value in notes.items():
        if key not in NOTES:
            raise LMNInputError(f"note {key!r} is not one of {', '.join(NOTES)}")
        old = saved.get(key)
        if isinstance(value, dict) and isinstance(old, dict):
            steps = sorted(set(old.get("steps", [])) | set(value.get("steps", [])))
            value = {**old, **value, **({"steps": steps} if "steps" in value or "steps" in old else {})}
        saved[key] = value
    _check_config(saved, folder / CONFIG)
    write_atomic(folder / CONFIG, _config_text(saved))


def rewrite_rows(folder, rows):
    """Replace the rows of a finished run (history.jsonl, .csv, .json), each file atomically.

    For values measured after the run (LMN filled in from its snapshots): the run's columns
    keep their order, new ones (a layer measured afterwards) follow them.
    """
    folder = Path(folder)
    header = read_text(folder / ROWS_CSV).split("\n", 1)[0].split(",")
    header += list(dict.fromkeys(k for r in rows for k in r if k not in header))
    rows = [{c: _number(c, r.get(c), f"{folder}: row of step {r.get('step')!r}") for c in header} for r in rows]
    _check_rows(rows, folder / ROWS)
    csv_text = ",".join(header) + "\n" + "".join(_csv_line(r, header) for r in rows)
    write_atomic(folder / ROWS, "".join(json.dumps(r) + "\n" for r in rows))
    write_atomic(folder / ROWS_CSV, csv_text)
    write_atomic(folder / ROWS_JSON, json.dumps(rows, indent=1) + "\n")


# --- reading -----------------------------------------------------------------------------

def read_text(path):
    """A whole UTF-8 text file; LMNInputError naming it when missing, unreadable or not UTF-8."""
    path = Path(path)
    try:
        return path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise LMNInputError(f"{path} is missing") from None
    except UnicodeDecodeError as e:
        raise LMNInputError(f"{path}: not UTF-8 text (byte {e.start} is {e.object[e.start]:#04x})") from None
    except OSError as e:
        raise LMNInputError(f"{path}: cannot be read ({e.strerror or e})") from None


def read_json(path):
    """A whole JSON file; LMNInputError naming it (and the line) when it is not one."""
    path = Path(path)
    text = read_text(path)
    try:
        return json.loads(text)
    except ValueError as e:
        raise LMNInputError(f"{path}: not whole JSON ({e})") from None


def read_npz(path):
    """All arrays of an .npz archive, read now; LMNInputError naming it when truncated or not one."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except FileNotFoundError:
        raise LMNInputError(f"{path} is missing") from None
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, AttributeError) as e:
        raise LMNInputError(f"{path}: not a readable .npz archive ({type(e).__name__}: {e})") from None


def load_params(path):
    """Params saved by save_params: a dict of floating-point arrays (checked)."""
    params = read_npz(path)
    for k, v in params.items():
        if v.dtype.kind != "f":
            raise LMNInputError(f"{path}: array {k!r} holds {v.dtype}, not floating-point params")
    if not params:
        raise LMNInputError(f"{path}: holds no arrays")
    return params


# The type of every config value a run folder may hold; keys not listed are kept unchecked
# (a researcher's own loop writes its own settings). RunConfig's fields are added from it.
_STR, _INT, _REAL, _BOOL = "a string", "an integer", "a number", "true or false"
NOTES = {
    "lmn_layers": "a list of strings",          # deferred runs: the layers to measure afterwards
    "lmn_deferred": _BOOL,
    "lmn_schedule": _STR,
    "lmn_filled": "an object {grid_every, steps, from, max_deviation_of_retrained_rows}",
}
_EXTRA = {"schema": _INT, "device_used": _STR, **NOTES}


def _config_types():
    from .config import RunConfig
    kinds = {str: _STR, int: _INT, float: _REAL, bool: _BOOL, tuple: "a list"}
    types = {f.name: kinds.get(type(f.default), "") for f in fields(RunConfig)}
    types.update(lmn_layers="a list of strings", snapshot_steps="a list of integers or \"lmn\"")
    return {**types, **_EXTRA}


def _int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _real(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _filled_ok(v):
    return (isinstance(v, dict) and _int(v.get("grid_every", 0)) and isinstance(v.get("from", ""), str)
            and isinstance(v.get("steps", []), list) and all(_int(s) for s in v.get("steps", []))
            and (v.get("max_deviation_of_retrained_rows") is None or _real(v["max_deviation_of_retrained_rows"])))


_TYPE_OK = {
    _STR: lambda v: isinstance(v, str), _INT: _int, _REAL: _real, _BOOL: lambda v: isinstance(v, bool),
    "a list": lambda v: isinstance(v, list),
    "a list of strings": lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
    "a list of integers or \"lmn\"": lambda v: v == "lmn" or (isinstance(v, list) and all(_int(x) for x in v)),
    NOTES["lmn_filled"]: _filled_ok,
}


def _check_config(config, path):
    if not isinstance(config, dict):
        raise LMNInputError(f"{path}: must be a JSON object, got {show(config)}")
    for key, wanted in _config_types().items():
        if key in config and wanted and not _TYPE_OK[wanted](config[key]):
            raise LMNInputError(f"{path}: {json.dumps(key)}: {show(config[key])} must be {wanted}")
    return config


def load_config(folder):
    """config.json of a run folder, every known value of the right type."""
    path = Path(folder) / CONFIG
    return _check_config(read_json(path), path)


def _check_rows(rows, path):
    last = -1
    for k, row in enumerate(rows, 1):
        where = f"{path}: row {k}"
        if not isinstance(row, dict):
            raise LMNInputError(f"{where}: must be a JSON object, got {show(row)}")
        step = row.get("step")
        if not _int(step) or step <= last:
            raise LMNInputError(f"{where}: \"step\": {show(step)} must be an integer after the last row's ({last})")
        for key, value in row.items():
            if value is not None and not _real(value):
                raise LMNInputError(f"{where} (step {step}): {json.dumps(key)}: {show(value)} must be a number or null")
        last = step
    return rows


def load_rows(folder):
    """The rows of a run folder: history.jsonl (a last line cut short by a kill is skipped), else history.json."""
    folder = Path(folder)
    jsonl = folder / ROWS
    if jsonl.exists():
        lines = read_text(jsonl).split("\n")
        rows = []
        for k, line in enumerate(lines[:-1], 1):     # the text after the last newline is a row cut short
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except ValueError as e:
                    raise LMNInputError(f"{jsonl}: line {k} is not a JSON row ({e})") from None
        return _check_rows(rows, jsonl)
    rows = read_json(folder / ROWS_JSON)
    if not isinstance(rows, list):
        raise LMNInputError(f"{folder / ROWS_JSON}: must be a JSON list of rows, got {show(rows)}")
    return _check_rows(rows, folder / ROWS_JSON)


def load_run(path):
    """(config dict, rows) of a run folder, both checked; also reads a legacy ``{"config", "rows"}`` JSON file.

    Raises LMNInputError naming the file (and the field) when it holds no readable run.
    """
    path = Path(path)
    if not path.exists():
        raise LMNInputError(f"run {path} is missing")
    if path.is_dir():
        if not (path / CONFIG).exists():
            raise LMNInputError(f"run {path}: {CONFIG} is missing")
        config = load_config(path)
        if not ((path / ROWS).exists() or (path / ROWS_JSON).exists()):
            raise LMNInputError(f"run {path}: {ROWS} and {ROWS_JSON} are missing (no history)")
        return config, load_rows(path)
    data = read_json(path)
    config, rows = ({}, data) if isinstance(data, list) else (
        (data.get("config"), data.get("rows")) if isinstance(data, dict) else (None, None))
    if not isinstance(rows, list):
        raise LMNInputError(f"{path}: malformed (a run folder, or a JSON object with config and rows)")
    return _check_config(config, path), _check_rows(rows, path)


def finished(folder):
    """How a run ended, if it reached its end: {"step", "reason"}; None for a run that was stopped.

    Read from finished.json. A folder written before the marker existed (no ``schema`` in its
    config) counts as finished when its last row is its last step. None for a folder without a run.
    """
    folder = Path(folder)
    if not (folder / CONFIG).exists():
        return None
    marker = folder / FINISHED
    if marker.exists():
        done = read_json(marker)
        if not (isinstance(done, dict) and isinstance(done.get("reason"), str)
                and (done.get("step") is None or _int(done.get("step")))):
            raise LMNInputError(f"{marker}: must be an object with \"step\" and \"reason\"")
        return done
    config, rows = load_run(folder)
    if "schema" not in config and rows and rows[-1]["step"] == config.get("steps"):
        return {"step": rows[-1]["step"], "reason": "last step"}
    return None
