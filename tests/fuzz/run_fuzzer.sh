#!/usr/bin/env bash
# Runs one libFuzzer target: its seed corpus first, then new inputs for a fixed time.
# A crash fails the test and prints the input, to be added to the seed corpus once fixed.
set -uo pipefail
fuzzer=$1 corpus=$2 seconds=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/new"
# New inputs go to the first directory (a scratch one); the seed corpus is only read.
"$fuzzer" "$work/new" "$corpus" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 \
  -artifact_prefix="$work/" -print_final_stats=1 >"$work/log" 2>&1
status=$?
grep -E "^(#[0-9]+ +DONE|stat::number_of_executed_units|INFO: seed corpus)" "$work/log"
if [ "$status" -ne 0 ]; then
  tail -40 "$work/log"
  for crash in "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-*; do
    [ -e "$crash" ] || continue
    echo "FAILED: $(basename "$fuzzer") on this input (base64; add it to $corpus once fixed):"
    base64 "$crash"
  done
  exit 1
fi
echo "$(basename "$fuzzer"): no crash in $seconds s"
