"""What the benchmark scripts share: threads, the clock, the machine line, markdown tables.

Nothing here imports NumPy: ``set_threads`` must run before NumPy is imported.
"""
import os
import platform
import time


def set_threads(threads):
    """Fix the BLAS (and OpenMP) thread count; 0 leaves the environment's setting.

    BLAS reads these variables when NumPy is imported, so call this first. The package is
    imported as installed (``pip install -r requirements.txt`` installs it in place).
    """
    if threads > 0:
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = str(threads)


def clock(threads):
    """Process CPU time when single-threaded: on a shared machine it leaves out the time other
    processes hold the core. With several threads it would add them up, so wall time then."""
    return time.process_time if threads == 1 else time.perf_counter


def best_of(fn, repeats, now):
    """(shortest time of ``repeats`` calls, value of the last call)."""
    times, value = [], None
    for _ in range(repeats):
        t0 = now()
        value = fn()
        times.append(now() - t0)
    return min(times), value


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            return next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or platform.machine()


def machine_line(threads, now, extra=""):
    import numpy as np
    blas = str(threads) if threads > 0 else "environment default"
    clk = "process CPU time" if now is time.process_time else "wall"
    return (f"{cpu_name()}, {os.cpu_count()} CPUs; Python {platform.python_version()}, NumPy {np.__version__}"
            f"{extra}; BLAS threads: {blas}; clock: {clk}")


def table(header, rows):
    """A markdown table, ready to paste into docs/benchmarks.md."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)
