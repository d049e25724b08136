#!/usr/bin/python3
"""The paper's six synthetic panels from `icalign sweep` results (experiments/grids/panels*.yaml):
error 1 - cos(answer, y*) against the number of in-context examples k, mean ± standard error over
seeds (each seed's value is its mean over the held-out sequences; with a single seed, and for GD and
the baselines, which are the same in every seed, the standard error over the held-out sequences instead). Writes OUT/panel_a.png .. panel_f.png
and OUT/summary.md (the numbers docs/results.md quotes).
The same script draws OUT/panel_reward_use.png from experiments/grids/reward_use.yaml's runs.
With --paper, the runs are those of experiments/grids/paper_scale.yaml (20 layers, 96 dims; depth
5/10/15/20, heads 1/3/4/6 at 32 dims per head, unmasked linear and no-FFN ablations).
Usage: plot_panels.py [--paper] OUT_DIR results.csv [more_results.csv ...]"""
import collections
import csv
import math
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import plot_eval  # noqa: E402

KS_TABLE = (1, 2, 3, 5, 10, 19)


def load(paths):
    """{(run, noise, method): {k: [(per-seed mean, its standard error over the sequences)]}}"""
    data = collections.defaultdict(lambda: collections.defaultdict(list))
    for p in paths:
        for r in csv.DictReader(open(p)):
            data[(r["run"], float(r["noise"]), r["method"])][int(r["k"])].append((float(r["mean"]), float(r["sem"])))
    return data


def stats(per_k):
    """ks, mean over seeds, standard error over seeds, seeds. Where the seeds cannot differ (one seed, or
    GD and the baselines, which do not depend on the trained model and see the same sequences in every
    seed), the standard error over the held-out sequences instead."""
    ks = sorted(per_k)
    mean, sem = [], []
    for k in ks:
        values = [v for v, _ in per_k[k]]
        m, n = sum(values) / len(values), len(values)
        mean.append(m)
        same = max(values) == min(values)
        sem.append(per_k[k][0][1] if n == 1 or same else math.sqrt(sum((v - m) ** 2 for v in values) / (n - 1) / n))
    return ks, mean, sem, min(len(per_k[k]) for k in ks)


def line(ax, data, key, label, **style):
    if key not in data:
        return False
    ks, mean, sem, n = stats({k: v for k, v in data[key].items() if k >= K_FROM})
    # a trained model's band is over its n seeds; a baseline's is over the sequences, the same in every seed
    ax.plot(ks, mean, label=f"{label} (n={n})" if key[2] == "model" else label, **style)
    ax.fill_between(ks, [m - s for m, s in zip(mean, sem)], [m + s for m, s in zip(mean, sem)], alpha=0.2,
                    color=style.get("color"))
    return True


# k = 1 is left out: one response, which no method can improve on, and a model error near 1 that would
# set the y-axis and hide the differences at larger k.
K_FROM = 2


def panel(out, name, title, curves, data):
    fig, ax = plt.subplots(figsize=(6.2, 4.2))
    drawn = [line(ax, data, key, label, **style) for key, label, style in curves]
    if not any(drawn):
        plt.close(fig)
        return
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("number of in-context examples k")
    ax.set_ylabel("1 − cos(answer, y*)")
    ax.xaxis.get_major_locator().set_params(integer=True)
    plot_eval.save(fig, ax, os.path.join(out, f"panel_{name}.png"))


# Labels of each scale's runs: the default model, the depth and heads panels, the attention and FFN
# ablations (run name, label, line style).
SMALL = dict(
    default="transformer (4 layers)",
    depth=(("depth1", "1 layer"), ("depth2", "2 layers"), ("default", "4 layers"), ("depth8", "8 layers")),
    heads_title="(e) number of heads (width 64)",
    heads=(("heads1", "1 head"), ("heads2", "2 heads"), ("default", "4 heads"), ("heads8", "8 heads")),
    linear=(("linear", "linear attention (causal)", "-"), ("linear_noncausal", "linear attention, no mask (official code)", ":")),
    noffn=(("noffn", "without FFN (causal)", "-"), ("noffn_noncausal", "without FFN, no mask (official code)", ":")))
PAPER = dict(
    default="transformer (20 layers, 96 dims)",
    depth=(("depth5", "5 layers"), ("depth10", "10 layers"), ("depth15", "15 layers"), ("default", "20 layers")),
    heads_title="(e) number of heads (32 dims per head)",
    heads=(("heads1", "1 head"), ("default", "3 heads"), ("heads4", "4 heads"), ("heads6", "6 heads")),
    linear=(("linear", "linear attention, no mask (official code)", ":"),),
    noffn=(("noffn", "without FFN, no mask (official code)", ":"),))


