"""The checker passes only an explicit pass: every way a student's file can end, hang, flood, cheat or
break gives one line naming the exercise and what happened, and a non-zero exit status.

Each attack is a small lesson-04 file checked with ``--path``, aimed at two of its exercises,
``r_squared_line`` and ``connectivity_pair`` (the lesson may have more: they fail too, as the
file does not define them). One child process serves a file (a fresh one after an exercise that
ended it). Where a test needs checks of a known shape it declares its own (the end of this file).
"""
import dataclasses
import json
import re
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
        """, {R2: "got 0.5, expected ", PAIR: "defines no function connectivity_pair"}),
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
    assert "Traceback" not in out and re.search(r"^0 of \d+ exercises pass", out, re.M)
    assert not (tmp_path / "written.txt").exists()


def test_the_command_line_itself_never_shows_a_traceback(tmp_path):
    path = tmp_path / "04_x.py"
    path.write_text("import os\ndef r_squared_line(y, lam):\n    os._exit(0)\n"
                    "def connectivity_pair(f, xi, xj, n_lambda=21):\n    raise KeyboardInterrupt\n")
    run = subprocess.run([sys.executable, "-m", "lmn_edu.course", "check", "04", "--path", str(path)],
                         capture_output=True, text=True, encoding="utf-8")
    assert run.returncode == 1 and run.stderr == "", run.stderr
    assert run.stdout.count("✗ 04 ") >= 2 and "Traceback" not in run.stdout


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
    first, *others = course.load_checks()["05"]
    (tmp_path / "05_mine.py").write_text(f"def {first}(*args, **kwargs):\n    print('debug')\n    return -1.0\n")
    status = course.main(["check", "all", "--path", str(tmp_path), "--json", "--seed", "7"])
    report = json.loads(capsys.readouterr().out)
    assert status == 1 and report["seed"] == 7 and report["total"] == len(report["exercises"])
    by = {(e["lesson"], e["exercise"]): e for e in report["exercises"]}
    assert set(by[("04", R2)]) >= {"lesson", "exercise", "passed", "reason", "stars", "minutes", "seed"}
    assert all(by[("04", name)]["passed"] for name in course.load_checks()["04"]) and by[("04", R2)]["reason"] == ""
    assert by[("05", first)]["file"].endswith("05_mine.py")
    assert not by[("05", first)]["passed"] and "debug" in by[("05", first)]["output"]
    assert "defines no function" in by[("05", others[0])]["reason"]
    assert "no file 01_*.py" in by[("01", "operation_table")]["reason"]
    assert report["passed"] == len(course.load_checks()["04"])


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

def unchanged(fn, rng):
    x, rows = rng.normal(size=3), [{"a": 1}]
    before = x.copy()
    fn(x, rows)
    assert np.array_equal(x, before), "x was changed"
    assert rows == [{"a": 1}], "rows were changed"

@exercise("04", stars=1, minutes=1, hints=("h",))
def check_changes_an_array(fn, rng):
    unchanged(fn, rng)

@exercise("04", stars=1, minutes=1, hints=("h",))
def check_changes_a_row(fn, rng):
    unchanged(fn, rng)

@exercise("04", stars=1, minutes=1, hints=("h",), strict_floats=True)
def check_overflows_strictly(fn, rng):
    fn(np.array([-1e4, 1.0]))

@exercise("04", stars=1, minutes=1, hints=("h",))
def check_overflows_leniently(fn, rng):
    fn(np.array([-1e4, 1.0]))

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
import numpy as np
def overflows_strictly(z):
    return z / (1 + np.exp(-z))
def overflows_leniently(z):                     # after a strict exercise, in the same child
    return z / (1 + np.exp(-z))
def swallows(x):
    os._exit(0)
def never_calls(x):
    return x
def passes_a_callable(lam, f, x):
    return f(x) + len(lam())                    # the check's callable may use a forbidden function
def expects_valueerror(x):
    raise ValueError("negative")
def changes_an_array(x, rows):                  # on a copy in the child: the check still sees it
    x += 1
def changes_a_row(x, rows):
    rows[0]["a"] = 2
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
    assert results["changes_an_array"].reason == "x was changed"
    assert results["changes_a_row"].reason == "rows were changed"
    assert "raised FloatingPointError: overflow encountered in exp" in results["overflows_strictly"].reason
    assert results["overflows_leniently"].passed, results["overflows_leniently"].reason


def test_the_case_generator_is_keyed_by_seed_lesson_and_name():
    a = grading.case_rng(5, "04", R2).normal(size=3)
    assert np.array_equal(a, grading.case_rng(5, "04", R2).normal(size=3))
    assert not np.array_equal(a, grading.case_rng(5, "04", PAIR).normal(size=3))
    assert not np.array_equal(a, grading.case_rng(6, "04", R2).normal(size=3))
    assert partial   # (imported for the checks module above)


def test_what_a_failed_exercise_printed_is_shown_under_it(tmp_path, capsys):
    out = check(tmp_path, capsys, "def r_squared_line(y, lam):\n    print('debug', len(y))\n    return 0.5\n")[1]
    lines = out.splitlines()
    at = [i for i, x in enumerate(lines) if x.startswith(f"✗ 04 {R2}: ")][0]
    assert lines[at + 1].startswith("    │ debug ")


# --- wrong answers: each check fails the likeliest wrong answers of its exercise ---------------
#
# For every exercise, the one or two answers a student is likeliest to get wrong: off by one,
# a normalisation forgotten, an argument ignored that fixed cases never vary, the package's own
# function, an overflow that still looks right. Each must fail, whatever the seed (each one was
# run against 200 seeds when it was added); the right variants below must pass. One file per
# lesson holds them all, each answer its own function (<exercise>__<k>), checked by one child.

WRONG = {   # (lesson, exercise, what is wrong): (the answer, words its failure names, or "")
    ('01', 'operation_table', 'V from the data, not vocab_size'): ('''
def operation_table(inputs, labels, vocab_size):
    V = int(inputs.max()) + 1
    T = np.full((V, V), -1)
    T[inputs[:, 0], inputs[:, 1]] = labels
    return T
''', ''),
    ('01', 'operation_table', 'missing pairs 0, not -1'): ('''
def operation_table(inputs, labels, vocab_size):
    T = np.zeros((vocab_size, vocab_size), int)
    T[inputs[:, 0], inputs[:, 1]] = labels
    return T
''', ''),
    ('01', 'operation_table', 'a float table'): ('''
def operation_table(inputs, labels, vocab_size):
    T = np.full((vocab_size, vocab_size), -1.0)
    T[inputs[:, 0], inputs[:, 1]] = labels
    return T
''', 'expected ints'),
    ('01', 'operation_table', 'transposed'): ('''
def operation_table(inputs, labels, vocab_size):
    T = np.full((vocab_size, vocab_size), -1)
    T[inputs[:, 1], inputs[:, 0]] = labels
    return T
''', ''),
    ('01', 'commuting_pairs', 'unordered pairs'): ('''
def commuting_pairs(T):
    n = len(T)
    return int((np.sum(T == T.T) - n) // 2 + n)
''', ''),
    ('01', 'commuting_pairs', 'diagonal left out'): ('''
def commuting_pairs(T):
    return int(np.sum(T == T.T) - len(T))
''', ''),
    ('01', 'is_group', 'identity assumed to be 0'): ('''
def is_group(T):
    T = np.asarray(T); n = len(T); s = np.arange(n)
    if not np.all((T >= 0) & (T < n)): return False
    if not (np.array_equal(T[0], s) and np.array_equal(T[:, 0], s)): return False
    if not all(np.any((T[a] == 0) & (T[:, a] == 0)) for a in range(n)): return False
    return bool(np.array_equal(T[T[:, :, None], s[None, None, :]], T[s[:, None, None], T[None, :, :]]))
''', ''),
    ('01', 'is_group', 'a Latin square with an identity'): ('''
def is_group(T):
    T = np.asarray(T); n = len(T); s = np.arange(n)
    if not np.all((T >= 0) & (T < n)): return False
    ids = [e for e in range(n) if np.array_equal(T[e], s) and np.array_equal(T[:, e], s)]
    latin = all(len(set(r)) == n for r in T) and all(len(set(c)) == n for c in T.T)
    return bool(ids) and latin
''', ''),
    ('01', 'is_group', 'no inverse check'): ('''
def is_group(T):
    T = np.asarray(T); n = len(T); s = np.arange(n)
    if not np.all((T >= 0) & (T < n)): return False
    ids = [e for e in range(n) if np.array_equal(T[e], s) and np.array_equal(T[:, e], s)]
    if not ids: return False
    return bool(np.array_equal(T[T[:, :, None], s[None, None, :]], T[s[:, None, None], T[None, :, :]]))
''', ''),
    ('02', 'central_difference', 'forward difference'): ('''
def central_difference(f, theta, h=1e-5):
    g = np.zeros(len(theta))
    for k in range(len(theta)):
        e = np.zeros(len(theta)); e[k] = h
        g[k] = (f(theta + e) - f(theta)) / h
    return g
''', ''),
    ('02', 'central_difference', 'its own h'): ('''
def central_difference(f, theta, h=1e-5):
    h = 1e-5
    g = np.zeros(len(theta))
    for k in range(len(theta)):
        e = np.zeros(len(theta)); e[k] = h
        g[k] = (f(theta + e) - f(theta - e)) / (2 * h)
    return g
''', ''),
    ('02', 'central_difference', 'autograd'): ('''
from autograd import grad
def central_difference(f, theta, h=1e-5):
    return grad(f)(theta)
''', 'calls autograd'),
    ('02', 'forward', 'relu'): ('''
def forward(params, inputs):
    r = lambda z: np.maximum(z, 0)
    x = np.concatenate([params["emb"][inputs[:, 0]], params["emb"][inputs[:, 1]]], axis=1)
    return r(r(x @ params["W1"] + params["b1"]) @ params["W2"] + params["b2"]) @ params["W3"] + params["b3"]
''', ''),
    ('02', 'forward', 'tokens swapped'): ('''
def forward(params, inputs):
    s = lambda z: z / (1 + np.exp(-z))
    x = np.concatenate([params["emb"][inputs[:, 1]], params["emb"][inputs[:, 0]]], axis=1)
    return s(s(x @ params["W1"] + params["b1"]) @ params["W2"] + params["b2"]) @ params["W3"] + params["b3"]
''', ''),
    ('02', 'forward', "the package's tail"): ('''
import lmn_edu
def forward(params, inputs):
    x = np.concatenate([params["emb"][inputs[:, 0]], params["emb"][inputs[:, 1]]], axis=1)
    return lmn_edu.tail_function(params, "emb")(x)
''', 'calls lmn_edu.mlp_lmn.tail_function'),
    ('02', 'forward', "the engine's stages"): ('''
from lmn_edu import mlp, engine, ops
def forward(params, inputs):
    return engine._run(ops.NUMPY_OPS, mlp.tail_stages(params, "emb"), mlp.embed(params, inputs))[0]
''', 'calls lmn_edu.mlp.tail_stages'),
    ('02', 'output_layer_grad', 'sum, not mean'): ('''
def output_layer_grad(h2, W3, b3, labels):
    z = h2 @ W3 + b3
    e = np.exp(z - z.max(axis=1, keepdims=True)); d = e / e.sum(axis=1, keepdims=True)
    d[np.arange(len(labels)), labels] -= 1
    return h2.T @ d, d.sum(axis=0)
''', ''),
    ('02', 'output_layer_grad', 'no shift: overflows'): ('''
def output_layer_grad(h2, W3, b3, labels):
    z = h2 @ W3 + b3
    e = np.exp(z); d = e / e.sum(axis=1, keepdims=True)
    d[np.arange(len(labels)), labels] -= 1
    d /= len(labels)
    return h2.T @ d, d.sum(axis=0)
''', ''),
    ('02', 'output_layer_grad', 'one-hot of the classes seen only'): ('''
def output_layer_grad(h2, W3, b3, labels):
    z = h2 @ W3 + b3
    e = np.exp(z - z.max(axis=1, keepdims=True)); d = e / e.sum(axis=1, keepdims=True)
    d = d - np.eye(labels.max() + 1)[labels] if d.shape[1] == labels.max() + 1 else d - np.eye(d.shape[1])[labels] * 0
    d /= len(labels)
    return h2.T @ d, d.sum(axis=0)
''', ''),
    ('03', 'decay_after', 'exp approximation'): ('''
def decay_after(theta0, lr, weight_decay, t):
    return theta0 * np.exp(-lr * weight_decay * t)
''', ''),
    ('03', 'decay_after', 't - 1 steps'): ('''
def decay_after(theta0, lr, weight_decay, t):
    return theta0 * (1 - lr * weight_decay) ** max(t - 1, 0)
''', ''),
    ('03', 'steps_to_halve', 'ln 2 / (lr wd)'): ('''
import math
def steps_to_halve(lr, weight_decay):
    return max(1, math.ceil(math.log(2) / (lr * weight_decay)))
''', ''),
    ('03', 'steps_to_halve', 'floor of the logarithm'): ('''
import math
def steps_to_halve(lr, weight_decay):
    return max(1, int(math.log(0.5) / math.log(1 - lr * weight_decay)))
''', ''),
    ('03', 'steps_to_halve', 'a float'): ('''
import math
def steps_to_halve(lr, weight_decay):
    return float(max(1, math.ceil(math.log(0.5) / math.log(1 - lr * weight_decay))))
''', ''),
    ('03', 'adamw_step', 'no eps'): ('''
def adamw_step(theta, g, m, v, t, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.2):
    b1, b2 = betas
    theta = theta * (1 - lr * weight_decay)
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * g * g
    return theta - lr * (m / (1 - b1 ** t)) / np.sqrt(v / (1 - b2 ** t)), m, v
''', ''),
    ('03', 'adamw_step', 'eps inside the square root'): ('''
def adamw_step(theta, g, m, v, t, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.2):
    b1, b2 = betas
    theta = theta * (1 - lr * weight_decay)
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * g * g
    return theta - lr * (m / (1 - b1 ** t)) / np.sqrt(v / (1 - b2 ** t) + eps), m, v
''', ''),
    ('03', 'adamw_step', 'decay after the Adam step'): ('''
def adamw_step(theta, g, m, v, t, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.2):
    b1, b2 = betas
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * g * g
    theta = theta - lr * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + eps)
    return theta * (1 - lr * weight_decay), m, v
''', ''),
    ('03', 'adamw_step', 'returns the corrected moments'): ('''
def adamw_step(theta, g, m, v, t, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.2):
    b1, b2 = betas
    theta = theta * (1 - lr * weight_decay)
    m = (b1 * m + (1 - b1) * g) / (1 - b1 ** t)
    v = (b2 * v + (1 - b2) * g * g) / (1 - b2 ** t)
    return theta - lr * m / (np.sqrt(v) + eps), m, v
''', ''),
    ('03', 'adamw_step', 'in place'): ('''
def adamw_step(theta, g, m, v, t, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.2):
    b1, b2 = betas
    theta *= (1 - lr * weight_decay)
    m *= b1; m += (1 - b1) * g
    v *= b2; v += (1 - b2) * g * g
    theta -= lr * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + eps)
    return theta, m, v
''', ''),
    ('04', 'r_squared_line', 'r, not r squared'): ('''
def r_squared_line(y, lam):
    yc, lc = y - y.mean(), lam - lam.mean()
    if yc.std() <= 1e-12 * np.abs(y).max(): return 1.0
    return float((yc @ lc) / np.sqrt((yc @ yc) * (lc @ lc)))
''', ''),
    ('04', 'r_squared_line', 'exactly-zero flat test'): ('''
def r_squared_line(y, lam):
    yc, lc = y - y.mean(), lam - lam.mean()
    if yc.std() == 0: return 1.0
    return float((yc @ lc) ** 2 / ((yc @ yc) * (lc @ lc)))
''', ''),
    ('04', 'r_squared_line', 'absolute flat tolerance'): ('''
def r_squared_line(y, lam):
    yc, lc = y - y.mean(), lam - lam.mean()
    if yc.std() <= 1e-12: return 1.0
    return float((yc @ lc) ** 2 / ((yc @ yc) * (lc @ lc)))
''', ''),
    ('04', 'r_squared_line', 'lambda assumed 0..1'): ('''
def r_squared_line(y, lam):
    lam = np.linspace(0, 1, len(y))
    yc, lc = y - y.mean(), lam - lam.mean()
    if yc.std() <= 1e-12 * np.abs(y).max(): return 1.0
    return float((yc @ lc) ** 2 / ((yc @ yc) * (lc @ lc)))
''', ''),
    ('04', 'connectivity_pair', 'n_lambda gaps, not points'): ('''
def _r2(y, lam):
    yc, lc = y - y.mean(), lam - lam.mean()
    if yc.std() <= 1e-12 * np.abs(y).max(): return 1.0
    return float((yc @ lc) ** 2 / ((yc @ yc) * (lc @ lc)))
def connectivity_pair(f, xi, xj, n_lambda=21):
    lam = np.linspace(0, 1, n_lambda + 1)
    Y = f(xi[None] + lam[:, None] * (xj - xi)[None])
    return float(np.mean([_r2(Y[:, k], lam) for k in range(Y.shape[1])]))
''', ''),
    ('04', 'connectivity_pair', 'default 20'): ('''
def _r2(y, lam):
    yc, lc = y - y.mean(), lam - lam.mean()
    if yc.std() <= 1e-12 * np.abs(y).max(): return 1.0
    return float((yc @ lc) ** 2 / ((yc @ yc) * (lc @ lc)))
def connectivity_pair(f, xi, xj, n_lambda=20):
    lam = np.linspace(0, 1, n_lambda)
    Y = f(xi[None] + lam[:, None] * (xj - xi)[None])
    return float(np.mean([_r2(Y[:, k], lam) for k in range(Y.shape[1])]))
''', ''),
    ('04', 'connectivity_pair', 'constant output NaN'): ('''
def connectivity_pair(f, xi, xj, n_lambda=21):
    lam = np.linspace(0, 1, n_lambda)
    Y = f(xi[None] + lam[:, None] * (xj - xi)[None])
    return float(np.mean([np.corrcoef(Y[:, k], lam)[0, 1] ** 2 for k in range(Y.shape[1])]))
''', ''),
    ('04', 'connectivity_matrix', 'diagonal from f'): ('''
def _r2(y, lam):
    yc, lc = y - y.mean(), lam - lam.mean()
    if yc.std() <= 1e-12 * np.abs(y).max(): return 1.0
    return float((yc @ lc) ** 2 / ((yc @ yc) * (lc @ lc)))
def connectivity_matrix(f, X, n_lambda=21):
    lam = np.linspace(0, 1, n_lambda); n = len(X); L = np.eye(n)
    for i in range(n):
        for j in range(i + 1, n):
            Y = f(X[i][None] + lam[:, None] * (X[j] - X[i])[None])
            L[i, j] = L[j, i] = np.mean([_r2(Y[:, k], lam) for k in range(Y.shape[1])])
    return L
''', ''),
    ('04', 'connectivity_matrix', 'upper triangle only'): ('''
def _r2(y, lam):
    yc, lc = y - y.mean(), lam - lam.mean()
    if yc.std() <= 1e-12 * np.abs(y).max(): return 1.0
    return float((yc @ lc) ** 2 / ((yc @ yc) * (lc @ lc)))
def connectivity_matrix(f, X, n_lambda=21):
    lam = np.linspace(0, 1, n_lambda); n = len(X); L = np.eye(n)
    for i in range(n):
        for j in range(i + 1, n):
            if np.array_equal(X[i], X[j]): L[i, j] = 1.0; continue
            Y = f(X[i][None] + lam[:, None] * (X[j] - X[i])[None])
            L[i, j] = np.mean([_r2(Y[:, k], lam) for k in range(Y.shape[1])])
    return L
''', ''),
    ('04', 'connectivity_matrix', 'the engine'): ('''
from lmn_edu import engine, ops
def connectivity_matrix(f, X, n_lambda=21):
    return engine.connectivity(np.asarray(X, float), [("fn", f)], n_lambda, ops=ops.NUMPY_OPS)
''', 'calls lmn_edu.engine.connectivity'),
    ('05', 'entropy_from_eigenvalues', 'natural log'): ('''
def entropy_from_eigenvalues(mu):
    p = np.abs(mu) / np.abs(mu).sum(); p = p[p > 0]
    return float(-np.sum(p * np.log(p)))
''', ''),
    ('05', 'entropy_from_eigenvalues', 'signed eigenvalues'): ('''
def entropy_from_eigenvalues(mu):
    p = mu / mu.sum(); p = np.abs(p[p != 0])
    return float(-np.sum(p * np.log2(p)))
''', ''),
    ('05', 'entropy_from_eigenvalues', 'negative ones dropped'): ('''
def entropy_from_eigenvalues(mu):
    p = mu[mu > 0] / mu[mu > 0].sum()
    return float(-np.sum(p * np.log2(p)))
''', ''),
    ('05', 'lmn', 'e ** S'): ('''
def lmn(L):
    mu = np.linalg.eigvalsh(L); p = np.abs(mu) / np.abs(mu).sum(); p = p[p > 0]
    return float(np.exp(-np.sum(p * np.log2(p))))
''', ''),
    ('05', 'lmn', 'signed eigenvalues'): ('''
def lmn(L):
    mu = np.linalg.eigvalsh(L); mu = np.clip(mu, 0, None); p = mu / mu.sum(); p = p[p > 0]
    return float(2 ** -np.sum(p * np.log2(p)))
''', ''),
    ('05', 'two_block_lmn', 'eps ignored'): ('''
def two_block_lmn(n1, n2, eps):
    p = np.array([n1, n2]) / (n1 + n2)
    return float(2 ** -np.sum(p * np.log2(p)))
''', ''),
    ('06', 'ideal_soft_count', 'hard count'): ('''
def ideal_soft_count(region):
    return float(len(np.unique(region)))
''', ''),
    ('06', 'ideal_soft_count', 'bincount'): ('''
def ideal_soft_count(region):
    c = np.bincount(region); q = c[c > 0] / c.sum()
    return float(2 ** -(q * np.log2(q)).sum())
''', ''),
    ('06', 'sharp_silu', 'naive: overflows to -0'): ('''
def sharp_silu(z, beta):
    return z / (1 + np.exp(-beta * z))
''', 'FloatingPointError: overflow encountered in exp'),
    ('06', 'sharp_silu', 'np.where of two unclipped formulas'): ('''
def sharp_silu(z, beta):
    x = beta * np.asarray(z, float)
    return np.where(x >= 0, z / (1 + np.exp(-x)), z * np.exp(x) / (1 + np.exp(x)))
''', 'np.where computes both of its branches'),
    ('06', 'sharp_silu', 'naive, with the errors turned off inside'): ('''
from numpy import errstate
def sharp_silu(z, beta):
    with errstate(all="ignore"):
        return z / (1 + np.exp(-beta * z))
''', 'overflow encountered in exp'),
    ('06', 'sharp_silu', 'naive, errors off by a decorator and np.seterr'): ('''
@np.errstate(over="ignore", invalid="ignore")
def sharp_silu(z, beta):
    np.seterr(all="ignore")
    return z / (1 + np.exp(-beta * z))
''', 'overflow encountered in exp'),
    ('06', 'sharp_silu', 'beta ignored'): ('''
def sharp_silu(z, beta):
    return z * (1 + np.tanh(z / 2)) / 2
''', ''),
    ('06', 'sharp_silu', 'not divided by beta'): ('''
def sharp_silu(z, beta):
    return beta * z * (1 + np.tanh(beta * z / 2)) / 2
''', ''),
    ('06', 'sharp_silu', 'float32'): ('''
def sharp_silu(z, beta):
    z = np.asarray(z, np.float32)
    return z * (1 + np.tanh(np.float32(beta) * z / 2)) / 2
''', ''),
    ('06', 'relu_kinks', 'not deduplicated'): ('''
def relu_kinks(w, b, lo, hi):
    x = -b[w != 0] / w[w != 0]
    return np.sort(x[(x > lo) & (x < hi)])
''', ''),
    ('06', 'relu_kinks', 'ends included'): ('''
def relu_kinks(w, b, lo, hi):
    x = -b[w != 0] / w[w != 0]
    return np.unique(x[(x >= lo) & (x <= hi)])
''', ''),
    ('06', 'relu_kinks', 'unsorted (a set)'): ('''
def relu_kinks(w, b, lo, hi):
    x = -b[w != 0] / w[w != 0]
    return list(set(x[(x > lo) & (x < hi)].tolist()))[::-1]
''', 'not sorted'),
    ('06', 'relu_region_edges', 'first layer only'): ('''
def relu_region_edges(w1, b1, W2, b2, lo, hi):
    x = -b1[w1 != 0] / w1[w1 != 0]
    return np.unique(x[(x > lo) & (x < hi)])
''', ''),
    ('06', 'relu_region_edges', 'a grid'): ('''
def relu_region_edges(w1, b1, W2, b2, lo, hi):
    x = np.linspace(lo, hi, 100001)
    z1 = x[:, None] * w1 + b1; z2 = np.maximum(z1, 0) @ W2 + b2
    p = np.concatenate([z1 > 0, z2 > 0], axis=1)
    i = np.flatnonzero(np.any(p[1:] != p[:-1], axis=1))
    return (x[i] + x[i + 1]) / 2
''', ''),
    ('06', 'relu_region_edges', 'second layer solved globally'): ('''
def relu_region_edges(w1, b1, W2, b2, lo, hi):
    x1 = -b1[w1 != 0] / w1[w1 != 0]
    on = (((lo + hi) / 2) * w1 + b1) > 0
    a, c = (w1 * on) @ W2, (b1 * on) @ W2 + b2
    x2 = -c[a != 0] / a[a != 0]
    x = np.concatenate([x1, x2])
    return np.unique(x[(x > lo) & (x < hi)])
''', ''),
    ('07', 'phase_boundaries', 'last time it reaches 1'): ('''
def phase_boundaries(rows):
    def f(key):
        s = None
        for r in rows:
            v = r.get(key)
            if v is None: continue
            if v >= 1 and s is None: s = r["step"]
            elif v < 1: s = None
        return s
    return f("train_acc"), f("test_acc")
''', ''),
    ('07', 'phase_boundaries', 'index, not step'): ('''
def phase_boundaries(rows):
    f = lambda key: next((i for i, r in enumerate(rows) if r.get(key) is not None and r[key] >= 1), None)
    return f("train_acc"), f("test_acc")
''', ''),
    ('07', 'generalizing_window', 'always lmn_h1'): ('''
def generalizing_window(rows, column="lmn_h1"):
    f = lambda key: next((r["step"] for r in rows if r.get(key) is not None and r[key] >= 1), None)
    mem, gen = f("train_acc"), f("test_acc")
    if mem is None: return []
    end = gen if gen is not None else rows[-1]["step"]
    return [r for r in rows if mem <= r["step"] <= end and r.get("lmn_h1") is not None]
''', ''),
    ('07', 'generalizing_window', 'end excluded'): ('''
def generalizing_window(rows, column="lmn_h1"):
    f = lambda key: next((r["step"] for r in rows if r.get(key) is not None and r[key] >= 1), None)
    mem, gen = f("train_acc"), f("test_acc")
    if mem is None: return []
    end = gen if gen is not None else rows[-1]["step"] + 1
    return [r for r in rows if mem <= r["step"] < end and r.get(column) is not None]
''', ''),
    ('07', 'generalizing_window', 'never generalized: empty'): ('''
def generalizing_window(rows, column="lmn_h1"):
    f = lambda key: next((r["step"] for r in rows if r.get(key) is not None and r[key] >= 1), None)
    mem, gen = f("train_acc"), f("test_acc")
    if mem is None or gen is None: return []
    return [r for r in rows if mem <= r["step"] <= gen and r.get(column) is not None]
''', ''),
    ('07', 'settled_step', 'None breaks a stretch'): ('''
def settled_step(rows, key="train_acc", threshold=0.99, patience=3):
    start, n = None, 0
    for r in rows:
        v = r.get(key)
        if v is not None and v >= threshold:
            start, n = (r["step"] if n == 0 else start), n + 1
            if n >= patience: return start
        else:
            n = 0
    return start if n else None
''', ''),
    ('07', 'settled_step', 'a short stretch at the end is not enough'): ('''
def settled_step(rows, key="train_acc", threshold=0.99, patience=3):
    start, n = None, 0
    for r in rows:
        v = r.get(key)
        if v is None: continue
        if v >= threshold:
            start, n = (r["step"] if n == 0 else start), n + 1
            if n >= patience: return start
        else:
            n = 0
    return None
''', ''),
    ('07', 'settled_step', 'strictly above'): ('''
def settled_step(rows, key="train_acc", threshold=0.99, patience=3):
    start, n = None, 0
    for r in rows:
        v = r.get(key)
        if v is None: continue
        if v > threshold:
            start, n = (r["step"] if n == 0 else start), n + 1
            if n >= patience: return start
        else:
            n = 0
    return start if n else None
''', ''),
    ('08', 'linear_fit_r2', 'r, not r squared'): ('''
def linear_fit_r2(x, y):
    xc, yc = x - x.mean(), y - y.mean()
    if not np.any(yc): return 1.0
    return float((xc @ yc) / np.sqrt((xc @ xc) * (yc @ yc)))
''', ''),
    ('08', 'linear_fit_r2', 'constant y: NaN'): ('''
def linear_fit_r2(x, y):
    return float(np.corrcoef(x, y)[0, 1] ** 2)
''', ''),
    ('08', 'spearman', 'ties not averaged'): ('''
def spearman(x, y):
    rx, ry = np.argsort(np.argsort(x)).astype(float), np.argsort(np.argsort(y)).astype(float)
    return float(np.corrcoef(rx, ry)[0, 1])
''', ''),
    ('08', 'spearman', 'Pearson of the values'): ('''
def spearman(x, y):
    return float(np.corrcoef(x, y)[0, 1])
''', ''),
    ('08', 'curve_share', 'not centred: normal equations'): ('''
def curve_share(x, y):
    ss = ((y - y.mean()) ** 2).sum()
    def r2(d):
        A = np.vander(x, d + 1); c = np.linalg.solve(A.T @ A, A.T @ y)
        return 1 - ((y - A @ c) ** 2).sum() / ss
    lin, quad = r2(1), r2(2)
    return float((quad - lin) / (1 - lin))
''', ''),
    ('08', 'curve_share', 'R2 difference, not share'): ('''
def curve_share(x, y):
    s = (x - x.mean()) / x.std(); ss = ((y - y.mean()) ** 2).sum()
    def r2(d):
        A = np.vander(s, d + 1); c = np.linalg.lstsq(A, y, rcond=None)[0]
        return 1 - ((y - A @ c) ** 2).sum() / ss
    return float(r2(2) - r2(1))
''', ''),
    ('09', 'tail_h1', 'relu'): ('''
def tail_h1(params, h1):
    return np.maximum(h1 @ params["W2"] + params["b2"], 0) @ params["W3"] + params["b3"]
''', ''),
    ('09', 'tail_h1', 'no output bias'): ('''
def tail_h1(params, h1):
    z = h1 @ params["W2"] + params["b2"]
    return (z / (1 + np.exp(-z))) @ params["W3"]
''', ''),
    ('09', 'tail_emb', 'one SiLU too few'): ('''
def tail_emb(params, emb):
    z = emb @ params["W1"] + params["b1"]
    return (z @ params["W2"] + params["b2"]) @ params["W3"] + params["b3"]
''', ''),
    ('09', 'connectivity_via_z2', 'lines in h1 (W2 on every line)'): ('''
def _s(z): return z / (1 + np.exp(-z))
def connectivity_via_z2(params, h1, n_lambda=21):
    lam = np.linspace(0, 1, n_lambda); lc = lam - lam.mean(); n = len(h1); L = np.eye(n)
    for i in range(n):
        for j in range(i + 1, n):
            if np.array_equal(h1[i], h1[j]): L[i, j] = L[j, i] = 1.0; continue
            x = h1[i] + lam[:, None] * (h1[j] - h1[i])
            y = _s(x @ params["W2"] + params["b2"]) @ params["W3"] + params["b3"]
            yc = y - y.mean(axis=0)
            flat = yc.std(axis=0) <= 1e-12 * np.abs(y).max()
            with np.errstate(divide="ignore", invalid="ignore"):
                r2 = np.where(flat, 1.0, (lc @ yc) ** 2 / ((yc * yc).sum(axis=0) * (lc @ lc)))
            L[i, j] = L[j, i] = float(r2.mean())
    return L
''', 'walk each line in z2, not in h1'),
    ('09', 'connectivity_via_z2', 'all lines at once in h1, by np.dot'): ('''
def connectivity_via_z2(params, h1, n_lambda=21):
    lam = np.linspace(0, 1, n_lambda)
    n = len(h1)
    i, j = np.triu_indices(n, 1)
    x = h1[i][:, None] + lam[None, :, None] * (h1[j] - h1[i])[:, None]     # (P, n_lambda, H): lines in h1
    z = np.dot(x, params["W2"]) + params["b2"]
    y = z / (1 + np.exp(-z)) @ params["W3"] + params["b3"]
    yc, lc = y - y.mean(axis=1, keepdims=True), lam - lam.mean()
    flat = yc.std(axis=1) <= 1e-12 * np.abs(y).max(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = np.where(flat, 1.0, np.einsum("l,plc->pc", lc, yc) ** 2 / ((yc * yc).sum(axis=1) * (lc @ lc)))
    L = np.eye(n)
    L[i, j] = L[j, i] = np.where(np.all(h1[i] == h1[j], axis=1), 1.0, r2.mean(axis=1))
    return L
''', 'walk each line in z2, not in h1'),
    ('09', 'connectivity_via_z2', 'the engine'): ('''
from lmn_edu import engine, mlp, ops
def connectivity_via_z2(params, h1, n_lambda=21):
    return engine.connectivity(h1, mlp.tail_stages(params, "h1"), n_lambda, ops=ops.NUMPY_OPS)
''', 'calls lmn_edu.'),
    ('09', 'connectivity_via_z2', 'exact-zero flat rule'): ('''
def _s(z): return z / (1 + np.exp(-z))
def connectivity_via_z2(params, h1, n_lambda=21):
    z2 = h1 @ params["W2"] + params["b2"]
    lam = np.linspace(0, 1, n_lambda); lc = lam - lam.mean(); n = len(h1); L = np.eye(n)
    for i in range(n):
        for j in range(i + 1, n):
            if np.array_equal(h1[i], h1[j]): L[i, j] = L[j, i] = 1.0; continue
            y = _s(z2[i] + lam[:, None] * (z2[j] - z2[i])) @ params["W3"] + params["b3"]
            yc = y - y.mean(axis=0)
            with np.errstate(divide="ignore", invalid="ignore"):
                r2 = np.where(yc.std(axis=0) == 0, 1.0, (lc @ yc) ** 2 / ((yc * yc).sum(axis=0) * (lc @ lc)))
            L[i, j] = L[j, i] = float(r2.mean())
    return L
''', ''),
    ('10', 'mean_offdiagonal', 'the diagonal included'): ('''
def mean_offdiagonal(L):
    return float(L.mean())
''', ''),
    ('10', 'mean_offdiagonal', 'the diagonal assumed 1'): ('''
def mean_offdiagonal(L):
    n = len(L)
    return float((L.sum() - n) / (n * n - n))
''', ''),
    ('10', 'negative_share', 'no tolerance'): ('''
def negative_share(L):
    mu = np.linalg.eigvalsh(L); neg = mu < 0
    return float(np.mean(neg)), float(np.abs(mu[neg]).sum() / np.abs(mu).sum())
''', ''),
    ('10', 'negative_share', 'share of the signed sum'): ('''
def negative_share(L):
    mu = np.linalg.eigvalsh(L); neg = mu < -1e-12 * np.abs(mu).max()
    return float(np.mean(neg)), float(-mu[neg].sum() / mu.sum())
''', ''),
    ('10', 'negative_share', 'a count, not a fraction'): ('''
def negative_share(L):
    mu = np.linalg.eigvalsh(L); neg = mu < -1e-12 * np.abs(mu).max()
    return float(np.sum(neg)), float(np.abs(mu[neg]).sum() / np.abs(mu).sum())
''', ''),
    ('10', 'linear_groups', 'at the threshold is a link'): ('''
def linear_groups(L, threshold=0.5):
    L = np.asarray(L); lab = np.full(len(L), -1); g = 0
    for s in range(len(L)):
        if lab[s] >= 0: continue
        lab[s], todo = g, [s]
        while todo:
            i = todo.pop()
            for j in np.flatnonzero((L[i] >= threshold) & (lab < 0)): lab[j] = g; todo.append(j)
        g += 1
    return lab
''', ''),
    ('10', 'linear_groups', 'direct links only'): ('''
def linear_groups(L, threshold=0.5):
    L = np.asarray(L); lab = np.full(len(L), -1); g = 0
    for s in range(len(L)):
        if lab[s] >= 0: continue
        lab[(L[s] > threshold) & (lab < 0)] = g; lab[s] = g; g += 1
    return lab
''', ''),
    ('10', 'linear_groups', 'threshold ignored (0.5)'): ('''
def linear_groups(L, threshold=0.5):
    threshold = 0.5
    L = np.asarray(L); lab = np.full(len(L), -1); g = 0
    for s in range(len(L)):
        if lab[s] >= 0: continue
        lab[s], todo = g, [s]
        while todo:
            i = todo.pop()
            for j in np.flatnonzero((L[i] > threshold) & (lab < 0)): lab[j] = g; todo.append(j)
        g += 1
    return lab
''', ''),
    ('11', 'bit_cases', 'a and b swapped'): ('''
def bit_cases(a, b, k):
    return 2 * ((np.asarray(b) >> k) & 1) + ((np.asarray(a) >> k) & 1)
''', ''),
    ('11', 'bit_cases', 'bit k+1'): ('''
def bit_cases(a, b, k):
    return 2 * ((np.asarray(a) >> (k + 1)) & 1) + ((np.asarray(b) >> (k + 1)) & 1)
''', ''),
    ('11', 'local_minima', 'strict neighbours only (no flat bottoms)'): ('''
def local_minima(values):
    v = np.asarray(values)
    return [i for i in range(1, len(v) - 1) if v[i] < v[i - 1] and v[i] < v[i + 1]]
''', ''),
    ('11', 'local_minima', 'flat bottom at its first index'): ('''
def local_minima(values):
    v = list(values); found, i = [], 1
    while i < len(v) - 1:
        if v[i] < v[i - 1]:
            j = i
            while j + 1 < len(v) and v[j + 1] == v[i]: j += 1
            if j + 1 < len(v) and v[j + 1] > v[i]: found.append(i)
            i = j + 1
        else: i += 1
    return found
''', ''),
    ('11', 'turning_points', 'prominence ignored'): ('''
def _mins(v):
    v = list(v); found, i = [], 1
    while i < len(v) - 1:
        if v[i] < v[i - 1]:
            j = i
            while j + 1 < len(v) and v[j + 1] == v[i]: j += 1
            if j + 1 < len(v) and v[j + 1] > v[i]: found.append((i + j) // 2)
            i = j + 1
        else: i += 1
    return found
def turning_points(steps, values, after=0, prominence=0.5):
    keep = [(s, float(v)) for s, v in zip(steps, values) if s >= after]
    s, v = [p[0] for p in keep], np.array([p[1] for p in keep])
    lows = _mins(v)
    if not lows: return []
    out = [("min", int(s[lows[0]]), float(v[lows[0]]))]
    highs = [i for i in _mins(-v) if i > lows[0]]
    if highs: out.append(("max", int(s[highs[0]]), float(v[highs[0]])))
    return out
''', ''),
    ('11', 'turning_points', 'after ignored'): ('''
def _mins(v):
    v = list(v); found, i = [], 1
    while i < len(v) - 1:
        if v[i] < v[i - 1]:
            j = i
            while j + 1 < len(v) and v[j + 1] == v[i]: j += 1
            if j + 1 < len(v) and v[j + 1] > v[i]: found.append((i + j) // 2)
            i = j + 1
        else: i += 1
    return found
def _prom(v, i):
    lows = []
    for d in (-1, 1):
        k, low = i, v[i]
        while 0 <= k + d < len(v) and v[k + d] <= v[i]:
            k += d; low = min(low, v[k])
        lows.append(low)
    return v[i] - max(lows)
def turning_points(steps, values, after=0, prominence=0.5):
    s, v = list(steps), np.asarray(values, float)
    lows = [i for i in _mins(v) if _prom(-v, i) >= prominence]
    if not lows: return []
    out = [("min", int(s[lows[0]]), float(v[lows[0]]))]
    highs = [i for i in _mins(-v) if i > lows[0] and _prom(v, i) >= prominence]
    if highs: out.append(("max", int(s[highs[0]]), float(v[highs[0]])))
    return out
''', ''),
    ('12', 'collapse_margin', 'ln(1/eps)'): ('''
def collapse_margin(dtype):
    return float(np.log(1 / np.finfo(dtype).eps))
''', ''),
    ('12', 'collapse_margin', 'log2'): ('''
def collapse_margin(dtype):
    return float(np.log2(2 / np.finfo(dtype).eps))
''', ''),
    ('12', 'max_relative_difference', 'divided by |b|'): ('''
def max_relative_difference(rows_a, rows_b, key):
    b = {r["step"]: r.get(key) for r in rows_b}
    d = [abs(r[key] - b[r["step"]]) / max(abs(b[r["step"]]), 1e-12) for r in rows_a
         if r.get(key) is not None and b.get(r["step"]) is not None]
    return max(d) if d else None
''', ''),
    ('12', 'max_relative_difference', 'matched by position'): ('''
def max_relative_difference(rows_a, rows_b, key):
    d = [abs(a[key] - b[key]) / max(abs(a[key]), 1e-12) for a, b in zip(rows_a, rows_b)
         if a.get(key) is not None and b.get(key) is not None]
    return max(d) if d else None
''', ''),
    ('12', 'max_relative_difference', 'no guard: 0 when a = 0'): ('''
def max_relative_difference(rows_a, rows_b, key):
    b = {r["step"]: r.get(key) for r in rows_b}
    d = [abs(r[key] - b[r["step"]]) / abs(r[key]) if r[key] else 0.0 for r in rows_a
         if r.get(key) is not None and b.get(r["step"]) is not None]
    return max(d) if d else None
''', ''),
    ('12', 'cross_entropy_in', 'float64, cast at the end'): ('''
def cross_entropy_in(logits, labels, dtype):
    z = np.asarray(logits, float); top = z.max(axis=1)
    lse = top + np.log(np.exp(z - top[:, None]).sum(axis=1))
    return (lse - z[np.arange(len(z)), labels]).astype(dtype)
''', ''),
    ('12', 'cross_entropy_in', 'no shift'): ('''
def cross_entropy_in(logits, labels, dtype):
    z = np.asarray(logits).astype(dtype)
    return np.log(np.exp(z).sum(axis=1)) - z[np.arange(len(z)), labels]
''', ''),
    ('13', 'embed_sequences', 'no position embedding'): ('''
def embed_sequences(params, inputs):
    eq = params["W_E"].shape[0] - 1
    seq = np.column_stack([inputs, np.full(len(inputs), eq)])
    return params["W_E"][seq].reshape(len(inputs), -1)
''', ''),
    ('13', 'embed_sequences', 'equals token first'): ('''
def embed_sequences(params, inputs):
    eq = params["W_E"].shape[0] - 1
    seq = np.column_stack([np.full(len(inputs), eq), inputs])
    return (params["W_E"][seq] + params["W_pos"]).reshape(len(inputs), -1)
''', ''),
    ('13', 'attention_from_equals', 'scaled by sqrt(d)'): ('''
def attention_from_equals(params, x, n_heads):
    M, T, d = x.shape; dh = d // n_heads
    q = (x[:, -1] @ params["W_Q"]).reshape(M, n_heads, dh)
    k = (x @ params["W_K"]).reshape(M, T, n_heads, dh); v = (x @ params["W_V"]).reshape(M, T, n_heads, dh)
    s = np.einsum("mhe,mthe->mht", q, k) / np.sqrt(d)
    w = np.exp(s - s.max(axis=-1, keepdims=True)); w /= w.sum(axis=-1, keepdims=True)
    return np.einsum("mht,mthe->mhe", w, v).reshape(M, d) @ params["W_O"]
''', ''),
    ('13', 'attention_from_equals', 'no W_O'): ('''
def attention_from_equals(params, x, n_heads):
    M, T, d = x.shape; dh = d // n_heads
    q = (x[:, -1] @ params["W_Q"]).reshape(M, n_heads, dh)
    k = (x @ params["W_K"]).reshape(M, T, n_heads, dh); v = (x @ params["W_V"]).reshape(M, T, n_heads, dh)
    s = np.einsum("mhe,mthe->mht", q, k) / np.sqrt(dh)
    w = np.exp(s - s.max(axis=-1, keepdims=True)); w /= w.sum(axis=-1, keepdims=True)
    return np.einsum("mht,mthe->mhe", w, v).reshape(M, d)
''', ''),
    ('13', 'transformer_lmn', 'no residual'): ('''
import lmn_edu
from lmn_edu import transformer
def transformer_lmn(params, inputs, n_heads, layer):
    d = params["W_E"].shape[1]
    eq = params["W_E"].shape[0] - 1
    X = (params["W_E"][np.column_stack([inputs, np.full(len(inputs), eq)])] + params["W_pos"]).reshape(len(inputs), -1)
    att = lambda x: transformer.attention(params, x.reshape(len(x), 3, d), n_heads)
    out = lambda r: transformer.unembed(params, transformer.mlp_block(params, r))
    if layer == "emb":
        return lmn_edu.linear_mapping_number(lmn_edu.connectivity_matrix(lambda x: out(att(x)), X))
    return lmn_edu.linear_mapping_number(lmn_edu.connectivity_matrix(out, att(X)))
''', ''),
}

RIGHT = {   # (lesson, exercise, which correct variant): the answer
    ("06", "sharp_silu", "the tanh form"): """
