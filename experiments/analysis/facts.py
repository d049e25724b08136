"""Numbers and small tables of the docs' prose, computed from the committed CSVs (claims.py splices them).

A number in a sentence is written as <!-- fact:NAME -->VALUE<!-- /fact -->: the comments do not render,
and claims.py replaces VALUE with the value computed here for NAME, so `claims.py --check` (the test
`claims_generated`) fails when the prose and the CSVs disagree. A NAME the page uses but this file does
not compute is an error, so a fact cannot silently go stale either. The tables (the reward-use table,
construction.md §6, the paper-scale grid's status) go between <!-- name --> and <!-- /name --> lines.
"""
import csv
import difflib
import os
import re
import sys

from collections import defaultdict

import yaml

from stats import mean_se

FACT = re.compile(r"<!-- fact:([a-z0-9_]+) -->(.*?)<!-- /fact -->")


def splice_facts(text, facts, where):
    def value(m):
        if m.group(1) not in facts:
            near = difflib.get_close_matches(m.group(1), facts, n=5, cutoff=0.5)
            sys.exit(f"{where}: no fact called '{m.group(1)}' (of the {len(facts)} facts computed for it, the nearest: "
                     f"{', '.join(near) or 'none'})")
        return f"<!-- fact:{m.group(1)} -->{facts[m.group(1)]}<!-- /fact -->"
    return FACT.sub(value, text)


def seed_stats(seeds):
    """mean and SE over seeds of {seed: (mean, sem)}"""
    return mean_se([v[0] for v in seeds.values()])


def first_k_below(data, run, method, other, ks=range(1, 20), noise=0.0):
    """the smallest k from which run's mean (over seeds) stays below other's at every larger k, or None"""
    def mean(r, m, k):
        return seed_stats(data[(r, noise, m, k)])[0]
    ok = [k for k in ks if all(mean(run, method, j) < mean(*other, j) for j in ks if j >= k)]
    return ok[0] if ok else None


def small_facts(data):
    """the small-scale prose of docs/results.md"""
    f = {}
    f["small_default_below_mean_from_k"] = first_k_below(data, "default", "model", ("default", "mean_response"))
    gd = {k: seed_stats(data[("default", 0.0, "gd", k)])[0] for k in (10, 19)}
    deep = {k: seed_stats(data[("depth8", 0.0, "model", k)]) for k in (10, 19)}
    ratios = [(gd[k] - deep[k][0]) / deep[k][1] for k in (10, 19)]
    f["small_depth8_below_gd_in_se"] = f"{min(ratios):.1f}–{max(ratios):.1f}"
    below_gd = sorted(label for label, run in (("8 layers", "depth8"), ("default", "default"), ("1 layer", "depth1"),
                                               ("2 layers", "depth2"), ("1 head", "heads1"), ("2 heads", "heads2"),
                                               ("8 heads", "heads8"), ("no FFN", "noffn"))
                      if seed_stats(data[(run, 0.0, "model", 19)])[0] < gd[19])
    f["small_below_gd_at_19"] = ", ".join(below_gd) if below_gd else "none"
    rise = {m: seed_stats(data[("default", 0.25, m, 19)])[0] - seed_stats(data[("default", 0.0, m, 19)])[0] for m in ("model", "gd")}
    f["small_rise_p025_k19"] = f"GD's by {rise['gd']:.3f}, the model's by {rise['model']:.3f}"
    return f


