"""LMNMonitor: LMN in a user's own training loop, saved as a run folder the project reads."""
import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import lmn_edu
from lmn_edu import analysis, history, plots
from lmn_edu.config import RunConfig
from lmn_edu.errors import LMNInputError
from lmn_edu.lmn import lmn_of
from lmn_edu.monitor import LMN_TIME_COLUMN, LMNMonitor, Schedule, measure
from lmn_edu.train import lmn_steps


# --- the schedule (NumPy only) ------------------------------------------------------------------

@pytest.mark.parametrize("every,log_steps,steps", [(100, 10, 1000), (50, 0, 120), (1000, 20, 300), (7, 5, 7)])
def test_schedule_is_the_projects_rule(every, log_steps, steps):
    config = RunConfig(steps=steps, lmn_every=every, lmn_log=log_steps)
    assert Schedule(every, log_steps, steps).upto(steps) == lmn_steps(config)


def test_schedule_without_a_known_end():
    sched = Schedule(every=100, log_steps=4)
    early = [s for s in lmn_steps(RunConfig(steps=100, lmn_every=100, lmn_log=4)) if 0 < s < 100]
    assert len(early) == 4
    assert sched.upto(250) == [0, *early, 100, 200]
    assert sched.upto(0) == [0]
    assert sched.next(10 ** 9) == 10 ** 9 + 100                 # no end: every 100 steps, forever
    assert Schedule(every=100, steps=250).next(250) is None and Schedule(at=[5]).next(5) is None


def test_due_catches_up_at_the_next_call(tmp_path):
    # Calls every 10 steps: a scheduled step between calls is measured at the next call.
    X = np.random.default_rng(0).normal(size=(6, 2))
    with LMNMonitor(np.tanh, X, tmp_path / "run", at=[0, 3, 7, 25, 30]) as mon:
        for step in range(0, 41, 10):
            mon.step(step, train_loss=1.0 / (step + 1))
    measured = [r["step"] for r in mon.rows if r["lmn_input"] is not None]
    assert measured == [0, 10, 30]                           # 3 and 7 at 10; 25 at 30 (and 30 itself)
    assert [r["step"] for r in mon.rows] == [0, 10, 20, 30, 40]


# --- a NumPy model, without torch ---------------------------------------------------------------

def f_numpy(x):                                            # (M, 3) -> (M, 2)
    return np.stack([np.tanh(x @ [1.0, -2.0, 0.5]), np.sin(x[:, 0]) * x[:, 1]], axis=1)


def test_numpy_model_rows_load_and_plot(tmp_path):
    X = np.random.default_rng(1).normal(size=(20, 3))
    out = tmp_path / "run"
    with LMNMonitor(f_numpy, X, out, every=5, log_steps=2, steps=12, config={"seed": 3, "lr": 0.1}) as mon:
        for step in range(13):
            row = mon.step(step, train_loss=1.0 / (step + 1), train_acc=min(1.0, step / 4),
                           test_acc=min(1.0, step / 10), l2=np.float32(2.0))
    assert row["step"] == 12 and row["lmn_input"] == pytest.approx(lmn_of(f_numpy, X), rel=1e-12)
    config, rows = history.load_run(out)
    assert config["seed"] == 3 and config["lr"] == 0.1 and config["monitor"]["points"] == 20
    assert [r["step"] for r in rows if r["lmn_input"] is not None] == Schedule(5, 2, 12).upto(12)
    assert rows == mon.rows and (out / "history.json").exists() and (out / "history.csv").exists()
    assert analysis.phase_steps(rows) == (4, 10)
    fig = plots.fig2(rows, tmp_path / "fig2.png")
    lmn_line = fig.axes[1].get_lines()[0]
    assert lmn_line.get_label() == "input" and len(lmn_line.get_xdata()) == len(Schedule(5, 2, 12).upto(12))
    assert (tmp_path / "fig2.png").stat().st_size > 0


def test_any_shape_numpy_points(tmp_path):
    X = np.random.default_rng(2).normal(size=(8, 1, 2, 3))
    flat = lambda x: f_numpy(x.reshape(len(x), -1)[:, :3])     # noqa: E731
    value = measure(lambda x: flat(x), X)["input"]
    assert value == pytest.approx(lmn_of(lambda x: f_numpy(x[:, :3]), X.reshape(8, 6)), rel=1e-12)


