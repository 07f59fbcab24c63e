"""A run's folder and its files, written as rows arrive and read back by everything else.

    <run folder>/config.json        the settings (round-trips to RunConfig) and the device used
                 history.jsonl      one JSON row per evaluation, appended as it is measured
                 history.csv        the same rows as CSV, appended
                 history.json       all rows as one JSON list, written when the run stops
                 params.npz         the final params
                 snapshots/         params at chosen steps, step{STEP:06d}.npz

Appending keeps the cost of a row constant however long the run; a row is written with a
single ``write`` on a file opened for appending, so a killed run leaves whole rows (a write cut
short by a full disk is truncated away). A folder is locked while a run writes to it, and a
folder that already holds a run is not written into unless asked to overwrite it.
"""
import csv
import io
import json
import math
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from .errors import LMNInputError

BASE_COLUMNS = ("step", "train_loss", "train_acc", "test_loss", "test_acc", "l2", "time_s")
RUN_FILES = ("config.json", "history.jsonl", "history.csv", "history.json", "params.npz")
RUN_FOLDERS = ("snapshots", "figures")

# The committed full-length runs of the paper's protocol (docs/reproduction.md), beside the package.
PAPER_RESULTS = Path(__file__).resolve().parents[1] / "results" / "paper"

try:                                    # POSIX: lock a run folder while a run writes to it
    import fcntl
except ImportError:                     # pragma: no cover - Windows: no lock, the overwrite rule still holds
    fcntl = None


def write_atomic(path, data):
    """Write text or bytes to ``path`` via a temporary file and a rename: readers never see half a file."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(tmp, 0o644)                      # mkstemp makes 0600; a run's files are for everyone to read
        with os.fdopen(fd, "wb") as fh:
            fh.write(data.encode() if isinstance(data, str) else data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def save_params(path, params):
    """Params (dict of arrays) to an .npz file, atomically."""
    buf = io.BytesIO()
    np.savez(buf, **params)
    write_atomic(path, buf.getvalue())


def load_params(path):
    with np.load(path) as z:
        return {k: z[k] for k in z.files}


def _clean(value):
    """JSON has no NaN: store non-finite floats as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _csv_line(row, columns):
    """One CSV line of ``row`` (a dict) in ``columns`` order; None is an empty cell."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow("" if row[c] is None else row[c] for c in columns)
    return buf.getvalue()


class _AppendFile:
    """A file that grows by whole records: each record is one write on an O_APPEND descriptor."""

    def __init__(self, path):
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_TRUNC, 0o644)

    def write(self, text):
        data = text.encode()
        size = os.lseek(self.fd, 0, os.SEEK_END)
        try:
            if os.write(self.fd, data) != len(data):
                raise OSError(28, "short write (disk full?)")
        except OSError:
            os.ftruncate(self.fd, size)           # never leave half a record
            raise

    def close(self):
        os.close(self.fd)


class RunFolder:
    """Claim a run folder: lock it, refuse one that holds a run unless ``overwrite``."""

    def __init__(self, path, overwrite=False):
        self.path = Path(path)
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            self._lock = open(self.path / ".lock", "w")
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
    """Rows of measurements (one per evaluation), appended to the run folder as they arrive."""

    def __init__(self, run_dir, config_dict, columns):
        self.run_dir = Path(run_dir)
        self.columns = list(BASE_COLUMNS) + [c for c in columns if c not in BASE_COLUMNS]
        self.rows = []
        self.final_params = None
        write_atomic(self.run_dir / "config.json", json.dumps(config_dict, indent=2) + "\n")
        self._jsonl = _AppendFile(self.run_dir / "history.jsonl")
        self._csv = _AppendFile(self.run_dir / "history.csv")
        self._csv.write(",".join(self.columns) + "\n")

    def append(self, row):
        row = {c: _clean(row.get(c)) for c in self.columns}
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
        write_atomic(self.run_dir / "history.json", json.dumps(self.rows, indent=1) + "\n")


def _read_rows(folder):
    jsonl = folder / "history.jsonl"
    if jsonl.exists():
        lines = jsonl.read_text().split("\n")
        # a run killed mid-row can only leave a last line without its newline: skip it
        return [json.loads(line) for line in lines[:-1] if line.strip()]
    return json.loads((folder / "history.json").read_text())


def load_run(path):
    """(config dict, rows) of a run folder; also reads a legacy ``{"config", "rows"}`` JSON file.

    Raises LMNInputError naming the path when it holds no readable run.
    """
    path = Path(path)
    try:
        if path.is_dir():
            config = json.loads((path / "config.json").read_text())
            rows = _read_rows(path) if isinstance(config, dict) else None
        else:
            data = json.loads(path.read_text())
            config, rows = ({}, data) if isinstance(data, list) else (data.get("config"), data.get("rows"))
    except FileNotFoundError as e:
        raise LMNInputError(f"run {path}: {Path(e.filename).name} is missing") from None
    except (OSError, ValueError, AttributeError) as e:
        raise LMNInputError(f"run {path}: not a readable run ({type(e).__name__}: {e})") from None
    if not isinstance(config, dict) or not isinstance(rows, list) or not all(
            isinstance(r, dict) and isinstance(r.get("step"), int) for r in rows):
        raise LMNInputError(f"run {path}: malformed (config must be an object, rows a list of rows with a step)")
    return config, rows


def load_history(path):
    """The rows of a run folder (see load_run)."""
    return load_run(path)[1]


def rewrite_rows(folder, rows):
    """Replace the rows of a finished run (history.jsonl, .csv, .json), each file atomically.

    For values measured after the run (LMN filled in from its snapshots): the run's columns
    keep their order, new ones (a layer measured afterwards) follow them.
    """
    folder = Path(folder)
    header = (folder / "history.csv").read_text().split("\n", 1)[0].split(",")
    header += list(dict.fromkeys(k for r in rows for k in r if k not in header))
    rows = [{c: _clean(r.get(c)) for c in header} for r in rows]
    csv_text = ",".join(header) + "\n" + "".join(_csv_line(r, header) for r in rows)
    write_atomic(folder / "history.jsonl", "".join(json.dumps(r) + "\n" for r in rows))
    write_atomic(folder / "history.csv", csv_text)
    write_atomic(folder / "history.json", json.dumps(rows, indent=1) + "\n")
