"""The command line, driven through a subprocess as a user would: errors, divergence, Ctrl-C."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def cli(*args, env_extra=None, tmp_path=None, **kw):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg", **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "lmn_edu.run", *args], capture_output=True, text=True,
                          env=env, cwd=tmp_path or ROOT, timeout=600, **kw)


def default_sigint():
    # A shell without job control starts background jobs with SIGINT ignored, and children
    # inherit that: the runs these tests interrupt must get Ctrl-C's default handler back.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def started(args, tmp_path, env):
    return subprocess.Popen(args, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, preexec_fn=default_sigint)


def assert_one_line_error(result, *words):
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr
    for w in words:
        assert w in lines[0], (w, lines[0])


def test_help():
    r = cli("--help")
    assert r.returncode == 0
    for option in ["--task", "--backend", "--steps", "--seed", "--train-frac", "--lr", "--weight-decay",
                   "--eval-every", "--lmn-every", "--lmn-layers", "--lmn-points", "--lmn-output",
                   "--n-lambda", "--out", "--device", "--dtype", "--threads", "--overwrite", "--lmn-log",
                   "--snapshot-steps", "--loss-dtype", "--precision-diagnostics"]:
        assert option in r.stdout
    assert "(default: None)" not in r.stdout                # a None default is explained in its help


def test_summary_says_not_reached():
    from types import SimpleNamespace
    from lmn_edu.run import summary
    rows = [{"step": s, "train_acc": a, "test_acc": 0.1, "time_s": 2.0, "lmn_h1": 3.0} for s, a in ((0, 0.5), (10, 1.0))]
    line = summary(SimpleNamespace(run_dir="r"), SimpleNamespace(rows=rows))
    assert "train acc 1.0 at step 10" in line and "test acc 1.0 not reached" in line and "None" not in line


@pytest.mark.parametrize("args, words", [
    (["--task", "mul"], ["'mul'", "'add'"]),
    (["--backend", "jax"], ["'jax'", "'torch'"]),
    (["--lmn-layers", "h3"], ["'h3'", "'h1'"]),
    (["--lmn-points", "val"], ["'val'", "'train'"]),
    (["--lmn-output", "softmax"], ["'softmax'", "'probs'"]),
    (["--steps", "0"], ["steps", "at least 1"]),
    (["--steps", "many"], ["--steps", "many"]),
    (["--eval-every", "0"], ["eval_every"]),
    (["--lmn-every", "-3"], ["lmn_every"]),
    (["--train-frac", "1.5"], ["train_frac", "between 0 and 1"]),
    (["--train-frac", "0"], ["train_frac"]),
    (["--n-lambda", "1"], ["n_lambda", "at least 3"]),
    (["--n-lambda", "2"], ["n_lambda", "at least 3"]),
    (["--lr", "inf"], ["lr", "finite"]),
    (["--threads", "10000"], ["threads", "between 0 and"]),
    (["--lmn-log", "-1"], ["lmn_log"]),
    (["--snapshot-steps", "99999999"], ["snapshot_steps"]),
    (["--loss-dtype", "float16"], ["loss_dtype"]),
    (["--seed", "0", "0"], ["twice"]),
    (["--dtype", "float16"], ["'float16'", "'float64'"]),
    (["--device", "cuda"], ["cuda"]),
    (["--bogus"], ["--bogus"]),
    (["--threads", "-2"], ["threads", "between 0 and"]),
    # sizes, refused before anything is allocated
    (["--lmn-log", "1000000000"], ["lmn_log", "at most 10000"]),
    (["--n-lambda", "100000000"], ["n_lambda", "at most 10000"]),
    (["--steps", "1000000000000", "--lmn-every", "1"], ["steps", "at most 1000000000"]),
    (["--steps", "100000000", "--lmn-every", "1"], ["rows", "lmn_every"]),
    (["--steps", "100000000", "--eval-every", "1", "--lmn-layers"], ["rows", "eval_every"]),
    (["--steps", "1e3"], ["--steps", "1e3"]),
])
def test_bad_values_are_one_line_errors(args, words, tmp_path):
    assert_one_line_error(cli(*args, "--out", str(tmp_path), tmp_path=tmp_path), *words)


def test_an_empty_out_is_refused(tmp_path):
    assert_one_line_error(cli("--out", "", tmp_path=tmp_path), "out", "empty")
    assert list(tmp_path.iterdir()) == []


def test_a_layer_named_twice_is_measured_once(tmp_path):
    r = cli("--task", "s4", "--steps", "2", "--lmn-every", "2", "--lmn-layers", "h1", "emb", "h1", "--lmn-points",
            "test", "--no-progress", "--out", str(tmp_path), tmp_path=tmp_path)
    assert r.returncode == 0, r.stderr
    header = (tmp_path / "s4-numpy-s0" / "history.csv").read_text().splitlines()[0].split(",")
    assert [c for c in header if c.startswith("lmn_")] == ["lmn_h1", "lmn_emb"]
    assert json.loads((tmp_path / "s4-numpy-s0" / "config.json").read_text())["lmn_layers"] == ["h1", "emb"]


@pytest.mark.parametrize("module, args, words", [
    ("lmn_edu.reproduce", ["--bogus"], ["--bogus"]),
    ("lmn_edu.reproduce", ["--seeds", "x"], ["--seeds", "'x'"]),
    ("lmn_edu.reproduce.precision_study", ["--variants", "float16"], ["float16"]),
])
def test_usage_errors_of_every_command_are_one_line(tmp_path, module, args, words):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
    r = subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True, env=env,
                       cwd=tmp_path, timeout=300)
    assert_one_line_error(r, *words)
    assert "usage:" not in r.stderr


def test_output_path_that_cannot_be_created(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    assert_one_line_error(cli("--out", str(blocker / "runs"), tmp_path=tmp_path), "out", "cannot write")


def test_torch_not_installed(tmp_path):
    fake = tmp_path / "fake"
    (fake / "torch").mkdir(parents=True)
    (fake / "torch" / "__init__.py").write_text("raise ImportError('No module named torch')\n")
    r = cli("--backend", "torch", "--steps", "1", "--out", str(tmp_path), tmp_path=tmp_path,
            env_extra={"PYTHONPATH": f"{fake}{os.pathsep}{ROOT}"})
    assert_one_line_error(r, "torch", "not installed")


def test_cuda_absent(tmp_path):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("CUDA is present here")
    r = cli("--backend", "torch", "--device", "cuda", "--steps", "1", "--out", str(tmp_path), tmp_path=tmp_path)
    assert_one_line_error(r, "cuda")


def test_divergence_exit_1_and_history_kept(tmp_path):
    r = cli("--task", "s4", "--lr", "1e300", "--steps", "20", "--eval-every", "1", "--lmn-every", "100",
            "--out", str(tmp_path), "--no-progress", tmp_path=tmp_path)
    assert r.returncode == 1
    assert "diverged" in r.stderr and "Traceback" not in r.stderr and "Warning" not in r.stderr
    run_dir = tmp_path / "s4-numpy-s0"
    assert str(run_dir) in r.stderr
    assert json.loads((run_dir / "config.json").read_text())["lr"] == 1e300
    assert json.loads((run_dir / "history.json").read_text())[0]["step"] == 0


def test_ctrl_c_keeps_what_was_measured(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
    proc = started([sys.executable, "-m", "lmn_edu.run", "--task", "s4", "--steps", "100000",
                    "--eval-every", "5", "--lmn-every", "100000", "--out", str(tmp_path), "--no-progress"],
                   tmp_path, env)
    try:
        history = tmp_path / "s4-numpy-s0" / "history.jsonl"
        deadline = time.time() + 300
        while time.time() < deadline and not (history.exists() and len(history.read_text().splitlines()) >= 3):
            time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert "interrupted" in err and str(tmp_path / "s4-numpy-s0") in err and "Traceback" not in err
    rows = json.loads(history.with_suffix(".json").read_text())         # written when the run stops
    assert len(rows) >= 3 and rows[0]["step"] == 0


def _long_run(tmp_path, env, *extra):
    return started([sys.executable, "-m", "lmn_edu.run", "--task", "s4", "--steps", "100000", "--eval-every", "5",
                    "--lmn-every", "100000", "--out", str(tmp_path), "--no-progress", *extra], tmp_path, env)


def _wait_for_rows(history, n, deadline_s=300):
    deadline = time.time() + deadline_s
    while time.time() < deadline and not (history.exists() and len(history.read_text().splitlines()) >= n):
        time.sleep(0.2)


@pytest.mark.slow
@pytest.mark.parametrize("sig, code, word", [(signal.SIGTERM, 143, "SIGTERM"), (signal.SIGHUP, 129, "SIGHUP")])
def test_sigterm_and_sighup_stop_like_ctrl_c(tmp_path, sig, code, word):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
    proc = _long_run(tmp_path, env)
    try:
        history = tmp_path / "s4-numpy-s0" / "history.jsonl"
        _wait_for_rows(history, 3)
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == code, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and word in lines[0] and str(tmp_path / "s4-numpy-s0") in lines[0], err
    rows = json.loads(history.with_suffix(".json").read_text())
    assert len(rows) >= 3 and rows == [json.loads(line) for line in history.read_text().splitlines()]
    assert not (tmp_path / "s4-numpy-s0" / "finished.json").exists()      # stopped, not finished


def _handlers_installed(pid):
    """Has the process caught SIGTERM yet (its handlers are in place)? From /proc (Linux)."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            caught = next(int(line.split()[1], 16) for line in fh if line.startswith("SigCgt:"))
    except (OSError, StopIteration):
        return False
    return bool(caught >> (signal.SIGTERM - 1) & 1)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc (Linux)")
