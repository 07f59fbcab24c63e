"""Whole files: written atomically (a temporary file and a rename, so a reader never sees half a
file), read whole (one line naming the file when it is missing, not UTF-8, not JSON, or not a
readable archive). An OSError raised while writing names the file (a full disk names none).
"""
import io
import json
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from .errors import LMNInputError


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
