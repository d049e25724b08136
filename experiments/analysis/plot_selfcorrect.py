#!/usr/bin/python3
"""Plots `icalign selfcorrect`'s CSV: error 1 - cos(answer, y*) against the round, one panel per
answerer (trained model, GD, explicit construction), one line per critic noise q, with standard-error
bands. Writes a PNG beside the CSV.
With --seeds, averages several runs' CSVs (one per training seed): each point is the mean over seeds
of the per-seed means, the band the standard error over seeds; writes OUT.csv and OUT.png.
Usage: plot_selfcorrect.py RUN/selfcorrect.csv
       plot_selfcorrect.py --seeds OUT RUN1/selfcorrect.csv RUN2/selfcorrect.csv ..."""
import csv
import math
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

TITLE = {"model": "trained transformer", "gd": "GD, cosine-reward PL (Adam, 50 steps)",
         "construct": "explicit construction (quadratic-reward PL, 1 step)"}


def read(path):
    """{(method, q): ([round], [mean], [sem])} from one CSV"""
    curves = {}
    for row in csv.DictReader(open(path)):
        c = curves.setdefault((row["method"], float(row["critic_noise"])), ([], [], []))
        c[0].append(int(row["round"]))
        c[1].append(float(row["mean"]))
        c[2].append(float(row["sem"]))
    return curves


def over_seeds(paths, out):
    """Mean and standard error over the seeds' CSVs, written to OUT.csv; returns the curves."""
    runs = [read(p) for p in paths]
    curves = {}
    with open(out + ".csv", "w") as f:
        f.write("method,critic_noise,round,mean,sem,seeds\n")
        for key in runs[0]:
            rounds = runs[0][key][0]
            per_round = [[r[key][1][i] for r in runs] for i in range(len(rounds))]
            mean = [sum(v) / len(v) for v in per_round]
            sem = [math.sqrt(sum((x - m) ** 2 for x in v) / (len(v) - 1) / len(v)) if len(v) > 1 else 0.0
                   for v, m in zip(per_round, mean)]
            curves[key] = (rounds, mean, sem)
            for t, m, e in zip(rounds, mean, sem):
                f.write(f"{key[0]},{key[1]:g},{t},{m:.6f},{e:.6f},{len(runs)}\n")
    return curves


def main(curves, out):
    methods = list(dict.fromkeys(m.split(":")[0] for m, _ in curves))  # "model:constant" goes with "model"
    fig, axes = plt.subplots(1, len(methods), figsize=(4.2 * len(methods), 3.8), sharey=True)
    for ax, method in zip(axes, methods):
        for i, ((m, q), (t, mean, sem)) in enumerate(sorted(curves.items())):
            if m.split(":")[0] != method:
                continue
            control = m.split(":")[1] if ":" in m else ""
            color = {"constant": "black", "noappend": "grey"}.get(control) or plt.cm.viridis(q * 0.85)
            label = {"constant": "constant score 0.5 (control)", "noappend": "nothing appended (control)"}.get(control)
            ax.plot(t, mean, color=color, lw=1.5 if control else 2, ls={"constant": "--", "noappend": ":"}.get(control, "-"),
                    label=label or f"critic noise q = {q:g}")
            ax.fill_between(t, [a - b for a, b in zip(mean, sem)], [a + b for a, b in zip(mean, sem)], color=color, alpha=0.2)
        ax.set_title(TITLE.get(method, method), fontsize=9)
        ax.set_xlabel("round (answers appended to the context)")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("1 − cos(answer, y*)")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    print(out)


if __name__ == "__main__":
    if len(sys.argv) == 2:
        main(read(sys.argv[1]), sys.argv[1][:-4] + ".png")
    elif len(sys.argv) >= 4 and sys.argv[1] == "--seeds":
        main(over_seeds(sys.argv[3:], sys.argv[2]), sys.argv[2] + ".png")
    else:
        sys.exit(__doc__)
