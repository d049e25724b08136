#!/usr/bin/python3
"""Gathers the self-correction study (scripts/self_correction.sh, experiments/grids/self_correction.yaml)
from its run directories <variant>-s<seed> into OUT/:

  self_correction_emergent.csv   variant,method,seed,critic_noise,round,error  (the multi-round loop;
                                 a variant's loop settings are part of its name: <run>+explore<σ>)
  self_correction_oneshot.csv    variant,seed,method,k,mean,sem,n  (panel (a) on the paper's task)
  self_correction_agreement.csv  variant,seed,measure,method,map,k,mean,sem,n  (icalign agree)
  self_correction_steps.csv      variant,seed,step,measure,value  (the same on a run's snapshots)
  self_correction_summary.md     the tables docs/self_correction.md quotes, and which criteria hold
  self_correction_rounds.png, self_correction_oneshot.png, self_correction_agreement.png,
  self_correction_steps.png

Every number is a mean over held-out sequences per seed; tables and figures give the mean over seeds
± the standard error over seeds. MODEL names the models in the titles (default: "small model");
scripts/paper_scale.sh runs this on the paper-scale runs' loops.
Usage: self_correction_results.py OUT RUNS_DIR [MODEL]"""
import csv
import glob
import math
import os
import re
import sys
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from selfcorrect_tables import ORDER, agreement_markdown, oneshot_markdown, variant_key  # noqa: E402
from stats import mean_se  # noqa: E402

METHOD = {f"{m}{control}": f"{name}{control}" for m, name in (("model", "model"), ("gd", "gd"), ("construct", "construction"))
          for control in ("", ":constant", ":noappend")}


def runs(runs_dir):
    """[(variant, seed, dir)] of every finished run"""
    out = []
    for d in sorted(glob.glob(os.path.join(runs_dir, "*-s*"))):
        m = re.fullmatch(r"(.+)-s(\d+)", os.path.basename(d))
        if m and os.path.exists(os.path.join(d, "done")):
            out.append((m.group(1), int(m.group(2)), d))
    return out


def gather(out, runs_dir):
    emergent, oneshot, agreement = [], [], []
    for variant, seed, d in runs(runs_dir):
        for path in sorted(glob.glob(os.path.join(d, "selfcorrect_explore*.csv"))):
            m = re.fullmatch(r"selfcorrect_explore([0-9.]+)\.csv", os.path.basename(path))
            if not m:
                continue  # a snapshot's (steps() reads those)
            sigma = m.group(1)
            name = variant if float(sigma) == 0 else f"{variant}+explore{sigma}"
            for r in csv.DictReader(open(path)):
                if r["method"] in METHOD:
                    emergent.append((name, METHOD[r["method"]], seed, float(r["critic_noise"]), int(r["round"]), float(r["mean"])))
        if os.path.exists(os.path.join(d, "eval_line.csv")):
            for r in csv.DictReader(open(os.path.join(d, "eval_line.csv"))):
                oneshot.append((variant, seed, r["method"], int(r["k"]), float(r["mean"]), float(r["sem"]), int(r["n"])))
        if os.path.exists(os.path.join(d, "agreement.csv")):
            for r in csv.DictReader(open(os.path.join(d, "agreement.csv"))):
                agreement.append((variant, seed, r["measure"], r["method"], r["map"], int(r["k"]), float(r["mean"]), float(r["sem"]), int(r["n"])))
    write(os.path.join(out, "self_correction_emergent.csv"), "variant,method,seed,critic_noise,round,error", emergent)
    if oneshot:  # the runs of the paper's task have no separate one-shot evaluation
        write(os.path.join(out, "self_correction_oneshot.csv"), "variant,seed,method,k,mean,sem,n", oneshot)
    if agreement:
        write(os.path.join(out, "self_correction_agreement.csv"), "variant,seed,measure,method,map,k,mean,sem,n", agreement)
    return emergent, oneshot, agreement


