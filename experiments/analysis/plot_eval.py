#!/usr/bin/python3
"""Plots an `icalign eval` CSV: error 1 - cos(answer, y*) against the number of in-context examples,
for the model and every baseline, with standard-error bands. Writes a PNG beside the CSV.
Usage: plot_eval.py RUN_DIR/eval.csv [more.csv ...]"""
import csv
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

STYLE = {"model": dict(color="C3", lw=2.5), "gd": dict(color="C0", lw=2), "mean_response": dict(color="C1", lw=1.2),
         "best_response": dict(color="C2", lw=1.2), "reward_weighted": dict(color="C4", lw=1.2),
         "exact": dict(color="0.5", ls=":")}
LABEL = {"model": "trained transformer", "gd": "GD on the PL loss (Adam, 50 steps)", "mean_response": "mean response",
         "best_response": "top-1 by reward", "reward_weighted": "reward-weighted mean",
         "exact": "exact (knows the task's form)"}


def title_of(run_dir):
    """A one-line summary of the run's config.yaml."""
    cfg, section = {}, ""
    try:
        with open(os.path.join(run_dir, "config.yaml")) as f:
            for line in f:
                if not line.startswith(" "):
                    section = line.strip().rstrip(":")
                elif ":" in line:
                    k, v = line.strip().split(":", 1)
                    cfg[f"{section}.{k}"] = v.strip()
    except OSError:
        return run_dir
    return (f"{os.path.basename(os.path.normpath(run_dir))}: {cfg.get('model.n_layer')}L, {cfg.get('model.n_embd')} dims, "
            f"{cfg.get('model.n_head')} heads, {cfg.get('model.attention')} attention, FFN {cfg.get('model.ffn')}, "
            f"{cfg.get('training.train_steps')} steps")


def plot(path, title=None):
    """Draws one CSV (method,k,mean,sem,n) to a PNG beside it; the title defaults to the run's config."""
    curves = {}
    with open(path) as f:
        for row in csv.DictReader(f):
            c = curves.setdefault(row["method"], ([], [], []))
            c[0].append(int(row["k"]))
            c[1].append(float(row["mean"]))
            c[2].append(float(row["sem"]))
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for name, (k, m, s) in curves.items():
        st = STYLE.get(name, dict(lw=1.2))
        ax.plot(k, m, label=LABEL.get(name, name), **st)
        ax.fill_between(k, [a - b for a, b in zip(m, s)], [a + b for a, b in zip(m, s)], alpha=0.2,
                        color=st.get("color"))
    if title is None:
        run_dir = os.path.dirname(os.path.abspath(path))
        noise = os.path.basename(path)[len("eval"):-len(".csv")].lstrip("_")
        title = title_of(run_dir) + (f"\n{noise.replace('noise', 'reward noise ')}" if noise else "")
    ax.set_title(title, fontsize=9)
    ax.set_xlabel("number of in-context examples k")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_ylabel("1 − cos(answer, y*)")
    ax.set_ylim(bottom=-0.02)
    save(fig, ax, path[:-4] + ".png")


def save(fig, ax, out, **grid):
    """Grid, legend, tight layout; writes the PNG and prints its path."""
    ax.grid(alpha=0.3, **grid)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)
    print(out)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    for p in sys.argv[1:]:
        plot(p)
