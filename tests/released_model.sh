#!/usr/bin/env bash
# The released paper-scale model (docs/results/paper_model: the default 20-layer run of seed 1) loads
# and evaluates, and its held-out error at k = 15 is the one docs/results.md reports (paper_model/eval.csv,
# written by the sweep that trained it), up to the rounding of a different CPU's GEMM kernels.
set -uo pipefail
icalign=$1 released=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAILED: $*"; exit 1; }
cp -r "$released" "$work/model"
rm -f "$work/model/eval.csv"
start=$(date +%s)
"$icalign" eval --run "$work/model" >"$work/out" 2>&1 || fail "eval: $(tail -3 "$work/out")"
at_k15() { awk -F, '$1 == "model" && $2 == 15 { print $3 }' "$1"; }
want=$(at_k15 "$released/eval.csv") got=$(at_k15 "$work/model/eval.csv")
[ -n "$want" ] && [ -n "$got" ] || fail "no model row at k = 15 (reported '$want', got '$got')"
awk -v a="$got" -v b="$want" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= 1e-4) }' ||
  fail "held-out error at k = 15: $got, docs report $want"
echo "released model: error at k = 15 is $got (reported $want), evaluated in $(( $(date +%s) - start )) s"
