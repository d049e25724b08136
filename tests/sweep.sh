#!/usr/bin/env bash
# icalign sweep: two shards cover the grid between them, a second call skips finished runs, a run
# with a checkpoint but no `done` is resumed, results.csv gathers every run × seed, and shards that
# finish at the same moment both succeed.
set -uo pipefail
icalign=$1 config=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAILED: $*"; exit 1; }
cat >"$work/grid.yaml" <<YAML
base: $config
out: $work/out
seeds: [1, 2]
set: [training.train_steps=4, training.checkpoint_every=2]
runs:
  a: []
  b: [model.n_head=1]
eval_noise: {a: [1]}
YAML
"$icalign" sweep --grid "$work/grid.yaml" --shard 0/2 >"$work/log0" 2>&1 || fail "shard 0/2: $(tail -3 "$work/log0")"
[ -e "$work/out/a-s1/done" ] && [ -e "$work/out/b-s1/done" ] || fail "shard 0/2 did not finish runs 0 and 2"
[ -e "$work/out/a-s2" ] && fail "shard 0/2 ran a run of shard 1"
rm "$work/out/a-s1/done"   # as if killed after its last checkpoint: it must be resumed, not redone
"$icalign" sweep --grid "$work/grid.yaml" --shard 1/2 >"$work/log1" 2>&1 || fail "shard 1/2: $(tail -3 "$work/log1")"
"$icalign" sweep --grid "$work/grid.yaml" >"$work/log2" 2>&1 || fail "whole grid: $(tail -3 "$work/log2")"
grep -q "a-s1: resuming" "$work/log2" || fail "a-s1 was not resumed"
[ "$(grep -c 'done, skipped' "$work/log2")" -eq 3 ] || fail "finished runs were not skipped: $(cat "$work/log2")"
dups=$(grep -v '^run' "$work/out/results.csv" | cut -d, -f1-5 | sort | uniq -d | head -3)
[ -z "$dups" ] || fail "results.csv repeats rows (run, seed, noise, method, k): $dups"
rows=$(cut -d, -f1,2,3 "$work/out/results.csv" | sort -u | grep -vc '^run')
[ "$rows" -eq 6 ] || fail "results.csv has $rows (run, seed, noise) groups, expected 6 (4 runs + a's noise-1 evals)"
# Shards that finish together both gather results.csv: neither may fail (they once shared a temp file).
for i in $(seq 20); do
  "$icalign" sweep --grid "$work/grid.yaml" --shard 0/2 >"$work/log3" 2>&1 & pid=$!
  "$icalign" sweep --grid "$work/grid.yaml" --shard 1/2 >"$work/log4" 2>&1 || fail "concurrent shard 1/2: $(tail -2 "$work/log4")"
  wait "$pid" || fail "concurrent shard 0/2: $(tail -2 "$work/log3")"
done
"$icalign" sweep --grid "$work/grid.yaml" --shard 2/2 >/dev/null 2>&1 && fail "--shard 2/2 was accepted"

# The same grid started twice at once (a shard re-run by mistake): each run is trained by one process;
# the other skips it, naming the holder, and both succeed.
sed -e "s|out: $work/out|out: $work/twice|" -e "s|training.train_steps=4,|training.train_steps=1500,|" "$work/grid.yaml" >"$work/twice.yaml"
"$icalign" sweep --grid "$work/twice.yaml" >"$work/twice0" 2>&1 & pid=$!
sleep 0.3
"$icalign" sweep --grid "$work/twice.yaml" >"$work/twice1" 2>&1 || fail "the second sweep: $(tail -2 "$work/twice1")"
wait "$pid" || fail "the first sweep: $(tail -2 "$work/twice0")"
grep -q "skipped, run directory '$work/twice/a-s1' is in use by pid $pid" "$work/twice1" ||
  fail "the second sweep did not skip the run the first was training: $(cat "$work/twice1")"
