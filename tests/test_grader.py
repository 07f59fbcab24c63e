"""The checker passes only an explicit pass: every way a student's file can end, hang, flood, cheat or
break gives one line naming the exercise and what happened, and a non-zero exit status.

Each attack is a small lesson-04 file checked with ``--path``; its two exercises are
``r_squared_line`` and ``connectivity_pair``. One child process serves a file (a fresh one after
an exercise that ended it).
"""
import json
import subprocess
import sys
import textwrap
from functools import partial

import numpy as np
import pytest

from lmn_edu import course, grading
from lmn_edu.grading import close

R2, PAIR = "r_squared_line", "connectivity_pair"

ATTACKS = {
    "exit in a function": ("""
        import sys, os
        def r_squared_line(y, lam):
            sys.exit(0)
        def connectivity_pair(f, xi, xj, n_lambda=21):
            os._exit(0)
        """, {R2: "called sys.exit(0)", PAIR: "ended with exit status 0 during the call"}),
    "SystemExit(3) and KeyboardInterrupt": ("""
        def r_squared_line(y, lam):
            raise SystemExit(3)
        def connectivity_pair(f, xi, xj, n_lambda=21):
            raise KeyboardInterrupt
        """, {R2: "called sys.exit(3)", PAIR: "raised KeyboardInterrupt"}),
    "sys.exit at the top": ("""
        import sys
        sys.exit(0)
        def r_squared_line(y, lam):
            return 1.0
        """, {R2: "the file calls sys.exit(0)", PAIR: "the file calls sys.exit(0)"}),
    "os._exit at the top": ("""
        import os
        os._exit(0)
        """, {R2: "exit status 0 while the file was loaded", PAIR: "exit status 0 while the file was loaded"}),
    "a signal and a hang": ("""
        import os
        def r_squared_line(y, lam):
            os.kill(os.getpid(), 9)
        def connectivity_pair(f, xi, xj, n_lambda=21):
            while True:
                pass
        """, {R2: "killed by SIGKILL", PAIR: "no answer within 1 s"}),
    "a syntax error": ("""
        def r_squared_line(y, lam)
            return 1.0
        """, {R2: "does not compile: SyntaxError at line 2", PAIR: "SyntaxError at line 2"}),
    "an indentation error": ("""
        def r_squared_line(y, lam):
            x = 1
              return x
        """, {R2: "IndentationError at line 4", PAIR: "IndentationError at line 4"}),
    "an import error": ("""
        import numpy as np
        import no_such_module_for_a_test
        """, {R2: "No module named 'no_such_module_for_a_test'", PAIR: "fails when it is loaded"}),
    "a missing function and a wrong answer": ("""
        def r_squared_line(y, lam):
            return 0.5
        """, {R2: "r²: got 0.5, expected ", PAIR: "defines no function connectivity_pair"}),
    "the package's own functions": ("""
        import numpy as np
        import lmn_edu
        from lmn_edu.lmn import r_squared
        def r_squared_line(y, lam):
            try:                                # a sentinel caught by the student still counts
                return float(r_squared(y[None, :, None], lam)[0, 0])
            except BaseException:
                return 0.0
        def connectivity_pair(f, xi, xj, n_lambda=21):
            return lmn_edu.connectivity_matrix(f, np.stack([xi, xj]), n_lambda)[0, 1]
        """, {R2: "calls lmn_edu.lmn.r_squared, the package's own", PAIR: "calls lmn_edu.lmn.connectivity_matrix"}),
    "an output flood and signalling the checker": ("""
        import os
        def r_squared_line(y, lam):
            while True:
                print("x" * 10000)
        def connectivity_pair(f, xi, xj, n_lambda=21):
            os.kill(os.getppid(), 9)
        """, {R2: "an output flood", PAIR: "does not let an exercise signal other processes"}),
    "an object that runs code, and writing files": ("""
        class Evil:
            def __reduce__(self):
                return (print, ("pwned",))
        def r_squared_line(y, lam):
            return Evil()
        def connectivity_pair(f, xi, xj, n_lambda=21):
            open("written.txt", "w").write("x")
        """, {R2: "does not accept (builtins.print)", PAIR: "does not let an exercise write files"}),
    "reading the reference solution": ("""
        import pathlib, lmn_edu
        root = pathlib.Path(lmn_edu.__file__).resolve().parents[1]
        exec((root / "lessons" / "solutions" / "04_linear_connectivity.py").read_text())
        """, {R2: "does not let an exercise read the reference solutions", PAIR: "reference solutions"}),
    "returning a generator": ("""
        import subprocess
        def r_squared_line(y, lam):
            return (v for v in y)
        def connectivity_pair(f, xi, xj, n_lambda=21):
            subprocess.run(["true"])
        """, {R2: "returned a generator, which is not data", PAIR: "does not let an exercise start processes"}),
    "a forged reply": ("""
        import os, pickle, struct
        def r_squared_line(y, lam):
            data = pickle.dumps(12345)
            for fd in range(3, 30):            # whichever is the channel to the checker
                try:
                    os.write(fd, struct.pack("<Q", len(data)) + data)
                except OSError:
                    pass
            return 1.0
        """, {R2: "sent back a reply the checker does not know", PAIR: "defines no function"}),
}


