"""Misuse of the public API (DESIGN.md §4): malformed arguments raise LMNInputError, whose
one-line message names the argument, and no other exception escapes (hypothesis).

Two properties per public function:
- any argument replaced by junk (wrong types, shapes, dtypes, NaN/inf, None, strings, bools,
  empty arrays): the call returns or raises LMNInputError, nothing else;
- an argument replaced by a value that is invalid by construction: LMNInputError naming it.
"""
import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from strategies import small_model

import lmn_edu

MISUSE = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# A valid small case for every function: vocab 5, emb 2, hidden 3, 4 classes, 6 pairs.
PARAMS, INPUTS, LABELS = small_model(0, n=6, vocab=5, classes=4, emb=2, hidden=3)
LOGITS = lmn_edu.forward(PARAMS, INPUTS)
X = np.random.default_rng(1).normal(size=(4, 2))
L = lmn_edu.connectivity_matrix(np.tanh, X)
LAM = lmn_edu.lambdas(5)
Y = np.random.default_rng(2).normal(size=(3, 5, 2))
TASK = lmn_edu.make_task("s4")
OPT = lmn_edu.AdamW()
STATE = OPT.init(PARAMS)


def rng():
    return np.random.default_rng(0)


# name -> (function, valid keyword arguments); a callable value is called for a fresh one.
CALLS = {
    "make_task": (lmn_edu.make_task, dict(name="add")),
    "split": (lmn_edu.split, dict(task=TASK, train_frac=0.8, rng=rng)),
    "init_params": (lmn_edu.init_params, dict(rng=rng, vocab_size=5, n_classes=4, emb_dim=2, hidden=3,
                                              dtype=np.float64)),
    "forward": (lmn_edu.forward, dict(params=PARAMS, inputs=INPUTS)),
    "representations": (lmn_edu.representations, dict(params=PARAMS, inputs=INPUTS)),
    "connectivity_matrix": (lmn_edu.connectivity_matrix, dict(f=lambda: np.tanh, X=X, n_lambda=5)),
    "lmn_of": (lmn_edu.lmn_of, dict(f=lambda: np.tanh, X=X, n_lambda=5)),
    "nonlinear_entropy": (lmn_edu.nonlinear_entropy, dict(L=L)),
    "linear_mapping_number": (lmn_edu.linear_mapping_number, dict(L=L)),
    "spectrum": (lmn_edu.spectrum, dict(L=L)),
    "r_squared": (lmn_edu.r_squared, dict(y=Y, lam=LAM, rtol=None)),
    "lambdas": (lmn_edu.lambdas, dict(n_lambda=5)),
    "layer_lmn": (lmn_edu.layer_lmn, dict(params=PARAMS, inputs=INPUTS, layer="h1", output="logits",
                                          n_lambda=5, precision="float64")),
    "layers_lmn": (lmn_edu.layers_lmn, dict(params=PARAMS, inputs=INPUTS, layers=("emb", "h1"), output="probs",
                                            n_lambda=5, precision="float32")),
    "layer_connectivity": (lmn_edu.layer_connectivity, dict(params=PARAMS, inputs=INPUTS, layer="emb",
                                                            output="logits", n_lambda=5, precision="float64")),
    "tail_function": (lmn_edu.tail_function, dict(params=PARAMS, layer="z2", output="probs")),
    "AdamW": (lmn_edu.AdamW, dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.2)),
    "AdamW.init": (OPT.init, dict(params=PARAMS)),
    "AdamW.step": (OPT.step, dict(params=PARAMS, grads=PARAMS, state=STATE)),
    "cross_entropy": (lmn_edu.cross_entropy, dict(logits=LOGITS, labels=LABELS)),
    "loss": (lmn_edu.loss, dict(params=PARAMS, inputs=INPUTS, labels=LABELS)),
    "accuracy": (lmn_edu.accuracy, dict(logits=LOGITS, labels=LABELS)),
    "l2_norm": (lmn_edu.l2_norm, dict(params=PARAMS)),
}


def call(name, /, **changes):
    fn, kwargs = CALLS[name]
    kwargs = {k: v() if callable(v) and k in ("rng", "f") else v for k, v in kwargs.items()}
    kwargs.update(changes)
    return fn(**kwargs)


