"""The verdicts on the paper's claims and on self-correction, computed from the committed CSVs.

    python3 experiments/analysis/claims.py           # writes docs/results/claims.csv and the generated tables
    python3 experiments/analysis/claims.py --check   # exit 1 if any of them differs from what it would write

Each claim's rule is written below, before any number is read: which runs are compared, at which k
and noise, in which direction, and what interval decides. What it writes into the docs, each between
its lines <!-- name --> and <!-- /name -->:
  docs/results.md          the claim tables (claims), the small-scale errors (small_scale_errors), and
                           facts.py's tables and prose numbers (reward use, training times, the grid's status)
  docs/self_correction.md  the loop criteria (selfcorrect_criteria) and selfcorrect_tables.py's tables
                           (selfcorrect_rounds, _oneshot, _agreement, paper_scale_loop) and prose numbers
  docs/construction.md     §6's tables (construction_equality, _components, _compare) and numbers
  docs/mechanism.md        the prose numbers of the construction's knock-outs
The test `claims_generated` runs --check, so a table or number edited by hand fails it.

The statistics (one convention per comparison, named in its `evidence` column):
  seeds             both arms have >= 2 training seeds: the difference of the seed means, with a Welch
                    95% interval over seeds (t quantile at the Welch degrees of freedom, rounded down).
  seeds_vs_baseline a model with >= 2 seeds against a baseline (GD, the mean response), which every
                    seed meets on the same held-out sequences: the per-seed differences, a t interval
                    over seeds.
  seeds_paired      the same models in both arms (a run under reward noise against itself without):
                    the noise levels share their held-out sequences, so each seed gives one paired
                    difference; a t interval over seeds.
  one_model         one seed on an arm: a statement about two models, not about an architecture.
                    The interval is over held-out sequences, unpaired (sqrt(se_a^2 + se_b^2), wider
                    than the paired one when the arms are positively correlated, as here); against an
                    arm with >= 2 seeds its seeds' spread is added in (the seed means' variance).
A verdict is `supported` when the interval lies on the claimed side of the threshold, `contradicted`
when it lies on the other side, `inconclusive` otherwise. The intervals are 95% each, not adjusted for
the number of comparisons a table makes (its header says how many).
"""
import csv
import math
import os
import re
import sys
from collections import defaultdict

from facts import construction_tables, paper_scale_status, reward_use, small_facts, small_times, splice_facts
from paper_scale_tables import splice_text
from selfcorrect_tables import (CRITICS, agreement_markdown, load_loops, loop_markdown, oneshot_markdown, paper_scale_facts,
                                selfcorrect_facts, variant_key)
from stats import compare, mean_var

RESULTS = "docs/results"


def load_eval(*paths):
    """{(run, noise, method, k): {seed: (mean, sem)}}; noise -1 (the run's own, 0) is stored as 0"""
    data = {}
    for path in paths:
        for r in csv.DictReader(open(path)):
            noise = max(float(r["noise"]), 0.0)
            key = (r["run"], noise, r["method"], int(r["k"]))
            seeds = data.setdefault(key, {})
            if float(r["noise"]) < 0 and int(r["seed"]) in seeds:
                continue  # eval.csv and eval_noise0.00.csv hold the same evaluation
            seeds[int(r["seed"])] = (float(r["mean"]), float(r["sem"]))
    return data


def verdict(low, high, threshold, direction):
    """direction '<': the claim is effect < threshold; '>': effect > threshold"""
    if direction == "<":
        return "supported" if high < threshold else "contradicted" if low > threshold else "inconclusive"
    return "supported" if low > threshold else "contradicted" if high < threshold else "inconclusive"


# The paper's claims (a)-(f) as comparisons: (claim, what it says, [(arm a, arm b, noise, k)], threshold,
# direction of a - b). An arm is (run, method); b = ("default", "gd") and the like are baselines.
NONINFERIORITY = 0.02  # "on par with GD": at most this much worse
K_MAIN = 19


