#!/usr/bin/env bash
# Regenerates everything docs/results.md quotes: the panels sweep (two shards, one per core; resumable,
# so rerunning continues), the figures and summary in docs/results/, multi-round self-correction on
# the default model (seed 1), and the explicit construction against it. About an hour on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$(nproc)" --target icalign
grids=(experiments/grids/panels.yaml)
[ "${1:-}" = "--more" ] && grids+=(experiments/grids/panels_more.yaml)   # depth 2 and 2 heads too
mkdir -p runs
for grid in "${grids[@]}"; do
  ./build/icalign sweep --grid "$grid" --shard 0/2 2>"runs/$(basename "$grid" .yaml)_0.log" &
  ./build/icalign sweep --grid "$grid" --shard 1/2 2>"runs/$(basename "$grid" .yaml)_1.log"
  wait
done
mkdir -p docs/results
cp runs/panels/results.csv docs/results/panels.csv
[ -e runs/panels_more/results.csv ] && cp runs/panels_more/results.csv docs/results/panels_more.csv
/usr/bin/python3 experiments/plot_panels.py docs/results docs/results/panels.csv docs/results/panels_more.csv
./build/icalign selfcorrect --run runs/panels/default-s1 --sequences 512
cp runs/panels/default-s1/selfcorrect.csv runs/panels/default-s1/selfcorrect.png docs/results/
./build/icalign construct --run runs/panels/default-s1 --out runs/construct_panels
cp runs/construct_panels/compare.csv runs/construct_panels/compare.png docs/results/