def main(out, paths, scale=SMALL):
    os.makedirs(out, exist_ok=True)
    data = load(paths)
    own = -1.0
    base = [(("default", own, "mean_response"), "mean of responses seen", dict(color="C1", lw=1)),
            (("default", own, "reward_weighted"), "reward-weighted mean", dict(color="C4", lw=1)),
            (("default", own, "best_response"), "top-1 by reward", dict(color="C2", lw=1))]
    panel(out, "a", "(a) trained transformer vs GD",
          [(("default", own, "model"), scale["default"], dict(color="C3", lw=2.5)),
           (("default", own, "gd"), "GD (PL loss, Adam, 50 steps)", dict(color="C0", lw=2))] + base, data)
    colors = plt.cm.viridis([0.0, 0.25, 0.5, 0.7, 0.9])
    panel(out, "b", "(b) reward noise p (evaluation; trained with p = 0)",
          [(("default", p, "model"), f"transformer, p = {p:g}", dict(color=c, lw=2)) for p, c in zip((0, .25, .5, .75, 1), colors)]
          + [(("default", p, "gd"), f"GD, p = {p:g}", dict(color=c, lw=1, ls="--")) for p, c in zip((0, .25, .5, .75, 1), colors)], data)
    panel(out, "c", "(c) depth",
          [((r, own, "model"), label, dict(lw=2)) for r, label in scale["depth"]]
          + [(("default", own, "gd"), "GD", dict(color="C0", lw=1, ls="--"))], data)
    panel(out, "d", "(d) softmax vs linear attention",
          [(("default", own, "model"), "softmax attention (causal)", dict(color="C3", lw=2))]
          + [((r, own, "model"), label, dict(color="C9", lw=2, ls=ls)) for r, label, ls in scale["linear"]]
          + [(("default", own, "gd"), "GD", dict(color="C0", lw=1, ls="--"))], data)
    panel(out, "e", scale["heads_title"],
          [((r, own, "model"), label, dict(lw=2)) for r, label in scale["heads"]]
          + [(("default", own, "gd"), "GD", dict(color="C0", lw=1, ls="--"))], data)
    panel(out, "f", "(f) with vs without FFN",
          [(("default", own, "model"), "with FFN (causal)", dict(color="C3", lw=2))]
          + [((r, own, "model"), label, dict(color="C8", lw=2, ls=ls)) for r, label, ls in scale["noffn"]]
          + [(("default", own, "gd"), "GD", dict(color="C0", lw=1, ls="--"))], data)
    # What it takes to use the rewards (experiments/grids/reward_use.yaml, small scale only): each run
    # with true rewards (p = 0) and with every reward a fresh U(0, 1) draw (p = 1); the gap is how much
    # the answer depends on them.
    if scale is SMALL:
        panel(out, "reward_use", "using the rewards: true (p = 0, solid) vs replaced by U(0, 1) draws (p = 1, dotted)",
              [((run, p, "model"), f"{label}, p = {p:g}", dict(color=c, lw=2, ls="-" if p == 0 else ":"))
               for run, label, c in (("default", "3000 steps, batch 64", "C3"), ("steps9000", "9000 steps", "C5"),
                                     ("batch192", "batch 192", "C6")) for p in (0.0, 1.0)] + base, data)

    # summary.md: every (run, noise, method) at a few k, mean ± SE over seeds (over sequences for one seed)
    with open(os.path.join(out, "summary.md"), "w") as f:
        f.write("Mean ± standard error over seeds; where seeds = 1, and for GD and the baselines (the same in every "
                "seed), over the held-out sequences.\n\n")
        f.write("| run | reward noise | method | seeds | " + " | ".join(f"k={k}" for k in KS_TABLE) + " |\n")
        f.write("|---|---|---|---|" + "---|" * len(KS_TABLE) + "\n")
        for (run, noise, method) in sorted(data):
            ks, mean, sem, n = stats(data[(run, noise, method)])
            cells = [f"{mean[ks.index(k)]:.3f} ± {sem[ks.index(k)]:.3f}" if k in ks else "—" for k in KS_TABLE]
            f.write(f"| {run} | {'own' if noise < 0 else noise} | {method} | {n} | " + " | ".join(cells) + " |\n")
    print(os.path.join(out, "summary.md"))


if __name__ == "__main__":
    args = sys.argv[1:]
    paper = bool(args) and args[0] == "--paper"
    args = args[1:] if paper else args
    if len(args) < 2:
        sys.exit(__doc__)
    main(args[0], [p for p in args[1:] if os.path.exists(p)], PAPER if paper else SMALL)
