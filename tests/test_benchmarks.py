"""The benchmark scripts run, at tiny sizes, and print what they promise (benchmarks/README.md).

No timing is asserted (speed targets live in the benchmarks themselves); these tests keep the
scripts runnable as the package changes: each is run as a user runs it, from another folder.
"""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
ROOT = BENCH.parent


def run(script, *args, tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""), MPLBACKEND="Agg")
    p = subprocess.run([sys.executable, str(BENCH / script), *args], cwd=tmp_path, env=env,
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-2000:]
    out = p.stdout
    assert "NumPy SIMD" in out and "clock:" in out, out[:500]          # the machine and SIMD lines
    assert re.search(r"^\|---", out, re.M), out[-1000:]                # a markdown table
    return out


def test_bench_floor(tmp_path):
    out = run("bench_floor.py", "--repeats", "1", "--n", "30", tmp_path=tmp_path)
    rows = dict(re.findall(r"^\| ([^|]+?) \| ([0-9.]+) \| [0-9.]+ \|$", out, re.M))
    assert float(rows["W3 matmul (the bound's work)"]) > 0
    floor = float(re.search(r"\*\*floor\*\*.*\| \*\*([0-9.]+)x\*\* \|", out).group(1))
    assert floor > 1.0                                     # the bound plus positive costs
    assert re.search(r"The floor is (above|below) the goal of 2x", out)


def test_bench_scaling(tmp_path):
    out = run("bench_scaling.py", "--ns", "20", "40", tmp_path=tmp_path)
    assert re.search(r"time ∝ N\^[0-9.]+", out)


def test_bench_lmn(tmp_path):
    out = run("bench_lmn.py", "--quick", "--n", "30", "--no-direct", "--no-torch", "--repeats", "1", tmp_path=tmp_path)
    assert "(b) layer_lmn against its own matmul bound" in out and "(d) peak memory" in out


def test_bench_step(tmp_path):
    pytest.importorskip("torch")
    out = run("bench_step.py", "--quick", "--steps", "3", "--repeats", "1", tmp_path=tmp_path)
    assert re.search(r"^\| float64 \|", out, re.M) and re.search(r"^\| float32 \|", out, re.M)


def test_bench_floor_refuses_sizes_it_cannot_time(tmp_path):
    for args, words in ((["--n", "1"], "--n: 1 must be at least 2"), (["--repeats", "0"], "--repeats: 0 must be at least 1")):
        p = subprocess.run([sys.executable, str(BENCH / "bench_floor.py"), *args], cwd=tmp_path,
                           capture_output=True, text=True, timeout=60)
        assert p.returncode == 2 and words in p.stderr and "Traceback" not in p.stderr, p.stderr
