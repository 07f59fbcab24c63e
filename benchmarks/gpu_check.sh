#!/usr/bin/env bash
# The GPU checks, in one script of at most about 8 minutes on one GPU:
#   1. the CUDA tests (pytest -k cuda),
#   2. one full-density run timed: python -m lmn_edu.run --backend torch --device cuda,
#      20 000 steps, LMN every 50 steps (421 LMN measurements with the 20 log-spaced ones),
#   3. LMN against N up to 10 000 on the GPU (benchmarks/bench_scaling.py --backend torch).
# Each part has its own time limit; the results are written as text under the folder given
# (default: ./gpu_check_results). GPU_CHECK_TINY=1 (or --tiny) runs tiny sizes on
# the CPU, to test the script where there is no GPU.
#
#   bash benchmarks/gpu_check.sh [--tiny] [FOLDER]
set -u
tiny="${GPU_CHECK_TINY:-0}"
if [ "${1:-}" = "--tiny" ]; then tiny=1; shift; fi
out="${1:-gpu_check_results}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
here="$(cd "$(dirname "$0")/.." && pwd)"
cd "$here"
py="${PYTHON:-python}"
export PYTHONPATH="$here${PYTHONPATH:+:$PYTHONPATH}" MPLBACKEND=Agg

if [ "$tiny" = 1 ]; then
    device=cpu; steps=100; extra=(--train-frac 0.1 --lmn-log 2); ns="50 100 200"
    limit_tests=300; limit_run=120; limit_lmn=120
else
    device=cuda; steps=20000; extra=(); ns="1000 2000 5000 10000"
    limit_tests=150; limit_run=180; limit_lmn=150
fi
summary="$out/summary.txt"
: > "$summary"
say() { echo "$*" | tee -a "$summary"; }

# the machine, in text
{
    date -u
    nvidia-smi 2>&1 || echo "nvidia-smi: not available"
    "$py" - <<'EOF'
import platform, numpy, torch
print("python", platform.python_version(), "numpy", numpy.__version__, "torch", torch.__version__,
      "cuda", torch.version.cuda, "available", torch.cuda.is_available())
if torch.cuda.is_available():
    print("device", torch.cuda.get_device_name(0))
EOF
} > "$out/machine.txt" 2>&1
say "gpu_check: device=$device tiny=$tiny results in $out"

# seconds of wall time of a command, its exit status recorded; a time limit per part
timed() {
    local name="$1" limit="$2"; shift 2
    local t0 t1 rc
    t0=$(date +%s%N)
    timeout "$limit" "$@" > "$out/$name.txt" 2>&1
    rc=$?
    t1=$(date +%s%N)
    local ms=$(( (t1 - t0) / 1000000 ))
    say "$name: exit $rc$( [ $rc = 124 ] && echo " (stopped at the ${limit} s limit)" ), $((ms / 1000)).$(printf %03d $((ms % 1000))) s wall"
}

# 1. the CUDA tests (on the CPU, in tiny mode, they skip: that is what they do without CUDA)
timed cuda_tests "$limit_tests" "$py" -m pytest -q -k cuda tests
tail -n 3 "$out/cuda_tests.txt" | tee -a "$summary"

# 2. one full-density run, timed (CPU time of the process too, from /usr/bin/time when present)
run=("$py" -m lmn_edu.run --backend torch --device "$device" --steps "$steps" --lmn-every 50
     --out "$out/runs" --overwrite --no-progress --threads 0 "${extra[@]}")
if [ -x /usr/bin/time ]; then
    timed full_density_run "$limit_run" /usr/bin/time -v "${run[@]}"
    grep -E "User time|System time|Elapsed|Maximum resident" "$out/full_density_run.txt" | tee -a "$summary"
else
    timed full_density_run "$limit_run" "${run[@]}"
fi
"$py" - "$out/runs" <<'EOF' 2>&1 | tee -a "$summary"
import json, sys
from pathlib import Path
for h in Path(sys.argv[1]).glob("*/history.jsonl"):
    rows = [json.loads(line) for line in h.read_text().splitlines() if line.strip()]
    lmn = [r for r in rows if r.get("lmn_h1") is not None]
    last = rows[-1]
    print(f"{h.parent.name}: {len(rows)} rows, {len(lmn)} LMN, last step {last['step']}, "
          f"time_s {last.get('time_s', float('nan')):.1f}, test_acc {last.get('test_acc')}, lmn_h1 {lmn[-1]['lmn_h1'] if lmn else None}")
EOF

# 3. LMN against N on the device (the last N values dominate: N = 10 000 is 50 million pairs,
#    and eq (3)'s eigenvalues of a 10 000 x 10 000 L are taken on the host)
timed lmn_vs_n "$limit_lmn" "$py" benchmarks/bench_scaling.py --backend torch --device "$device" --threads 0 --ns $ns
tail -n 12 "$out/lmn_vs_n.txt" | tee -a "$summary"
say "gpu_check: done $(date -u)"
