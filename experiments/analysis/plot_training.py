#!/usr/bin/python3
"""The training loss of every committed paper-scale model whose directory keeps its log (log.jsonl,
icalign's training log: one JSON object per logged step), one curve per seed and a panel per run, and
the step at which each first falls below the plateau every run starts on: when each seed began to use
its context, and where it ended.

Usage: plot_training.py MODELS_DIR OUT.png
"""
import glob
import json
import os
import sys
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from selfcorrect_tables import variant_key  # noqa: E402

# The PL loss of a model that has not used its context yet sits near this value on the paper's task;
# the first logged step below it marks the end of the plateau.
PLATEAU = 17.0


def curves(models):
    """{run: {seed: ([step], [loss])}} from MODELS/RUN-sSEED/log.jsonl"""
    out = defaultdict(dict)
    for path in sorted(glob.glob(os.path.join(models, "*-s*", "log.jsonl"))):
        run, seed = os.path.basename(os.path.dirname(path)).rsplit("-s", 1)
        rows = [json.loads(line) for line in open(path) if line.strip()]
        rows = [r for r in rows if "loss" in r]
        out[run][int(seed)] = ([r["step"] for r in rows], [r["loss"] for r in rows])
    return out


def main(models, out_png):
    data = curves(models)
    if not data:
        sys.exit(f"{models}: no model directory holds a log.jsonl")
    runs = sorted(data, key=variant_key)
    fig, axes = plt.subplots(1, len(runs), figsize=(3.2 * len(runs), 3.2), sharey=True, squeeze=False)
    for ax, run in zip(axes[0], runs):
        for seed, (steps, loss) in sorted(data[run].items()):
            below = next((s for s, l in zip(steps, loss) if l < PLATEAU), None)
            ax.plot(steps, loss, lw=1, label=f"seed {seed}: below {PLATEAU:g} from step {below}" if below else f"seed {seed}: never below {PLATEAU:g}")
        ax.axhline(PLATEAU, color="0.6", lw=0.8, ls=":")
        ax.set_title(run, fontsize=10)
        ax.set_xlabel("step")
        ax.legend(fontsize=7, loc="lower left")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("training loss (PL)")
    fig.suptitle("Training loss of the committed paper-scale models", fontsize=11)
    fig.tight_layout()
    fig.savefig(out_png, dpi=100)
    print(out_png)
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(*sys.argv[1:]))
