"""The tables and quoted numbers of docs/self_correction.md, from the committed CSVs of the self-correction
study (experiments/analysis/self_correction_results.py gathers them): the loop by round, the one-shot
panel, the agreement measures, and the numbers its prose quotes (facts, see facts.py). claims.py splices
them into the page; self_correction_results.py writes the same tables into self_correction_summary.md.
"""
import csv
import math
from collections import defaultdict

from stats import compare, mean_var

# The study's variants in the order the page discusses them (the paper's reference first), then the
# paper-scale runs of scripts/paper_scale.sh.
ORDER = ["paper", "spread", "onpolicy", "spread_onpolicy", "onpolicy_explore",
         "default", "depth5", "depth10", "depth15", "heads1", "heads4", "heads6", "linear_causal", "noffn_causal"]
KS = (2, 5, 10, 19)


def variant_key(name):
    base = name.split("+")[0]
    return (ORDER.index(base) if base in ORDER else len(ORDER), name)


def load_loops(path):
    """{(variant, method, seed, q): [error by round]}"""
    curves = {}
    for r in csv.DictReader(open(path)):
        key = (r["variant"], r["method"], int(r["seed"]), float(r["critic_noise"]))
        curve = curves.setdefault(key, [])
        assert int(r["round"]) == len(curve), f"{path}: rounds out of order"
        curve.append(float(r["error"]))
    return curves


def seeds_of(curves, v, m, q):
    return sorted(s for vv, mm, s, qq in curves if (vv, mm, qq) == (v, m, q))


def mean_curve(curves, v, m, q):
    seeds = seeds_of(curves, v, m, q)
    return [sum(curves[(v, m, s, q)][t] for s in seeds) / len(seeds) for t in range(len(curves[(v, m, seeds[0], q)]))]


CRITICS = (("accurate (q = 0)", "", 0.0), ("q = 0.5", "", 0.5), ("random (q = 1)", "", 1.0),
           ("constant 0.5", ":constant", 0.0), ("nothing appended", ":noappend", 0.0))


def loop_markdown(curves, variants, methods=("model", "gd", "construction"), critics=CRITICS, rounds=(0, 1, 4, 12)):
    """The loop's error by round, mean over the seeds (± SE over seeds for the model; GD and the
    construction are the same for every seed) for each answerer and critic"""
    out = ["| loop | answerer | critic | " + " | ".join(f"round {t}" for t in rounds) + " | round 4 / round 0 | seeds |",
           "|---|---|---|" + "---|" * (len(rounds) + 2)]
    for v in variants:
        for method in methods:
            for label, control, q in critics:
                m = method + control
                seeds = seeds_of(curves, v, m, q)
                if not seeds:
                    continue
                cells = []
                for t in rounds:
                    mean, var = mean_var([curves[(v, m, s, q)][t] for s in seeds])
                    cells.append(f"{mean:.3f} ± {math.sqrt(var / len(seeds)):.3f}" if method == "model" and len(seeds) > 1 else f"{mean:.3f}")
                c = mean_curve(curves, v, m, q)
                out.append(f"| {v} | {method} | {label} | " + " | ".join(cells) + f" | {c[4] / c[0]:.2f} | {len(seeds)} |")
    return "\n" + "\n".join(out) + "\n\n"


def load_eval_rows(path, key_fields):
    """{key: {seed: (mean, sem)}} of a CSV with a seed column"""
    data = defaultdict(dict)
    for r in csv.DictReader(open(path)):
        data[tuple(r[f] for f in key_fields)][int(r["seed"])] = (float(r["mean"]), float(r["sem"]))
    return data


