#!/usr/bin/env bash
# icalign's error paths: each bad input exits 1 with a message naming the problem, and leaves nothing
# behind that looks like a result.
set -uo pipefail
icalign=$1 config=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
expect_status() {  # exit code, expected message, then the icalign arguments
  local code=$1; shift
  local want=$1; shift
  local out status
  out=$("$icalign" "$@" 2>&1); status=$?
  if [ "$status" -ne "$code" ] || ! grep -qF -- "$want" <<<"$out"; then
    echo "FAILED: icalign $* -> exit $status (expected $code), expected an error containing: $want"; echo "$out" | tail -3
    failures=$((failures + 1))
  else
    echo "ok: $want"
  fi
}
# Exactly 1 is icalign's exit code for an error it reports; 105 is CLI11's for an option it rejects.
# An abort (134) or a crash (139) is never a clear error, whatever it printed.
expect_error() { expect_status 1 "$@"; }
expect_usage_error() { expect_status 105 "$@"; }

expect_error "model.n_positions is now called model.n_points" train --config "$config" --set model.n_positions=6 --run "$work/a"
expect_error "unknown key 'model.n_haed'" train --config "$config" --set model.n_haed=2 --run "$work/a"
expect_error "model.n_embd (16) must be divisible by model.n_head (3)" train --config "$config" --set model.n_head=3 --run "$work/a"
expect_error "task.reward_noise must be in [0, 1]" train --config "$config" --set task.reward_noise=1.5 --run "$work/a"
expect_error "training.on_policy_explore needs training.on_policy > 0" train --config "$config" --set training.on_policy_explore=1 --run "$work/a"
expect_error "training.on_policy needs model.causal: on" train --config "$config" --set training.on_policy=2 model.causal=off --run "$work/a"
expect_error "training.on_policy (5) must leave a sampled triplet before" train --config "$config" --set training.on_policy=5 --run "$work/a"
expect_error "task.responses must be line or spread, got 'cone'" train --config "$config" --set task.responses=cone --run "$work/a"
expect_error "training.batch_size must be a positive integer" train --config "$config" --set training.batch_size=-4 --run "$work/a"
expect_error "model.n_dims must be >= 2, got 1" train --config "$config" --set model.n_dims=1 --run "$work/a"
# Too large for any machine: refused from the estimate before anything is allocated or written.
expect_error "training needs at least" train --config "$config" --set training.batch_size=1000000000 --run "$work/a"
expect_error "training needs at least" train --config "$config" --set model.n_layer=100000 --run "$work/a"
expect_error "training needs at least" train --config "$config" --set model.n_embd=1000000 --run "$work/a"
# A start that fails after the run directory was made, before its first checkpoint (a file-size
# limit the checkpoint does not fit in; SIGXFSZ ignored, so the write fails with EFBIG).
(trap '' XFSZ; ulimit -f 8; exec "$icalign" train --config "$config" --run "$work/a") >"$work/efbig.out" 2>&1 &&
  { echo "FAILED: training went on although no checkpoint could be written"; failures=$((failures + 1)); }
grep -q "File too large" "$work/efbig.out" || { echo "FAILED: the failed start does not say why: $(tail -1 "$work/efbig.out")"; failures=$((failures + 1)); }
[ -e "$work/a" ] && { echo "FAILED: a rejected config left $work/a behind"; failures=$((failures + 1)); }
expect_usage_error "File does not exist" train --config "$work/missing.yaml"
expect_error "cannot create run directory" train --config "$config" --run "$work/no/such/parent/run"
expect_error "has no checkpoint" train --config "$config" --run "$work/b" --resume
expect_error "not a run directory" eval --run "$work/nothing"

# A corrupt checkpoint: eval refuses it and writes no CSV.
"$icalign" train --config "$config" --set training.train_steps=5 --run "$work/run" >/dev/null 2>&1
printf 'garbage' | dd of="$work/run/checkpoint/model.safetensors" bs=1 seek=20 conv=notrunc status=none
expect_error "model.safetensors: header is not valid JSON" eval --run "$work/run" --sequences 8
[ -e "$work/run/eval.csv" ] && { echo "FAILED: eval of a corrupt run wrote eval.csv"; failures=$((failures + 1)); }
expect_error "no eval*.csv" plot --run "$work/run"
expect_error "start + rounds < n_points = 6" selfcorrect --run "$work/run" --rounds 5 --sequences 4
expect_error "has no checkpoint to compare with" construct --run "$work/b" --out "$work/c"
expect_usage_error "--contexts: Value 1 not in range" construct --contexts 1 --out "$work/c"
# nan compares false with every bound: a plain range check lets it through.
expect_usage_error "must be a number in [0, 1], got nan" selfcorrect --run "$work/run" --critic-noise nan
expect_usage_error "must be a number in [0, 1], got nan" eval --run "$work/run" --noise nan
expect_usage_error "must be a number in [0, 100], got nan" selfcorrect --run "$work/run" --explore nan
expect_usage_error "must be a number in [0, 1], got 2" eval --run "$work/run" --noise 2

# And the construct subcommand's outputs, on a few contexts: every table and figure, and equality.
if "$icalign" construct --contexts 4 --out "$work/c" >"$work/c.log" 2>&1 &&
   awk -F, 'NR > 1 && !($4 + 0 <= 1e-6 && $4 ~ /^[0-9.eE+-]+$/) { bad = 1 } END { exit bad }' "$work/c/equality.csv"; then
  for f in equality.csv sharpness.csv components.csv sharpness.png; do
    [ -s "$work/c/$f" ] || { echo "FAILED: construct wrote no $f"; failures=$((failures + 1)); }
  done
  echo "ok: construct"
else
  echo "FAILED: icalign construct"; tail -5 "$work/c.log"; failures=$((failures + 1))
fi
# And selfcorrect end to end on a fresh tiny run: a row per answerer, critic noise and round.
"$icalign" train --config "$config" --set training.train_steps=5 --run "$work/sc" >/dev/null 2>&1
# The no-append control answers from the same context every round: its rounds equal its round 0,
# which is every critic's round 0 (nothing has been appended yet).
if "$icalign" selfcorrect --run "$work/sc" --start 2 --rounds 2 --sequences 4 --critic-noise 0 1 --constant-critic --no-append \
     >"$work/sc.log" 2>&1 &&
   [ "$(tail -n +2 "$work/sc/selfcorrect.csv" | cut -d, -f1 | sort | uniq -c | awk '{ print $2 ":" $1 }' | tr '\n' ' ')" = \
     "construct:6 construct:constant:3 construct:noappend:3 gd:6 gd:constant:3 gd:noappend:3 model:6 model:constant:3 model:noappend:3 " ] &&
   [ "$(awk -F, 'NR > 1 { split($1, m, ":"); if ($3 == 0) r0[m[1]] = r0[m[1]] " " $4; if (m[2] == "noappend") na[m[1]] = na[m[1]] " " $4 }
                 END { for (k in na) print k, r0[k], "|", na[k] }' "$work/sc/selfcorrect.csv" |
        awk '{ split($0, p, "|"); n = split(p[1], a, " "); m = split(p[2], b, " "); ok = m == 3
               for (i = 3; i <= n; ++i) ok = ok && a[i] == a[2]
               for (i = 1; i <= m; ++i) ok = ok && b[i] == a[2]
               print ok }' | sort -u)" = 1 ]; then
  echo "ok: selfcorrect"
else
  echo "FAILED: icalign selfcorrect"; tail -5 "$work/sc.log"; failures=$((failures + 1))
fi
echo "$failures failed"
[ "$failures" -eq 0 ]
