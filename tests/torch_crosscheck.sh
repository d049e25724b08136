#!/usr/bin/env bash
# ctest driver for the PyTorch cross-check, over every model variant icalign trains (skipped
# without torch: require_torch.sh).
set -euo pipefail
dump_bin=$1 script=$2
source "$(dirname "$0")/require_torch.sh"
# The oracle's own losses against their definitions, and causality, first.
(cd "$(dirname "$script")/../python" && /usr/bin/python3 -m icalign_torch check)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for dtype in float64 float32; do
  for variant in "softmax causal ffn" "linear causal ffn" "softmax full ffn" "linear full ffn" "softmax causal noffn" "softmax full noffn" \
                 "softmax causal softplus"; do
    dir=$work/$dtype-${variant// /-}
    mkdir -p "$dir"
    "$dump_bin" "$dir" "$dtype" $variant
    /usr/bin/python3 "$script" "$dir" "$dtype"
  done
done