def check(tmp_path, capsys, source, *args):
    path = tmp_path / "04_answer.py"
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    status = course.main(["check", "04", "--path", str(path), "--timeout", "1", *args])
    out, err = capsys.readouterr()
    return status, out, err


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_every_attack_is_one_line_and_not_passed(attack, tmp_path, capsys):
    source, expected = ATTACKS[attack]
    status, out, err = check(tmp_path, capsys, source)
    lines = out.splitlines()
    assert status == 1 and err == "", (status, out, err)
    for name, words in expected.items():
        line = [x for x in lines if x.startswith(f"✗ 04 {name}: ")]
        assert len(line) == 1 and words in line[0], (words, out)
    assert "Traceback" not in out and "0 of 2 exercises pass" in out
    assert not (tmp_path / "written.txt").exists()


def test_an_argument_changed_in_place_is_seen_by_the_check(tmp_path, capsys):
    # the student's function runs on a copy in another process: what it changes comes back
    path = tmp_path / "02_answer.txt"                                  # any file name
    path.write_text(textwrap.dedent("""
        import numpy as np
        def central_difference(f, theta, h=1e-5):
            g = np.zeros_like(theta)
            for k in range(len(theta)):
                e = np.zeros_like(theta)
                e[k] = h
                g[k] = (f(theta + e) - f(theta - e)) / (2 * h)
            theta += 1e-3                                               # the defect
            return g
        """))
    assert course.main(["check", "02", "--path", str(path)]) == 1
    assert "✗ 02 central_difference: θ was changed" in capsys.readouterr().out


def test_the_command_line_itself_never_shows_a_traceback(tmp_path):
    path = tmp_path / "04_x.py"
    path.write_text("import os\ndef r_squared_line(y, lam):\n    os._exit(0)\n"
                    "def connectivity_pair(f, xi, xj, n_lambda=21):\n    raise KeyboardInterrupt\n")
    run = subprocess.run([sys.executable, "-m", "lmn_edu.course", "check", "04", "--path", str(path)],
                         capture_output=True, text=True, encoding="utf-8")
    assert run.returncode == 1 and run.stderr == "", run.stderr
    assert run.stdout.count("✗ 04 ") == 2 and "Traceback" not in run.stdout


@pytest.mark.parametrize("argv, words", [
    (["check", "²"], "not a lesson"),
    (["check", "04", "--bogus"], "unrecognized arguments"),
    (["check", "04", "--timeout", "0"], "must be positive"),
    (["check", "04", "--seed", "x"], "not a number"),
    (["check", "04", "--path", "no/such/file.py"], "no such file"),
    (["check", "04", "--solutions", "--path", "."], "choose one"),
    (["frobnicate"], "invalid choice"),
])
def test_usage_errors_are_one_error_line(argv, words, capsys):
    assert course.main(argv) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("error: ") and words in err and len(err.splitlines()) == 1, err


