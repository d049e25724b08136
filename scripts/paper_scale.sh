#!/usr/bin/env bash
# The paper's panels at the paper's own scale (experiments/grids/paper_scale.yaml): runs (or
# continues) the grid, then writes docs/results/paper_scale.csv, the figures in
# docs/results/paper_scale/, and every finished model to docs/results/paper_scale/models/RUN-sSEED/
# (config, float32 weights, eval CSVs, the training log, and check16.csv for the load test; written
# once, never rewritten; their eval CSVs follow the runs'). The released model docs/results/paper_model
# is default-s1's.
# The runs live in ~/icalign-runs/paper_scale (the grid's out; RUNS_DIR=... to move them), outside the
# checkout, because the whole grid takes days on 2 cores; every call continues where the last one
# stopped. A new machine restores the runs whose models are committed (experiments/analysis/restore_runs.py)
# and retrains the others; their committed results stay in paper_scale.csv until then
# (experiments/analysis/merge_results.py). The tables go to docs/results/paper_scale/tables.md and into
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
models=docs/results/paper_scale/models
python3 experiments/analysis/restore_runs.py docs/results/paper_scale.csv "$runs" --models "$models"
if [ "${1:-}" != "--collect" ]; then
  ./build/icalign sweep --grid experiments/grids/paper_scale.yaml --runs-dir "$runs" "$@"
fi
[ -e "$runs/results.csv" ] || { echo "no finished run in $runs yet"; exit 0; }
python3 experiments/analysis/merge_results.py docs/results/paper_scale.csv "$runs/results.csv"
# Each finished model is committed once: the weights of a directory that exists are never rewritten
# (its eval CSVs follow the run's, which a re-evaluation may have changed).
for run in "$runs"/*-s*; do
  name=$(basename "$run")
  [ -e "$run/done" ] && [ -e "$run/checkpoint/model.safetensors" ] || continue
  if [ -e "$models/$name" ]; then
    cp "$run"/eval*.csv "$models/$name/"
    continue
  fi
  ./build/icalign eval --run "$run" --sequences 16 --out check16.csv >/dev/null
  mkdir -p "$models/$name.new/checkpoint"
  cp "$run"/config.yaml "$run"/eval*.csv "$run"/check16.csv "$run"/log.jsonl "$models/$name.new/"
  cp "$run/checkpoint/model.safetensors" "$models/$name.new/checkpoint/"
  mv "$models/$name.new" "$models/$name"
  echo "committed model: $models/$name"
done
/usr/bin/python3 experiments/analysis/plot_panels.py --paper docs/results/paper_scale docs/results/paper_scale.csv
/usr/bin/python3 experiments/analysis/paper_scale_tables.py docs/results/paper_scale docs/results/paper_scale.csv --into docs/results.md
/usr/bin/python3 experiments/analysis/run_times.py docs/results/run_times.csv "$runs"
/usr/bin/python3 experiments/analysis/plot_training.py "$models" docs/results/paper_scale/training_loss.png
# Does the paper-scale model correct itself? The multi-round loop (scripts/selfcorrect_loops.sh) on every
# finished default seed with and without exploration, on the depth and heads runs and the causal
# ablations without it (does it depend on size, on softmax, on the FFN?), and icalign agree (how close to
# GD) on all of them. The unmasked ablations are left out: their answer at every position sees the whole
# context.
# Each run's loop and agreement CSVs are committed in docs/results/paper_scale/loops/RUN/, and gathered
# from there, so a new machine (whose restored runs cannot be re-evaluated) gathers the same curves.
loops=docs/results/paper_scale/loops
for committed in "$loops"/*-s*; do  # a restored (finished) run keeps the loops already committed for it
  [ -e "$runs/$(basename "$committed")/done" ] || continue
  for f in "$committed"/*.csv; do [ -e "$runs/$(basename "$committed")/$(basename "$f")" ] || cp "$f" "$runs/$(basename "$committed")/"; done
done
for run in "$runs"/*-s*; do
  [ -e "$run/done" ] && [ -e "$run/checkpoint/model.safetensors" ] || continue
  case $(basename "$run") in
    default-*) bash scripts/selfcorrect_loops.sh "$run" ;;
    depth*|heads*|*_causal-*) bash scripts/selfcorrect_loops.sh "$run" 0 ;;
    *) continue ;;
  esac
  [ -e "$run/agreement.csv" ] || ./build/icalign agree --run "$run" --sensitivity-sequences 128 >/dev/null 2>>"$run/evaluate.log"
  mkdir -p "$loops/$(basename "$run")"
  cp "$run"/done "$run"/selfcorrect_explore*.csv "$run"/agreement.csv "$loops/$(basename "$run")/"
done
/usr/bin/python3 experiments/analysis/self_correction_results.py docs/results/paper_scale "$loops" "paper-scale models"
/usr/bin/python3 experiments/analysis/plot_self_correction_scale.py docs/results/paper_scale/self_correction_by_size.png \
  docs/results/self_correction_emergent.csv docs/results/paper_scale/self_correction_emergent.csv
# Inside the models (docs/mechanism.md): the mechanism study on every committed model not yet in its CSVs,
# the default's seeds in docs/results/mechanism, the other runs in docs/results/mechanism_ablations.
for model in "$models"/*-s*; do
  name=$(basename "$model")
  case $name in default-*) out=docs/results/mechanism ;; *) out=docs/results/mechanism_ablations ;; esac
  grep -q "^$name," "$out/ood.csv" 2>/dev/null || bash scripts/mechanism.sh "$model" "$name" "$out"
done