def paper_claims(scale):
    small = scale == "small"
    deeper = [("depth1", "depth2"), ("depth2", "default"), ("default", "depth8")] if small else \
        [("depth5", "depth10"), ("depth10", "depth15"), ("depth15", "default")]
    more_heads = [("heads1", "heads2"), ("heads2", "default"), ("default", "heads8")] if small else \
        [("heads1", "default"), ("default", "heads4"), ("heads4", "heads6")]
    linear = ["linear", "linear_noncausal"] if small else ["linear_causal", "linear"]
    noffn = ["noffn", "noffn_noncausal"] if small else ["noffn_causal", "noffn"]
    claims = []
    for k in (2, 5, 10, 19):
        claims.append(("a", f"the model is on par with GD (at most {NONINFERIORITY} worse), k = {k}",
                       ("default", "model"), ("default", "gd"), 0.0, k, NONINFERIORITY, "<"))
    for p in (0.25, 0.5, 1.0):
        claims.append(("b", f"reward noise p = {p:g} raises the model's error, k = {K_MAIN}",
                       ("default", "model", p), ("default", "model", 0.0), None, K_MAIN, 0.0, ">"))
    for shallow, deep in deeper:
        claims.append(("c", f"{deep} has a lower error than {shallow}, k = {K_MAIN}",
                       (shallow, "model"), (deep, "model"), 0.0, K_MAIN, 0.0, ">"))
    for fewer, more in more_heads:
        claims.append(("e", f"{more} has a lower error than {fewer}, k = {K_MAIN}",
                       (fewer, "model"), (more, "model"), 0.0, K_MAIN, 0.0, ">"))
    for run in linear:
        claims.append(("d", f"{run} (linear attention) is worse than the default, k = {K_MAIN}",
                       (run, "model"), ("default", "model"), 0.0, K_MAIN, 0.0, ">"))
    for run in noffn:
        claims.append(("f", f"{run} (no FFN) is worse than the default, k = {K_MAIN}",
                       (run, "model"), ("default", "model"), 0.0, K_MAIN, 0.0, ">"))
    return claims


def evaluate_claims(scale, data):
    rows = []
    for claim, text, a, b, noise, k, threshold, direction in paper_claims(scale):
        na = a[2] if len(a) > 2 else noise
        nb = b[2] if len(b) > 2 else noise
        arm_a, arm_b = data.get((a[0], na, a[1], k)), data.get((b[0], nb, b[1], k))
        if not arm_a or not arm_b:
            rows.append(dict(claim=claim, scale=scale, comparison=text, evidence="missing", seeds="",
                             effect="", ci_low="", ci_high="", verdict="not run"))
            continue
        baseline = b[1] != "model"
        same_models = a[:2] == b[:2] and set(arm_a) == set(arm_b)
        if baseline:
            arm_b = {s: arm_b[s] for s in arm_a}
        effect, low, high, evidence, sa, sb = compare(arm_a, arm_b, baseline, same_models)
        rows.append(dict(claim=claim, scale=scale, comparison=text, evidence=evidence, seeds=f"{sa} vs {sb}",
                         effect=f"{effect:.4f}", ci_low=f"{low:.4f}", ci_high=f"{high:.4f}",
                         verdict=verdict(low, high, threshold, direction)))
    return rows


# Self-correction in the loop, per seed and for the mean curve over seeds. Rules:
#   gains      accurate critic (q = 0): round 4 <= 0.85 x round 0
#   holds      accurate critic: no round more than RISE_TOLERANCE above the best earlier round
#   blind      random critic (q = 1): round 4 >= 0.95 x round 0 (no gain without information)
#   the score  round 4 with an accurate critic at least SCORE_MARGIN below round 4 with a random one
#   beyond the context  (where the loop ran the constant critic, which reports 0.5 for every answer)
#              round 4 with an accurate critic at least SCORE_MARGIN below round 4 with the constant one:
#              the gain is the scores', not the growing context's
RISE_TOLERANCE = 0.01
SCORE_MARGIN = 0.01