def test_notebooks_out_a_file_is_one_error_line(tmp_path, capsys):
    pytest.importorskip("jupytext")
    target = tmp_path / "a_file"
    target.write_text("x")
    assert course.main(["notebooks", "--out", str(target)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "not a folder" in err and len(err.splitlines()) == 1


def test_without_the_lessons_folder_it_says_so_in_one_line(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(course, "LESSONS", tmp_path / "lessons")      # as an installed wheel sees it
    for argv in (["list"], ["check", "04"]):
        assert course.main(argv) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and "lessons/ folder" in err and len(err.splitlines()) == 1


def test_json_is_one_object_for_a_gradebook(tmp_path, capsys):
    (tmp_path / "04_linear_connectivity.py").write_text(
        (course.LESSONS / "solutions" / "04_linear_connectivity.py").read_text(encoding="utf-8"))
    (tmp_path / "05_mine.py").write_text("def lmn(L):\n    print('debug')\n    return 1.0\n")
    status = course.main(["check", "all", "--path", str(tmp_path), "--json", "--seed", "7"])
    report = json.loads(capsys.readouterr().out)
    assert status == 1 and report["seed"] == 7 and report["total"] == len(report["exercises"])
    by = {(e["lesson"], e["exercise"]): e for e in report["exercises"]}
    assert set(by[("04", R2)]) >= {"lesson", "exercise", "passed", "reason", "stars", "minutes", "seed"}
    assert by[("04", R2)]["passed"] and by[("04", PAIR)]["passed"] and by[("04", R2)]["reason"] == ""
    assert by[("05", "lmn")]["file"].endswith("05_mine.py")
    assert not by[("05", "lmn")]["passed"] and "debug" in by[("05", "lmn")]["output"]
    assert "defines no function entropy_from_eigenvalues" in by[("05", "entropy_from_eigenvalues")]["reason"]
    assert "no file 01_*.py" in by[("01", "operation_table")]["reason"]
    assert report["passed"] == 2


def test_a_seed_replays_the_cases_and_another_seed_draws_new_ones(tmp_path, capsys):
    wrong = "def r_squared_line(y, lam):\n    return 0.5\n"
    runs = [check(tmp_path, capsys, wrong, "--seed", seed)[1] for seed in ("11", "11", "12")]
    line = [[x for x in out.splitlines() if R2 in x][0] for out in runs]
    assert line[0] == line[1] and line[0] != line[2], line
    assert "seed 11" in runs[0]
    drawn = [check(tmp_path, capsys, wrong)[1] for _ in range(2)]
    assert drawn[0] != drawn[1]                  # a fresh seed each run (1 in a million to collide)


def test_hints_only_on_request_and_graded(tmp_path, capsys):
    stub = "def r_squared_line(y, lam):\n    raise NotImplementedError\n"
    plain = check(tmp_path, capsys, stub)[1]
    assert "hint" not in plain.split("\n")[0] and "not implemented yet" in plain
    hints = course.load_checks()["04"][R2].hints
    level = check(tmp_path, capsys, stub, "--hint", str(len(hints)))[1]
    assert f"hint {len(hints)} of {len(hints)}: {hints[-1]}" in level


def test_every_forbidden_name_exists():
    # a renamed package function must not silently switch a forbid off
    from lmn_edu.sandbox import _resolve
    for lesson, exercises in course.load_checks().items():
        for ex in exercises.values():
            assert 1 <= ex.stars <= 3 and ex.minutes > 0 and ex.hints
            for name in ex.forbid:
                assert _resolve(name) is not None, f"{lesson} {ex.name}: forbid {name} does not exist"


def test_close_shows_every_digit_that_differs():
    with pytest.raises(AssertionError, match=r"x: got 0\.30000000000000004, expected 0\.3$"):
        close(0.1 + 0.2, 0.3, "x", rtol=0, atol=0)
    with pytest.raises(AssertionError, match=r"at index 2 got 1\.0000001, expected 1\.0 \(1 of 3"):
        close([1, 1, 1.0000001], np.ones(3), "v")
    with pytest.raises(AssertionError, match="shape"):
        close(np.ones(2), np.ones(3), "v")
    with pytest.raises(AssertionError, match="not a number"):
        close(None, 1.0, "v")
    close([np.nan, 1.0], [np.nan, 1.0], "nan where expected")


# --- the verdict on checks written in odd ways (a checks module of this test's own) -----------

CHECKS = '''
from functools import partial
import numpy as np
import lmn_edu
from lmn_edu.grading import exercise, close

def square(x):
    return x * x

@exercise("04", stars=1, minutes=1, hints=("h",))
def check_swallows(fn, rng):
    try:
        fn(1.0)
    except BaseException:
        pass

@exercise("04", stars=1, minutes=1, hints=("h",))
def check_never_calls(fn, rng):
    pass

@exercise("04", stars=1, minutes=1, hints=("h",), forbid=("lmn_edu.lmn.lambdas",))
def check_passes_a_callable(fn, rng):
    x = rng.normal()
    close(fn(partial(lmn_edu.lambdas), square, x), x * x + 21, "callable")

@exercise("04", stars=1, minutes=1, hints=("h",))
def check_expects_valueerror(fn, rng):
    try:
        fn(-1.0)
    except ValueError:
        return
    raise AssertionError("a negative input should raise ValueError")
'''

STUDENT = '''
import os
def swallows(x):
    os._exit(0)
def never_calls(x):
    return x
def passes_a_callable(lam, f, x):
    return f(x) + len(lam())                    # the check's callable may use a forbidden function
def expects_valueerror(x):
    raise ValueError("negative")
'''


def test_verdicts_a_check_cannot_get_wrong(tmp_path):
    checks = tmp_path / "checks.py"
    checks.write_text(CHECKS)
    student = tmp_path / "04_odd.py"
    student.write_text(STUDENT)
    module = course._load(checks, "lmn_edu_test_checks")
    exercises = grading.collect(module)["04"].values()
    results = {r.exercise: r for r in grading.grade_file(exercises, student, checks=(checks, "lmn_edu_test_checks"),
                                                         seed=3, timeout=5)}
    assert "exit status 0" in results["swallows"].reason and not results["swallows"].passed
    assert "never called the function" in results["never_calls"].reason
    assert results["passes_a_callable"].passed, results["passes_a_callable"].reason
    assert results["expects_valueerror"].passed, results["expects_valueerror"].reason


def test_the_case_generator_is_keyed_by_seed_lesson_and_name():
    a = grading.case_rng(5, "04", R2).normal(size=3)
    assert np.array_equal(a, grading.case_rng(5, "04", R2).normal(size=3))
    assert not np.array_equal(a, grading.case_rng(5, "04", PAIR).normal(size=3))
    assert not np.array_equal(a, grading.case_rng(6, "04", R2).normal(size=3))
    assert partial   # (imported for the checks module above)
