#!/usr/bin/env bash
# A training run killed with SIGKILL mid-run and restarted with --resume must end bit-identical to an
# uninterrupted run with the same seed: same final weights, optimizer state and logged losses. So
# must one stopped by Ctrl-C (SIGINT) or SIGTERM, which checkpoints the step it stopped at and exits
# with 128 + the signal, and one hit by two Ctrl-C in a row (the second exits at once).
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
# The resume must start from the last checkpoint: a multiple of 150 after step 0, at most 9 steps
# ahead of the last log line (logged every 10 steps). A step's log line is written before its
# checkpoint, so a kill while checkpoint N is being written leaves log line N and checkpoint N - 150.
from=$(sed -n 's/^resumed .* at step \([0-9]*\)$/\1/p' "$work/resume.err")
if [ -z "$from" ] || [ "$from" -le 0 ] || [ $((from % 150)) -ne 0 ] || [ "$from" -lt $((logged - 150)) ] ||
   [ "$from" -gt $((logged + 9)) ]; then
  echo "FAILED: resumed from step '${from}', expected the last checkpoint before step $logged"; exit 1
fi
echo "resumed from step $from"
for f in model optimizer; do
  cmp "$work/straight/checkpoint/$f.safetensors" "$work/killed/checkpoint/$f.safetensors"
done
losses() { sed 's/,"elapsed_s".*//' "$1"; }
same_as_straight() {  # $1 = run directory
  for f in model optimizer; do
    cmp "$work/straight/checkpoint/$f.safetensors" "$1/checkpoint/$f.safetensors"
  done
  diff <(losses "$work/straight/log.jsonl") <(losses "$1/log.jsonl")
}
same_as_straight "$work/killed"
echo "resumed run is bit-identical to the uninterrupted one (weights, optimizer state, $(wc -l < "$work/killed/log.jsonl") log lines)"

for signals in INT TERM "INT INT"; do
  run="$work/signal-${signals// /-}"
  "$icalign" train "${args[@]}" --run "$run" >/dev/null 2>"$run.err" &
  pid=$!
  for _ in $(seq 1 2000); do [ -e "$run/checkpoint" ] && break; sleep 0.01; done
  sleep 0.1
  for s in $signals; do kill -s "$s" "$pid"; done
  status=0
  wait "$pid" || status=$?
  expected=130; [ "$signals" = TERM ] && expected=143
  [ "$status" -eq "$expected" ] || { echo "FAILED: SIG$signals: exit status $status, expected $expected"; cat "$run.err"; exit 1; }
  if [ "$signals" != "INT INT" ]; then  # one signal: the step it stopped at is checkpointed and named
    grep -q "interrupted at step [0-9]* of 3000; the training state is saved" "$run.err" ||
      { echo "FAILED: SIG$signals: no 'interrupted at step' message"; cat "$run.err"; exit 1; }
  fi
  "$icalign" train "${args[@]}" --run "$run" --resume >/dev/null 2>"$run.resume.err"
  same_as_straight "$run"
  echo "SIG$signals: exit $status, $(sed -n 's/^resumed .* \(at step [0-9]*\)$/resumed \1/p' "$run.resume.err"), bit-identical"
done