def criteria(q0, q1, constant=None):
    worst_rise = max(q0[t] - min(q0[:t]) for t in range(1, len(q0)))
    c = {"gains": q0[4] / q0[0], "worst_rise": worst_rise, "blind": q1[4] / q1[0], "score_effect": q1[4] - q0[4],
         "ok": [q0[4] / q0[0] <= 0.85, worst_rise <= RISE_TOLERANCE, q1[4] / q1[0] >= 0.95, q1[4] - q0[4] >= SCORE_MARGIN]}
    c["context_effect"] = None if constant is None else constant[4] - q0[4]
    if constant is not None:
        c["ok"].append(c["context_effect"] >= SCORE_MARGIN)
    return c


def loop_rows(scale, curves, method="model"):
    rows = []
    variants = sorted({v for v, m, _, _ in curves if m == method}, key=variant_key)
    for v in variants:
        seeds = sorted({s for vv, m, s, q in curves if vv == v and m == method and q == 0.0 and (vv, m, s, 1.0) in curves})
        if not seeds:
            continue
        control = all((v, method + ":constant", s, 0.0) in curves for s in seeds)

        def curve(s, q, m=method):
            return curves[(v, m, s, q)]

        def mean(q, m=method):
            return [sum(curve(s, q, m)[t] for s in seeds) / len(seeds) for t in range(len(curve(seeds[0], q, m)))]
        each = [(f"seed {s}", criteria(curve(s, 0.0), curve(s, 1.0), curve(s, 0.0, method + ":constant") if control else None))
                for s in seeds]
        if len(seeds) > 1:
            each.append((f"mean of {len(seeds)}", criteria(mean(0.0), mean(1.0), mean(0.0, method + ":constant") if control else None)))
        for label, c in each:
            rows.append(dict(scale=scale, variant=v, curve=label, ok=c["ok"], all=all(c["ok"]),
                             **{k: c[k] for k in ("gains", "worst_rise", "blind", "score_effect", "context_effect")}))
    return rows


def mark(ok):
    return "✓" if ok else "✗"


def claims_markdown(rows):
    out = []
    for scale in ("small", "paper"):
        sel = [r for r in rows if r["scale"] == scale]
        out.append(f"\n**{'Small scale' if scale == 'small' else 'Paper scale'}** ({len(sel)} comparisons, each with its own 95% "
                   "interval, not adjusted for their number; effect = a − b in error 1 − cos):\n")
        out.append("| claim | comparison | evidence | seeds | effect | 95% interval | verdict |")
        out.append("|---|---|---|---|---|---|---|")
        for r in sel:
            ci = f"[{r['ci_low']}, {r['ci_high']}]" if r["ci_low"] else ""
            out.append(f"| ({r['claim']}) | {r['comparison']} | {r['evidence']} | {r['seeds']} | {r['effect']} | {ci} | {r['verdict']} |")
    return "\n".join(out) + "\n\n"


VERDICTS = ("supported", "contradicted", "inconclusive", "not run")


def verdict_facts(rows):
    """verdicts_SCALE_CLAIM, for the prose: each verdict a claim reached, with the comparisons that reached it
    (named by what varies among them: k, p, the pair of runs, the ablated run)"""
    def label(r):
        text = r["comparison"]
        pair = re.match(r"(\S+) has a lower error than (\S+),", text)
        if r["claim"] == "a":
            return text.rsplit(", ", 1)[1]
        if r["claim"] == "b":
            return re.search(r"p = \S+", text).group(0)
        return f"{pair.group(1)} over {pair.group(2)}" if pair else f"`{text.split()[0]}`"
    f = {}
    for scale in ("small", "paper"):
        for claim in "abcdef":
            by = defaultdict(list)
            for r in rows:
                if (r["scale"], r["claim"]) == (scale, claim):
                    by[r["verdict"]].append(label(r))
            if not by:
                continue
            if len(by) == 1:
                (v, items), = by.items()
                f[f"verdicts_{scale}_{claim}"] = f"{v} for {'both' if len(items) == 2 else 'every one'} of its {len(items)} comparisons" \
                    if len(items) > 1 else f"{v} ({items[0]})"
            else:
                f[f"verdicts_{scale}_{claim}"] = "; ".join(f"{v} for {', '.join(by[v])}" for v in VERDICTS if v in by)
    return f


