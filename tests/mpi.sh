#!/usr/bin/env bash
# Data parallelism on MPI: `mpirun -np 2` equals `training.micro_batches: 2` in one process bit for
# bit (weights, optimizer state, log), also across a --resume under mpirun; a config the ranks cannot
# split ends the whole job with its error (no hang); a two-rank sweep gathers the same results.csv
# as a one-process sweep.
set -uo pipefail
mpirun=$1 icalign=$2 config=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAILED: $*"; exit 1; }
# --oversubscribe: CI machines may have fewer cores than ranks; root needs --allow-run-as-root.
# OpenMPI's own allocations at MPI_Init are not freed at exit: LeakSanitizer would report them.
launch=("$mpirun" -np 2 --oversubscribe)
[ "$(id -u)" -eq 0 ] && launch+=(--allow-run-as-root)
export ASAN_OPTIONS=detect_leaks=0
args=(--config "$config" --set training.train_steps=40 --set training.micro_batches=2 --set training.threads=1)
same_run() {  # $1 $2: run directories with identical training states and logs
  for f in model optimizer; do
    cmp -s "$1/checkpoint/$f.safetensors" "$2/checkpoint/$f.safetensors" || fail "$f.safetensors differs: $1 vs $2"
  done
  diff <(sed 's/,"elapsed_s".*//' "$1/log.jsonl") <(sed 's/,"elapsed_s".*//' "$2/log.jsonl") >/dev/null ||
    fail "the logs differ: $1 vs $2"
}

"$icalign" train "${args[@]}" --run "$work/one" >/dev/null 2>&1 || fail "one process, micro_batches 2"
timeout 120 "${launch[@]}" "$icalign" train "${args[@]}" --run "$work/two" >"$work/two.out" 2>&1 ||
  fail "mpirun -np 2: $(tail -3 "$work/two.out")"
grep -q "data parallel: 2 processes" "$work/two.out" || fail "the two ranks did not form one job: $(head -3 "$work/two.out")"
# (mpirun forwards each rank's stdout and stderr separately: a line may start anywhere)
[ "$(grep -o 'trained 40 steps' "$work/two.out" | wc -l)" -eq 1 ] || fail "not exactly one rank reported: $(cat "$work/two.out")"
same_run "$work/one" "$work/two"
echo "mpirun -np 2 equals micro_batches 2 in one process, bit for bit"

timeout 120 "${launch[@]}" "$icalign" train "${args[@]}" --set training.train_steps=20 --run "$work/resumed" >/dev/null 2>&1 ||
  fail "mpirun, first 20 steps"
timeout 120 "${launch[@]}" "$icalign" train "${args[@]}" --run "$work/resumed" --resume >"$work/resumed.out" 2>&1 ||
  fail "mpirun --resume: $(tail -3 "$work/resumed.out")"
same_run "$work/one" "$work/resumed"
echo "a run resumed under mpirun equals the uninterrupted one"

start=$(date +%s)
timeout 120 "${launch[@]}" "$icalign" train "${args[@]}" --set training.micro_batches=1 --run "$work/bad" >"$work/bad.out" 2>&1 &&
  fail "micro_batches 1 over 2 processes was accepted"
[ $(( $(date +%s) - start )) -lt 60 ] || fail "the failing job hung"
grep -q "training.micro_batches (1) must be a multiple of the number of processes (2)" "$work/bad.out" ||
  fail "the error does not say why: $(tail -3 "$work/bad.out")"
echo "a config the ranks cannot split ends the job with its error"

cat >"$work/grid.yaml" <<YAML
base: $config
seeds: [1, 2]
set: [training.train_steps=6, training.threads=1]
runs:
  a: []
  b: [model.n_head=1]
YAML
"$icalign" sweep --grid "$work/grid.yaml" --runs-dir "$work/sweep1" >/dev/null 2>&1 || fail "one-process sweep"
timeout 300 "${launch[@]}" "$icalign" sweep --grid "$work/grid.yaml" --runs-dir "$work/sweep2" >"$work/sweep2.out" 2>&1 ||
  fail "two-rank sweep: $(tail -3 "$work/sweep2.out")"
grep -q "shard 1/2" "$work/sweep2.out" || fail "the ranks did not split the grid: $(cat "$work/sweep2.out")"
cmp -s "$work/sweep1/results.csv" "$work/sweep2/results.csv" || fail "the two-rank sweep's results.csv differs"
echo "a two-rank sweep gathers the same results.csv as one process ($(($(wc -l <"$work/sweep1/results.csv") - 1)) rows)"