@pytest.mark.parametrize("delay", [0.0, 0.05, 0.2, 0.6])
def test_ctrl_c_during_start_up(tmp_path, delay):
    # from the moment the handlers are in place (before NumPy is imported), at several moments
    # of the imports and the start of the run: exit 130 and one line, whatever was under way
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
    proc = _long_run(tmp_path, env)
    try:
        deadline = time.time() + 120
        while time.time() < deadline and proc.poll() is None and not _handlers_installed(proc.pid):
            time.sleep(0.001)
        time.sleep(delay)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    lines = err.strip().splitlines()
    assert proc.returncode == 130 and len(lines) == 1 and lines[0].startswith("interrupted"), err


def test_run_writes_files_and_summary(tmp_path):
    r = cli("--task", "s4", "xor", "--seed", "0", "1", "--steps", "10", "--eval-every", "5", "--lmn-every", "10",
            "--lmn-points", "test",
            "--out", str(tmp_path), "--no-progress", tmp_path=tmp_path)
    assert r.returncode == 0, r.stderr
    for name in ["s4-numpy-s0", "s4-numpy-s1", "xor-numpy-s0", "xor-numpy-s1"]:
        run_dir = tmp_path / name
        for f in ["config.json", "history.json", "history.csv", "params.npz", "figures/fig2.png"]:
            assert (run_dir / f).is_file(), (name, f)
        assert str(run_dir) in r.stdout