def loop_facts(rows):
    """paper_loop_*, for the prose: which paper-scale models, looped without exploration, meet the criteria
    on their mean curve, or their one seed's (each with its number of seeds)"""
    runs = [r for r in rows if r["scale"] == "paper" and "+" not in r["variant"]]
    sel = [r for r in runs if r["curve"].startswith("mean of") or sum(x["variant"] == r["variant"] for x in runs) == 1]

    def names(rs):
        return ", ".join(f"`{r['variant']}` ({'the mean of ' + r['curve'].split()[-1] + ' seeds' if r['curve'].startswith('mean') else '1 seed'})"
                         for r in rs) or "none"
    return {"paper_loop_gains": names([r for r in sel if r["ok"][0]]),
            "paper_loop_no_gain": names([r for r in sel if not r["ok"][0]]),
            "paper_loop_all": names([r for r in sel if r["all"]]),
            "paper_loop_all_seeds": ", ".join(f"`{r['variant']}` {r['curve']}" for r in runs if r["curve"].startswith("seed") and r["all"]) or "none",
            "paper_loop_reads_without_gain": names([r for r in sel if not r["ok"][0] and r["ok"][3] and r["ok"][4:] == [True]])}


def criteria_markdown(rows):
    out = []
    for scale in ("small", "paper"):
        sel = [r for r in rows if r["scale"] == scale]
        if not sel:
            continue
        out.append(f"\n**{'Small scale' if scale == 'small' else 'Paper scale'}**, the trained model in the loop "
                   f"(each seed and the mean curve over seeds):\n")
        out.append("| variant | curve | q = 0: round 4 / round 0 ≤ 0.85 | q = 0: worst rise over the best earlier round "
                   f"≤ {RISE_TOLERANCE} | q = 1: round 4 / round 0 ≥ 0.95 | round 4: q = 1 − q = 0 ≥ {SCORE_MARGIN} | "
                   f"round 4: constant − q = 0 ≥ {SCORE_MARGIN} | all |")
        out.append("|---|---|---|---|---|---|---|---|")
        for r in sel:
            ok = r["ok"]
            context = f"{r['context_effect']:.3f} {mark(ok[4])}" if r["context_effect"] is not None else "not run"
            out.append(f"| {r['variant']} | {r['curve']} | {r['gains']:.2f} {mark(ok[0])} | {r['worst_rise']:.3f} {mark(ok[1])} | "
                       f"{r['blind']:.2f} {mark(ok[2])} | {r['score_effect']:.3f} {mark(ok[3])} | {context} | {mark(r['all'])} |")
    return "\n".join(out) + "\n\n"


def criteria_csv_rows(rows):
    """the loop criteria in claims.csv's schema: one row per (variant, curve)"""
    out = []
    for r in rows:
        seeds = r["curve"].split()[-1]
        out.append(dict(claim="self-correction", scale=r["scale"], comparison=f"{r['variant']}, {r['curve']}: gains, holds, blind, score",
                        evidence="loop", seeds=seeds, effect=f"{r['gains']:.4f}", ci_low="", ci_high="",
                        verdict="supported" if r["all"] else "not met: " + ", ".join(
                            n for n, ok in zip(("gains", "holds", "blind", "score", "beyond the context"), r["ok"]) if not ok)))
    return out