trained=$(cat "$work/twice0" "$work/twice1" | grep -c ': training$')
[ "$trained" -eq 4 ] || fail "$trained runs were trained for a grid of 4"

# order: seeds runs every run's first seed first; a run may have its own seeds; out may start with ~/;
# --runs-dir replaces out and --set reaches every run.
cat >"$work/seeds.yaml" <<YAML
base: $config
out: ~/grid
order: seeds
seeds: [1, 2]
set: [training.train_steps=2]
runs:
  a: {seeds: [1, 2, 3]}
  b: {set: [model.n_head=1], seeds: [1]}
  c: []
YAML
HOME="$work/home" "$icalign" sweep --grid "$work/seeds.yaml" >"$work/log5" 2>&1 || fail "seed-major grid: $(tail -3 "$work/log5")"
order=$(grep -o '] [a-z]-s[0-9]' "$work/log5" | cut -c3- | tr '\n' ' ')
[ "$order" = "a-s1 b-s1 c-s1 a-s2 c-s2 a-s3 " ] || fail "order: seeds ran '$order'"
[ -e "$work/home/grid/b-s1/done" ] || fail "out: ~/grid did not expand to \$HOME/grid"
"$icalign" sweep --grid "$work/seeds.yaml" --runs-dir "$work/elsewhere" --set training.train_steps=3 >"$work/log6" 2>&1 ||
  fail "--runs-dir: $(tail -3 "$work/log6")"
grep -q "train_steps: 3" "$work/elsewhere/c-s2/config.yaml" || fail "--set did not reach the runs"
# --only trains the named runs (a name: every seed; name-sN: one) and results.csv still gathers every
# finished run of the grid; a name that is not in the grid is an error that lists the runs.
"$icalign" sweep --grid "$work/seeds.yaml" --runs-dir "$work/only" --only c a-s2 >"$work/log7" 2>&1 || fail "--only: $(tail -3 "$work/log7")"
order=$(grep -o '] [a-z]-s[0-9]' "$work/log7" | cut -c3- | tr '\n' ' ')
[ "$order" = "c-s1 a-s2 c-s2 " ] || fail "--only c a-s2 ran '$order' (the grid's order: c-s1 a-s2 c-s2)"
mkdir -p "$work/only/b-s1" && cp "$work/elsewhere/b-s1/"eval*.csv "$work/only/b-s1/" && touch "$work/only/b-s1/done"
"$icalign" sweep --grid "$work/seeds.yaml" --runs-dir "$work/only" --only c >/dev/null 2>&1 || fail "--only c again"
[ "$(cut -d, -f1,2 "$work/only/results.csv" | grep -v '^run' | sort -u | tr '\n' ' ')" = "a,2 b,1 c,1 c,2 " ] ||
  fail "results.csv under --only: $(cut -d, -f1,2 "$work/only/results.csv" | sort -u | tr '\n' ' ')"
# A new machine restores the committed results (experiments/analysis/restore_runs.py) instead of retraining:
# the sweep then skips every restored run and gathers a byte-identical results.csv.
cp "$work/only/results.csv" "$work/committed.csv"
python3 "$(dirname "$0")/../experiments/analysis/restore_runs.py" "$work/committed.csv" "$work/newmachine" >/dev/null ||
  fail "restore_runs.py failed"
"$icalign" sweep --grid "$work/seeds.yaml" --runs-dir "$work/newmachine" --only c a-s2 b >"$work/log9" 2>&1 || fail "after restore: $(tail -3 "$work/log9")"
[ "$(grep -c 'done, skipped' "$work/log9")" -eq 4 ] || fail "restored runs were retrained: $(cat "$work/log9")"
cmp -s "$work/committed.csv" "$work/newmachine/results.csv" || fail "results.csv after restore differs from the committed one"
"$icalign" sweep --grid "$work/seeds.yaml" --only d >"$work/log8" 2>&1 && fail "--only d was accepted"
grep -q "names no run (runs: a, b, c" "$work/log8" || fail "--only d: $(cat "$work/log8")"
echo "sweep: ok"