def test_every_public_function_is_covered():
    public = {n for n in lmn_edu.__all__ if callable(getattr(lmn_edu, n)) and n not in ("RunConfig", "Task")}
    assert public <= set(CALLS) | {"LMNInputError"}


def test_valid_calls_run():
    for name in CALLS:
        call(name)


# --- junk of every kind ------------------------------------------------------------------------

small_shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3)
BAD_CALLABLES = [    # f returning what is not (M, d_out) finite real numbers
    lambda x: "a", lambda x: None, lambda x: [[object()]], lambda x: x.astype(complex),
    lambda x: x[:, :, None], lambda x: x[:1], lambda x: np.full(x.shape, np.nan), lambda x: x > 0,
    lambda x: np.full(x.shape, "a"), lambda x: [[1.0], [1.0, 2.0]],
]
bad_callables = st.sampled_from(BAD_CALLABLES)
junk = st.one_of(
    st.none(), st.booleans(), st.text(max_size=3), st.binary(max_size=2),
    st.integers(-3, 4), st.floats(-4, 4), st.sampled_from([np.nan, np.inf, -np.inf, 0.5, -0.0]),
    st.complex_numbers(max_magnitude=2), st.sampled_from([np.bool_(True), np.float32(0.5), np.int64(-1), np.nan,
                                                      np.timedelta64("NaT"), np.timedelta64(3, "D"),
                                                      np.datetime64("2020-01-01")]),
    st.lists(st.integers(-2, 2), max_size=3), st.lists(st.lists(st.floats(-2, 2), max_size=3), max_size=3),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=2), st.just(object()),
    hnp.arrays(hnp.scalar_dtypes(), small_shapes),
    hnp.arrays(hnp.unicode_string_dtypes(max_len=2), small_shapes),
    bad_callables,
)


def corrupted(d):
    """The dict d with one key removed, one key added, or one value replaced by junk."""
    keys = sorted(d)
    return st.one_of(
        st.sampled_from(keys).map(lambda k: {j: v for j, v in d.items() if j != k}),
        junk.map(lambda v: {**d, "extra": v}),
        st.tuples(st.sampled_from(keys), junk).map(lambda kv: {**d, kv[0]: kv[1]}),
    )


def junk_for(name, arg):
    value = CALLS[name][1][arg]
    if isinstance(value, dict) and value:
        return st.one_of(junk, corrupted(value))
    return junk


@pytest.mark.parametrize("name", sorted(CALLS))
@MISUSE
@given(data=st.data())
def test_only_lmn_input_error_escapes(name, data):
    arg = data.draw(st.sampled_from(sorted(CALLS[name][1])), "argument")
    value = data.draw(junk_for(name, arg), "value")
    try:
        call(name, **{arg: value})
    except lmn_edu.LMNInputError as e:
        assert "\n" not in str(e)                              # one line


# --- values invalid by construction: the error names the argument -------------------------------

def without(d, key):
    return {k: v for k, v in d.items() if k != key}