SMALL_ROWS = [("default (4 layers, 4 heads, softmax, FFN, causal)", "default", 0.0, "model"),
              ("1 layer", "depth1", 0.0, "model"), ("2 layers", "depth2", 0.0, "model"), ("8 layers", "depth8", 0.0, "model"),
              ("1 head", "heads1", 0.0, "model"), ("2 heads", "heads2", 0.0, "model"), ("8 heads", "heads8", 0.0, "model"),
              ("linear attention (causal)", "linear", 0.0, "model"),
              ("linear attention, unmasked", "linear_noncausal", 0.0, "model"),
              ("no FFN (causal)", "noffn", 0.0, "model"), ("no FFN, unmasked", "noffn_noncausal", 0.0, "model"),
              ("default, rewards replaced (p = 1)", "default", 1.0, "model"),
              ("GD (PL loss, Adam, 50 steps)", "default", 0.0, "gd"),
              ("mean of the responses seen", "default", 0.0, "mean_response"),
              ("reward-weighted mean", "default", 0.0, "reward_weighted"),
              ("top-1 by reward", "default", 0.0, "best_response"),
              ("exact (knows the task's form)", "default", 0.0, "exact")]


def errors_markdown(data, ks=(2, 5, 10, 19)):
    """The small-scale error table: models mean ± SE over seeds; baselines (the same on every seed) bare"""
    out = ["| run | seeds | " + " | ".join(f"k = {k}" for k in ks) + " |", "|---|---|" + "---|" * len(ks)]
    for label, run, noise, method in SMALL_ROWS:
        cells = []
        for k in ks:
            seeds = data[(run, noise, method, k)]
            m, v = mean_var([x[0] for x in seeds.values()])
            cells.append(f"{m:.3f} ± {math.sqrt(v / len(seeds)):.3f}" if method == "model" else f"{round(m, 3) + 0.0:.3f}")  # + 0.0: no "-0.000"
        n = len(data[(run, noise, method, ks[0])])
        out.append(f"| {label} | {n if method == 'model' else 'baseline'} | " + " | ".join(cells) + " |")
    return "\n" + "\n".join(out) + "\n\n"


def construction_markdown(path, ks=(2, 3, 5, 10, 19)):
    """docs/construction.md §6.4: the construction, GD and the trained model on the same sequences"""
    c = {(r["method"], int(r["k"])): float(r["mean"]) for r in csv.DictReader(open(path))}
    cols = [("trained model", "model"), ("GD, cosine (Adam, 50 steps)", "gd"), ("construction K = 1", "construct_K1"),
            ("construction K = 3", "construct_K3"), ("mean response", "mean_response"), ("direction y* − e", "ystar_minus_e")]
    out = ["| k | " + " | ".join(name for name, _ in cols) + " |", "|---|" + "---|" * len(cols)]
    for k in ks:
        out.append(f"| {k} | " + " | ".join(f"{c[(m, k)]:.3f}" for _, m in cols) + " |")
    below = [k for k in range(1, 20) if all(c[("model", j)] < c[("ystar_minus_e", j)] for j in range(k, 20))]
    out.append(f"\nThe trained model is below the direction y* − e from k = {below[0]} on, and above it before." if below else
               "\nThe trained model is never below the direction y* − e at every larger k.")
    return "\n" + "\n".join(out) + "\n\n"