def sharp_silu(z, beta):
    return z * (1 + np.tanh(beta * z / 2)) / 2
""",
    ("06", "sharp_silu", "np.where of two formulas, each exponentiating −|βz| only"): """
def sharp_silu(z, beta):
    z = np.asarray(z, float)
    e = np.exp(-np.abs(beta * z))
    return np.where(z >= 0, z / (1 + e), z * e / (1 + e))
""",
    ("06", "sharp_silu", "logaddexp"): """
def sharp_silu(z, beta):
    return z * np.exp(-np.logaddexp(0, -beta * np.asarray(z, float)))
""",
    ("08", "curve_share", "np.polyfit on x itself (it scales its columns)"): """
def curve_share(x, y):
    ss = ((y - y.mean()) ** 2).sum()
    r2 = lambda d: 1 - ((y - np.polyval(np.polyfit(x, y, d), x)) ** 2).sum() / ss
    lin, quad = r2(1), r2(2)
    return float((quad - lin) / (1 - lin))
""",
    ("09", "connectivity_via_z2", "the endpoint and the difference of each pair through W2"): """
def connectivity_via_z2(params, h1, n_lambda=21):
    W2, b2 = params["W2"], params["b2"]
    lam = np.linspace(0, 1, n_lambda)
    lc = lam - lam.mean()
    n = len(h1)
    L = np.eye(n)
    for i in range(n):
        for j in range(i + 1, n):
            if np.array_equal(h1[i], h1[j]):
                L[i, j] = L[j, i] = 1.0
                continue
            z = np.dot(h1[i], W2) + b2 + lam[:, None] * np.einsum("h,hk->k", h1[j] - h1[i], W2)
            y = z / (1 + np.exp(-z)) @ params["W3"] + params["b3"]
            yc = y - y.mean(axis=0)
            flat = yc.std(axis=0) <= 1e-12 * np.abs(y).max()
            with np.errstate(divide="ignore", invalid="ignore"):
                r2 = np.where(flat, 1.0, (lc @ yc) ** 2 / ((yc * yc).sum(axis=0) * (lc @ lc)))
            L[i, j] = L[j, i] = float(r2.mean())
    return L
