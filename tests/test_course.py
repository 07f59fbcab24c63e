"""The course's exercise checks, both ways: every reference solution passes, every untouched stub fails.

A check that passes on the untouched stub cannot tell a student anything: that is a defect. The
checks run on stubs written afresh from the solutions (signature, docstring, ``raise
NotImplementedError``), so that no student's work in lessons/exercises/ can hide a defect or fail
these tests; the stubs there are checked to be such stubs where they are still untouched.
"""
import ast
import subprocess
import sys

import pytest

from lmn_edu import course

LESSONS = list(course.lesson_files())


def _untouched(path):
    """The public functions of ``path`` whose body (after the docstring) is one ``raise
    NotImplementedError(...)``: the stubs as shipped."""
    return _untouched_in(ast.parse(path.read_text(encoding="utf-8")))


def _untouched_in(tree):
    names = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
            body = node.body[1:] if ast.get_docstring(node) is not None else node.body
            if len(body) == 1 and isinstance(body[0], ast.Raise) and body[0].exc is not None:
                exc = body[0].exc.func if isinstance(body[0].exc, ast.Call) else body[0].exc
                if isinstance(exc, ast.Name) and exc.id == "NotImplementedError":
                    names.add(node.name)
    return names


def _stubs_from_solutions(folder):
    """Every solution file rewritten as the shipped stub would be: signature, docstring, raise."""
    for path in (course.LESSONS / "solutions").glob("[0-9][0-9]_*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
                doc = node.body[:1] if ast.get_docstring(node) is not None else []
                node.body = doc + [ast.parse("raise NotImplementedError('your turn')").body[0]]
        (folder / path.name).write_text(ast.unparse(tree), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def verdicts(tmp_path_factory):
    """{kind: {lesson: [Result]}} for the solutions and for fresh stubs (one child process per file)."""
    fresh = _stubs_from_solutions(tmp_path_factory.mktemp("stubs"))
    out = {}
    for kind, kwargs in (("solutions", {"solutions": True}), ("fresh", {"path": fresh})):
        out[kind] = {}
        for r in course.grade("all", seed=12345, **kwargs):
            out[kind].setdefault(r.lesson, []).append(r)
    return out


@pytest.mark.parametrize("lesson", LESSONS)
def test_solutions_pass(lesson, verdicts):
    results = verdicts["solutions"][lesson]
    assert len(results) >= 2, f"lesson {lesson}: fewer than two exercises"
    failed = [(r.exercise, r.reason) for r in results if not r.passed]
    assert not failed, f"lesson {lesson}: reference solutions fail: {failed}"


@pytest.mark.parametrize("lesson", LESSONS)
def test_stubs_fail(lesson, verdicts):
    fresh = verdicts["fresh"][lesson]
    assert fresh and not [r.exercise for r in fresh if r.passed], f"lesson {lesson}: a stub passes"
    assert all(r.reason.startswith("not implemented yet") for r in fresh), [r.reason for r in fresh]


@pytest.mark.parametrize("lesson", LESSONS)
def test_shipped_stubs_are_the_stubs_of_the_solutions(lesson):
    # the students' copy: the functions not touched yet take the solution's arguments and raise
    name = course.lesson_files()[lesson].name
    shipped = ast.parse((course.LESSONS / "exercises" / name).read_text(encoding="utf-8"))
    solution = ast.parse((course.LESSONS / "solutions" / name).read_text(encoding="utf-8"))
    signature = {n.name: ast.dump(n.args) for n in solution.body if isinstance(n, ast.FunctionDef)}
    for node in shipped.body:
        if isinstance(node, ast.FunctionDef) and node.name in _untouched_in(shipped):
            assert ast.dump(node.args) == signature.get(node.name), f"{name}: {node.name}'s arguments differ"


def test_untouched_sees_a_filled_in_function(tmp_path):
    path = tmp_path / "04.py"
    path.write_text('def a(x):\n    """doc"""\n    raise NotImplementedError("your turn")\n\n'
                    'def b(x):\n    """doc"""\n    return x\n\ndef c(x):\n    raise NotImplementedError\n')
    assert _untouched(path) == {"a", "c"}


@pytest.mark.parametrize("lesson", LESSONS)
def test_stubs_and_solutions_define_the_checked_functions(lesson):
    checked = set(course.load_checks()[lesson])
    for kind in ("exercises", "solutions"):
        path = course.LESSONS / kind / course.lesson_files()[lesson].name
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {n.name for n in tree.body if isinstance(n, ast.FunctionDef) and not n.name.startswith("_")}
        if kind == "solutions":
            assert names == checked, f"{path.name}: solutions {sorted(names)}, checks {sorted(checked)}"
        else:                                  # a student may add helpers of their own
            assert checked <= names, f"{path.name}: no stub for {sorted(checked - names)}"


def test_a_wrong_answer_fails_with_the_digits_that_differ(tmp_path):
    # a stub that returns something, but the wrong thing, fails too (not only NotImplementedError)
    bad = tmp_path / "05.py"
    bad.write_text("def entropy_from_eigenvalues(mu):\n    return 1.0\n\ndef lmn(L):\n    return float(len(L))\n")
    results = dict((name, (ok, msg)) for name, ok, msg in course.run_checks("05", path=bad))
    assert results and not any(ok for ok, _ in results.values())   # more exercises: "defines no function"
    assert all("got " in results[name][1] and "expected " in results[name][1]
               for name in ("entropy_from_eigenvalues", "lmn")), results


def run_cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "lmn_edu.course", *args], capture_output=True, text=True,
                          encoding="utf-8", cwd=cwd)


def test_cli_exit_codes_from_the_lessons_folder(tmp_path):
    ok = run_cli("check", "04", "--solutions", cwd=course.LESSONS)
    assert ok.returncode == 0 and "✓ 04 r_squared_line" in ok.stdout, ok.stdout + ok.stderr
    stubs = _stubs_from_solutions(tmp_path)    # not the students' copy: they may have filled it in
    stub = run_cli("check", "4", "--path", str(stubs / "04_linear_connectivity.py"), "--hint", cwd=course.LESSONS)
    assert stub.returncode == 1 and "✗ 04 r_squared_line" in stub.stdout and "hint 1 of" in stub.stdout
    bad = run_cli("check", "99")
    assert bad.returncode == 2 and bad.stderr.startswith("error:") and len(bad.stderr.strip().splitlines()) == 1
    listing = run_cli("list")
    assert listing.returncode == 0 and "04_linear_connectivity" in listing.stdout and "min" in listing.stdout


def test_a_closed_output_pipe_is_its_own_exit_status():
    import os
    r, w = os.pipe()
    os.close(r)                                 # the reader (| head) is gone before anything is written
    p = subprocess.run([sys.executable, "-m", "lmn_edu.course", "list"], stdout=w, stderr=subprocess.PIPE, text=True)
    os.close(w)
    assert p.returncode == 141, p.stderr        # not 1, which says an exercise failed
    assert "Traceback" not in p.stderr


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