def oneshot_markdown(path):
    """Panel (a) on the paper's task per training variant: mean ± SE over seeds, and the difference to
    the `paper` variant at k = 19 with a Welch 95% interval over seeds"""
    data = load_eval_rows(path, ("variant", "method", "k"))
    variants = sorted({k[0] for k in data}, key=variant_key)
    ks = [k for k in KS if any(key[2] == str(k) for key in data)]
    last = str(ks[-1])
    out = ["| variant | method | seeds | " + " | ".join(f"k = {k}" for k in ks) + f" | − paper at k = {last} [95% interval over seeds] |",
           "|---|---|---|" + "---|" * len(ks) + "---|"]
    for v in variants:
        for method in ("model", "gd"):
            if (v, method, "2") not in data or (method == "gd" and v != "paper"):
                continue
            cells = []
            for k in ks:
                seeds = data[(v, method, str(k))]
                m, var = mean_var([x[0] for x in seeds.values()])
                cells.append(f"{m:.3f} ± {math.sqrt(var / len(seeds)):.3f}" if method == "model" else f"{m:.3f}")
            diff = ""
            if method == "model" and v != "paper" and ("paper", "model", last) in data:
                effect, low, high, *_ = compare(data[(v, "model", last)], data[("paper", "model", last)], False)
                diff = f"{effect:+.3f} [{low:+.3f}, {high:+.3f}]"
            seeds = len(data[(v, method, "2")]) if method == "model" else "baseline"
            out.append(f"| {v} | {method} | {seeds} | " + " | ".join(cells) + f" | {diff} |")
    return "\n" + "\n".join(out) + "\n\n"


def agreement_means(path):
    """{(variant, measure, method, map, k): mean over seeds}"""
    groups = defaultdict(list)
    for r in csv.DictReader(open(path)):
        groups[(r["variant"], r["measure"], r["method"], r["map"], int(r["k"]))].append(float(r["mean"]))
    return {k: sum(v) / len(v) for k, v in groups.items()}


def agreement_markdown(path, maps=("0.2r", "rank/k")):
    """The model of every variant; the construction and GD from another initialisation (the ceiling of
    cos_with_gd: how much two runs of GD itself agree) once, as they do not depend on the trained model.
    Of the reward maps, `maps` (the CSV has them all)."""
    agr = agreement_means(path)
    variants = sorted({k[0] for k in agr}, key=variant_key)
    keys = sorted({k[:4] for k in agr if k[2] == "model" or (k[2] in ("construct", "gd_other_init") and k[0] == variants[0])},
                  key=lambda k: (k[2] != "model", k[2], variant_key(k[0]), k[1], k[3]))
    out = ["| variant | measure | method | map | " + " | ".join(f"k = {k}" for k in KS) + " |", "|---|---|---|---|" + "---|" * len(KS)]
    for key in keys:
        if key[1] == "direction_distance_to_gd" or (key[1] == "map_shift" and key[3] not in maps):
            continue  # direction_distance_to_gd carries the same information as cos_with_gd
        who = key[0] if key[2] == "model" else f"({key[2]})"
        out.append(f"| {who} | {key[1]} | {key[2]} | {key[3] or '–'} | " +
                   " | ".join(f"{round(agr[(*key, k)], 3) + 0.0:.3f}" if (*key, k) in agr else "–" for k in KS) + " |")
    return "\n" + "\n".join(out) + "\n\n"


def steps_facts(path):
    """the snapshots of the runs that keep them (self_correction_steps.csv): each measure at each step, the
    seeds' values in seed order ("1.09, 1.14, 1.09"), as steps_MEASURE_STEP"""
    values = defaultdict(dict)
    for r in csv.DictReader(open(path)):
        values[(r["measure"], int(r["step"]))][int(r["seed"])] = float(r["value"])
    return {f"steps_{measure}_{step}": ", ".join(f"{v[s]:.2f}" for s in sorted(v)) for (measure, step), v in values.items()}


def cost_facts(run_times_path):
    """on-policy training's time per run against the paper's (run_times.csv, the study's grid)"""
    seconds = defaultdict(list)
    for r in csv.DictReader(open(run_times_path)):
        if r["grid"] == "self_correction":
            seconds[r["run"].rsplit("-s", 1)[0]].append(float(r["train_seconds"]))
    if not seconds.get("paper") or not seconds.get("onpolicy"):
        return {}
    return {"onpolicy_cost": f"{(sum(seconds['onpolicy']) / len(seconds['onpolicy'])) / (sum(seconds['paper']) / len(seconds['paper'])):.1f}"}


