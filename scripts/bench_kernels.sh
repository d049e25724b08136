#!/usr/bin/env bash
# Op-level kernels at config-A shapes, ours (Google Benchmark, build/bench_kernels) next to PyTorch's
# (experiments/bench/bench_kernels_torch.py, needs python3-torch: scripts/setup.sh --with-torch),
# with the ratio ours / PyTorch per kernel (below 1: ours is faster). Medians, milliseconds.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$(nproc)" --target bench_kernels >/dev/null
ours=$(mktemp) theirs=$(mktemp)
trap 'rm -f "$ours" "$theirs"' EXIT
./build/bench_kernels --benchmark_format=csv --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
  2>/dev/null >"$ours"
OMP_WAIT_POLICY=PASSIVE OPENBLAS_THREAD_TIMEOUT=4 /usr/bin/python3 experiments/bench/bench_kernels_torch.py >"$theirs"
/usr/bin/python3 - "$ours" "$theirs" <<'PY'
import csv, sys
ours = {}
for row in csv.reader(open(sys.argv[1])):
    if row and row[0].endswith("_median"):
        ours[row[0][: -len("/real_time_median")]] = float(row[2])
theirs = dict((l.split()[0], float(l.split()[1])) for l in open(sys.argv[2]) if l.strip())
print(f"{'kernel (config-A shapes)':34s} {'ours ms':>9s} {'torch ms':>9s} {'ratio':>7s}")
for name, t in ours.items():
    p = theirs.get(name)
    print(f"{name:34s} {t:9.2f} {p:9.2f} {t / p:7.2f}" if p else f"{name:34s} {t:9.2f} {'-':>9s}")
PY
