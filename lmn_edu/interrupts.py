"""Ctrl-C, SIGTERM and SIGHUP stop a command the same way, at any moment.

A job scheduler sends SIGTERM, a closed terminal SIGHUP, Ctrl-C SIGINT. Each becomes the
exception ``Interrupted`` (a KeyboardInterrupt), so that a run stops as it does on Ctrl-C. The
training loop defers it to the start of its next step (``checkpoint``): the row under way is
finished and written, history.json is written, and the command prints one line naming the run
folder. A second signal while the first waits stops at once (a long LMN measurement). The
exit status is 128 + the signal's number: 130 (SIGINT), 143 (SIGTERM), 129 (SIGHUP).

Before a command has started writing anything (its imports, its argument checks), a signal
ends it at once with one line and that status (``os._exit``: an exception raised inside an import
may come out as an ImportError). A signal once the stop is under way is ignored, so that the stop
can finish writing. An exception of another kind that a signal caused
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


# received: the first signal's number; raised: its Interrupted has been raised (or the command ended)
_state = {"mode": "start", "received": None, "raised": False, "deferred": 0}


def _signum(exc):
    return getattr(exc, "signum", None) or _state["received"] or signal.SIGINT


def exit_status(exc=None):
    """The exit status of a stop: 128 + its signal (Ctrl-C's 130 for a plain KeyboardInterrupt)."""
    return 128 + _signum(exc)


def describe(exc=None):
    """``interrupted`` or ``interrupted by SIGTERM``: how a stop is announced."""
    signum = _signum(exc)
    return "interrupted" if signum == signal.SIGINT else f"interrupted by {signal.Signals(signum).name}"


def signalled():
    """Has this process received one of SIGNALS (so that whatever went wrong since is its stop)?"""
    return _state["received"] is not None


def _raise():
    _state["raised"] = True
    raise Interrupted(_state["received"])


def _handler(signum, frame):
    if _state["mode"] == "start":                 # nothing written yet: end now, quietly
        _state["received"] = signum
        sys.stderr.write(f"\n{describe()}; nothing was run\n")
        sys.stderr.flush()
        os._exit(128 + signum)
    if _state["raised"]:                          # already stopping: let it finish
        return
    if _state["deferred"] and _state["received"] is None:
        _state["received"] = signum               # stop at the next checkpoint (a second signal: now)
        return
    _state["received"] = _state["received"] or signum
    _raise()


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


def checkpoint():
    """Where a deferred stop happens: raise Interrupted if a signal came and has not been raised."""
    if _state["received"] is not None and not _state["raised"] and _state["mode"] == "run":
        _raise()


def defer():
    """From now on a signal waits for a checkpoint(); undefer() ends it (nestable)."""
    _state["deferred"] += 1


def undefer():
    _state["deferred"] -= 1
    if not _state["deferred"]:
        checkpoint()


@contextmanager
def deferred():
    """A signal that arrives inside waits until the block is done (a row is written whole)."""
    defer()
    try:
        yield
    finally:
        undefer()