def selfcorrect_facts(curves, oneshot_path, agreement_path, steps_path, run_times_path):
    """the numbers the prose of docs/self_correction.md quotes"""
    f = steps_facts(steps_path)
    f.update(cost_facts(run_times_path))

    def ratio(v, q, m="model"):
        c = mean_curve(curves, v, m, q)
        return f"{c[4] / c[0]:.2f}"

    for v in sorted({k[0] for k in curves}):
        tag = v.replace("+explore", "_explore").replace(".", "")
        for q in (0.0, 1.0):
            if seeds_of(curves, v, "model", q):
                f[f"loop_{tag}_q{q:g}_ratio"] = ratio(v, q)
                c = mean_curve(curves, v, "model", q)
                f[f"loop_{tag}_q{q:g}_rounds"] = f"{c[0]:.3f} → {c[4]:.3f} → {c[12]:.3f}"
            if seeds_of(curves, v, "gd", q):
                c = mean_curve(curves, v, "gd", q)
                f[f"loop_{tag}_gd_q{q:g}_rounds"] = f"{c[0]:.3f} → {c[4]:.3f} → {c[12]:.3f}"
    flat = [max(c) - min(c) for k, c in curves.items() if k[1].endswith(":noappend")]
    f["noappend_largest_change"] = f"{max(flat):.1g}" if flat else "not run"
    one = load_eval_rows(oneshot_path, ("variant", "method", "k"))
    for (v, method, k), seeds in one.items():
        if method == "model" and k == "19":
            f[f"oneshot_{v}_k19"] = f"{sum(x[0] for x in seeds.values()) / len(seeds):.3f}"
    f["oneshot_gd_k19"] = f"{sum(x[0] for x in one[('paper', 'gd', '19')].values()) / len(one[('paper', 'gd', '19')]):.3f}"
    agr = agreement_means(agreement_path)
    first = sorted({k[0] for k in agr}, key=variant_key)[0]
    for k in (5, 10):
        for v in sorted({key[0] for key in agr}):
            if (v, "cos_with_gd", "model", "", k) in agr:
                f[f"agree_{v}_cos_k{k}"] = f"{agr[(v, 'cos_with_gd', 'model', '', k)]:.2f}"
                f[f"agree_{v}_sens_k{k}"] = f"{agr[(v, 'sensitivity_cos_with_gd', 'model', '', k)]:.2f}"
        for m in ("construct", "gd_other_init"):
            if (first, "cos_with_gd", m, "", k) in agr:
                f[f"agree_{m}_cos_k{k}"] = f"{agr[(first, 'cos_with_gd', m, '', k)]:.2f}"
        if (first, "sensitivity_cos_with_gd", "construct", "", k) in agr:
            f[f"agree_construct_sens_k{k}"] = f"{agr[(first, 'sensitivity_cos_with_gd', 'construct', '', k)]:.2f}"
    return f


def paper_scale_facts(agreement_path):
    """the paper-scale default's agreement with GD (mean over its seeds), as paper_*"""
    agr = agreement_means(agreement_path)
    f = {}
    for k in (5, 10):
        for m in ("model", "construct"):
            f[f"paper_{m}_cos_k{k}"] = f"{agr[('default', 'cos_with_gd', m, '', k)]:.3f}"
            f[f"paper_{m}_sens_k{k}"] = f"{agr[('default', 'sensitivity_cos_with_gd', m, '', k)]:.2f}"
        shifts = {key[3]: v for key, v in agr.items() if key[:3] == ("default", "map_shift", "model") and key[4] == k}
        worst = max(shifts, key=shifts.get)
        f[f"paper_largest_map_shift_k{k}"] = f"{shifts[worst]:.2f} ({worst})"
    return f
