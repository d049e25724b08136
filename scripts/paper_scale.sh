#!/usr/bin/env bash
# The paper's panels at the paper's own scale (issue 14; experiments/grids/paper_scale.yaml): runs
# (or continues) the grid, then writes docs/results/paper_scale.csv, the figures in
# docs/results/paper_scale/ and the released model docs/results/paper_model/ (the default run of
# seed 1: config and float32 weights, no optimizer state).
# The runs live in ~/icalign-runs/paper_scale (the grid's out; RUNS_DIR=... to move them), outside the
# checkout, because the whole grid takes days on 2 cores; every call continues where the last one
# stopped, and runs whose results are already committed are restored, not retrained
# (experiments/restore_runs.py). The tables go to docs/results/paper_scale/tables.md and into
# docs/results.md (between its paper_scale_tables markers), the training times to docs/results/run_times.csv.
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
/usr/bin/python3 experiments/paper_scale_tables.py docs/results/paper_scale docs/results/paper_scale.csv --into docs/results.md
/usr/bin/python3 experiments/run_times.py docs/results/run_times.csv "$runs"
# The released model is default-s1's config and weights (a default-s1 restored from the committed CSV
# has no weights until the step below gives it the released ones back).
if [ -e "$runs/default-s1/done" ] && [ -e "$runs/default-s1/checkpoint/model.safetensors" ]; then
  mkdir -p docs/results/paper_model/checkpoint
  cp "$runs/default-s1/config.yaml" docs/results/paper_model/
  cp "$runs/default-s1/checkpoint/model.safetensors" docs/results/paper_model/checkpoint/
  cp "$runs/default-s1/eval.csv" docs/results/paper_model/eval.csv
fi
# Does the paper-scale model correct itself? The multi-round loop (scripts/selfcorrect_loops.sh) on every
# finished default seed, with and without exploration, and icalign agree (how close to GD); on the depth
# and heads runs the loop without exploration (does it depend on size?). The unmasked ablations are left
# out: their answer at every position sees the whole context. A default-s1 restored from the committed
# CSV gets its weights back from the released model; other restored runs have no weights.
s1=$runs/default-s1
if [ -e "$s1/done" ] && [ ! -e "$s1/checkpoint/model.safetensors" ] && [ -e docs/results/paper_model/config.yaml ]; then
  mkdir -p "$s1/checkpoint"
  cp docs/results/paper_model/config.yaml "$s1/"
  cp docs/results/paper_model/checkpoint/model.safetensors "$s1/checkpoint/"
fi
# Each run's loop and agreement CSVs are committed in docs/results/paper_scale/loops/RUN/, and gathered
# from there, so a new machine (whose restored runs cannot be re-evaluated) gathers the same curves.
loops=docs/results/paper_scale/loops
for run in "$runs"/*-s*; do
  [ -e "$run/done" ] && [ -e "$run/checkpoint/model.safetensors" ] || continue
  case $(basename "$run") in
    default-*)
      bash scripts/selfcorrect_loops.sh "$run"
      [ -e "$run/agreement.csv" ] || ./build/icalign agree --run "$run" --sensitivity-sequences 128 >/dev/null 2>>"$run/evaluate.log"
      ;;
    depth*|heads*) bash scripts/selfcorrect_loops.sh "$run" 0 ;;
    *) continue ;;
  esac
  mkdir -p "$loops/$(basename "$run")"
  cp "$run"/done "$run"/selfcorrect_explore*.csv "$loops/$(basename "$run")/"
  if [ -e "$run/agreement.csv" ]; then cp "$run/agreement.csv" "$loops/$(basename "$run")/"; fi
done
/usr/bin/python3 experiments/self_correction_results.py docs/results/paper_scale "$loops" "paper-scale models"
/usr/bin/python3 experiments/plot_self_correction_scale.py docs/results/paper_scale/self_correction_by_size.png \
  docs/results/self_correction_emergent.csv docs/results/paper_scale/self_correction_emergent.csv
