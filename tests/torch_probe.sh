#!/usr/bin/env bash
# The PyTorch workflow of docs/pytorch.md on the released model: icalign evaluates it on 256 held-out
# sequences and dumps them; python/examples/probe.py loads the run into the PyTorch oracle, reads
# every layer's residual stream, and must reproduce icalign's answers (float32 rounding) and its
# error curve. Skipped (77) without torch, unless AG_REQUIRE_TORCH=1.
set -euo pipefail
icalign=$1 released=$2 probe=$3
if ! /usr/bin/python3 -c "import torch, numpy" 2>/dev/null; then
  if [ "${AG_REQUIRE_TORCH:-0}" = 1 ]; then echo "FAILED (AG_REQUIRE_TORCH=1): python3-torch is not installed"; exit 1; fi
  echo "SKIPPED: python3-torch is not installed (bash scripts/setup.sh --with-torch)"; exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$released" "$work/model"
"$icalign" eval --run "$work/model" --sequences 256 --dump "$work/batch.safetensors" >/dev/null
/usr/bin/python3 "$probe" --run "$work/model" --batch "$work/batch.safetensors" --check
