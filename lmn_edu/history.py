"""A run's files: config.json, history.json and history.csv, written atomically as rows arrive."""
import csv
import io
import json
import math
import os
import tempfile
from pathlib import Path

BASE_COLUMNS = ("step", "train_loss", "train_acc", "test_loss", "test_acc", "l2", "time_s")


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


def _clean(value):
    """JSON has no NaN: store non-finite floats as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


class History:
    """Rows of measurements (one per evaluation), saved to ``run_dir`` after each append."""

    def __init__(self, run_dir, config_dict, lmn_columns=()):
        self.run_dir = Path(run_dir)
        self.columns = list(BASE_COLUMNS) + list(lmn_columns)
        self.rows = []
        self.run_dir.mkdir(parents=True, exist_ok=True)
        write_atomic(self.run_dir / "config.json", json.dumps(config_dict, indent=2) + "\n")

    def append(self, row):
        self.rows.append({c: _clean(row.get(c)) for c in self.columns})
        self.save()

    def save(self):
        write_atomic(self.run_dir / "history.json", json.dumps(self.rows, indent=1) + "\n")
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=self.columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: ("" if v is None else v) for k, v in r.items()} for r in self.rows)
        write_atomic(self.run_dir / "history.csv", buf.getvalue())


def load_history(path):
    """Rows from a run folder or a history .json file."""
    path = Path(path)
    if path.is_dir():
        path = path / "history.json"
    return json.loads(path.read_text())


def column(rows, name):
    """(steps, values) of the rows where ``name`` was measured."""
    pairs = [(r["step"], r[name]) for r in rows if r.get(name) is not None]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def phase_steps(rows):
    """The paper's phase boundaries: first step with train accuracy 1 (memorized) and
    first step with test accuracy 1 (generalized); None where not reached."""
    def first(key):
        return next((r["step"] for r in rows if r.get(key) is not None and r[key] >= 1.0), None)
    return first("train_acc"), first("test_acc")
