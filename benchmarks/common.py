"""What the benchmark scripts share: threads, AVX2 emulation, the clock, the machine line with
its SIMD levels, markdown tables.

Nothing here imports NumPy at import time: ``set_threads`` and ``emulate_avx2`` must run before
NumPy (and torch) are imported.
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


# An AVX2 CPU (most laptops, many AMD servers) on an AVX-512 one: each library is told to use
# its AVX2 code. NumPy: the dispatch levels above X86_V3 (AVX2) off, so float64 exp and tanh
# are scalar, as on AVX2. OpenBLAS: its Haswell (AVX2) kernels. torch: ATen's AVX2 kernels, and
# MKL and oneDNN limited to AVX2. What stays: the cache sizes, clock and memory of this CPU.
AVX2_ENV = {
    "NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512_ICL AVX512_SPR",
    "OPENBLAS_CORETYPE": "Haswell",
    "ATEN_CPU_CAPABILITY": "avx2",
    "MKL_ENABLE_INSTRUCTIONS": "AVX2",
    "ONEDNN_MAX_CPU_ISA": "AVX2",
}


def at_least(low):
    """An argparse type: an integer >= low (a usage error otherwise, not a traceback later)."""
    import argparse

    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"{value} must be at least {low}")
        return value
    return parse


def add_common_args(ap):
    """--threads and --avx2, which every benchmark takes."""
    ap.add_argument("--threads", type=int, default=1,
                    help="BLAS and torch threads (default 1: single-core numbers; 0 leaves the defaults)")
    ap.add_argument("--avx2", action="store_true",
                    help="emulate an AVX2 CPU on an AVX-512 one (NumPy, OpenBLAS, torch, MKL: see common.AVX2_ENV)")


def prepare(args):
    """Threads and AVX2 emulation from the parsed arguments; call before importing NumPy."""
    set_threads(args.threads)
    if args.avx2:
        os.environ.update(AVX2_ENV)


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


def simd_line():
    """The SIMD levels the libraries use here: NumPy's dispatch levels (X86_V3 = AVX2,
    X86_V4 = AVX-512), OpenBLAS's kernels, torch's (when torch is imported)."""
    import sys
    from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__
    on = [k for k in __cpu_dispatch__ if __cpu_features__.get(k)]
    parts = [f"NumPy SIMD {'AVX-512' if 'X86_V4' in on else 'AVX2' if 'X86_V3' in on else 'below AVX2'}"
             f" ({' '.join(on) or 'baseline only'})"]
    try:
        from threadpoolctl import threadpool_info
        parts += [f"{d['internal_api']} {d['architecture']}" for d in threadpool_info() if d.get("architecture")]
    except ImportError:
        pass
    if "torch" in sys.modules:
        parts.append(f"torch {sys.modules['torch'].backends.cpu.get_cpu_capability()}")
    emulated = " (AVX2 emulated: benchmarks/common.py AVX2_ENV)" if os.environ.get("OPENBLAS_CORETYPE") == "Haswell" else ""
    return ", ".join(parts) + emulated


def machine_line(threads, now, extra=""):
    import numpy as np
    blas = str(threads) if threads > 0 else "environment default"
    clk = "process CPU time" if now is time.process_time else "wall"
    return (f"{cpu_name()}, {os.cpu_count()} CPUs; Python {platform.python_version()}, NumPy {np.__version__}"
            f"{extra}; BLAS threads: {blas}; clock: {clk}\n{simd_line()}")


def table(header, rows):
    """A markdown table, ready to paste into docs/benchmarks.md."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)
