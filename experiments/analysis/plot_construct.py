#!/usr/bin/python3
"""Figures of `icalign construct`: sharpness.csv (error of the construction against the selection
sharpness, next to the predicted bound) and compare.csv (trained transformer vs construction vs GD).
Writes a PNG beside each CSV. Usage: plot_construct.py OUT/sharpness.csv [OUT/compare.csv]"""
import csv
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import plot_eval  # noqa: E402


def plot_sharpness(path):
    with open(path) as f:
        rows = list(csv.DictReader(f))
    gd = [float(r["gamma_delta"]) for r in rows]
    floor = 1e-17  # an exact zero has no place on a log axis
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.semilogy(gd, [max(float(r["measured_max"]), floor) for r in rows], "o-", color="C3",
                label="measured: max over contexts of ‖u_TF − u_GD‖")
    ax.semilogy(gd, [max(float(r["bound_max"]), floor) for r in rows], "--", color="0.3",
                label="bound: α Σᵢ Σⱼ exp(−γ(r_τ(i) − r_j)) ‖y_j − y_τ(i)‖")
    ax.axhline(1e-6, color="C2", lw=0.8, ls=":", label="the tests' tolerance 1e-6")
    ax.set_xlabel("selection sharpness γ·δ (δ: smallest reward gap the construction is built for)")
    ax.set_ylabel("error of one constructed GD step")
    ax.set_title("Explicit construction vs direct GD (N = 5, K = 1)", fontsize=10)
    plot_eval.save(fig, ax, path[:-4] + ".png", which="both")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    plot_eval.LABEL.update({"gd": "GD, cosine-reward PL (Adam, 50 steps)", "model": "trained transformer (cosine-reward PL)"})
    plot_eval.LABEL["ystar_minus_e"] = "the direction y* − e (every y_i − y_j is parallel to it)"
    plot_eval.STYLE["ystar_minus_e"] = dict(color="0.4", lw=1, ls=":")
    for name, color in (("construct_K1", "C5"), ("construct_K3", "C6"), ("construct_K10", "C7")):
        plot_eval.STYLE[name] = dict(color=color, lw=2, ls="--")
    for p in sys.argv[1:]:
        if p.endswith("sharpness.csv"):
            plot_sharpness(p)
        else:
            for row in csv.DictReader(open(p)):
                if row["method"].startswith("construct_K"):
                    K = row["method"][len("construct_K"):]
                    plot_eval.LABEL[row["method"]] = f"construction = GD, quadratic-reward PL, {K} step(s)"
            plot_eval.plot(p, title="Trained transformer vs explicit construction vs GD, same held-out sequences")
