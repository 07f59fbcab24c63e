"""The course's exercise checks, both ways: every reference solution passes, every untouched stub fails.

A check that passes on the untouched stub cannot tell a student anything: that is a defect.
"""
import subprocess
import sys

import pytest

from lmn_edu import course

LESSONS = list(course.lesson_files())


@pytest.mark.parametrize("lesson", LESSONS)
def test_solutions_pass(lesson):
    results = course.run_checks(lesson, solutions=True)
    assert len(results) >= 2, f"lesson {lesson}: fewer than two exercises"
    failed = [(name, msg) for name, ok, msg in results if not ok]
    assert not failed, f"lesson {lesson}: reference solutions fail: {failed}"


@pytest.mark.parametrize("lesson", LESSONS)
def test_untouched_stubs_fail(lesson):
    results = course.run_checks(lesson, solutions=False)
    passed = [name for name, ok, _ in results if ok]
    assert not passed, f"lesson {lesson}: the untouched stub passes {passed}"


@pytest.mark.parametrize("lesson", LESSONS)
def test_stubs_and_solutions_define_the_same_functions(lesson):
    import ast
    names = {}
    for kind in ("exercises", "solutions"):
        path = course.LESSONS / kind / course.lesson_files()[lesson].name
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names[kind] = {n.name for n in tree.body if isinstance(n, ast.FunctionDef) and not n.name.startswith("_")}
    assert names["exercises"] == names["solutions"] == {name for name, _, _ in course.run_checks(lesson)}


def test_a_wrong_answer_fails_with_a_hint(tmp_path):
    # a stub that returns something, but the wrong thing, fails too (not only NotImplementedError)
    bad = tmp_path / "05.py"
    bad.write_text("def entropy_from_eigenvalues(mu):\n    return 1.0\n\ndef lmn(L):\n    return float(len(L))\n\n"
                   "def two_block_lmn(n1, n2, eps):\n    return 2.0\n")
    results = course.run_checks("05", path=bad)
    assert [ok for _, ok, _ in results] == [False, False, False]
    assert all("Hint:" in msg for _, _, msg in results)


def run_cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "lmn_edu.course", *args], capture_output=True, text=True,
                          encoding="utf-8", cwd=cwd)


def test_cli_exit_codes_from_the_lessons_folder():
    ok = run_cli("check", "04", "--solutions", cwd=course.LESSONS)
    assert ok.returncode == 0 and "✓ r_squared_line" in ok.stdout, ok.stdout + ok.stderr
    stub = run_cli("check", "4", cwd=course.LESSONS)
    assert stub.returncode == 1 and "✗ r_squared_line" in stub.stdout and "Hint:" in stub.stdout
    bad = run_cli("check", "99")
    assert bad.returncode == 2 and bad.stderr.startswith("error:") and len(bad.stderr.strip().splitlines()) == 1
    listing = run_cli("list")
    assert listing.returncode == 0 and "04_linear_connectivity" in listing.stdout


def test_no_verdict_without_evidence(capsys):
    assert course.compare(True, "a claim", evidence=False) is None
    assert course.compare(False, "a claim") is False
    assert course.observe(True, "a prediction") is True
    out = capsys.readouterr().out.splitlines()
    assert out == ["  – not tested (run too short): a claim", "  ✗ differs: a claim", "  ✓ observed: a prediction"]


def test_the_committed_runs_and_snapshots_are_found():
    config, rows = course.paper_run("add", seed=0)
    assert config["task"] == "add" and rows[-1]["step"] == config["steps"]
    params = course.paper_snapshot(200)
    assert set(params) >= {"emb", "W1", "W2", "W3"}
    L, order, mu = course.paper_connectivity(200)
    assert L.shape == (len(order), len(order)) == (len(mu), len(mu))


def test_output_goes_to_one_place_whatever_the_working_directory(monkeypatch, tmp_path):
    monkeypatch.delenv("LMN_EDU_FIGURES", raising=False)
    monkeypatch.chdir(tmp_path)
    assert course.output_root() == course.REPO / "lesson_output"
    monkeypatch.setenv("LMN_EDU_FIGURES", str(tmp_path / "x"))
    assert course.figure_dir("01_tasks") == tmp_path / "x" / "01_tasks"