def reward_use(small, use, ks=(2, 3, 5, 10, 19)):
    """the reward-use table of docs/results.md and its facts, from panels.csv's default and reward_use.csv"""
    rows = [("default (3000 steps, batch 64)", small, "default"), ("9000 steps", use, "steps9000"),
            ("batch 192 (3000 steps)", use, "batch192")]
    out = ["| run | seeds | p | " + " | ".join(f"k = {k}" for k in ks) + " |", "|---|---|---|" + "---|" * len(ks)]
    facts = {}
    for label, data, run in rows:
        for p in (0.0, 1.0):
            cells = [seed_stats(data[(run, p, "model", k)]) for k in ks]
            n = len(data[(run, p, "model", ks[0])])
            out.append(f"| {label if p == 0 else ''} | {n if p == 0 else ''} | {p:g} | " +
                       " | ".join(f"{m:.3f} ± {se:.3f}" for m, se in cells) + " |")
        gap = [seed_stats(data[(run, 1.0, "model", k)])[0] - seed_stats(data[(run, 0.0, "model", k)])[0] for k in (2, 19)]
        facts[f"reward_use_gap_{run}"] = f"{gap[0]:.2f} / {gap[1]:.2f}"
        below = first_k_below(data, run, "model", (run, "mean_response"), ks=range(2, 20))
        facts[f"reward_use_below_mean_from_k_{run}"] = f"from k = {below} on" if below is not None else "at no k"
        below_gd = first_k_below(data, run, "model", (run, "gd"), ks=range(2, 20))
        facts[f"reward_use_below_gd_from_k_{run}"] = f"from k = {below_gd} on" if below_gd is not None else "at no k"
        facts[f"reward_use_k19_{run}"] = f"{seed_stats(data[(run, 0.0, 'model', 19)])[0]:.3f}"
        each = sorted(v[0] for v in data[(run, 0.0, "model", 2)].values())
        facts[f"reward_use_k2_seeds_{run}"] = " and ".join(f"{x:.3f}" for x in each)
    for method in ("gd", "mean_response"):
        out.append(f"| {'GD' if method == 'gd' else 'mean of the responses seen'} | baseline | 0 | " +
                   " | ".join(f"{seed_stats(small[('default', 0.0, method, k)])[0]:.3f}" for k in ks) + " |")
    for method in ("gd", "mean_response", "reward_weighted", "best_response"):
        facts[f"k2_{method}"] = f"{seed_stats(small[('default', 0.0, method, 2)])[0]:.3f}"
        facts[f"k19_{method}"] = f"{seed_stats(small[('default', 0.0, method, 19)])[0]:.3f}"
    return "\n" + "\n".join(out) + "\n\n", facts


def construction_tables(results):
    """docs/construction.md §6.1 and §6.3 from equality.csv and components.csv, and the facts of §6.2
    from sharpness.csv (icalign construct's outputs, copied by scripts/results.sh)"""
    eq = {(int(r["N"]), int(r["K"])): float(r["max_abs_error"]) for r in csv.DictReader(open(f"{results}/equality.csv"))}
    equality = ["| N | K = 1 | K = 3 |", "|---|---|---|"] + [
        f"| {n} | {eq[(n, 1)]:.1e} | {eq[(n, 3)]:.1e} |" for n in sorted({n for n, _ in eq})]
    components = ["| variant | mean | max |", "|---|---|---|"] + [
        f"| {r['variant']} | {float(r['rel_error_mean']):.2g} | {float(r['rel_error_max']):.2g} |"
        for r in csv.DictReader(open(f"{results}/components.csv"))]
    sharp = {float(r["gamma_delta"]): (float(r["measured_max"]), float(r["bound_max"]))
             for r in csv.DictReader(open(f"{results}/sharpness.csv"))}
    f = {"equality_worst": f"{max(eq.values()):.1e}"}
    comp = {r["variant"]: float(r["rel_error_mean"]) for r in csv.DictReader(open(f"{results}/components.csv"))}
    for name, variant in (("no_select", "without head S (selection)"), ("no_policy", "without head P (policy average)"),
                          ("no_ffn", "without the FFN"), ("one_block", "1 block"), ("linear", "linear attention instead of softmax")):
        f[f"components_{name}"] = f"{comp[variant]:.2g}"
    for gd in (8, 20):
        f[f"sharpness_measured_{gd}"], f[f"sharpness_bound_{gd}"] = (f"{v:.4g}" for v in sharp[gd])
    f["sharpness_rounding_from"] = f"{min(g for g, (m, _) in sharp.items() if m < 1e-14):g}"
    for gd in (1, 0.25):
        f[f"sharpness_measured_{gd:g}".replace(".", "")] = f"{sharp[gd][0]:.2g}"
    return "\n" + "\n".join(equality) + "\n\n", "\n" + "\n".join(components) + "\n\n", f


