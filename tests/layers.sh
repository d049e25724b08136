#!/usr/bin/env bash
# The layer order of scripts/check_layers.py: the checkout passes, and a planted upward include (the
# task including a study) fails, naming the file, the line and both layers.
set -uo pipefail
repo=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAILED: $*"; exit 1; }
/usr/bin/python3 "$repo/scripts/check_layers.py" || fail "the checkout includes against the layer order"
mkdir -p "$work/experiments/task" "$work/experiments/studies"
printf '#include "experiments/studies/evaluate.hpp"\n' >"$work/experiments/studies/ok.cpp"
printf '#include "experiments/task/task.hpp"\n#include "experiments/studies/evaluate.hpp"\n' >"$work/experiments/task/bad.hpp"
out=$(/usr/bin/python3 "$repo/scripts/check_layers.py" "$work" 2>&1) && fail "an upward include passed"
grep -qF "experiments/task/bad.hpp:2: includes experiments/studies/evaluate.hpp (experiments/studies is above experiments/task)" <<<"$out" ||
  fail "the report does not name the include: $out"
[ "$(grep -c includes <<<"$out")" = 1 ] || fail "more than the one planted include reported: $out"
echo "layers: ok"
