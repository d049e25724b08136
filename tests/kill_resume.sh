#!/usr/bin/env bash
# A training run killed with SIGKILL mid-run and restarted with --resume must end bit-identical to an
# uninterrupted run with the same seed: same final weights, optimizer state and logged losses.
set -euo pipefail
icalign=$1 config=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
args=(--config "$config" --set training.train_steps=3000 --set training.checkpoint_every=150)

"$icalign" train "${args[@]}" --run "$work/straight" >/dev/null 2>&1

"$icalign" train "${args[@]}" --run "$work/killed" >/dev/null 2>&1 &
pid=$!
for _ in $(seq 1 2000); do  # wait for the first checkpoint, then a little longer
  [ -e "$work/killed/checkpoint" ] && break
  sleep 0.01
done
sleep 0.2
if ! kill -9 "$pid" 2>/dev/null; then echo "FAILED: the run finished before it could be killed"; exit 1; fi
status=0
wait "$pid" || status=$?
[ "$status" -eq 137 ] || { echo "FAILED: expected the run to die of SIGKILL (137), got $status"; exit 1; }
logged=$(tail -n 1 "$work/killed/log.jsonl" | sed 's/.*"step":\([0-9]*\).*/\1/')
echo "killed the run at step $logged (last log line)"

"$icalign" train "${args[@]}" --run "$work/killed" --resume >/dev/null 2>"$work/resume.err"
# The resume must start from the last checkpoint: a multiple of 150 after step 0, at most one
# checkpoint interval behind the last log line (logged every 10 steps, so at most 9 steps ahead of it).
from=$(sed -n 's/^resumed .* at step \([0-9]*\)$/\1/p' "$work/resume.err")
if [ -z "$from" ] || [ "$from" -le 0 ] || [ $((from % 150)) -ne 0 ] || [ "$from" -le $((logged - 150)) ] ||
   [ "$from" -gt $((logged + 9)) ]; then
  echo "FAILED: resumed from step '${from}', expected the last checkpoint before step $logged"; exit 1
fi
echo "resumed from step $from"
for f in model optimizer; do
  cmp "$work/straight/checkpoint/$f.safetensors" "$work/killed/checkpoint/$f.safetensors"
done
losses() { sed 's/,"elapsed_s".*//' "$1"; }
diff <(losses "$work/straight/log.jsonl") <(losses "$work/killed/log.jsonl")
echo "resumed run is bit-identical to the uninterrupted one (weights, optimizer state, $(wc -l < "$work/killed/log.jsonl") log lines)"
