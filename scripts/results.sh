#!/usr/bin/env bash
# Regenerates everything docs/results.md quotes:
#   1. four sweeps, each in two shards (one per core; resumable, so rerunning continues):
#      panels.yaml (the six panels), panels_more.yaml (2 and 8 layers, 2 and 8 heads), panels_noncausal.yaml (the
#      official code's unmasked ablations), reward_use.yaml (longer training, larger batch);
#   2. the figures and summary in docs/results/;
#   3. the explicit construction against the default model of seed 1.
# (Multi-round self-correction is scripts/self_correction.sh's.)
# From scratch a few hours on 2 cores (docs/results.md has each run's training time); with
# every run done, a minute. With --quick, only panels.yaml (about 1 hour).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$(nproc)" --target icalign
grids=(panels panels_more panels_noncausal reward_use)
[ "${1:-}" = "--quick" ] && grids=(panels)
mkdir -p runs docs/results
for grid in "${grids[@]}"; do
  ./build/icalign sweep --grid "experiments/grids/$grid.yaml" --shard 0/2 2>"runs/${grid}_0.log" &
  ./build/icalign sweep --grid "experiments/grids/$grid.yaml" --shard 1/2 2>"runs/${grid}_1.log"
  wait
  cp "runs/$grid/results.csv" "docs/results/$grid.csv"
done
csvs=()
for grid in panels panels_more panels_noncausal reward_use; do
  [ -e "docs/results/$grid.csv" ] && csvs+=("docs/results/$grid.csv")
done
/usr/bin/python3 experiments/analysis/plot_panels.py docs/results "${csvs[@]}"
/usr/bin/python3 experiments/analysis/run_times.py docs/results/run_times.csv $(for g in "${grids[@]}"; do echo "runs/$g"; done)
./build/icalign construct --run runs/panels/default-s1 --out runs/construct_panels
cp runs/construct_panels/{compare.csv,compare.png,equality.csv,components.csv,sharpness.csv,sharpness.png} docs/results/
