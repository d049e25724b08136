#!/usr/bin/env bash
# The PyTorch workflow of docs/pytorch.md on the released model: icalign evaluates it on 256 held-out
# sequences and dumps them; python/examples/probe.py loads the run into the PyTorch oracle, reads
# every layer's residual stream, and must reproduce icalign's answers (float32 rounding) and its
# error curve (skipped without torch: require_torch.sh).
set -euo pipefail
icalign=$1 released=$2 probe=$3
source "$(dirname "$0")/require_torch.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$released" "$work/model"
"$icalign" eval --run "$work/model" --sequences 256 --dump "$work/batch.safetensors" >/dev/null
/usr/bin/python3 "$probe" --run "$work/model" --batch "$work/batch.safetensors" --check
