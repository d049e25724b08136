#!/usr/bin/env bash
# ctest driver for the PyTorch cross-check; exits 77 (reported by ctest as "Skipped") with a clear
# reason when the oracle is not available.
set -euo pipefail
dump_bin=$1 ref_dir=$2 script=$3
if ! /usr/bin/python3 -c "import torch" 2>/dev/null; then
  echo "SKIPPED: python3-torch is not installed (bash scripts/setup.sh --with-torch)"; exit 77
fi
if [ ! -f "$ref_dir/icalign_torch.py" ]; then
  echo "SKIPPED: the PyTorch reference is not at $ref_dir/icalign_torch.py"; exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for dtype in float64 float32; do
  mkdir -p "$work/$dtype"
  "$dump_bin" "$work/$dtype" "$dtype"
  /usr/bin/python3 "$script" "$work/$dtype" "$ref_dir" "$dtype"
done
