#!/usr/bin/env bash
# The multi-round loop of docs/self_correction.md on one trained run: icalign selfcorrect on 512
# held-out sequences, 12 rounds, critic noise q = 0, 0.5, 1 and two controls (the constant critic, no append),
# without and with exploration (σ = 0.5, 1), into RUN/selfcorrect_explore<σ>.csv; SIGMA... chooses other σ. Each is skipped when its file exists
# (it is written atomically, so it is whole). Used by scripts/self_correction.sh and scripts/paper_scale.sh.
# Usage: selfcorrect_loops.sh RUN [SIGMA ...]   (from the checkout, after the build; errors go to RUN/evaluate.log)
set -euo pipefail
run=$1
shift
sigmas=("$@")
[ $# -gt 0 ] || sigmas=(0 0.5 1)
for sigma in "${sigmas[@]}"; do
  [ -e "$run/selfcorrect_explore$sigma.csv" ] || ./build/icalign selfcorrect --run "$run" --sequences 512 \
    --critic-noise 0 0.5 1 --constant-critic --no-append --explore "$sigma" --out "selfcorrect_explore$sigma.csv" >/dev/null 2>>"$run/evaluate.log"
done
