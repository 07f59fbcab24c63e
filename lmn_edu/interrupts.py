"""Ctrl-C, SIGTERM and SIGHUP stop a command the same way, at any moment.

A job scheduler sends SIGTERM, a closed terminal SIGHUP, Ctrl-C SIGINT. Each becomes the
exception ``Interrupted`` (a KeyboardInterrupt), so that a run stops as it does on Ctrl-C: rows
already written stay whole (a row being written is finished first: ``deferred``), history.json is
written, and the command prints one line naming the run folder. The exit status is 128 + the
signal's number: 130 (SIGINT), 143 (SIGTERM), 129 (SIGHUP).

Before a command has started writing anything (its imports, its argument checks), a signal
ends it at once with one line and that status (``os._exit``: an exception raised inside an import
may come out as an ImportError). A second signal while the first one's stop is under way is
ignored, so that the stop can finish writing. An exception of another kind that a signal caused
(raised from C code, e.g. an import under way) is reported as the interruption (``signalled``).
"""
import os
import signal
import sys
from contextlib import contextmanager

SIGNALS = tuple(s for s in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, s))


class Interrupted(KeyboardInterrupt):
    """A stop asked for by a signal; ``exit_status`` is 128 + its number."""

    def __init__(self, signum):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum
        self.exit_status = 128 + signum


_state = {"mode": "start", "stopping": None, "deferred": 0, "pending": None}


def _signum(exc):
    return getattr(exc, "signum", None) or _state["stopping"] or signal.SIGINT


def exit_status(exc=None):
    """The exit status of a stop: 128 + its signal (Ctrl-C's 130 for a plain KeyboardInterrupt)."""
    return 128 + _signum(exc)


def describe(exc=None):
    """``interrupted`` or ``interrupted by SIGTERM``: how a stop is announced."""
    signum = _signum(exc)
    return "interrupted" if signum == signal.SIGINT else f"interrupted by {signal.Signals(signum).name}"


def signalled():
    """Has this process received one of SIGNALS (so that whatever went wrong since is its stop)?"""
    return _state["stopping"] is not None


def _handler(signum, frame):
    if _state["stopping"] is not None:            # already stopping: let it finish
        return
    _state["stopping"] = signum
    if _state["mode"] == "start":                 # nothing written yet: end now, quietly
        sys.stderr.write(f"\n{describe()}; nothing was run\n")
        sys.stderr.flush()
        os._exit(128 + signum)
    if _state["deferred"]:
        _state["pending"] = signum
        return
    raise Interrupted(signum)


def install():
    """Catch SIGINT, SIGTERM and SIGHUP for the rest of this process (commands only: call it first).

    A signal the process was started with ignored stays ignored (``nohup`` ignores SIGHUP, a
    shell's background job SIGINT), as Python itself does for SIGINT.
    """
    for name in SIGNALS:
        signum = getattr(signal, name)
        if signal.getsignal(signum) is not signal.SIG_IGN:
            signal.signal(signum, _handler)


def running():
    """From now on a signal raises Interrupted where the command is (it has things to close)."""
    _state["mode"] = "run"


@contextmanager
def deferred():
    """A signal that arrives inside waits until the block is done (a row is written whole)."""
    _state["deferred"] += 1
    try:
        yield
    finally:
        _state["deferred"] -= 1
        pending = _state["pending"]
        if not _state["deferred"] and pending is not None:
            _state["pending"] = None
            raise Interrupted(pending)
