#!/usr/bin/env bash
# ctest driver for the PyTorch cross-check. Exits 77 (reported by ctest as "Skipped") with a clear
# reason when the oracle is not available -- unless AG_REQUIRE_TORCH=1 (set by .ci/run): there a
# missing oracle is a failure, so CI cannot pass without running the comparison.
set -euo pipefail
dump_bin=$1 ref_dir=$2 script=$3
unavailable() {
  if [ "${AG_REQUIRE_TORCH:-0}" = 1 ]; then echo "FAILED (AG_REQUIRE_TORCH=1): $1"; exit 1; fi
  echo "SKIPPED: $1"; exit 77
}
/usr/bin/python3 -c "import torch" 2>/dev/null ||
  unavailable "python3-torch is not installed (bash scripts/setup.sh --with-torch)"
[ -f "$ref_dir/icalign_torch.py" ] || unavailable "the PyTorch reference is not at $ref_dir/icalign_torch.py"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for dtype in float64 float32; do
  mkdir -p "$work/$dtype"
  "$dump_bin" "$work/$dtype" "$dtype"
  /usr/bin/python3 "$script" "$work/$dtype" "$ref_dir" "$dtype"
done
