"""The one exception users see, and the checks that raise it.

Every public function checks its arguments once per call with these helpers, so that misuse
gives one line that names the argument and says what is allowed, never a NumPy or autograd
error from deep inside the computation (and never a silently wrong result).
"""
import argparse
import math
import numbers
import reprlib
from collections.abc import Hashable, Mapping

import numpy as np


class LMNInputError(ValueError):
    """Raised for any invalid value given to the public API or the CLI."""


_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = 40


def show(value):
    """A short one-line description of ``value`` for an error message."""
    if isinstance(value, np.ndarray):
        return f"<array of shape {value.shape}, dtype {value.dtype}>"
    return " ".join(_REPR.repr(value).split())


def _is_bool(value):
    return isinstance(value, (bool, np.bool_))


def _not_a_number(value):
    """Bools, and NumPy's datetime64/timedelta64 (which NumPy registers as integers), are not numbers here."""
    return isinstance(value, (bool, np.bool_, np.datetime64, np.timedelta64))


def check_choice(name, value, allowed):
    """Return ``value`` if it is one of ``allowed``, else raise LMNInputError naming both."""
    if not (isinstance(value, Hashable) and not _is_bool(value) and value in allowed):
        choices = ", ".join(repr(a) for a in allowed)
        raise LMNInputError(f"{name}={show(value)} is not allowed; choose one of {choices}")
    return value


def check_int(name, value, minimum, maximum=None):
    """Return ``value`` as int if it is an integer in [minimum, maximum], else raise.

    Integer-valued floats (20000.0, as JSON may give) are accepted; bools and strings are not.
    """
    integral = isinstance(value, numbers.Integral) or (
        isinstance(value, numbers.Real) and math.isfinite(value) and float(value).is_integer())
    if _not_a_number(value) or not integral:
        raise LMNInputError(f"{name}={show(value)} must be an integer")
    value = int(value)
    if value < minimum or (maximum is not None and value > maximum):
        upper = "" if maximum is None else f" and at most {maximum}"
        raise LMNInputError(f"{name}={value} must be at least {minimum}{upper}")
    return value


_BOUNDS = (("gt", ">"), ("ge", ">="), ("lt", "<"), ("le", "<="))


def check_real(name, value, *, gt=None, ge=None, lt=None, le=None):
    """Return ``value`` as a float if it is a finite real number within the given bounds.

    Any real number type is accepted (int, float, NumPy scalars such as np.float32(0.5));
    bools, strings, complex numbers, None and arrays are not.
    """
    limits = dict(gt=gt, ge=ge, lt=lt, le=le)
    allowed = " and ".join(f"{op} {limits[key]}" for key, op in _BOUNDS if limits[key] is not None)
    wanted = f"a finite real number {allowed}".rstrip()
    if _not_a_number(value) or not isinstance(value, numbers.Real):
        raise LMNInputError(f"{name}={show(value)} must be {wanted}")
    value = float(value)
    if not (math.isfinite(value)
            and (gt is None or value > gt) and (ge is None or value >= ge)
            and (lt is None or value < lt) and (le is None or value <= le)):
        raise LMNInputError(f"{name}={value!r} must be {wanted}")
    return value


# NumPy dtype kinds: i signed int, u unsigned int, f float. Bools ("b"), complex ("c"),
# strings, objects, datetimes are not real numbers here.
_KINDS = {"real": "iuf", "float": "f", "int": "iu"}
_KIND_WORDS = {"real": "real numbers", "float": "floating-point numbers", "int": "integers"}


def check_array(name, value, *, kind="real", ndim=None, what="", finite=False):
    """Return ``value`` as a NumPy array of the given kind ("real", "float" or "int").

    ``ndim``: the number of dimensions required; ``what`` describes the expected shape in
    the message, e.g. "(N points, d_in)". ``finite``: reject NaN and inf.
    """
    words = _KIND_WORDS[kind]
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError, RuntimeError):            # ragged lists, odd objects, tensors that need grad
        raise LMNInputError(f"{name} must be an array of {words}, got {show(value)}") from None
    if np.ma.isMaskedArray(value) and np.ma.getmaskarray(value).any():    # np.asarray drops the mask
        raise LMNInputError(f"{name} has masked entries, which would be read as the values under the mask; "
                            "drop or fill them first")
    if arr.dtype.kind not in _KINDS[kind]:
        raise LMNInputError(f"{name} must hold {words}, got dtype {arr.dtype}")
    if ndim is not None and arr.ndim != ndim:
        shape = f" {what}" if what else ""
        raise LMNInputError(f"{name} must be a {ndim}-D array{shape}, got shape {arr.shape}")
    if finite and arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
        raise NotFiniteError(f"{name} must hold finite numbers (found NaN or inf)")
    return arr


def check_mapping(name, value, what="a dict of arrays"):
    """Return ``value`` if it is a mapping (a dict), else raise."""
    if not isinstance(value, Mapping):
        raise LMNInputError(f"{name} must be {what}, got {type(value).__name__}")
    return value


def check_rng(name, rng):
    """Return ``rng`` if it is a NumPy random generator: the RNG is always passed in."""
    if not isinstance(rng, (np.random.Generator, np.random.RandomState)):
        raise LMNInputError(f"{name} must be a NumPy random generator such as np.random.default_rng(seed), "
                            f"got {show(rng)}")
    return rng


class NotFiniteError(LMNInputError):
    """A value that must be finite is NaN or inf: L, a function's outputs along a line, points,
    or the weights LMN is measured on (check_array with finite=True).

    The training loop reads it as divergence when it comes from the network being trained.
    """


class ArgumentParser(argparse.ArgumentParser):
    """argparse for the commands: a usage mistake is one line ``error: …`` and exit status 2
    (no usage block)."""

    def error(self, message):
        # control characters of a bad value (a stray carriage return) are escaped: one line, always
        message = "".join(c if c.isprintable() else repr(c)[1:-1] for c in message)
        self.exit(2, f"error: {message} (see --help)\n")


class DefaultsHelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """--help with each option's default, except where its help already says the default or the
    default is None (the option then means "the model's own choice", which its help explains)."""

    def _get_help_string(self, action):
        text = action.help or ""
        if "default" in text or action.default is None:
            return text
        return super()._get_help_string(action)