def paper_scale_status(results, answers, grid="experiments/grids/paper_scale.yaml"):
    """docs/results.md's table of the paper-scale grid: per run, the claims it answers (answers: {run:
    {claim letter}}), the seeds in paper_scale.csv, the seeds whose model is committed, and the training
    minutes per seed (run_times.csv); and the list of what is still to train, each with the time its
    fastest trained seed took"""
    spec = yaml.safe_load(open(grid))
    in_csv = defaultdict(set)
    for r in csv.DictReader(open(f"{results}/paper_scale.csv")):
        in_csv[r["run"]].add(int(r["seed"]))
    models = set(os.listdir(f"{results}/paper_scale/models"))
    minutes = defaultdict(dict)
    for r in csv.DictReader(open(f"{results}/run_times.csv")):
        if r["grid"] == "paper_scale":
            run, seed = r["run"].rsplit("-s", 1)
            minutes[run][int(seed)] = float(r["train_seconds"]) / 60
    out = ["| run | answers | seeds in paper_scale.csv | models committed | training minutes per seed |", "|---|---|---|---|---|"]
    todo, total = [], 0.0
    for run, value in spec["runs"].items():
        seeds = value.get("seeds", spec["seeds"]) if isinstance(value, dict) else spec["seeds"]
        kept = [s for s in seeds if f"{run}-s{s}" in models]
        times = ", ".join(f"s{s}: {m:.0f}" for s, m in sorted(minutes[run].items())) or "–"
        claims = ", ".join(f"({c})" for c in sorted(answers.get(run, ()))) or "–"
        out.append(f"| `{run}` | {claims} | {', '.join(map(str, sorted(in_csv[run]))) or '–'} | {', '.join(map(str, kept)) or '–'} | {times} |")
        for s in seeds:
            if s not in kept:
                guess = min(minutes[run].values()) if minutes[run] else None
                total += guess or 0
                todo.append(f"`{run}-s{s}`" + (f" (about {guess:.0f} min)" if guess else " (no seed trained yet)"))
    text = "\n" + "\n".join(out) + "\n\n"
    text += (f"Still to train (or retrain, where the model was not kept): {', '.join(todo)}; about {total / 60:.0f} hours "
             "at those minutes.\n\n" if todo else "Every run of the grid has its model committed.\n\n")
    return text


SMALL_TIMES = [("default (4 layers)", ("panels", "default")), ("1 layer", ("panels", "depth1")), ("2 layers", ("panels_more", "depth2")),
               ("8 layers", ("panels_more", "depth8")), ("1 head", ("panels", "heads1")), ("2 heads", ("panels_more", "heads2")),
               ("8 heads", ("panels_more", "heads8")), ("linear attention, causal", ("panels", "linear")),
               ("linear attention, unmasked", ("panels_noncausal", "linear_noncausal")), ("no FFN, causal", ("panels", "noffn")),
               ("no FFN, unmasked", ("panels_noncausal", "noffn_noncausal")), ("9000 steps", ("reward_use", "steps9000")),
               ("batch 192", ("reward_use", "batch192"))]


def small_times(results):
    """docs/results.md's table of the small-scale training times (run_times.csv), seed by seed"""
    seconds = defaultdict(dict)
    for r in csv.DictReader(open(f"{results}/run_times.csv")):
        run, seed = r["run"].rsplit("-s", 1)
        seconds[(r["grid"], run)][int(seed)] = float(r["train_seconds"])
    out = ["| run | training seconds, seed by seed |", "|---|---|"]
    total = sum(v for key in dict(SMALL_TIMES).values() for v in seconds[key].values())
    runs = sum(len(seconds[key]) for key in dict(SMALL_TIMES).values())
    for label, key in SMALL_TIMES:
        out.append(f"| {label} | " + " / ".join(f"{v:.0f}" for _, v in sorted(seconds[key].items())) + " |")
    out.append(f"| all {runs} runs | {total / 3600:.1f} hours |")
    return "\n" + "\n".join(out) + "\n\n"
