#!/usr/bin/env bash
# The scripts between the runs and docs/results.md: run_times.py (training time per run) and
# paper_scale_tables.py (the paper-scale tables, spliced into the page), checked against numbers worked
# out by hand from small inputs; claims.py's statistics and verdict facts; and that the by-size and the
# training-loss figures draw.
set -uo pipefail
repo=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAILED: $*"; exit 1; }
py() { /usr/bin/python3 "$repo/experiments/analysis/$1" "${@:2}"; }

# run_times.py: a resumed run's clock restarts at 0, so its time is the sum of the segments; a run with no
# log (one restored from committed results) keeps the row the CSV already has.
mkdir -p "$work/times/r-s1" "$work/times/q-s1" && touch "$work/times/r-s1/done" "$work/times/q-s1/done"
printf '%s\n' '{"step":10,"elapsed_s":10}' '{"step":20,"elapsed_s":20}' '{"step":20,"held_out_error":0.5}' \
  '{"step":30,"elapsed_s":4}' '{"step":40,"elapsed_s":8.5}' >"$work/times/r-s1/log.jsonl"
printf 'grid,run,steps,train_seconds\ntimes,q-s1,3000,99.0\ntimes,r-s1,1,1.0\n' >"$work/times.csv"
py run_times.py "$work/times.csv" "$work/times" >/dev/null || fail "run_times.py failed"
[ "$(tr '\n' ' ' <"$work/times.csv")" = "grid,run,steps,train_seconds times,q-s1,3000,99.0 times,r-s1,40,28.5 " ] ||
  fail "run_times.py wrote: $(cat "$work/times.csv")"

# paper_scale_tables.py: two seeds of the default (0.2 and 0.4 at k = 2: mean 0.300, SE over seeds
# sqrt(((0.1)² + (0.1)²) / 1 / 2) = 0.100), one of depth5 (its own SE, 0.010), two of depth15 (a row each).
{
  echo "run,seed,noise,method,k,mean,sem,n"
  echo "default,1,-1,model,2,0.2,0.05,1024"
  echo "default,2,-1,model,2,0.4,0.05,1024"
  echo "default,1,-1,gd,2,0.3,0.02,1024"
  echo "depth5,1,-1,model,2,0.6,0.01,1024"
  echo "depth15,1,-1,model,2,0.5,0.01,1024"
  echo "depth15,2,-1,model,2,0.7,0.02,1024"
} >"$work/ps.csv"
printf 'before\n<!-- paper_scale_tables -->\nold tables\n<!-- /paper_scale_tables -->\nafter\n' >"$work/doc.md"
py paper_scale_tables.py "$work/out" "$work/ps.csv" --into "$work/doc.md" >"$work/log" 2>&1 || fail "paper_scale_tables.py: $(cat "$work/log")"
grep -q '^| p = 0, model (n = 2) | 0.300 ± 0.100 | ' "$work/out/tables.md" || fail "mean over seeds: $(cat "$work/out/tables.md")"
grep -q '^| 5 layers | 0.600 ± 0.010 | ' "$work/out/tables.md" || fail "depth5, seed 1: $(cat "$work/out/tables.md")"
grep -q '^| 15 layers, seed 1 | 0.500 ± 0.010 | ' "$work/out/tables.md" && grep -q '^| 15 layers, seed 2 | 0.700 ± 0.020 | ' "$work/out/tables.md" ||
  fail "depth15, one row per seed: $(cat "$work/out/tables.md")"
grep -q '^| 10 layers' "$work/out/tables.md" && fail "a row for a run that has not finished"
[ "$(head -2 "$work/doc.md" | tr '\n' ' ')" = "before <!-- paper_scale_tables --> " ] && [ "$(tail -2 "$work/doc.md" | tr '\n' ' ')" = "<!-- /paper_scale_tables --> after " ] ||
  fail "the text around the markers changed: $(cat "$work/doc.md")"
grep -q 'old tables' "$work/doc.md" && fail "the old tables stayed"
cmp -s <(sed -n '3,$p' "$work/doc.md" | head -n -2) "$work/out/tables.md" || fail "the page's tables differ from tables.md"
# A page without the markers is refused and left as it was.
printf 'no markers\n' >"$work/plain.md"
py paper_scale_tables.py "$work/out" "$work/ps.csv" --into "$work/plain.md" >"$work/log" 2>&1 && fail "a page without markers was accepted"
grep -q 'needs one line' "$work/log" || fail "the refusal does not say why: $(cat "$work/log")"
[ "$(cat "$work/plain.md")" = "no markers" ] || fail "the refused page changed"
# The by-size figure draws from the committed curves of both scales.
py plot_self_correction_scale.py "$work/by_size.png" "$repo/docs/results/self_correction_emergent.csv" \
  "$repo/docs/results/paper_scale/self_correction_emergent.csv" >"$work/log" 2>&1 || fail "plot_self_correction_scale.py: $(cat "$work/log")"