def outputs():
    small = load_eval(*(f"{RESULTS}/{f}" for f in ("panels.csv", "panels_more.csv", "panels_noncausal.csv")))
    paper = load_eval(f"{RESULTS}/paper_scale.csv")
    claims = evaluate_claims("small", small) + evaluate_claims("paper", paper)
    loops = []
    for scale, path in (("small", f"{RESULTS}/self_correction_emergent.csv"), ("paper", f"{RESULTS}/paper_scale/self_correction_emergent.csv")):
        if os.path.exists(path):
            loops += loop_rows(scale, load_loops(path))
    fields = ["claim", "scale", "comparison", "evidence", "seeds", "effect", "ci_low", "ci_high", "verdict"]
    lines = [",".join(fields)] + [",".join(f'"{r[f]}"' if "," in str(r[f]) else str(r[f]) for f in fields)
                                  for r in claims + criteria_csv_rows(loops)]
    files = {f"{RESULTS}/claims.csv": "\n".join(lines) + "\n"}
    page = splice_text(open("docs/results.md").read(), claims_markdown(claims), "claims", "docs/results.md")
    page = splice_text(page, errors_markdown(small), "small_scale_errors", "docs/results.md")
    use_table, use_facts = reward_use(small, load_eval(f"{RESULTS}/reward_use.csv"))
    page = splice_text(page, use_table, "reward_use", "docs/results.md")
    answers = {}
    for claim, _, a, b, *_ in paper_claims("paper"):
        for run in {a[0], b[0]}:
            answers.setdefault(run, set()).add(claim)
    page = splice_text(page, paper_scale_status(RESULTS, answers), "paper_scale_status", "docs/results.md")
    page = splice_text(page, small_times(RESULTS), "small_times", "docs/results.md")
    files["docs/results.md"] = splice_facts(page, {**small_facts(small), **use_facts, **verdict_facts(claims)}, "docs/results.md")
    where = "docs/self_correction.md"
    page = splice_text(open(where).read(), criteria_markdown(loops), "selfcorrect_criteria", where)
    small_loops = load_loops(f"{RESULTS}/self_correction_emergent.csv")
    page = splice_text(page, loop_markdown(small_loops, sorted({k[0] for k in small_loops}, key=variant_key), ("model",),
                                           [c for c in CRITICS if c[2] in (0.0, 1.0) and not c[1]]), "selfcorrect_rounds", where)
    oneshot, agreement = f"{RESULTS}/self_correction_oneshot.csv", f"{RESULTS}/self_correction_agreement.csv"
    page = splice_text(page, oneshot_markdown(oneshot), "selfcorrect_oneshot", where)
    page = splice_text(page, agreement_markdown(agreement), "selfcorrect_agreement", where)
    facts = selfcorrect_facts(small_loops, oneshot, agreement, f"{RESULTS}/self_correction_steps.csv",
                              f"{RESULTS}/run_times.csv")
    facts.update(paper_scale_facts(f"{RESULTS}/paper_scale/self_correction_agreement.csv"))
    facts.update(loop_facts(loops))
    paper_loops = f"{RESULTS}/paper_scale/self_correction_emergent.csv"
    if os.path.exists(paper_loops):
        curves = load_loops(paper_loops)
        page = splice_text(page, loop_markdown(curves, ("default", "default+explore1")), "paper_scale_loop", where)
        sizes = sorted({k[0] for k in curves if "+" not in k[0]}, key=variant_key)
        page = splice_text(page, loop_markdown(curves, sizes, ("model",), [c for c in CRITICS if c[0] != "q = 0.5"]),
                           "paper_scale_sizes_loop", where)
    files[where] = splice_facts(page, facts, where)
    where = "docs/construction.md"
    page = splice_text(open(where).read(), construction_markdown(f"{RESULTS}/compare.csv"), "construction_compare", where)
    equality, components, facts = construction_tables(RESULTS)
    page = splice_text(page, equality, "construction_equality", where)
    page = splice_text(page, components, "construction_components", where)
    files[where] = splice_facts(page, facts, where)
    files["docs/mechanism.md"] = splice_facts(open("docs/mechanism.md").read(), facts, "docs/mechanism.md")
    return files


def main(argv):
    os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
    stale = []
    for path, text in outputs().items():
        old = open(path).read() if os.path.exists(path) else None
        if old == text:
            continue
        if "--check" in argv:
            stale.append(path)
            continue
        with open(path + ".new", "w") as f:
            f.write(text)
        os.replace(path + ".new", path)
        print(path)
    if stale:
        sys.exit("not what experiments/analysis/claims.py writes (run it, do not edit its output by hand): " + ", ".join(stale))


if __name__ == "__main__":
    main(sys.argv[1:])
