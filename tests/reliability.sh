#!/usr/bin/env bash
# The program under bad moments, end to end: two processes on one run directory, a run directory
# whose name is shell code, a disk that fills up mid-run, and a NaN that reaches the loss.
set -uo pipefail
icalign=$(realpath "$1") config=$(realpath "$2")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAILED: $*"; exit 1; }
train() { "$icalign" train --config "$config" "$@"; }

# 1. One writer per run directory: the second process is refused at once, naming the directory and
#    the holder's pid; the first completes with its whole log.
"$icalign" train --config "$config" --set training.train_steps=4000 --run "$work/shared" >"$work/first.out" 2>&1 & first=$!
for _ in $(seq 1 500); do [ -s "$work/shared/lock" ] && break; sleep 0.01; done
start=$(date +%s%N)
train --run "$work/shared" --resume >"$work/second.out" 2>&1 && fail "a second trainer on a busy run directory was accepted"
took_ms=$(( ($(date +%s%N) - start) / 1000000 ))
grep -q "run directory '$work/shared' is in use by pid $first (icalign train)" "$work/second.out" ||
  fail "the refusal does not name the directory and the holder: $(cat "$work/second.out")"
[ "$took_ms" -lt 2000 ] || fail "the refusal took $took_ms ms"
"$icalign" eval --run "$work/shared" --sequences 8 >"$work/eval.out" 2>&1 && fail "eval wrote into a run being trained"
wait "$first" || fail "the first trainer failed: $(tail -3 "$work/first.out")"
[ "$(wc -l <"$work/shared/log.jsonl")" -eq 400 ] && tail -1 "$work/shared/log.jsonl" | grep -q '"step":4000,' ||
  fail "the first trainer's log is not whole: $(wc -l <"$work/shared/log.jsonl") lines"
echo "lock: the second writer was refused in $took_ms ms; the first finished with its 400 log lines"

# 2. A run directory named like shell code is a name: plotting draws its figure and runs nothing else.
cd "$work"
nasty="$work/it's a run; touch INJECTED \$(touch INJECTED) \`touch INJECTED\`"$'\n'"& \$HOME"
train --set training.train_steps=20 --run "$nasty" >/dev/null 2>&1 || fail "training into '$nasty'"
"$icalign" eval --run "$nasty" --sequences 8 --gd-steps 2 >/dev/null 2>&1 || fail "eval of '$nasty'"
"$icalign" plot --run "$nasty" >"$work/plot.out" 2>&1 || fail "plot of '$nasty': $(cat "$work/plot.out")"
[ -s "$nasty/eval.png" ] || fail "no figure drawn for '$nasty'"
[ -e "$work/INJECTED" ] && fail "a path ran as shell code"
echo "plot: a run directory named \"$(basename "$nasty")\" was plotted; nothing was injected"

# 3. A full disk mid-run (a file-size limit; SIGXFSZ ignored, so writes fail with EFBIG): the run
#    stops with the reason, the last checkpoint resumes, and the result is the uninterrupted one.
args=(--set training.train_steps=100 --set training.checkpoint_every=25)
train "${args[@]}" --run "$work/straight" >/dev/null 2>&1 || fail "the straight run"
train "${args[@]}" --set training.train_steps=50 --run "$work/full" >/dev/null 2>&1 || fail "the first 50 steps"
ckpt_kb=$(( $(stat -c %s "$work/full/checkpoint/model.safetensors") / 1024 ))
(trap '' XFSZ; ulimit -f $((ckpt_kb - 1)); exec "$icalign" train --config "$config" "${args[@]}" --run "$work/full" --resume) \
  >"$work/full.out" 2>&1 && fail "training went on although no checkpoint could be written"
grep -q "File too large" "$work/full.out" || fail "the failure does not say why: $(tail -2 "$work/full.out")"
train "${args[@]}" --run "$work/full" --resume >"$work/full2.out" 2>&1 || fail "resuming after the full disk: $(tail -2 "$work/full2.out")"
grep -q "at step 50$" "$work/full2.out" || fail "did not resume from the last good checkpoint: $(head -2 "$work/full2.out")"
cmp -s "$work/straight/checkpoint/model.safetensors" "$work/full/checkpoint/model.safetensors" ||
  fail "the run resumed after a full disk differs from the uninterrupted one"
cp "$work/full/eval.csv" "$work/eval.before" 2>/dev/null || "$icalign" eval --run "$work/full" --sequences 8 --gd-steps 2 >/dev/null 2>&1
cp "$work/full/eval.csv" "$work/eval.before"
(trap '' XFSZ; ulimit -f 1; exec "$icalign" eval --run "$work/full" --sequences 1024 --gd-steps 2) >"$work/evalfull.out" 2>&1 &&
  fail "eval reported success although its CSV could not be written"
cmp -s "$work/eval.before" "$work/full/eval.csv" || fail "a failed CSV write damaged the previous eval.csv"
echo "full disk: the checkpoint write failed with EFBIG, the run resumed from step 50 and ended bit-identical; a failed CSV write kept the old file"

# 4. A NaN in the weights (planted in the checkpoint) reaches the loss: training stops at that step
#    with an error naming it, and the checkpoint is left as it was.
python3 - "$work/full/checkpoint/model.safetensors" <<'PY'
# Sets the first weight to NaN and re-signs the file (FNV-1a 64 over the tensor data, as nn/checkpoint.cpp).
import json, struct, sys
path = sys.argv[1]
data = bytearray(open(path, 'rb').read())
n = struct.unpack('<Q', data[:8])[0]
header = json.loads(data[8:8 + n])
name = next(k for k in header if k != '__metadata__')
start = 8 + n + header[name]['data_offsets'][0]
data[start:start + 4] = struct.pack('<f', float('nan'))
h = 1469598103934665603
for b in data[8 + n:]:
    h = ((h ^ b) * 1099511628211) % 2**64
header['__metadata__']['fnv1a64'] = str(h)
text = json.dumps(header, separators=(',', ':')).encode()
text += b' ' * ((8 - len(text) % 8) % 8)
open(path, 'wb').write(struct.pack('<Q', len(text)) + text + data[8 + n:])
PY
cp -r "$work/full/checkpoint" "$work/nan-checkpoint"
train --set training.train_steps=150 --set training.checkpoint_every=25 --run "$work/full" --resume >"$work/nan.out" 2>&1 &&
  fail "training went on with a NaN loss"
grep -q "step 101: the loss is NaN; training stopped before the update, the checkpoint of step 100 is intact" "$work/nan.out" ||
  fail "the NaN stop does not name the step: $(tail -2 "$work/nan.out")"
diff -r "$work/nan-checkpoint" "$work/full/checkpoint" >/dev/null || fail "the checkpoint changed after the NaN stop"
echo "non-finite: stopped at step 101 with the checkpoint of step 100 intact"
echo "reliability: ok"