[ -s "$work/by_size.png" ] || fail "plot_self_correction_scale.py wrote no figure"
# claims.py's statistics on numbers worked out by hand. Against a baseline, two seeds 0.1 below and above
# it: mean 0, SE over seeds sqrt(0.02 / 2) = 0.1, t(1) = 12.7062. Two seeds (0.2, 0.4) against two (0.5,
# 0.7): -0.3, Welch SE sqrt(0.01 + 0.01) on 2 degrees of freedom, t(2) = 4.3027. The same two models in
# both arms (a noise level against none): the paired differences 0.1 and 0.3, mean 0.2, SE 0.1, t(1).
# One model against one: over sequences, 1.96 sqrt(0.03^2 + 0.04^2) = 0.098. Verdicts: the interval's
# side of the threshold decides. A fact the page names but facts.py does not compute is refused.
(cd "$repo/experiments/analysis" && /usr/bin/python3 - <<'PY') || fail "claims.py's statistics"
import claims
import facts
def near(a, b): assert abs(a - b) < 1e-4, (a, b)
e, lo, hi, ev, _, _ = claims.compare({1: (0.2, 0.01), 2: (0.4, 0.01)}, {1: (0.3, 0.0), 2: (0.3, 0.0)}, baseline=True)
near(e, 0.0); near(hi, 1.27062); assert ev == "seeds_vs_baseline"
e, lo, hi, ev, _, _ = claims.compare({1: (0.2, 0.01), 2: (0.4, 0.01)}, {1: (0.5, 0.01), 2: (0.7, 0.01)}, baseline=False)
near(e, -0.3); near(hi, -0.3 + 4.30265 * 0.02 ** 0.5); assert ev == "seeds"
e, lo, hi, ev, _, _ = claims.compare({1: (0.3, 0.01), 2: (0.7, 0.01)}, {1: (0.2, 0.01), 2: (0.4, 0.01)}, False, same_models=True)
near(e, 0.2); near(hi, 0.2 + 1.27062); assert ev == "seeds_paired"
e, lo, hi, ev, _, _ = claims.compare({1: (0.5, 0.03)}, {1: (0.3, 0.04)}, baseline=False)
near(e, 0.2); near(lo, 0.2 - 0.098); assert ev == "one_model"
assert claims.verdict(0.01, 0.05, 0.0, ">") == "supported" and claims.verdict(-0.05, -0.01, 0.0, ">") == "contradicted"
assert claims.verdict(-0.01, 0.05, 0.0, ">") == "inconclusive" and claims.verdict(-0.03, 0.01, 0.02, "<") == "supported"
# The loop: round 4 / round 0 = 0.75 gains; round 5 is 0.02 above the best before it (0.30), so it does
# not hold; the random critic's 0.43 / 0.4 gains nothing, and is 0.13 above the accurate one at round 4.
c = claims.criteria([0.4, 0.35, 0.3, 0.31, 0.3, 0.32, 0.29], [0.4, 0.4, 0.41, 0.42, 0.43, 0.43, 0.44])
assert c["ok"] == [True, False, True, True], c
near(c["worst_rise"], 0.02)
page = "a <!-- fact:x -->old<!-- /fact --> b"
assert facts.splice_facts(page, {"x": 0.25}, "t") == "a <!-- fact:x -->0.25<!-- /fact --> b"
try:
    facts.splice_facts(page, {"y": 1}, "t")
    raise AssertionError("an unknown fact was accepted")
except SystemExit as e:
    assert "no fact called 'x'" in str(e), e
# The verdicts the prose quotes: one verdict for every comparison, or each verdict with what reached it.
rows = [dict(scale="paper", claim="a", comparison=f"on par, k = {k}", verdict=v) for k, v in ((2, "contradicted"), (19, "supported"))]
rows += [dict(scale="paper", claim="c", comparison=f"{b} has a lower error than {a}, k = 19", verdict="inconclusive")
         for a, b in (("depth5", "depth10"), ("depth10", "depth15"))]
f = claims.verdict_facts(rows)
assert f["verdicts_paper_a"] == "supported for k = 19; contradicted for k = 2", f
assert f["verdicts_paper_c"] == "inconclusive for both of its 2 comparisons", f
PY
# plot_training.py draws the curves of the model directories that keep a log, and refuses a directory
# where none does.
mkdir -p "$work/models/depth5-s1" "$work/models/depth5-s2" "$work/nologs/default-s1"
printf '%s\n' '{"step":10,"loss":17.5,"elapsed_s":1}' '{"step":20,"loss":16.0,"elapsed_s":2}' >"$work/models/depth5-s1/log.jsonl"
printf '%s\n' '{"step":10,"loss":17.5,"elapsed_s":1}' '{"step":20,"held_out_error":0.5}' >"$work/models/depth5-s2/log.jsonl"
py plot_training.py "$work/models" "$work/training.png" >"$work/log" 2>&1 || fail "plot_training.py: $(cat "$work/log")"
[ -s "$work/training.png" ] || fail "plot_training.py wrote no figure"
py plot_training.py "$work/nologs" "$work/none.png" >"$work/log" 2>&1 && fail "plot_training.py drew a figure without logs"
grep -q 'no model directory holds a log.jsonl' "$work/log" || fail "plot_training.py does not say why: $(cat "$work/log")"
echo "result tools: ok"
