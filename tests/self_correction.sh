#!/usr/bin/env bash
# The self-correction study end to end on the tiny config (scripts/self_correction.sh at toy size):
# the training variants train, snapshots are the weights of their step, the loop's options work, and
# the gatherer writes the CSV the issue asks for. Values are checked by the unit tests; this checks
# the plumbing and that each option reaches what it should.
set -uo pipefail
icalign=$1 config=$2 repo=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAILED: $*"; exit 1; }
runs=$work/runs
mkdir -p "$runs"
"$icalign" train --config "$config" --run "$runs/onpolicy-s1" --set training.train_steps=4 training.on_policy=2 \
  training.on_policy_explore=0.5 training.snapshot_every=2 task.responses=spread >"$work/train.log" 2>&1 ||
  fail "train: $(tail -3 "$work/train.log")"
[ -e "$runs/onpolicy-s1/snapshots/step-000002.safetensors" ] && [ -e "$runs/onpolicy-s1/snapshots/step-000004.safetensors" ] ||
  fail "no snapshots: $(ls "$runs/onpolicy-s1/snapshots" 2>&1)"
# The last snapshot is the final weights: agree on it equals agree on the checkpoint, byte for byte.
agree() { "$icalign" agree --run "$runs/onpolicy-s1" --sequences 32 --sensitivity-sequences 8 --sensitivity-k 2 4 "$@"; }
agree --out a.csv >"$work/a.log" 2>&1 || fail "agree: $(tail -3 "$work/a.log")"
agree --out b.csv --weights "$runs/onpolicy-s1/snapshots/step-000004.safetensors" >/dev/null 2>&1 || fail "agree --weights"
cmp -s "$runs/onpolicy-s1/a.csv" "$runs/onpolicy-s1/b.csv" || fail "agree on the last snapshot differs from agree on the checkpoint"
agree --out c.csv --weights "$runs/onpolicy-s1/snapshots/step-000002.safetensors" >/dev/null 2>&1 || fail "agree on step 2"
cmp -s "$runs/onpolicy-s1/a.csv" "$runs/onpolicy-s1/c.csv" && fail "agree on step 2 equals step 4: --weights was ignored"
[ "$(grep -c '^sensitivity_cos_with_gd,' "$runs/onpolicy-s1/a.csv")" -eq 4 ] || fail "sensitivity rows: model and construct at k = 2, 4"
mv "$runs/onpolicy-s1/a.csv" "$runs/onpolicy-s1/agreement.csv"
# The loop with and without exploration, on the run's own (spread) task; one-shot on the paper's.
for sigma in 0 1; do
  "$icalign" selfcorrect --run "$runs/onpolicy-s1" --start 2 --rounds 3 --sequences 16 --critic-noise 0 1 --explore "$sigma" \
    --out "selfcorrect_explore$sigma.csv" >"$work/sc.log" 2>&1 || fail "selfcorrect --explore $sigma: $(tail -3 "$work/sc.log")"
done
cmp -s "$runs/onpolicy-s1/selfcorrect_explore0.csv" "$runs/onpolicy-s1/selfcorrect_explore1.csv" && fail "--explore changed nothing"
# Round 0 comes before anything is appended: the same with and without exploration.
round0() { awk -F, '$3 == 0' "$runs/onpolicy-s1/selfcorrect_explore$1.csv"; }
[ "$(round0 0)" = "$(round0 1)" ] && [ -n "$(round0 0)" ] || fail "round 0 depends on --explore"
"$icalign" eval --run "$runs/onpolicy-s1" --responses line --sequences 16 --gd-steps 2 --out eval_line.csv >/dev/null 2>&1 || fail "eval --responses line"
"$icalign" eval --run "$runs/onpolicy-s1" --sequences 16 --gd-steps 2 --out eval_own.csv >/dev/null 2>&1 || fail "eval"
cmp -s "$runs/onpolicy-s1/eval_line.csv" "$runs/onpolicy-s1/eval_own.csv" && fail "eval --responses line evaluated the run's own task"
# A snapshot in the loop and in agree, as scripts/self_correction.sh runs them: the gatherer's steps table.
"$icalign" selfcorrect --run "$runs/onpolicy-s1" --weights "$runs/onpolicy-s1/snapshots/step-000002.safetensors" --start 1 --rounds 4 \
  --sequences 16 --critic-noise 0 1 --explore 1 --out selfcorrect_explore1_step-000002.csv >/dev/null 2>&1 || fail "selfcorrect --weights"
mv "$runs/onpolicy-s1/c.csv" "$runs/onpolicy-s1/agreement_step-000002.csv"
touch "$runs/onpolicy-s1/done"
/usr/bin/python3 "$repo/experiments/analysis/self_correction_results.py" "$work/out" "$runs" >"$work/gather.log" 2>&1 || fail "gather: $(tail -3 "$work/gather.log")"
[ "$(head -1 "$work/out/self_correction_emergent.csv")" = "variant,method,seed,critic_noise,round,error" ] || fail "emergent CSV header"
[ "$(cut -d, -f1,2 "$work/out/self_correction_emergent.csv" | tail -n +2 | sort -u | tr '\n' ' ')" = \
  "onpolicy+explore1,construction onpolicy+explore1,gd onpolicy+explore1,model onpolicy,construction onpolicy,gd onpolicy,model " ] ||
  fail "variants and methods: $(cut -d, -f1,2 "$work/out/self_correction_emergent.csv" | sort -u | tr '\n' ' ')"
[ "$(wc -l <"$work/out/self_correction_emergent.csv")" -eq $((1 + 2 * 3 * 2 * 4)) ] || fail "rows: 2 variants × 3 methods × 2 q × 4 rounds"
grep -q '^onpolicy,1,2,loop_q0_round4_over_round0,' "$work/out/self_correction_steps.csv" || fail "no steps table: $(head -3 "$work/out/self_correction_steps.csv")"
for f in self_correction_steps.png self_correction_rounds.png self_correction_oneshot.png self_correction_agreement.png self_correction_summary.md; do
  [ -s "$work/out/$f" ] || fail "the gatherer wrote no $f"
done
# The paper-scale gather (scripts/paper_scale.sh): a run with the loop alone, one seed. No one-shot or
# agreement files and no empty tables for them; a single seed's curve has no ± (there is no spread).
mkdir -p "$work/ps/default-s1" && touch "$work/ps/default-s1/done"
cp "$runs/onpolicy-s1/selfcorrect_explore1_step-000002.csv" "$work/ps/default-s1/selfcorrect_explore0.csv"  # 4 rounds
/usr/bin/python3 "$repo/experiments/analysis/self_correction_results.py" "$work/psout" "$work/ps" "paper-scale models" >"$work/gather.log" 2>&1 ||
  fail "gather the loop alone: $(tail -3 "$work/gather.log")"
grep -q '^| default | model | 0 | [0-9.]* | ' "$work/psout/self_correction_summary.md" || fail "no model row: $(cat "$work/psout/self_correction_summary.md")"
grep -q 'nan\|One shot\|Agreement' "$work/psout/self_correction_summary.md" && fail "a nan or an empty table in: $(cat "$work/psout/self_correction_summary.md")"
[ -e "$work/psout/self_correction_oneshot.csv" ] || [ -e "$work/psout/self_correction_agreement.csv" ] && fail "empty one-shot or agreement CSVs"
echo "self-correction study: ok"