def steps(out, runs_dir):
    """The loop and the agreement measures on each snapshot: self_correction_steps.csv rows"""
    rows = []
    for variant, seed, d in runs(runs_dir):
        for path in sorted(glob.glob(os.path.join(d, "selfcorrect_explore1_step-*.csv"))):
            step = int(re.search(r"step-(\d+)", path).group(1))
            c = {(r["method"], float(r["critic_noise"]), int(r["round"])): float(r["mean"]) for r in csv.DictReader(open(path))}
            for q in (0.0, 1.0):
                if ("model", q, 4) in c:
                    rows.append((variant, seed, step, f"loop_q{q:g}_round4_over_round0", c[("model", q, 4)] / c[("model", q, 0)]))
            if ("model", 0.0, 0) in c:
                rows.append((variant, seed, step, "loop_round0", c[("model", 0.0, 0)]))
        for path in sorted(glob.glob(os.path.join(d, "agreement_step-*.csv"))):
            step = int(re.search(r"step-(\d+)", path).group(1))
            a = list(csv.DictReader(open(path)))
            for r in a:
                if r["method"] == "model" and r["k"] == "10" and r["measure"] in ("cos_with_gd", "sensitivity_cos_with_gd"):
                    rows.append((variant, seed, step, r["measure"] + "_k10", float(r["mean"])))
            shifts = [float(r["mean"]) for r in a if r["method"] == "model" and r["k"] == "10" and r["measure"] == "map_shift"]
            if shifts:
                rows.append((variant, seed, step, "largest_map_shift_k10", max(shifts)))
    if not rows:
        return
    write(os.path.join(out, "self_correction_steps.csv"), "variant,seed,step,measure,value", rows)
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
    measures = (("loop_q0_round4_over_round0", 0, "accurate critic (q = 0)", "C2"),
                ("loop_q1_round4_over_round0", 0, "random critic (q = 1)", "C3"),
                ("cos_with_gd_k10", 1, "prediction agreement with GD", "C0"),
                ("sensitivity_cos_with_gd_k10", 1, "sensitivity agreement with GD", "C1"),
                ("largest_map_shift_k10", 1, "largest shift under a reward map", "C7"))
    runs_seen = sorted({(r[0], r[1]) for r in rows})
    for measure, ax, label, colour in measures:
        for i, (variant, seed) in enumerate(runs_seen):  # one colour per measure, one line style per run
            pts = sorted((r[2], r[4]) for r in rows if r[0] == variant and r[1] == seed and r[3] == measure)
            if pts:
                axes[ax].plot([p[0] for p in pts], [p[1] for p in pts], marker="o", ms=3, color=colour,
                              ls=("-", "--", ":", "-.")[i % 4], label=label if i == 0 else None)
    axes[0].axhline(1, color="k", lw=0.5)
    axes[0].set_title("the loop (explore σ = 1): round-4 error / round-0 error\n(< 1: the model corrects itself)", fontsize=10)
    axes[1].set_title("at k = 10: agreement with GD, and the largest\nshift under an increasing reward map", fontsize=10)
    names = ", ".join(f"{v}-s{s_} {('solid', 'dashed', 'dotted', 'dash-dot')[i % 4]}" for i, (v, s_) in enumerate(runs_seen))
    for ax in axes:
        ax.set_xlabel("training step")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(names, fontsize=8, y=0.02, va="bottom")
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    fig.savefig(os.path.join(out, "self_correction_steps.png"), dpi=110)


def write(path, header, rows):
    with open(path + ".new", "w") as f:
        f.write(header + "\n")
        for r in rows:
            f.write(",".join(("%.10g" % v) if isinstance(v, float) else str(v) for v in r) + "\n")
    os.replace(path + ".new", path)


def over_seeds(rows, key, value):
    """{key(row): (mean, sem, n_seeds)} over the rows' seeds"""
    groups = defaultdict(list)
    for r in rows:
        groups[key(r)].append(value(r))
    return {k: mean_se(v) + (len(v),) for k, v in groups.items()}


def variants_in(emergent):
    return sorted({r[0] for r in emergent}, key=variant_key)