NAN_W2 = {**PARAMS, "W2": PARAMS["W2"] * np.nan}
INVALID = {
    "X": [np.zeros(5), np.zeros((0, 3)), np.ones((3, 2), bool), np.array([["a", "b"]]), np.ones((2, 2), complex),
          np.array([[np.nan, 1.0]]), None, "X", {"a": 1}],
    "L": [np.ones((2, 3)), np.zeros((2, 2)), np.eye(2, dtype=bool), np.array([[1.0, 0.2], [0.3, 1.0]]),
          np.array([[np.inf]]), [["a"]], None],
    "y": [np.zeros((3, 5)), np.zeros((3, 4, 2)), np.full((1, 5, 1), np.nan), np.ones((1, 5, 1), complex), None],
    "lam": [np.zeros(5), LAM[:4], np.array([0.0, 0.5, np.inf, 1.0, 1.0]), "lam"],
    "rtol": [-1.0, np.nan, "0", True, 1j],
    "f": [None, "f", 3, *BAD_CALLABLES],
    "n_lambda": [2, 1, 0, -4, 2.5, "21", None, True, np.nan, np.inf],
    "params": [None, [], without(PARAMS, "W2"), {**PARAMS, "W1": PARAMS["W1"][:3]},
               {**PARAMS, "b3": PARAMS["b3"][:2]}, {**PARAMS, "emb": PARAMS["emb"].astype(int)},
               {**PARAMS, "emb": PARAMS["emb"].tolist()}, {**PARAMS, "W3": PARAMS["W3"].astype(complex)}],
    "inputs": [INPUTS - 1, INPUTS + 1, INPUTS.astype(float), INPUTS[:, :1], INPUTS.astype(bool), INPUTS.ravel(),
               [["a", "b"]], None],
    "labels": [LABELS - 1, LABELS + 1, LABELS[:3], LABELS.astype(float), None, "labels"],
    "logits": [LOGITS[0], np.zeros((0, 4)), LOGITS.astype(complex), None],
    "layer": ["logits", "h3", None, 1, ["h1"]],
    "layers": ["h1", (), [], None, ("h1", "h9"), 3],
    "output": ["softmax", None, 0],
    "precision": ["float16", "double", 32, None],
    "name": ["mul", "", None, 3, ["add"], np.array([1, 2])],
    "task": ["add", None, 3],
    "train_frac": [0.0, 1.0, -0.1, 1.5, np.nan, np.inf, True, "0.8", None, 1j],
    "rng": [None, 0, "rng", np.random],
    "vocab_size": [0, -1, 2.5, "5", None, True],
    "n_classes": [0, 1.5, None, False],
    "emb_dim": [0, "2", None],
    "hidden": [0, 3.5, None],
    "dtype": [int, np.int32, bool, complex, "int64", "nonsense", object],
    "lr": [0, -1, np.nan, np.inf, "1e-3", None, True],
    "eps": [0, -1.0, np.nan, np.inf, None],
    "weight_decay": [-0.1, np.nan, np.inf, "0.2", None],
    "betas": [(0.9,), (0.9, 0.999, 0.9), (0.9, 1.0), (-0.1, 0.9), (0.9, np.nan), "ab", 0.9, None],
    "grads": [without(PARAMS, "W1"), {**PARAMS, "extra": PARAMS["b1"]}, {**PARAMS, "b1": PARAMS["W1"]},
              {**PARAMS, "b1": np.zeros(1)}, {**PARAMS, "W2": "g"}, None],
    "state": [None, {}, {**STATE, "t": -1}, {**STATE, "t": "0"}, {**STATE, "m": without(STATE["m"], "W1")},
              {**STATE, "v": {**STATE["v"], "b2": np.zeros(7)}}],
}
# The name each message must contain (a regex), where it differs from the argument's.
MESSAGE_NAME = {"name": "task", "layers": "layers?"}
# NaN weights are an input error for LMN (it needs finite weights), not for forward or loss:
# a diverged network gives a NaN loss, which the training loop reports as divergence.
LMN_ONLY = {"params": [NAN_W2], "inputs": [np.zeros((0, 2), int)]}
LMN_FUNCTIONS = ("layer_lmn", "layers_lmn", "layer_connectivity", "tail_function")

# AdamW and l2_norm take any dict of float (l2_norm: real) arrays, not only our MLP's.
GENERIC_PARAMS = {
    "AdamW.init": [None, [], {"w": np.ones(2, int)}, {"w": [1.0, 2.0]}, {"w": np.ones(2, complex)}],
    "AdamW.step": [None, [], {**PARAMS, "emb": PARAMS["emb"].astype(int)}, {**PARAMS, "emb": PARAMS["emb"].tolist()}],
    "l2_norm": [None, [], {"w": np.ones(2, complex)}, {"w": "x"}, {"w": np.ones(2, bool)}],
}


def invalid_values(name, arg):
    if arg == "params" and name in GENERIC_PARAMS:
        return GENERIC_PARAMS[name]
    return INVALID[arg] + (LMN_ONLY.get(arg, []) if name in LMN_FUNCTIONS else [])


CASES = [(name, arg, k) for name in sorted(CALLS) for arg in sorted(CALLS[name][1]) if arg in INVALID
         for k in range(len(invalid_values(name, arg)))]


