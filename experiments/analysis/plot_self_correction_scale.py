#!/usr/bin/python3
"""Does self-correction come with size? One point per trained model (run and seed) trained the paper's
way: its one-shot error at the loop's start (round 0, k = 4) against how much the loop helps it by round
4 (round-4 error / round-0 error), with an accurate critic (q = 0, filled) and a random one (q = 1,
hollow), no exploration. Below 1 the model corrects itself; GD is drawn for reference.
Reads the gathered loop curves of both scales (experiments/analysis/self_correction_results.py):
docs/results/self_correction_emergent.csv (small: the `paper` variant) and
docs/results/paper_scale/self_correction_emergent.csv (the paper-scale runs).
Usage: plot_self_correction_scale.py OUT.png SMALL_EMERGENT.csv PAPER_SCALE_EMERGENT.csv"""
import csv
import sys
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import plot_eval  # noqa: E402

# (scale, variant) -> label; the paper's training only (other small variants change the training)
MODELS = {("small", "paper"): "4 layers, 64 dims (small)", ("paper", "depth5"): "5 layers, 96 dims",
          ("paper", "depth10"): "10 layers, 96 dims", ("paper", "depth15"): "15 layers, 96 dims",
          ("paper", "default"): "20 layers, 96 dims (paper)", ("paper", "heads1"): "20 layers, 32 dims, 1 head",
          ("paper", "heads4"): "20 layers, 128 dims, 4 heads", ("paper", "heads6"): "20 layers, 192 dims, 6 heads"}


def curves(path, scale):
    """{(scale, variant, method, seed, q): {round: error}} of the loops without exploration"""
    out = defaultdict(dict)
    for r in csv.DictReader(open(path)):
        if "+" not in r["variant"] and (scale, r["variant"]) in MODELS:
            out[(scale, r["variant"], r["method"], int(r["seed"]), float(r["critic_noise"]))][int(r["round"])] = float(r["error"])
    return out


def main(out, small, paper):
    c = {**curves(small, "small"), **curves(paper, "paper")}
    fig, ax = plt.subplots(figsize=(7, 4.6))
    for i, (model, label) in enumerate(MODELS.items()):
        colour = f"C{i}"
        for q, filled in ((0.0, True), (1.0, False)):
            pts = [(e[0], e[4] / e[0]) for (s, v, m, _, qq), e in sorted(c.items()) if (s, v) == model and m == "model" and qq == q]
            if pts:
                ax.scatter([p[0] for p in pts], [p[1] for p in pts], s=40, color=colour if filled else "none",
                           edgecolors=colour, label=label if filled else None)
    for q, marker in ((0.0, "*"), (1.0, "x")):
        e = c.get(("paper", "default", "gd", 1, q))
        if e:
            ax.scatter([e[0]], [e[4] / e[0]], marker=marker, s=90, color="k", label=f"GD, q = {q:g}")
    ax.axhline(1, color="k", lw=0.6)
    ax.set_xlabel("one-shot error at the loop's start (round 0, k = 4)")
    ax.set_ylabel("round-4 error / round-0 error")
    ax.set_title("the loop by model size, trained the paper's way\n(filled: accurate critic q = 0; hollow: random critic q = 1)", fontsize=10)
    plot_eval.save(fig, ax, out)


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