""",
}

ANSWER = """
def _answer(source, name):
    scope = {"np": np}
    exec(source, scope)
    return scope[name]
"""


def _grade_answers(tmp_path, lesson, answers, seed=12345):
    """{(exercise, label): Result} of each answer [(exercise, label, source)], one child for them all."""
    checks = course.load_checks()[lesson]
    path = tmp_path / f"{lesson}_answers.py"
    lines = ["import numpy as np", ANSWER]
    exercises, keys = [], {}
    for k, (name, label, source) in enumerate(answers):
        lines.append(f"{name}__{k} = _answer({textwrap.dedent(source)!r}, {name!r})")
        exercises.append(dataclasses.replace(checks[name], name=f"{name}__{k}"))
        keys[f"{name}__{k}"] = (name, label)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    results = grading.grade_file(exercises, path, checks=(course.LESSONS / "checks.py", course.CHECKS_MODULE),
                                 seed=seed, timeout=20)
    return {keys[r.exercise]: r for r in results}


@pytest.mark.parametrize("lesson", sorted({key[0] for key in WRONG}))
def test_the_likeliest_wrong_answers_fail(lesson, tmp_path):
    answers = [(name, label, source) for (les, name, label), (source, _) in WRONG.items() if les == lesson]
    results = _grade_answers(tmp_path, lesson, answers)
    for (name, label), r in results.items():
        words = WRONG[(lesson, name, label)][1]
        assert not r.passed, f"{lesson} {name}: the wrong answer '{label}' passes"
        assert not r.reason.startswith(("the checker could not", "the answer could not be checked")), r.reason
        assert words in r.reason, (label, words, r.reason)


@pytest.mark.parametrize("lesson", sorted({key[0] for key in RIGHT}))
def test_right_variants_pass(lesson, tmp_path):
    answers = [(name, label, source) for (les, name, label), source in RIGHT.items() if les == lesson]
    for (name, label), r in _grade_answers(tmp_path, lesson, answers).items():
        assert r.passed, f"{lesson} {name}: the right answer '{label}' fails: {r.reason}"


def test_an_overflow_that_looks_right_fails_and_says_where(tmp_path):
    # z / (1 + e^(−βz)): e^(−βz) = inf where βz < −709, and z / inf = −0.0, the right value to
    # rounding; only the overflow itself tells this answer from a right one.
    naive = "def sharp_silu(z, beta):\n    return z / (1 + np.exp(-beta * z))\n"
    r = _grade_answers(tmp_path, "06", [("sharp_silu", "naive", naive)], seed=7)[("sharp_silu", "naive")]
    assert not r.passed and "z = -10000.0" in r.reason and "overflow encountered in exp" in r.reason, r.reason
    hushed = "import warnings\nwarnings.simplefilter('ignore')\nnp.seterr(all='ignore')\n" + naive
    path = tmp_path / "06_hushed.py"                 # silenced for the whole file: still an overflow
    path.write_text("import numpy as np\n" + hushed, encoding="utf-8")
    verdict = dict((name, (ok, why)) for name, ok, why in course.run_checks("06", path=path, seed=7))
    assert verdict["sharp_silu"][0] is False and "overflow" in verdict["sharp_silu"][1], verdict["sharp_silu"]
    solution = dict((name, ok) for name, ok, _ in course.run_checks("06", solutions=True, seed=7))
    assert solution["sharp_silu"]


def test_output_marks_are_found_when_split_across_reads():
    from types import SimpleNamespace
    from lmn_edu.sandbox import Child
    mark = b"\x1eabcdef\x1e"
    stream = b"debug \x1e" + mark + b"more" + mark + b"tail\x1e"   # a student's own \x1e is kept
    for cut in range(1, len(stream)):                                 # every place a read may end
        c = SimpleNamespace(_mark=mark, _tail=b"")
        parts = [Child._unmark(c, stream[:cut]), Child._unmark(c, stream[cut:]), Child._unmark(c, b"")]
        assert b"".join(p[0] for p in parts) == b"debug \x1emoretail\x1e" and sum(p[1] for p in parts) == 2, cut
