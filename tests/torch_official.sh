#!/usr/bin/env bash
# Interop with the official code: torch_official.py (strict load into the official module tree,
# export -> import bit-identical, refusals), then icalign itself evaluates a model that went through
# the official format and back, and must get the released model's recorded error on 16 sequences
# (check16.csv), up to the rounding of another GEMM backend or CPU. Skipped without torch: require_torch.sh.
set -euo pipefail
icalign=$1 released=$2 check=$3
here=$(dirname "$0")
source "$here/require_torch.sh"
/usr/bin/python3 "$here/torch_official.py" "$released"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
/usr/bin/python3 "$here/../python/export_official.py" "$released" "$work/official" >/dev/null
/usr/bin/python3 "$here/../python/import_official.py" "$work/official/state.pt" "$work/official/config.yaml" "$work/run" >/dev/null
"$icalign" eval --run "$work/run" --sequences 16 --out check16.csv >/dev/null
at_k15() { awk -F, '$1 == "model" && $2 == 15 { print $3 }' "$1"; }
got=$(at_k15 "$work/run/check16.csv") want=$(at_k15 "$check")
awk -v a="$got" -v b="$want" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a != "" && d <= 1e-4) }' ||
  { echo "FAILED: through the official format, k = 15 error $got, recorded $want"; exit 1; }
echo "icalign eval of the model after official export and import: k = 15 error $got (recorded $want)"
