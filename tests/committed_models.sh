#!/usr/bin/env bash
# Every committed paper-scale model (docs/results/paper_scale/models/RUN-sSEED) loads and evaluates:
# its eval.csv is the run's rows in paper_scale.csv (k = 15, held-out error of the model, byte for
# byte), and evaluated again here on the first 16 held-out sequences it gives the k = 15 error
# stored beside it (check16.csv), up to the rounding of a different CPU's GEMM kernels.
set -uo pipefail
icalign=$1 models=$2 results=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAILED: $*"; exit 1; }
at_k15() { awk -F, '$1 == "model" && $2 == 15 { print $3 }' "$1"; }
count=0
for m in "$models"/*-s*/; do
  m=${m%/} name=$(basename "$m") run=${name%-s*} seed=${name##*-s}
  for f in config.yaml checkpoint/model.safetensors eval.csv check16.csv; do
    [ -e "$m/$f" ] || fail "$name: no $f"
  done
  want=$(awk -F, -v r="$run" -v s="$seed" '$1 == r && $2 == s && $3 == -1 && $4 == "model" && $5 == 15 { print $6 }' "$results")
  [ -n "$want" ] || fail "$name: no k = 15 model row in $results"
  [ "$(at_k15 "$m/eval.csv")" = "$want" ] || fail "$name: eval.csv says $(at_k15 "$m/eval.csv") at k = 15, $results says $want"
  mkdir -p "$work/$name" && cp -r "$m/config.yaml" "$m/checkpoint" "$work/$name/"
  "$icalign" eval --run "$work/$name" --sequences 16 --out check16.csv >"$work/out" 2>&1 || fail "$name: eval: $(tail -3 "$work/out")"
  got=$(at_k15 "$work/$name/check16.csv") stored=$(at_k15 "$m/check16.csv")
  awk -v a="$got" -v b="$stored" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= 1e-4) }' ||
    fail "$name: k = 15 error on 16 sequences is $got, check16.csv stores $stored"
  count=$((count + 1))
done
[ "$count" -gt 0 ] || fail "no committed model in $models"
echo "$count committed models load and evaluate as recorded"