@pytest.mark.parametrize("name, arg, k", CASES)
def test_invalid_argument_is_named(name, arg, k):
    value = invalid_values(name, arg)[k]
    word = MESSAGE_NAME.get(arg, re.escape(arg))
    with pytest.raises(lmn_edu.LMNInputError, match=rf"\b{word}\b") as info:
        call(name, **{arg: value})
    assert "\n" not in str(info.value)


# --- the cases of the issue, one by one -------------------------------------------------------

def test_negative_token_does_not_wrap_around():
    with pytest.raises(lmn_edu.LMNInputError, match=r"inputs.*\[0, 4\]"):
        lmn_edu.layer_lmn(PARAMS, np.array([[-1, 0], [1, 2]]))


def test_grad_of_another_shape_is_refused():
    p = {"w": np.ones(3)}
    with pytest.raises(lmn_edu.LMNInputError, match=r"grads\['w'\] has shape \(2, 3\)"):
        OPT.step(p, {"w": np.ones((2, 3))}, OPT.init(p))


@pytest.mark.parametrize("eps", [0.0, -1.0])
def test_eps_must_be_positive(eps):
    with pytest.raises(lmn_edu.LMNInputError, match="eps"):
        lmn_edu.AdamW(eps=eps)


def test_integer_dtype_is_refused():
    with pytest.raises(lmn_edu.LMNInputError, match="dtype"):
        lmn_edu.init_params(rng(), 5, 4, dtype=int)


@pytest.mark.parametrize("n_lambda", [2, np.int64(2)])
def test_two_lambda_points_are_refused(n_lambda):
    with pytest.raises(lmn_edu.LMNInputError, match="n_lambda.*at least 3"):
        lmn_edu.lmn_of(np.tanh, X, n_lambda)
    with pytest.raises(lmn_edu.LMNInputError, match="n_lambda.*at least 3"):
        lmn_edu.RunConfig(n_lambda=n_lambda).validated()


@pytest.mark.parametrize("X_bad", [np.ones((3, 2), bool), np.array([["a", "b"]]), np.ones((3, 2), complex)])
def test_non_real_X_is_not_called_nan(X_bad):
    with pytest.raises(lmn_edu.LMNInputError, match="X must hold real numbers"):
        lmn_edu.connectivity_matrix(np.tanh, X_bad)


@pytest.mark.parametrize("frac", [np.float32(0.5), np.float64(0.5), 0.5])
def test_split_takes_numpy_reals(frac):
    train, test = lmn_edu.split(TASK, frac, rng())
    assert len(train) == 288 and len(test) == 288


def test_params_errors_name_the_key():
    with pytest.raises(lmn_edu.LMNInputError, match="params is missing W2"):
        lmn_edu.layer_lmn(without(PARAMS, "W2"), INPUTS)
    with pytest.raises(lmn_edu.LMNInputError, match=r"params\['W2'\].*finite"):
        lmn_edu.layer_lmn(NAN_W2, INPUTS)


def test_nan_params_still_give_a_nan_loss():
    # divergence is the training loop's to report: forward and loss propagate NaN
    assert np.isnan(lmn_edu.loss(NAN_W2, INPUTS, LABELS))


def test_f_returning_strings_is_named():
    with pytest.raises(lmn_edu.LMNInputError, match="f must return real numbers"):
        lmn_edu.connectivity_matrix(lambda x: np.full(x.shape, "a"), X)


def test_no_pairs_is_about_the_inputs():
    with pytest.raises(lmn_edu.LMNInputError, match=r"inputs must hold at least one token pair.*\(0, 2\)"):
        lmn_edu.layer_lmn(PARAMS, np.zeros((0, 2), int))


def test_nan_weights_for_lmn_are_not_finite_errors():
    # the training loop reads NotFiniteError from LMN as divergence of the network it trains
    with pytest.raises(lmn_edu.errors.NotFiniteError, match=r"params\['W2'\]"):
        lmn_edu.layers_lmn(NAN_W2, INPUTS)


@pytest.mark.parametrize("n_lambda", [5.0, np.float64(5), np.int32(5)])
def test_integer_valued_n_lambda_works_everywhere(n_lambda):
    # found by the junk property: 3.0 passed the check but reached reshape as a float
    assert lmn_edu.lmn_of(np.tanh, X, n_lambda) == lmn_edu.lmn_of(np.tanh, X, 5)
    assert lmn_edu.layer_lmn(PARAMS, INPUTS, n_lambda=n_lambda) == lmn_edu.layer_lmn(PARAMS, INPUTS, n_lambda=5)