def color(variant):
    base = variant.split("+")[0]
    return "C%d" % ((ORDER.index(base) if base in ORDER else len(ORDER)) % 10)


def summary(out, emergent, oneshot, agreement):
    curve = over_seeds(emergent, lambda r: (r[0], r[1], r[3], r[4]), lambda r: r[5])
    last = max(r[4] for r in emergent)  # 12 in the study
    lines = ["# Self-correction study: summary (written by experiments/analysis/self_correction_results.py)", "",
             "Error 1 − cos(answer, y*), mean over seeds ± standard error over seeds (n = seeds).", "",
             f"| variant | answerer | q | round 0 | round 1 | round 4 | round {last} | round 4 / round 0 | n |",
             "|---|---|---|---|---|---|---|---|---|"]
    for v in variants_in(emergent):
        for method in ("model", "gd", "construction"):
            for q in sorted({r[3] for r in emergent if r[0] == v}):
                c = [curve.get((v, method, q, t)) for t in range(last + 1)]
                if None in c or last < 4:
                    continue
                cell = lambda t: "%.3f" % c[t][0] + ("" if math.isnan(c[t][1]) else " ± %.3f" % c[t][1])
                lines.append(f"| {v} | {method} | {q:g} | {cell(0)} | {cell(1)} | {cell(4)} | {cell(last)} | "
                             f"{c[4][0] / c[0][0]:.2f} | {c[0][2]} |")
    one = over_seeds(oneshot, lambda r: (r[0], r[2], r[3]), lambda r: r[4])
    agr = over_seeds(agreement, lambda r: (r[0], r[2], r[3], r[4], r[5]), lambda r: r[6])
    lines.append("\nThe criteria of the question, per seed and for the mean curve: docs/self_correction.md "
                 "(experiments/analysis/claims.py).")
    if oneshot:
        lines += ["", "One shot on the paper's task (panel (a), 1024 held-out sequences per seed), mean ± SE over seeds:",
                  oneshot_markdown(os.path.join(out, "self_correction_oneshot.csv"))]
    if agreement:
        lines += ["Agreement with GD and invariance to increasing reward maps (icalign agree), mean over seeds:",
                  agreement_markdown(os.path.join(out, "self_correction_agreement.csv"))]
    with open(os.path.join(out, "self_correction_summary.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    return curve, one, agr


def band(ax, xs, stats, label, **style):
    m = [s[0] for s in stats]
    e = [0 if math.isnan(s[1]) else s[1] for s in stats]
    (l,) = ax.plot(xs, m, label=label, **style)
    ax.fill_between(xs, [a - b for a, b in zip(m, e)], [a + b for a, b in zip(m, e)], color=l.get_color(), alpha=0.15)


def plot_rounds(out, emergent, curve, model):
    variants = variants_in(emergent)
    base = [v for v in variants if "+explore" not in v]
    sigmas = sorted({v.split("+explore")[1] for v in variants if "+explore" in v}, key=float)
    cols = ["0"] + sigmas
    qs = sorted({r[3] for r in emergent})
    fig, axes = plt.subplots(len(qs), len(cols), figsize=(4.2 * len(cols), 3.4 * len(qs)), sharey=True, squeeze=False)
    rounds = sorted({r[4] for r in emergent})
    for i, q in enumerate(qs):
        for j, s in enumerate(cols):
            ax = axes[i][j]
            for v in base:
                name = v if s == "0" else f"{v}+explore{s}"
                if (name, "model", q, 0) in curve:
                    band(ax, rounds, [curve[(name, "model", q, t)] for t in rounds], f"model: {v}", color=color(v))
            # GD and the construction do not depend on the model: those of the paper's task (the spread
            # task's own are in the summary table)
            ref = base[0] if s == "0" else f"{base[0]}+explore{s}"
            for method, style in (("gd", dict(color="k", ls="--")), ("construction", dict(color="grey", ls=":"))):
                if (ref, method, q, 0) in curve:
                    band(ax, rounds, [curve[(ref, method, q, t)] for t in rounds], f"{method} ({base[0]} task)", **style)
            ax.set_title(f"critic noise q = {q:g}, explore σ = {s}", fontsize=9)
            ax.set_xlabel("round")
            ax.grid(alpha=0.3)
        axes[i][0].set_ylabel("1 − cos(answer, y*)")
    axes[0][0].legend(fontsize=7)  # the σ = 0 column has every model
    fig.suptitle(f"multi-round self-correction ({model}, mean ± SE over seeds)")
    fig.tight_layout()
    fig.savefig(os.path.join(out, "self_correction_rounds.png"), dpi=110)


def plot_oneshot(out, one):
    fig, ax = plt.subplots(figsize=(6, 4))
    ks = sorted({k[2] for k in one})
    for v in sorted({k[0] for k in one}, key=variant_key):
        if all((v, "model", k) in one for k in ks):
            band(ax, ks, [one[(v, "model", k)] for k in ks], f"model: {v}", color=color(v))
    if all(("paper", "gd", k) in one for k in ks):
        band(ax, ks, [one[("paper", "gd", k)] for k in ks], "GD", color="k", ls="--")
    ax.set_xlabel("in-context examples k")
    ax.set_ylabel("1 − cos(answer, y*)")
    ax.set_title("one shot on the paper's task, by training variant", fontsize=10)
    ax.set_ylim(0, 1.3)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(os.path.join(out, "self_correction_oneshot.png"), dpi=110)


def plot_agreement(out, agr):
    variants = sorted({k[0] for k in agr}, key=variant_key)
    maps = sorted({k[3] for k in agr if k[1] == "map_shift"})
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.2))
    ks = sorted({k[4] for k in agr})

    def curve(ax, key, label, **style):
        have = [k for k in ks if (*key, k) in agr]
        if have:
            band(ax, have, [agr[(*key, k)] for k in have], label, marker="o" if len(have) < 6 else None, **style)

    for v in variants:
        curve(axes[0], (v, "cos_with_gd", "model", ""), f"model: {v}", color=color(v))
        shifts = {k: max(agr[(v, "map_shift", "model", m, k)][0] for m in maps) for k in ks
                  if all((v, "map_shift", "model", m, k) in agr for m in maps)}
        if shifts:
            axes[1].plot(list(shifts), list(shifts.values()), label=f"model: {v}", color=color(v))
        curve(axes[2], (v, "sensitivity_cos_with_gd", "model", ""), f"model: {v}", color=color(v))
    ref = variants[0]  # the construction does not depend on the trained model
    curve(axes[0], (ref, "cos_with_gd", "construct", ""), "construction", color="grey", ls=":")
    curve(axes[2], (ref, "sensitivity_cos_with_gd", "construct", ""), "construction", color="grey", ls=":")
    axes[0].set_title("prediction agreement: mean cos(answer, GD's answer)", fontsize=10)
    axes[1].set_title("reward-map invariance: largest 1 − cos(answer, answer\nwith mapped rewards) over the maps (GD: exactly 0)", fontsize=10)
    axes[2].set_title("sensitivity agreement: mean cos(∂ cos(answer, u)/∂y,\nthe same for GD) over the responses y_1..y_k", fontsize=10)
    for ax in axes:
        ax.set_xlabel("in-context examples k")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(os.path.join(out, "self_correction_agreement.png"), dpi=110)


def main(out, runs_dir, model="small model"):
    os.makedirs(out, exist_ok=True)
    emergent, oneshot, agreement = gather(out, runs_dir)
    if not emergent:
        print(f"no finished run with a selfcorrect_explore*.csv in {runs_dir}")
        return 1
    curve, one, agr = summary(out, emergent, oneshot, agreement)
    plot_rounds(out, emergent, curve, model)
    if one:
        plot_oneshot(out, one)
    if agr:
        plot_agreement(out, agr)
    steps(out, runs_dir)
    print(f"{len(runs(runs_dir))} runs -> {out}/self_correction_*.csv, *.png, self_correction_summary.md")
    return 0


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4):
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        sys.exit(2)
    sys.exit(main(*sys.argv[1:]))
