#!/usr/bin/env bash
# The paper's panels at the paper's own scale (issue 14; experiments/grids/paper_scale.yaml): runs
# (or continues) the grid, then writes docs/results/paper_scale.csv, the figures in
# docs/results/paper_scale/ and the released model docs/results/paper_model/ (the default run of
# seed 1: config and float32 weights, no optimizer state).
# The runs live in ~/icalign-runs/paper_scale (the grid's out; RUNS_DIR=... to move them), outside the
# checkout, because the whole grid takes days on 2 cores; every call continues where the last one
# stopped, and runs whose results are already committed are restored, not retrained
# (experiments/restore_runs.py). The tables docs/results.md quotes go to
# docs/results/paper_scale/tables.md, the runs' training times to docs/results/run_times.csv.
# Arguments go to `icalign sweep` (e.g. --shard 0/2, --only depth5, --set training.threads=2).
# --collect skips training and only gathers what is finished.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$(nproc)" --target icalign
runs=${RUNS_DIR:-$HOME/icalign-runs/paper_scale}
mkdir -p "$runs"
# A new machine starts with the runs whose results are already committed, and does not retrain them.
python3 experiments/restore_runs.py docs/results/paper_scale.csv "$runs"
if [ "${1:-}" != "--collect" ]; then
  ./build/icalign sweep --grid experiments/grids/paper_scale.yaml --runs-dir "$runs" "$@"
fi
[ -e "$runs/results.csv" ] || { echo "no finished run in $runs yet"; exit 0; }
cp "$runs/results.csv" docs/results/paper_scale.csv
/usr/bin/python3 experiments/plot_panels.py --paper docs/results/paper_scale docs/results/paper_scale.csv
/usr/bin/python3 experiments/paper_scale_tables.py docs/results/paper_scale docs/results/paper_scale.csv
/usr/bin/python3 experiments/run_times.py docs/results/run_times.csv "$runs"
# Only a run trained here has weights; one restored from the committed CSV keeps the committed model.
if [ -e "$runs/default-s1/done" ] && [ -e "$runs/default-s1/checkpoint/model.safetensors" ]; then
  mkdir -p docs/results/paper_model/checkpoint
  cp "$runs/default-s1/config.yaml" docs/results/paper_model/
  cp "$runs/default-s1/checkpoint/model.safetensors" docs/results/paper_model/checkpoint/
  cp "$runs/default-s1/eval.csv" docs/results/paper_model/eval.csv
fi
