"""The one exception users see: a ValueError that names the bad value and what is allowed."""


class LMNInputError(ValueError):
    """Raised for any invalid value given to the public API or the CLI."""


def check_choice(name, value, allowed):
    """Return ``value`` if it is one of ``allowed``, else raise LMNInputError naming both."""
    if value not in allowed:
        choices = ", ".join(repr(a) for a in allowed)
        raise LMNInputError(f"{name}={value!r} is not allowed; choose one of {choices}")
    return value


def check_int(name, value, minimum, maximum=None):
    """Return ``value`` as int if it is an integer in [minimum, maximum], else raise."""
    if isinstance(value, bool) or not float(value).is_integer():
        raise LMNInputError(f"{name}={value!r} must be an integer")
    value = int(value)
    if value < minimum or (maximum is not None and value > maximum):
        upper = "" if maximum is None else f" and at most {maximum}"
        raise LMNInputError(f"{name}={value} must be at least {minimum}{upper}")
    return value


class NotFiniteError(LMNInputError):
    """A value that must be finite is NaN or inf: L, or a function's outputs along a line.

    The training loop reads it as divergence when it comes from the network being trained.
    """
