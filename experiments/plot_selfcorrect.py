#!/usr/bin/python3
"""Plots `icalign selfcorrect`'s CSV: error 1 - cos(answer, y*) against the round, one panel per
answerer (trained model, GD, explicit construction), one line per critic noise q, with standard-error
bands. Writes a PNG beside the CSV. Usage: plot_selfcorrect.py RUN/selfcorrect.csv"""
import csv
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

TITLE = {"model": "trained transformer", "gd": "GD, cosine-reward PL (Adam, 50 steps)",
         "construct": "explicit construction (quadratic-reward PL, 1 step)"}


def main(path):
    curves = {}
    for row in csv.DictReader(open(path)):
        c = curves.setdefault((row["method"], float(row["critic_noise"])), ([], [], []))
        c[0].append(int(row["round"]))
        c[1].append(float(row["mean"]))
        c[2].append(float(row["sem"]))
    methods = list(dict.fromkeys(m for m, _ in curves))
    fig, axes = plt.subplots(1, len(methods), figsize=(4.2 * len(methods), 3.8), sharey=True)
    for ax, method in zip(axes, methods):
        for i, ((m, q), (t, mean, sem)) in enumerate(sorted(curves.items())):
            if m != method:
                continue
            color = plt.cm.viridis(q * 0.85)
            ax.plot(t, mean, color=color, lw=2, label=f"critic noise q = {q:g}")
            ax.fill_between(t, [a - b for a, b in zip(mean, sem)], [a + b for a, b in zip(mean, sem)], color=color, alpha=0.2)
        ax.set_title(TITLE.get(method, method), fontsize=9)
        ax.set_xlabel("round (answers appended to the context)")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("1 − cos(answer, y*)")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    out = path[:-4] + ".png"
    fig.savefig(out, dpi=120)
    print(out)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
