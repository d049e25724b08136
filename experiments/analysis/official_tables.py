#!/usr/bin/python3
"""Our models beside the official notebook's panel (b), from python/official_comparison.py's CSVs:
OUT_DIR/tables.md, OUT_DIR/comparison.png (and snapshots.png with snapshots.csv), and with
--into DOC the tables between DOC's lines <!-- official_tables --> and <!-- /official_tables -->.

The rule, fixed before the numbers were seen: the notebook's value is a mean over 256 sequences like
ours at 256, with an SE we take equal to ours; the two are consistent when
|ours − notebook| <= 1.96 · sqrt(2) · SE_ours, a 95% interval for the difference of two independent
means. It is applied to the 70 (p, k) cells (about 3 would fail by chance) and, the test that asks
whether the notebook's curves flatten, to the mean over k = 10..15 at each p (5 tests), whose SE is
taken over each sequence's own mean, since one batch's errors at neighbouring k move together.

usage: official_tables.py OUT_DIR [--into DOC]
"""
import csv
import math
import os
import sys

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from paper_scale_tables import splice  # noqa: E402

PS = (0.0, 0.25, 0.5, 0.75, 1.0)
SHOW_K = (2, 3, 5, 10, 15)


def load(path):
    rows = {}
    for r in csv.DictReader(open(path)):
        k = r["k"] if r["k"] == "10-15" else int(r["k"])
        rows[(r["model"], int(r["sequences"]), r["rule"], float(r["p"]), k)] = (float(r["mean"]), float(r["sem"]), float(r["notebook"]))
    return rows


def tables(rows, snapshots):
    models = sorted({m for m, *_ in rows})
    out = ["Written by experiments/analysis/official_tables.py from docs/results/official/comparison.csv "
           "(python/official_comparison.py). Error 1 − cos(answer, y*); the notebook's protocol: one batch, "
           "the same sequences at every p, each reward replaced independently with probability p.\n"]
    for S in (256, 1024):
        for m in models:
            out.append(f"\n**{m}, {S} sequences**: ours ± 1.96 SE, then the notebook's value (256 sequences)\n")
            out.append("| p | " + " | ".join(f"k = {k}" for k in SHOW_K) + " |")
            out.append("|---|" + "---|" * len(SHOW_K))
            for p in PS:
                cells = [f"{rows[(m, S, 'independent', p, k)][0]:.3f} ± {1.96 * rows[(m, S, 'independent', p, k)][1]:.3f} ({rows[(m, S, 'independent', p, k)][2]:.3f})" for k in SHOW_K]
                out.append(f"| {p:g} | " + " | ".join(cells) + " |")
    out.append("\n**Consistency with the notebook** (the rule above, at 256 sequences, k = 2…15), and the rule for the "
               "noise (largest |independent − exactly round(pN) replaced| over p and k, 1024 sequences, the same sequences):\n")
    out.append("| model | cells consistent (of 70) | inconsistent cells by p (0 / 0.25 / 0.5 / 0.75 / 1) | mean over k = 10…15, ours − notebook ± 1.96·√2·SE, by p | consistent | noise rule: largest difference |")
    out.append("|---|---|---|---|---|---|")
    for m in models:
        bad = {p: 0 for p in PS}
        for p in PS:
            for k in range(2, 16):
                mean, se, nb = rows[(m, 256, "independent", p, k)]
                bad[p] += abs(mean - nb) > 1.96 * math.sqrt(2) * se
        late = [rows[(m, 256, "independent", p, "10-15")] for p in PS]
        late_cells = [f"{mean - nb:+.3f} ± {1.96 * math.sqrt(2) * se:.3f}" for mean, se, nb in late]
        late_ok = sum(abs(mean - nb) <= 1.96 * math.sqrt(2) * se for mean, se, nb in late)
        rule = max(abs(rows[(m, 1024, "independent", p, k)][0] - rows[(m, 1024, "exact_count", p, k)][0]) for p in PS for k in range(2, 16))
        out.append(f"| {m} | {70 - sum(bad.values())} | {' / '.join(str(bad[p]) for p in PS)} | "
                   f"{' / '.join(late_cells)} | {late_ok} of 5 | {rule:.3f} |")
    if snapshots:
        steps = sorted({s for _, s, _, _ in snapshots})
        label = sorted({m for m, *_ in snapshots})[0]
        out.append(f"\n**Along training** ({label}, its snapshots, 1024 sequences, independent rule): error at k = 15 by step; "
                   "the official state.pt is the model after step 2500 (train.py saves every 500 steps of range(3000))\n")
        out.append("| step | " + " | ".join(f"p = {p:g}" for p in PS) + " |")
        out.append("|---|" + "---|" * len(PS))
        for s in steps:
            out.append(f"| {s} | " + " | ".join(f"{snapshots[(label, s, p, 15)][0]:.3f}" for p in PS) + " |")
        out.append("| notebook | " + " | ".join(f"{rows[(sorted({m for m, *_ in rows})[0], 256, 'independent', p, 15)][2]:.3f}" for p in PS) + " |")
    return "\n".join(out) + "\n"


def plot(rows, path):
    models = sorted({m for m, *_ in rows})
    fig, ax = plt.subplots(figsize=(9, 4.5))
    ks = list(range(2, 16))
    for i, p in enumerate(PS):
        color = plt.cm.viridis(i / (len(PS) - 1))
        ax.plot(ks, [rows[(models[0], 256, "independent", p, k)][2] for k in ks], "o--", color=color, ms=4,
                label=f"notebook, p = {p:g}")
        for j, m in enumerate(models):
            mean = [rows[(m, 1024, "independent", p, k)][0] for k in ks]
            se = [1.96 * rows[(m, 1024, "independent", p, k)][1] for k in ks]
            ax.plot(ks, mean, "-", color=color, alpha=0.9 if j == 0 else 0.5, label=f"ours ({m}), p = {p:g}" if j == 0 else None)
            ax.fill_between(ks, [a - b for a, b in zip(mean, se)], [a + b for a, b in zip(mean, se)], color=color, alpha=0.12)
    ax.set_xlabel("in-context examples k")
    ax.set_ylabel("1 − cos(answer, y*)")
    ax.set_title("Reward noise p: the official notebook's 20-layer model against ours\n(ours: 1024 sequences, 95% band; "
                 + ("lighter lines: other seeds)" if len(models) > 1 else "one seed)"), fontsize=10)
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    print(path)


def main(argv):
    if len(argv) not in (1, 3) or (len(argv) == 3 and argv[1] != "--into"):
        sys.exit(__doc__)
    out = argv[0]
    rows = load(os.path.join(out, "comparison.csv"))
    snapshots = {}
    if os.path.exists(os.path.join(out, "snapshots.csv")):
        for r in csv.DictReader(open(os.path.join(out, "snapshots.csv"))):
            k = int(r["k"]) if r["k"].isdigit() else r["k"]  # "10-15": the mean over k = 10..15
            snapshots[(r["model"], int(r["step"]), float(r["p"]), k)] = (float(r["mean"]), float(r["sem"]))
    text = tables(rows, snapshots)
    with open(os.path.join(out, "tables.md"), "w") as f:
        f.write(text)
    plot(rows, os.path.join(out, "comparison.png"))
    if len(argv) == 3:
        splice(argv[2], text, "official_tables")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
