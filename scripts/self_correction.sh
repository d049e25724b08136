#!/usr/bin/env bash
# Does self-correction emerge? (docs/self_correction.md) Everything behind that page:
#   1. the grid experiments/grids/self_correction.yaml (four training variants × 3 seeds of the small
#      model) in two shards, one per core; its runs live in ~/icalign-runs/self_correction (RUNS_DIR=...),
#      and every call continues where the last one stopped;
#   2. on every finished run: the multi-round loop (icalign selfcorrect, 512 sequences, critic noise
#      q = 0, 0.5, 1, 12 rounds) without and with exploration (σ = 0.5, 1), the one-shot curve on the
#      paper's task (icalign eval --responses line) and the agreement measures (icalign agree);
#   3. on the snapshots of the runs that keep them (onpolicy_explore): the loop and the agreement measures
#      at each, to see when self-correction appears;
#   4. docs/results/self_correction_*.csv, the figures and the summary (experiments/analysis/self_correction_results.py).
# From scratch about 1.5 hours on 2 cores; each step is skipped when its file exists.
# --collect skips training.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$(nproc)" --target icalign
runs=${RUNS_DIR:-$HOME/icalign-runs/self_correction}
mkdir -p "$runs"
if [ "${1:-}" != "--collect" ]; then
  ./build/icalign sweep --grid experiments/grids/self_correction.yaml --runs-dir "$runs" --shard 0/2 2>"$runs/sweep_0.log" &
  pid=$!
  ./build/icalign sweep --grid experiments/grids/self_correction.yaml --runs-dir "$runs" --shard 1/2 2>"$runs/sweep_1.log"
  wait "$pid"
fi
# The evaluations of one run, each skipped when done (a file is written atomically, so it is whole).
evaluate() {
  local run=$1
  bash scripts/selfcorrect_loops.sh "$run"
  [ -e "$run/eval_line.csv" ] || ./build/icalign eval --run "$run" --responses line --out eval_line.csv >/dev/null 2>>"$run/evaluate.log"
  [ -e "$run/agreement.csv" ] || ./build/icalign agree --run "$run" --sensitivity-sequences 128 >/dev/null 2>>"$run/evaluate.log"
  echo "evaluated $run"
}
finished=()
for run in "$runs"/*-s*; do [ -e "$run/done" ] && finished+=("$run"); done
for ((i = 0; i < ${#finished[@]}; i += 2)); do  # two runs at a time, one per core
  evaluate "${finished[i]}" &
  pid=$!
  if [ $((i + 1)) -lt ${#finished[@]} ]; then evaluate "${finished[i + 1]}"; fi
  wait "$pid"
done
# When does it start to work? The snapshots of the runs that keep them (onpolicy_explore: every 300
# steps; about 10 minutes per run), each in the loop that works best for it (q = 0 and 1, σ = 1) and in
# the agreement measures (fewer sequences than above).
for snap in "$runs"/*-s*/snapshots/step-*.safetensors; do
  [ -e "$snap" ] || continue
  run=${snap%/snapshots/*} step=$(basename "$snap" .safetensors)
  [ -e "$run/done" ] || continue
  [ -e "$run/selfcorrect_explore1_$step.csv" ] || ./build/icalign selfcorrect --run "$run" --weights "$snap" --sequences 256 \
    --critic-noise 0 1 --explore 1 --out "selfcorrect_explore1_$step.csv" >/dev/null 2>>"$run/evaluate.log"
  [ -e "$run/agreement_$step.csv" ] || ./build/icalign agree --run "$run" --weights "$snap" --sequences 256 \
    --sensitivity-sequences 64 --sensitivity-k 5 10 --out "agreement_$step.csv" >/dev/null 2>>"$run/evaluate.log"
done
/usr/bin/python3 experiments/analysis/self_correction_results.py docs/results "$runs"