def test_divergence_at_an_lmn_step_exit_1(tmp_path):
    r = cli("--lr", "1e6", "--steps", "30", "--eval-every", "1", "--lmn-every", "1", "--lmn-points", "test",
            "--no-progress", "--out", str(tmp_path), tmp_path=tmp_path)
    assert r.returncode == 1, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "training diverged" in lines[0] and str(tmp_path / "add-numpy-s0") in lines[0]
    rows = json.loads((tmp_path / "add-numpy-s0" / "history.json").read_text())
    assert rows[-1]["lmn_h1"] is None                            # the diverged row is saved


def test_torch_overflowing_update_is_divergence(tmp_path):
    pytest.importorskip("torch")
    r = cli("--backend", "torch", "--device", "cpu", "--lr", "1e300", "--steps", "5", "--lmn-layers",
            "--no-progress", "--out", str(tmp_path), tmp_path=tmp_path)
    assert r.returncode == 1 and "Traceback" not in r.stderr and "diverged" in r.stderr, r.stderr


def test_rerun_into_a_run_folder_is_refused_then_overwritten(tmp_path):
    args = ["--task", "s4", "--steps", "4", "--eval-every", "2", "--lmn-every", "4", "--lmn-log", "0",
            "--lmn-points", "test", "--no-progress", "--out", str(tmp_path)]
    assert cli(*args, tmp_path=tmp_path).returncode == 0
    before = (tmp_path / "s4-numpy-s0" / "history.json").read_text()
    r = cli(*args[:3], "6", *args[4:], tmp_path=tmp_path)
    assert_one_line_error(r, "already holds a run", "--overwrite")
    assert (tmp_path / "s4-numpy-s0" / "history.json").read_text() == before
    r = cli(*args[:3], "6", *args[4:], "--overwrite", tmp_path=tmp_path)
    assert r.returncode == 0, r.stderr
    assert json.loads((tmp_path / "s4-numpy-s0" / "config.json").read_text())["steps"] == 6


def test_two_runs_at_once_into_one_folder(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
    args = [sys.executable, "-m", "lmn_edu.run", "--task", "s4", "--steps", "100000", "--lmn-layers",
            "--no-progress", "--out", str(tmp_path)]
    first = started(args, tmp_path, env)
    try:
        history = tmp_path / "s4-numpy-s0" / "history.jsonl"
        deadline = time.time() + 300
        while time.time() < deadline and not (history.exists() and history.read_text()):
            time.sleep(0.2)
        second = cli("--task", "s4", "--steps", "3", "--overwrite", "--out", str(tmp_path), tmp_path=tmp_path)
    finally:
        first.kill()
        first.communicate(timeout=120)
    assert_one_line_error(second, "another run is writing")
    assert json.loads((tmp_path / "s4-numpy-s0" / "config.json").read_text())["steps"] == 100000


def test_disk_full_is_an_environment_error(tmp_path, monkeypatch, capsys):
    import errno
    from lmn_edu import rundir
    from lmn_edu.run import main

    real = os.write
    calls = {"n": 0}

    def full(fd, data):
        calls["n"] += 1
        if calls["n"] > 4:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(fd, data)

    monkeypatch.setattr(rundir.os, "write", full)
    code = main(["--task", "s4", "--steps", "50", "--eval-every", "1", "--lmn-layers", "--no-progress",
                 "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "No space left" in err and "Traceback" not in err
    assert str(tmp_path / "s4-numpy-s0" / "history.") in err                 # the file, named
    lines = (tmp_path / "s4-numpy-s0" / "history.csv").read_text().splitlines()
    assert len(lines) >= 2 and all(len(line.split(",")) == len(lines[0].split(",")) for line in lines)
