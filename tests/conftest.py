import os

# One BLAS/OpenMP thread unless the caller says otherwise: the arrays here are small, and
# two threads per process (tests also start subprocesses) measured several times slower on
# a 2-core machine. Set before NumPy is imported; subprocesses inherit it.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