def conv_numpy(x):                                         # (M, 1, 4, 4) -> (M, 3): 2×2 pooling, tanh, a dense map
    assert x.shape[1:] == (1, 4, 4)                          # the function sees the points' own shape
    pooled = x.reshape(len(x), 2, 2, 2, 2).mean(axis=(2, 4)).reshape(len(x), 4)
    return np.tanh(pooled * 3.0) @ np.array([[1.0, -1.0, 0.5], [0.5, 2.0, -1.0], [-2.0, 0.3, 1.0], [1.0, 1.0, 1.0]])


@pytest.mark.parametrize("f,shape", [(f_numpy, (3,)), (conv_numpy, (1, 4, 4))])
def test_numpy_lmn_is_the_reference(f, shape):
    # The engine's pair loop (endpoints once, r² from sums) gives lmn.lmn_of's value to rounding.
    X = np.random.default_rng(5).normal(size=(12, *shape))
    seen = []

    def counted(x):
        seen.append(x.shape[0])
        return f(x)

    flat = X.reshape(len(X), -1)
    reference = lmn_of(lambda x: f(x.reshape(-1, *shape)), flat)
    assert 1.0 < reference < 12.0                            # a nonlinear map: a test that can fail
    assert measure(counted, X)["input"] == pytest.approx(reference, rel=1e-10)
    # Each point through f once (λ = 0 and 1), then only lines' 19 interior points (not all 21).
    assert seen[0] == 12 and len(seen) > 1 and all(m % 19 == 0 for m in seen[1:])


def test_numpy_function_runs_in_float64():
    # As lmn.lmn_of, the lines are float64 whatever the points' float dtype.
    X = np.random.default_rng(6).normal(size=(6, 3)).astype(np.float32)
    dtypes = set()

    def f(x):
        dtypes.add(x.dtype)
        return f_numpy(x)

    assert measure(f, X)["input"] == pytest.approx(lmn_of(f_numpy, X), rel=1e-10)
    assert dtypes == {np.dtype(np.float64)}


@pytest.mark.parametrize("out,match", [
    (lambda y: y[:, 0], r"map .* returned shape \(6,\)"),              # (M,): refused, as lmn_of does
    (lambda y: y[:, :, None], r"map .* returned shape \(6, 2, 1\)"),   # (M, d, 1)
    (lambda y: float(y.sum()), r"map .* returned shape \(\)"),
    (lambda y: y[:-1], r"map .* returned shape \(5, 2\)"),             # rows lost
    (lambda y: y > 0, "return real numbers, it returned dtype bool"),
    (lambda y: y * 1j, "return real numbers, it returned dtype complex128"),
])
def test_numpy_function_with_a_bad_return(out, match):
    X = np.random.default_rng(7).normal(size=(6, 3))
    with pytest.raises(LMNInputError, match="^model: f must " + match):
        measure(lambda x: out(f_numpy(x)), X)


def test_numpy_function_may_return_a_list():
    X = np.random.default_rng(8).normal(size=(6, 3))
    assert measure(lambda x: f_numpy(x).tolist(), X)["input"] == pytest.approx(lmn_of(f_numpy, X), rel=1e-10)