@pytest.mark.parametrize("value", [np.timedelta64("NaT"), np.timedelta64(1, "D"), np.datetime64("2020-01-01")])
def test_datetimes_are_not_numbers(value):
    # NumPy registers timedelta64 as an integer type; float() of NaT raised a TypeError
    with pytest.raises(lmn_edu.LMNInputError, match="betas"):
        lmn_edu.AdamW(betas=np.array([value, value]))
    with pytest.raises(lmn_edu.LMNInputError, match="n_lambda"):
        lmn_edu.lambdas(value)


# --- every public function, every dtype and scale: right (against float64) or LMNInputError ------

# The array arguments of each function that a user may give in another dtype; "params" and
# "grads" convert every array of the dict.
DTYPE_ARGS = {
    "connectivity_matrix": ["X"], "lmn_of": ["X"], "nonlinear_entropy": ["L"], "linear_mapping_number": ["L"],
    "spectrum": ["L"], "r_squared": ["y", "lam"],
    "layer_lmn": ["params", "inputs"], "layers_lmn": ["params", "inputs"], "layer_connectivity": ["params", "inputs"],
    "forward": ["params", "inputs"], "representations": ["params", "inputs"], "loss": ["params", "inputs", "labels"],
    "cross_entropy": ["logits", "labels"], "accuracy": ["logits", "labels"], "l2_norm": ["params"],
    "AdamW.step": ["grads"], "AdamW.init": ["params"], "split": ["train_frac"], "lambdas": ["n_lambda"],
    "init_params": ["vocab_size"],
}
DTYPES = ["float16", "float32", "float64", "int8", "uint8", "int32", "int64"]
SCALES = [1e-300, 1e-200, 1e-100, 1e-8, 1e8, 1e100, 1e200, 1e300]
TOL = {"float16": 2e-2, "float32": 1e-4}                     # relative, of the float64 reference


def _as(value, dtype):
    """``value`` in ``dtype`` (a dict: each array); scalars as the NumPy scalar type."""
    if isinstance(value, dict):
        return {k: _as(v, dtype) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return value.astype(dtype)
    return np.dtype(dtype).type(value)


# Arguments that hold real numbers (the reference gets them in float64 whatever their dtype);
# the others hold integers (token ids, labels, counts), given to the reference as int64.
REAL_ARGS = {"X", "L", "y", "lam", "logits", "params", "grads", "train_frac"}


def _back(value, real):
    """What the converted value holds, in float64 (``real``) or int64: the reference's input."""
    if isinstance(value, dict):
        return {k: _back(v, real) for k, v in value.items()}
    arr = np.asarray(value)
    arr = arr.astype(np.float64 if real or arr.dtype.kind == "f" else np.int64)
    return arr if isinstance(value, np.ndarray) else arr.item()


def _close(a, b, rtol):
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            _close(a[k], b[k], rtol)
    elif isinstance(a, tuple):
        for x, y in zip(a, b, strict=True):
            _close(x, y, rtol)
    else:
        np.testing.assert_allclose(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64),
                                   rtol=rtol, atol=rtol * 1e-6)


def _right_or_named(name, arg, value, reference_value, rtol, **changes):
    try:
        result = call(name, **{arg: value}, **changes)
    except lmn_edu.LMNInputError as e:
        word = MESSAGE_NAME.get(arg, re.escape(arg))
        assert re.search(rf"\b{word}\b", str(e)) and "\n" not in str(e), str(e)
        return
    try:
        reference = call(name, **{arg: reference_value}, **changes)
    except lmn_edu.LMNInputError:
        return                            # the values themselves are invalid (e.g. int8 tokens out of range)
    if name == "split":
        reference = result = [len(x) for x in result]
    if name in ("AdamW.step",):
        result, reference = result[0], reference[0]
    if name == "init_params":
        return                            # the params are random draws; their shapes are checked elsewhere
    _close(result, reference, rtol)


