#!/usr/bin/env bash
# ctest driver for the PyTorch cross-check, over every model variant icalign trains. Exits 77
# (reported by ctest as "Skipped") with a clear reason when torch is not installed -- unless
# AG_REQUIRE_TORCH=1 (set by .ci/run): there a missing oracle is a failure, so CI cannot pass
# without running the comparison.
set -euo pipefail
dump_bin=$1 script=$2
unavailable() {
  if [ "${AG_REQUIRE_TORCH:-0}" = 1 ]; then echo "FAILED (AG_REQUIRE_TORCH=1): $1"; exit 1; fi
  echo "SKIPPED: $1"; exit 77
}
/usr/bin/python3 -c "import torch, numpy" 2>/dev/null ||
  unavailable "python3-torch is not installed (bash scripts/setup.sh --with-torch)"
# The oracle's own losses against their definitions, and causality, first.
(cd "$(dirname "$script")/../python" && /usr/bin/python3 -m icalign_torch check)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for dtype in float64 float32; do
  for variant in "softmax causal ffn" "linear causal ffn" "softmax full ffn" "linear full ffn" "softmax causal noffn" "softmax full noffn"; do
    dir=$work/$dtype-${variant// /-}
    mkdir -p "$dir"
    "$dump_bin" "$dir" "$dtype" $variant
    /usr/bin/python3 "$script" "$dir" "$dtype"
  done
done
