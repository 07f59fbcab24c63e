"""Signals in a command (interrupts.py), in this process: a signal waits for the training loop's
next step, a second one stops at once, the exit status is 128 + the signal's number. The
handlers are installed for each test and the previous ones put back."""
import json
import os
import signal

import pytest

import lmn_edu
from lmn_edu import interrupts
from lmn_edu.train import train


@pytest.fixture
def handlers(monkeypatch):
    monkeypatch.setattr(interrupts, "_state", {"mode": "run", "received": None, "raised": False, "deferred": 0})
    old = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGHUP)}
    for s in old:
        signal.signal(s, interrupts._handler)
    yield
    for s, h in old.items():
        signal.signal(s, h)


def test_a_signal_waits_for_the_checkpoint(handlers):
    interrupts.defer()
    os.kill(os.getpid(), signal.SIGTERM)                 # the handler runs here, and only notes it
    assert interrupts.signalled()
    with pytest.raises(interrupts.Interrupted) as info:
        interrupts.checkpoint()
    assert info.value.exit_status == 143 and interrupts.describe(info.value) == "interrupted by SIGTERM"
    os.kill(os.getpid(), signal.SIGHUP)                  # stopping already: ignored
    interrupts.undefer()


def test_a_second_signal_stops_at_once(handlers):
    with pytest.raises(interrupts.Interrupted) as info:
        with interrupts.deferred():
            os.kill(os.getpid(), signal.SIGHUP)
            os.kill(os.getpid(), signal.SIGTERM)
            raise AssertionError("not stopped by the second signal")
    assert info.value.exit_status == 129                  # the first signal's status


def test_the_row_under_way_is_finished(handlers, tmp_path):
    config = lmn_edu.RunConfig(task="s4", steps=40, eval_every=10, lmn_every=40, lmn_log=0, lmn_layers=("h1",),
                               out=str(tmp_path), hidden=8, emb_dim=4)

    def signal_during_row_20(row, backend):             # called while row 20 is being handled
        if row["step"] == 20:
            os.kill(os.getpid(), signal.SIGTERM)
    with pytest.raises(interrupts.Interrupted):
        train(config, callback=signal_during_row_20)
    rows = json.loads((tmp_path / "s4-numpy-s0" / "history.json").read_text())
    assert [r["step"] for r in rows] == [0, 10, 20]
    assert not (tmp_path / "s4-numpy-s0" / "finished.json").exists()