DTYPE_CASES = [pytest.param(name, arg, dtype, id=f"{name}-{arg}-{dtype}")
               for name, args in sorted(DTYPE_ARGS.items()) for arg in args for dtype in DTYPES]


@pytest.mark.parametrize("name, arg, dtype", DTYPE_CASES)
def test_every_dtype_is_right_or_refused(name, arg, dtype):
    changes = {}
    value = CALLS[name][1][arg]
    if arg == "X":                    # points that integers hold, and an f that is far from flat on them
        value = np.array([[3.0, 90.0], [-80.0, 7.0], [77.0, -60.0], [12.0, 33.0], [95.0, 5.0], [-50.0, 50.0]])
        changes = {"f": lambda x: np.sin(np.asarray(x, dtype=np.float64) @ np.array([[0.05, 0.02], [-0.03, 0.04]]))}
    converted = _as(value, dtype)
    # the reference: the same numbers (after the conversion) in float64, or as given when integer
    _right_or_named(name, arg, converted, _back(converted, arg in REAL_ARGS), TOL.get(dtype, 1e-9), **changes)


SCALE_CASES = [pytest.param(kind, scale, id=f"{kind}-{scale:g}")
               for kind in ("r_squared", "lmn_of") for scale in SCALES]


@pytest.mark.parametrize("kind, scale", SCALE_CASES)
def test_every_scale_is_right_or_refused(kind, scale):
    # r² and LMN do not depend on the scale of the outputs: y·s against y, f·s against f
    if kind == "r_squared":
        _close(lmn_edu.r_squared(Y * scale, LAM), lmn_edu.r_squared(Y, LAM), 1e-9)
    else:
        scaled = lambda x: np.tanh(x @ np.ones((2, 3))) * scale          # noqa: E731
        plain = lambda x: np.tanh(x @ np.ones((2, 3)))                   # noqa: E731
        _close(lmn_edu.lmn_of(scaled, X), lmn_edu.lmn_of(plain, X), 1e-9)


# --- the command line: any value of any option gives a documented exit, one line at most -------

RUN_OPTIONS = ["--task", "--backend", "--steps", "--seed", "--train-frac", "--lr", "--weight-decay", "--eval-every",
               "--lmn-every", "--lmn-log", "--lmn-layers", "--lmn-points", "--lmn-output", "--n-lambda",
               "--snapshot-steps", "--device", "--dtype", "--loss-dtype", "--threads"]
cli_values = st.one_of(st.sampled_from(["", "-1", "0", "1", "2", "3", "1e9", "nan", "inf", "0.5", "h1", "add",
                                        "1" * 30, "²", "--", "float32", "torch", "cuda"]),
                       st.text(max_size=4))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                    HealthCheck.function_scoped_fixture])
@given(option=st.sampled_from(RUN_OPTIONS), value=cli_values)
def test_run_command_any_value(tmp_path, capsys, option, value):
    from lmn_edu.run import main
    argv = ["--steps", "2", "--eval-every", "1", "--lmn-layers", "--no-progress", "--overwrite",
            "--out", str(tmp_path), "--backend", "numpy", "--device", "cpu", option, value]
    try:
        code = main(argv)
    except SystemExit as e:                                   # argparse: a usage mistake
        code = e.code
    err = capsys.readouterr().err
    assert code in (0, 1, 2), (code, err)
    if code:
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), err


REPRODUCE_OPTIONS = ["--tasks", "--seeds", "--steps", "--lmn-every", "--lmn-layers", "--lmn-points", "--lmn-output",
                     "--backend", "--dtype", "--device", "--threads", "--fill-budget", "--docs"]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                    HealthCheck.function_scoped_fixture])
@given(option=st.sampled_from(REPRODUCE_OPTIONS), value=cli_values)
def test_reproduce_command_any_value(tmp_path, capsys, option, value):
    # from a folder holding no run: every value ends in exit 2 and one line (nothing is trained)
    from lmn_edu.reproduce.cli import main
    (tmp_path / "empty").mkdir(exist_ok=True)
    try:
        code = main(["--from", str(tmp_path / "empty"), "--docs", str(tmp_path / "docs"), option, value])
    except SystemExit as e:                                   # argparse: a usage mistake
        code = e.code
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error: "), (code, lines)
