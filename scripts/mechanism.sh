#!/usr/bin/env bash
# The mechanism study of docs/mechanism.md on one trained run: icalign's held-out sequences with its
# model's and GD's answers, then python/mechanism.py's probes, attention, knock-outs and
# out-of-distribution tests, into OUT/*.csv (default docs/results/mechanism; rows labelled LABEL,
# replacing that label's earlier rows), then the figures and the page's tables (with --by-variant, a
# row per training variant over its seeds: plot_mechanism.py). Needs python3-torch
# (scripts/setup.sh --with-torch). About 10 minutes for a paper-scale model on 2 cores, 1 for a small one.
# The figures show the first model in the CSVs, or FIGURES_OF=LABEL's.
# Usage: scripts/mechanism.sh RUN LABEL [OUT [--by-variant]]
#   e.g. scripts/mechanism.sh docs/results/paper_model default-s1
#        scripts/mechanism.sh ~/icalign-runs/self_correction/onpolicy-s1 onpolicy-s1 docs/results/mechanism_small --by-variant
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 2 ] && [ $# -le 4 ] || { echo "usage: scripts/mechanism.sh RUN LABEL [OUT [--by-variant]]" >&2; exit 2; }
run=$1 label=$2 out=${3:-docs/results/mechanism} by_variant=${4:-}
[ -e "$run/checkpoint/model.safetensors" ] || { echo "$run: no checkpoint/model.safetensors" >&2; exit 1; }
bash scripts/setup.sh --with-torch
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$(nproc)" --target icalign >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/run" "$out"
cp -r "$run/config.yaml" "$run/checkpoint" "$work/run/"   # eval writes its CSV into the run: a copy keeps RUN as it is
./build/icalign eval --run "$work/run" --sequences 3072 --responses line --dump "$work/batch.safetensors" >/dev/null  # the paper's task, whatever the run trained on
for study in probes attention knockout; do
  csv=$out/$study.csv
  [ "$study" = attention ] && csv=$out/attention_rank.csv
  /usr/bin/python3 python/mechanism.py "$study" "$work/run" "$work/batch.safetensors" "$csv" --label "$label"
done
/usr/bin/python3 python/mechanism.py ood "$work/run" "$out/ood.csv" --label "$label"
out=$(realpath "$out")
(cd experiments/analysis && /usr/bin/python3 plot_mechanism.py "$out" --into ../../docs/mechanism.md $by_variant ${FIGURES_OF:+--model "$FIGURES_OF"})
