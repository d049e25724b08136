#!/usr/bin/python3
"""The paper-scale tables that docs/results.md quotes, from docs/results/paper_scale.csv: one table per
panel, written to OUT/tables.md.

Every run and seed is evaluated on the same 1024 held-out sequences (icalign eval's fixed seed), so
every table compares like for like. Two kinds of error bar, kept apart because they mean different things:
- over the sequences (the per-seed tables of the depth, heads and ablation runs, and GD and the baselines,
  which do not depend on the trained model): how sure the number is *for that model*;
- over the default's seeds (its model rows): how much a retrained model moves, the yardstick for the
  one-seed differences.
With --into DOC, the tables also replace the text between DOC's lines `<!-- paper_scale_tables -->` and
`<!-- /paper_scale_tables -->` (docs/results.md), so the page quotes what the CSV holds.
Usage: paper_scale_tables.py OUT_DIR paper_scale.csv [--into DOC]"""
import csv
import io
import os
import sys

import plot_panels

OWN = -1.0  # the sweep's noise value for "the rewards of the responses themselves", i.e. p = 0
KS = (2, 3, 5, 10, 15, 19)


def per_seed(rows, run, noise, method, seed):
    """{k: (mean, sem)} of one seed's curve, or {} if that run and seed have not finished"""
    return {k: (m, s) for (r, sd, p, me, k), (m, s) in rows.items() if (r, sd, p, me) == (run, seed, noise, method)}


def load_rows(path):
    """{(run, seed, noise, method, k): (mean, sem)}"""
    rows = {}
    for r in csv.DictReader(open(path)):
        rows[(r["run"], int(r["seed"]), float(r["noise"]), r["method"], int(r["k"]))] = (float(r["mean"]), float(r["sem"]))
    return rows


def cell(value):
    return f"{value[0]:.3f} ± {value[1]:.3f}" if value else "—"


def table(f, header, lines):
    """lines: [(label, {k: (mean, sem)})]; rows with no data are left out"""
    f.write(f"| {header} | " + " | ".join(f"k = {k}" for k in KS) + " |\n")
    f.write("|---|" + "---|" * len(KS) + "\n")
    for label, curve in lines:
        if curve:
            f.write(f"| {label} | " + " | ".join(cell(curve.get(k)) for k in KS) + " |\n")
    f.write("\n")


def over_seeds(data, run, noise, method):
    """{k: (mean over seeds, standard error over seeds)} and the number of seeds (plot_panels' statistics)"""
    key = (run, noise, method)
    if key not in data:
        return {}, 0
    ks, mean, sem, n = plot_panels.stats(data[key])
    return dict(zip(ks, zip(mean, sem))), n


def main(out, path, into=None):
    rows, data = load_rows(path), plot_panels.load([path])
    os.makedirs(out, exist_ok=True)
    text = io.StringIO()
    write_tables(text, rows, data)
    with open(os.path.join(out, "tables.md"), "w") as f:
        f.write(text.getvalue())
    print(os.path.join(out, "tables.md"))
    if into:
        splice(into, text.getvalue())


def write_tables(f, rows, data):
    seeds = sorted({sd for (r, sd, *_) in rows if r == "default"})
    one = lambda run, method="model", noise=OWN: per_seed(rows, run, noise, method, 1)  # noqa: E731

    def each_seed(label, run):
        """one row per finished seed of run, labelled with the seed once there is more than one"""
        run_seeds = sorted({sd for (r, sd, p, me, _) in rows if (r, p, me) == (run, OWN, "model")})
        if len(run_seeds) <= 1:
            return [(label, one(run))]
        return [(f"{label}, seed {sd}", per_seed(rows, run, OWN, "model", sd)) for sd in run_seeds]

    f.write("Written by experiments/analysis/paper_scale_tables.py from docs/results/paper_scale.csv. Error "
            "1 − cos(answer, y*) on 1024 held-out sequences.\n\n")

    f.write(f"**(a), (b): the default (20 layers, 96 dims, 3 heads), mean ± SE over its "
            f"{len(seeds)} seed{'s' if len(seeds) > 1 else ''}** (" + ", ".join(map(str, seeds)) + "), by reward "
            "noise p at evaluation; GD and the baselines do not depend on the seed (± over the sequences):\n\n")
    lines = []
    for noise in (OWN, 0.25, 0.5, 0.75, 1.0):
        p = "0" if noise == OWN else f"{noise:g}"
        curve, n = over_seeds(data, "default", noise, "model")
        lines += [(f"p = {p}, model (n = {n})", curve), (f"p = {p}, GD", over_seeds(data, "default", noise, "gd")[0])]
    for method in ("mean_response", "reward_weighted", "best_response"):
        lines.append((f"p = 0, {method}", over_seeds(data, "default", OWN, method)[0]))
    table(f, "reward noise, method", lines)

    f.write("**The default, seed by seed** (± over the held-out sequences): how much a retrained model moves.\n\n")
    table(f, "seed", [(f"seed {sd}", per_seed(rows, "default", OWN, "model", sd)) for sd in seeds]
          + [("GD", one("default", "gd"))])

    f.write("**(c) depth, every finished seed** (all on the same held-out sequences; the default's seed 1, "
            "its others above):\n\n")
    table(f, "run", each_seed("5 layers", "depth5") + each_seed("10 layers", "depth10")
          + each_seed("15 layers", "depth15") + [("20 layers (`default`)", one("default")), ("GD", one("default", "gd"))])

    f.write("**(e) heads at 32 dims per head, every finished seed** (1 head is a 32-dim model, 3 heads the "
            "default's seed 1):\n\n")
    table(f, "run", each_seed("1 head (32 dims)", "heads1") + [("3 heads (`default`, 96 dims)", one("default"))]
          + each_seed("4 heads (128 dims)", "heads4") + each_seed("6 heads (192 dims)", "heads6")
          + [("GD", one("default", "gd"))])

    f.write("**(d), (f) the official ablations, seed 1** (unmasked, so every position sees all the "
            "triplets and the curve is flat):\n\n")
    table(f, "run", [("linear attention, unmasked (`linear`)", one("linear")),
                     ("no FFN, unmasked (`noffn`)", one("noffn")),
                     ("with FFN, softmax, causal (`default`)", one("default")),
                     ("mean of the responses seen", one("default", "mean_response"))])


def splice_text(text, body, name, where="the page"):
    """text with what stands between its lines <!-- name --> and <!-- /name --> replaced by body"""
    begin, end = f"<!-- {name} -->\n", f"<!-- /{name} -->\n"
    if text.count(begin) != 1 or text.count(end) != 1 or text.index(begin) > text.index(end):
        sys.exit(f"{where}: needs one line '{begin.strip()}' and, after it, one line '{end.strip()}'")
    head, rest = text.split(begin)
    return head + begin + body + rest[rest.index(end):]


def splice(doc, tables, name="paper_scale_tables"):
    """Replace what stands between the lines <!-- name --> and <!-- /name --> in doc with tables, atomically"""
    text = splice_text(open(doc).read(), tables, name, doc)
    with open(doc + ".new", "w") as f:
        f.write(text)
    os.replace(doc + ".new", doc)
    print(doc)


if __name__ == "__main__":
    args = sys.argv[1:]
    if len(args) not in (2, 4) or (len(args) == 4 and args[2] != "--into"):
        sys.exit(__doc__)
    main(args[0], args[1], args[3] if len(args) == 4 else None)