def test_numpy_path_needs_no_torch(tmp_path):
    code = textwrap.dedent(f"""
        import sys
        sys.modules["torch"] = None                          # import torch now fails
        import numpy as np, lmn_edu
        X = np.random.default_rng(0).normal(size=(5, 2))
        with lmn_edu.LMNMonitor(np.tanh, X, {str(tmp_path / "run")!r}, every=2) as mon:
            for step in range(3):
                mon.step(step, train_loss=1.0)
        print(mon.rows[-1]["lmn_input"])
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert float(out.stdout) == pytest.approx(lmn_of(np.tanh, np.random.default_rng(0).normal(size=(5, 2))))


def test_not_finite_lmn_is_a_missing_value(tmp_path):
    X = np.random.default_rng(0).normal(size=(4, 2))
    scale = [1.0]
    with LMNMonitor(lambda x: np.exp(scale[0] * x), X, tmp_path / "run", every=1) as mon, \
            np.errstate(over="ignore"):
        mon.step(0)
        scale[0] = 1e4                                       # overflows between the points
        with pytest.warns(RuntimeWarning, match="LMN not measured at step 1"):
            row = mon.step(1, train_loss=float("nan"))
    assert row["lmn_input"] is None and row["train_loss"] is None
    assert history.load_run(tmp_path / "run")[1][1]["lmn_input"] is None


# --- the run folder and misuse ---------------------------------------------------------------------

def test_closed_on_error_and_empty_run(tmp_path):
    X = np.zeros((3, 2)) + np.arange(3)[:, None]
    with pytest.raises(KeyboardInterrupt):
        with LMNMonitor(np.tanh, X, tmp_path / "a", every=1) as mon:
            mon.step(0, train_loss=1.0)
            raise KeyboardInterrupt
    assert len(json.loads((tmp_path / "a" / "history.json").read_text())) == 1
    LMNMonitor(np.tanh, X, tmp_path / "b").close()           # no rows: still a readable run
    config, rows = history.load_run(tmp_path / "b")
    assert rows == [] and config["model"] == "tanh"


def test_columns_declared_or_from_the_first_row(tmp_path):
    X = np.eye(3)
    with LMNMonitor(np.tanh, X, tmp_path / "a", columns=("lr",)) as mon:
        mon.step(0, train_loss=1.0)
        mon.step(1, lr=0.5)
    with LMNMonitor(np.tanh, X, tmp_path / "b") as mon:
        mon.step(0, grad_norm=2.0)
        with pytest.raises(LMNInputError, match="lr is not a column of this run; name it in columns"):
            mon.step(1, lr=0.5)
    header = (tmp_path / "a" / "history.csv").read_text().split("\n")[0].split(",")
    assert header[:7] == list(history.BASE_COLUMNS) and {"lmn_input", LMN_TIME_COLUMN, "lr"} <= set(header)
    assert "grad_norm" in (tmp_path / "b" / "history.csv").read_text().split("\n")[0]


@pytest.mark.parametrize("kwargs,match", [
    (dict(every=0), "every=0 must be at least 1"),
    (dict(log_steps=-1), "log_steps"),
    (dict(at=[3, -1]), "at=-1"),
    (dict(at=5), "at must be an iterable"),
    (dict(config={"f": np.tanh}), "config must hold JSON values"),
    (dict(config=[1]), "config must be a dict"),
    (dict(n_lambda=2), "n_lambda=2 must be at least 3"),
    (dict(model=3), "tail must be a torch module or a function"),
    (dict(model={}), "empty dict"),
    (dict(model={"a,b": np.tanh}), "names must be non-empty strings"),
    (dict(model=lambda x: x.sum(axis=1)), "^model: f must map"),
    (dict(model={"h": (np.tanh, lambda x: x[:, 0])}), r"^model\['h'\]: f must map"),
    (dict(X=np.zeros(4)), "2-D"),
    (dict(X=np.full((3, 2), np.nan)), "finite"),
    (dict(l2_of=np.tanh), "l2_of must be a torch module"),
])
def test_misuse_at_construction(tmp_path, kwargs, match):
    args = dict(model=np.tanh, X=np.eye(3), out=tmp_path / "run")
    args.update(kwargs)
    with pytest.raises(LMNInputError, match=match):
        LMNMonitor(args.pop("model"), args.pop("X"), args.pop("out"), **args)
    assert not (tmp_path / "run" / "config.json").exists()


def test_misuse_of_step_and_folder(tmp_path):
    mon = LMNMonitor(np.tanh, np.eye(3), tmp_path / "run")
    mon.step(5)
    with pytest.raises(LMNInputError, match="step=5 must be greater than the previous step 5"):
        mon.step(5)
    with pytest.raises(LMNInputError, match="step=-1 must be at least 0"):
        mon.step(-1)
    with pytest.raises(LMNInputError, match="train_loss='x' must be a real number"):
        mon.step(6, train_loss="x")
    with pytest.raises(LMNInputError, match="another run is writing"):
        LMNMonitor(np.tanh, np.eye(3), tmp_path / "run")
    mon.close()
    mon.close()
    with pytest.raises(LMNInputError, match="closed"):
        mon.step(7)
    with pytest.raises(LMNInputError, match="already holds a run"):
        LMNMonitor(np.tanh, np.eye(3), tmp_path / "run")
    LMNMonitor(np.tanh, np.eye(3), tmp_path / "run", overwrite=True).close()
    assert history.load_run(tmp_path / "run")[1] == []


def test_lazy_export():
    assert lmn_edu.LMNMonitor is LMNMonitor


# --- torch models -------------------------------------------------------------------------------

def test_torch_mlp_in_a_training_loop(tmp_path):
    torch = pytest.importorskip("torch")
    from lmn_edu.torch_lmn import module_lmn
    torch.manual_seed(0)
    X = torch.randn(40, 2)
    y = (X[:, 0] * X[:, 1] > 0).long()
    net = torch.nn.Sequential(torch.nn.Linear(2, 32), torch.nn.SiLU(), torch.nn.Linear(32, 32),
                              torch.nn.Dropout(0.1), torch.nn.Tanh(), torch.nn.Linear(32, 2))
    opt = torch.optim.AdamW(net.parameters(), lr=1e-2)
    model = {"x": net, "h1": (net[:2], net[2:])}
    with LMNMonitor(model, X[:20], tmp_path / "run", every=10, log_steps=3, steps=30) as mon:
        for step in range(31):
            loss = torch.nn.functional.cross_entropy(net(X), y)
            acc = (net(X).argmax(1) == y).float().mean()
            mon.step(step, train_loss=loss, train_acc=acc)
            if step < 30:
                opt.zero_grad()
                loss.backward()
                opt.step()
    assert net.training                                     # the module's own mode, back
    last = mon.rows[-1]
    assert last["lmn_x"] == pytest.approx(module_lmn(net, X[:20]), rel=1e-12)
    with torch.no_grad():
        h1 = net.eval()[:2](X[:20])
    assert last["lmn_h1"] == pytest.approx(module_lmn(net[2:], h1), rel=1e-12)
    l2 = float(torch.sqrt(sum((p.detach().double() ** 2).sum() for p in net.parameters())))
    assert last["l2"] == pytest.approx(l2, rel=1e-12) and last["train_loss"] == pytest.approx(loss.item(), rel=1e-6)
    rows = history.load_run(tmp_path / "run")[1]
    assert [r["step"] for r in rows if r["lmn_x"] is not None] == Schedule(10, 3, 30).upto(30)
    assert all(r[LMN_TIME_COLUMN] > 0 for r in rows if r["lmn_x"] is not None)
    assert {line.get_label() for line in plots.fig2(rows).axes[1].get_lines()} == {"x", "h1"}


def test_cnn_on_images(tmp_path):
    torch = pytest.importorskip("torch")
    from lmn_edu.torch_lmn import module_lmn
    torch.manual_seed(0)
    nn = torch.nn
    cnn = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.AvgPool2d(2), nn.Flatten(), nn.Linear(64, 3))
    images = torch.randn(50, 1, 8, 8)                       # (50, 1, 8, 8)
    with LMNMonitor(cnn, images, tmp_path / "run", at=[0]) as mon:
        row = mon.step(0)
    assert row["lmn_input"] == pytest.approx(module_lmn(cnn, images), rel=1e-12)
    assert 1.0 < row["lmn_input"] < 50
    assert history.load_run(tmp_path / "run")[0]["monitor"]["input_shape"] == [1, 8, 8]


# --- the worked examples of docs/torch.md, run at a few steps ---------------------------------------

DOC = __import__("pathlib").Path(__file__).resolve().parents[1] / "docs" / "torch.md"


def doc_examples():
    """The python blocks of docs/torch.md's worked examples, in order."""
    text = DOC.read_text().split("### Worked example:", 1)[1]
    return [block.split("```", 1)[0] for block in text.split("```python\n")[1:]]


def test_docs_worked_examples_run(tmp_path, monkeypatch):
    pytest.importorskip("torch")
    blocks = doc_examples()
    assert len(blocks) == 3
    monkeypatch.chdir(tmp_path)                               # the examples write runs/... here
    fewer = {"steps = 1500\n": "steps = 6\n", "steps = 200\n": "steps = 4\n"}
    for block in blocks:
        for long, short in fewer.items():
            block = block.replace(long, short)
        exec(compile(block, str(DOC), "exec"), {"__name__": "docs_example"})
    for run, steps in (("torch-mlp", 6), ("torch-cnn", 4)):
        config, rows = history.load_run(tmp_path / "runs" / run)
        assert rows[-1]["step"] == steps and config["monitor"]["steps"] == steps
        assert any(k.startswith("lmn_") and v is not None for k, v in rows[-1].items())
    assert (tmp_path / "runs" / "torch-mlp" / "fig2.png").stat().st_size > 0
    assert history.load_run(tmp_path / "runs" / "torch-cnn")[0]["monitor"]["input_shape"] == [1, 8, 8]


def test_cuda_layers_with_points_on_the_host(tmp_path):
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("CUDA is not available")
    from lmn_edu.torch_lmn import module_lmn
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(3, 16), torch.nn.SiLU(), torch.nn.Linear(16, 2)).double()
    X = np.random.default_rng(0).normal(size=(15, 3))       # on the host; the net on CUDA
    expected = module_lmn(net[1:], net[:1](torch.as_tensor(X)).detach())
    net.cuda()
    with LMNMonitor({"x": net, "z1": (net[:1], net[1:])}, X, tmp_path / "run", at=[0]) as mon:
        row = mon.step(0)
    assert row["lmn_z1"] == pytest.approx(expected, rel=1e-9) and row["lmn_x"] == pytest.approx(expected, rel=1e-9)
