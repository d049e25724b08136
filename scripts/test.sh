#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite four times: the optimised build
# on the default GEMM backend (libxsmm), the same build on the reference backend (AG_GEMM=openblas),
# the same build on the reference path (AG_REFERENCE=1: plain loops, no fused ops), then an
# AddressSanitizer + UndefinedBehaviorSanitizer build; then fuzzes the file parsers (libFuzzer,
# clang, 30 s each). Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

jobs=$(nproc)
run_suite() {  # $1 = build dir, then extra cmake arguments
  local dir=$1; shift
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
  cmake --build "$dir" -j "$jobs"
  (cd "$dir" && ctest --output-on-failure -j "$jobs")
}

echo "== tests: release build"
run_suite build
echo "== tests: release build on the OpenBLAS backend (AG_GEMM=openblas)"
(cd build && AG_GEMM=openblas ctest --output-on-failure -j "$jobs")
echo "== tests: release build on the reference path (AG_REFERENCE=1)"
(cd build && AG_REFERENCE=1 ctest --output-on-failure -j "$jobs")
echo "== tests: sanitizer build (ASan + UBSan)"
# OpenBLAS and TBB are not instrumented; leak checking stays on for our code.
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 run_suite build-sanitize -DAG_SANITIZE=ON
echo "== fuzzing: the safetensors, config and grid parsers (libFuzzer + ASan + UBSan)"
CXX=clang++ run_suite build-fuzz -DAG_FUZZ=ON
