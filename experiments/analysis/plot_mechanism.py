#!/usr/bin/python3
"""The mechanism study's figures and tables, from the CSVs python/mechanism.py writes
(docs/mechanism.md): probes.png, attention_rank.png, knockout.png and ood.png in DIR, for the first
model label found in each CSV unless --model names one, and DIR/summary.md, the tables the page
quotes (with --into DOC, also between DOC's lines <!-- NAME_tables --> and <!-- /NAME_tables -->, NAME
the directory's name). With --by-variant the tables have a row per training variant (labels
VARIANT-sSEED), mean ± SE over its seeds, instead of a row per model.

usage: plot_mechanism.py DIR [--model LABEL] [--into DOC] [--by-variant]
"""
import csv
import os
import sys
from collections import defaultdict

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

K = 10  # the number of in-context examples the figures show


def rows(path, model):
    data = list(csv.DictReader(open(path)))
    model = model or data[0]["model"]
    return [r for r in data if r["model"] == model], model


def probes(d, model):
    data, model = rows(os.path.join(d, "probes.csv"), model)
    targets = list(dict.fromkeys(r["target"] for r in data))
    fig, axes = plt.subplots(2, (len(targets) + 1) // 2, figsize=(13, 5.5), sharex=True, sharey=True)
    for ax, t in zip(axes.flat, targets):
        for k, style in ((2, ":"), (K, "-"), (19, "--")):
            sel = sorted((int(r["layer"]), r) for r in data if r["target"] == t and int(r["k"]) == k)
            layers = [l for l, _ in sel]
            ax.plot(layers, [float(r["r2"]) for _, r in sel], style, color="C0", label=f"trained, k = {k}")
            if k == K:
                ax.plot(layers, [float(r["control_random"]) for _, r in sel], style, color="C1", label=f"random init, k = {k}")
                ax.plot(layers, [float(r["control_shuffled"]) for _, r in sel], style, color="0.6", label=f"shuffled targets, k = {k}")
        ax.set_title(t, fontsize=10)
        ax.set_ylim(-0.1, 1.02)
        ax.grid(alpha=0.3)
    for ax in axes.flat[len(targets):]:
        ax.axis("off")
    axes.flat[len(targets) - 1].legend(fontsize=7, loc="lower right")
    fig.supxlabel("residual stream after block (0: the embedded tokens)")
    fig.supylabel("held-out R² of a ridge probe at the x token")
    fig.suptitle(f"What a linear probe reads from each layer ({model})", fontsize=11)
    fig.tight_layout()
    fig.savefig(os.path.join(d, "probes.png"), dpi=110)


def attention(d, model):
    data, model = rows(os.path.join(d, "attention_rank.csv"), model)
    L = 1 + max(int(r["layer"]) for r in data)
    H = 1 + max(int(r["head"]) for r in data)
    fig, axes = plt.subplots(1, 4, figsize=(13, 5))
    for ax, (token, field, title, cmap, lim) in zip(axes, (
            ("y", "rank_corr", "to responses y_j: rank corr. with r_j", "RdBu_r", (-1, 1)),
            ("r", "rank_corr", "to reward tokens r_j: rank corr.", "RdBu_r", (-1, 1)),
            ("y", "mass", "attention mass on the y_j", "viridis", (0, 1)),
            ("r", "mass", "attention mass on the r_j", "viridis", (0, 1)))):
        m = np.zeros((L, H))
        for r in data:
            if r["token"] == token and int(r["k"]) == K:
                m[int(r["layer"]), int(r["head"])] = float(r[field])
        im = ax.imshow(m, cmap=cmap, vmin=lim[0], vmax=lim[1], aspect="auto")
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("head")
        ax.set_xticks(range(H))
        ax.set_yticks(range(0, L, 2))
        fig.colorbar(im, ax=ax, fraction=0.05)
    axes[0].set_ylabel("layer")
    fig.suptitle(f"Attention from the x token at k = {K} ({model})", fontsize=11)
    fig.tight_layout()
    fig.savefig(os.path.join(d, "attention_rank.png"), dpi=110)


def knockout(d, model):
    data, model = rows(os.path.join(d, "knockout.csv"), model)
    L = 1 + max(int(r["layer"]) for r in data)
    fig, ax = plt.subplots(figsize=(11, 4))
    parts = defaultdict(dict)
    for r in data:
        if int(r["k"]) == K:
            name = r["part"] + (r["head"] if r["part"] == "head" else "")
            parts[name][int(r["layer"])] = (float(r["delta"]), float(r["delta_se"]))
    names = sorted(parts, key=lambda n: (n != "block", n != "ffn", n))
    width = 0.8 / len(names)
    for i, n in enumerate(names):
        x = np.arange(L) + (i - len(names) / 2) * width
        ax.bar(x, [parts[n].get(l, (0, 0))[0] for l in range(L)], width,
               yerr=[1.96 * parts[n].get(l, (0, 0))[1] for l in range(L)], label=n, capsize=1)
    ax.set_yscale("symlog", linthresh=0.01)
    ax.set_xlabel("layer")
    ax.set_ylabel(f"error change at k = {K} (symlog)")
    ax.set_xticks(range(L))
    ax.legend(fontsize=8, ncol=len(names))
    ax.set_title(f"Knocking out one part at a time ({model}; 95% intervals, paired)", fontsize=11)
    fig.tight_layout()
    fig.savefig(os.path.join(d, "knockout.png"), dpi=110)


def ood(d, model):
    data, model = rows(os.path.join(d, "ood.csv"), model)
    conditions = list(dict.fromkeys(r["condition"] for r in data))
    methods = list(dict.fromkeys(r["method"] for r in data))  # model, gd, and construct where it ran
    width = 0.8 / len(methods)
    fig, axes = plt.subplots(1, 2, figsize=(12, 4), sharey=True)
    for ax, k in zip(axes, (K, 19)):
        for i, method in enumerate(methods):
            sel = {r["condition"]: r for r in data if int(r["k"]) == k and r["method"] == method}
            ax.bar(np.arange(len(conditions)) + (i - (len(methods) - 1) / 2) * width, [float(sel[c]["mean"]) for c in conditions], width,
                   yerr=[1.96 * float(sel[c]["sem"]) for c in conditions], label=method, capsize=2)
        ax.set_xticks(range(len(conditions)))
        ax.set_xticklabels(conditions, rotation=20, fontsize=8)
        ax.set_title(f"k = {k}", fontsize=10)
        ax.grid(axis="y", alpha=0.3)
    axes[0].set_ylabel("1 − cos(answer, y*)")
    axes[0].legend()
    fig.suptitle("Off the training distribution: " + ", ".join(methods) + f" on the same sequences ({model})", fontsize=11)
    fig.tight_layout()
    fig.savefig(os.path.join(d, "ood.png"), dpi=110)


def in_repo(d):
    """d as the page names it: relative to the repository's root"""
    return os.path.relpath(os.path.abspath(d), os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def summary(d):
    """The numbers docs/mechanism.md quotes, per model label, from every CSV present."""
    out = [f"Written by experiments/analysis/plot_mechanism.py from {in_repo(d)}/*.csv.\n"]
    path = os.path.join(d, "probes.csv")
    if os.path.exists(path):
        data = list(csv.DictReader(open(path)))
        out += [f"\n**Probes at k = {K}**: held-out R² at the last layer (trained / random init / shuffled targets), "
                "and the first layer whose R² reaches 90% of the last layer's\n",
                "| model | target | last layer R² | random init | shuffled | first layer at 90% |", "|---|---|---|---|---|---|"]
        for m in dict.fromkeys(r["model"] for r in data):
            for t in dict.fromkeys(r["target"] for r in data):
                sel = sorted((int(r["layer"]), r) for r in data if r["model"] == m and r["target"] == t and int(r["k"]) == K)
                last = float(sel[-1][1]["r2"])
                first = next(l for l, r in sel if float(r["r2"]) >= 0.9 * last) if last > 0 else "—"
                out.append(f"| {m} | {t} | {last:.3f} | {float(sel[-1][1]['control_random']):.3f} | "
                           f"{float(sel[-1][1]['control_shuffled']):.3f} | {first} |")
    path = os.path.join(d, "attention_rank.csv")
    if os.path.exists(path):
        data = [r for r in csv.DictReader(open(path)) if int(r["k"]) == K]
        out += [f"\n**Attention at k = {K}**: per layer, the mean over heads of the rank correlation between the attention "
                "paid to each response (y) or reward token (r) and its reward, and the attention mass on each kind\n"]
        for m in dict.fromkeys(r["model"] for r in data):
            L = 1 + max(int(r["layer"]) for r in data if r["model"] == m)
            out += [f"| {m}: layer | " + " | ".join(str(l) for l in range(L)) + " |", "|---|" + "---|" * L]
            for token in ("y", "r"):
                for field, name in (("rank_corr", "rank corr."), ("mass", "mass")):
                    vals = []
                    for l in range(L):
                        v = [float(r[field]) for r in data if r["model"] == m and r["token"] == token and int(r["layer"]) == l]
                        vals.append(f"{sum(v) / len(v):+.2f}" if field == "rank_corr" else f"{sum(v) / len(v):.2f}")
                    out.append(f"| {token}: {name} | " + " | ".join(vals) + " |")
    path = os.path.join(d, "knockout.csv")
    if os.path.exists(path):
        data = [r for r in csv.DictReader(open(path)) if int(r["k"]) == K]
        out += [f"\n**Knock-outs at k = {K}**: the five parts whose removal raises the error most, the three whose removal "
                "lowers it most (with the change of the training loss, the PL loss, in brackets), and how many of each "
                "kind raise the error by more than 0.01 (the 95% interval of the paired difference above 0.01)\n",
                "| model | raise it most (part: error change) | lower it most (part: error change (loss change)) | blocks > 0.01 | FFNs > 0.01 | heads > 0.01 |",
                "|---|---|---|---|---|---|"]
        for m in dict.fromkeys(r["model"] for r in data):
            sel = [r for r in data if r["model"] == m]
            name = lambda r: f"{r['part']} {r['layer']}" + (f".{r['head']}" if r["part"] == "head" else "")
            top = sorted(sel, key=lambda r: -float(r["delta"]))[:5]
            bottom = sorted(sel, key=lambda r: float(r["delta"]))[:3]
            count = lambda kind: sum(1 for r in sel if r["part"] == kind and float(r["delta"]) - 1.96 * float(r["delta_se"]) > 0.01)
            total = lambda kind: sum(1 for r in sel if r["part"] == kind)
            out.append(f"| {m} | " + ", ".join(f"{name(r)}: {float(r['delta']):+.3f}" for r in top) + " | " +
                       ", ".join(f"{name(r)}: {float(r['delta']):+.3f} ({float(r['loss_delta']):+.3f})" for r in bottom) +
                       f" | {count('block')} of {total('block')} | {count('ffn')} of {total('ffn')} | {count('head')} of {total('head')} |")
    path = os.path.join(d, "ood.csv")
    if os.path.exists(path):
        data = list(csv.DictReader(open(path)))
        conds = list(dict.fromkeys(r["condition"] for r in data))
        out += ["\n**Off the training distribution**: 1 − cos(answer, y*), model / GD / the construction's one step, "
                "on the same 1024 sequences (the SEs are in ood.csv and the figure)\n",
                "| model | k | " + " | ".join(conds) + " |", "|---|---|" + "---|" * len(conds)]
        for m in dict.fromkeys(r["model"] for r in data):
            for k in sorted({int(r["k"]) for r in data}):
                cell = {(r["condition"], r["method"]): r for r in data if r["model"] == m and int(r["k"]) == k}
                out.append(f"| {m} | {k} | " + " | ".join(" / ".join(
                    f"{float(cell[(c, meth)]['mean']):.3f}" for meth in ("model", "gd", "construct") if (c, meth) in cell)
                    for c in conds) + " |")
    return "\n".join(out) + "\n"


def variant_of(label):
    return label.rsplit("-s", 1)[0]


def over_seeds(values):
    """'mean ± SE' over the seeds' values (the SE over seeds; bare with one seed)"""
    m = sum(values) / len(values)
    if len(values) < 2:
        return f"{m:.3f}"
    return f"{m:.3f} ± {(sum((v - m) ** 2 for v in values) / (len(values) - 1) / len(values)) ** 0.5:.3f}"


def summary_by_variant(d):
    """The tables of summary() with a row per training variant: mean ± SE over its seeds."""
    out = [f"Written by experiments/analysis/plot_mechanism.py --by-variant from {in_repo(d)}/*.csv: "
           "a row per training variant, mean ± SE over its seeds (n).\n"]
    path = os.path.join(d, "probes.csv")
    if os.path.exists(path):
        data = [r for r in csv.DictReader(open(path)) if int(r["k"]) == K]
        variants = list(dict.fromkeys(variant_of(r["model"]) for r in data))
        targets = list(dict.fromkeys(r["target"] for r in data))
        out += [f"\n**Probes at k = {K}**: held-out R² at the last layer, trained (random init)\n",
                "| variant | n | " + " | ".join(targets) + " |", "|---|---|" + "---|" * len(targets)]
        for v in variants:
            models = list(dict.fromkeys(r["model"] for r in data if variant_of(r["model"]) == v))
            cells = []
            for t in targets:
                last = [max((int(r["layer"]), r) for r in data if r["model"] == m and r["target"] == t)[1] for m in models]
                cells.append(f"{over_seeds([float(r['r2']) for r in last])} ({over_seeds([float(r['control_random']) for r in last])})")
            out.append(f"| {v} | {len(models)} | " + " | ".join(cells) + " |")
    path = os.path.join(d, "attention_rank.csv")
    if os.path.exists(path):
        data = [r for r in csv.DictReader(open(path)) if int(r["k"]) == K]
        L = 1 + max(int(r["layer"]) for r in data)
        out += [f"\n**Attention at k = {K}**: per layer, the rank correlation between the attention paid to each "
                "response (y) or reward token (r) and its reward, mean over heads, then over seeds\n",
                "| variant | token | " + " | ".join(f"layer {l}" for l in range(L)) + " |", "|---|---|" + "---|" * L]
        for v in dict.fromkeys(variant_of(r["model"]) for r in data):
            for token in ("y", "r"):
                cells = []
                for l in range(L):
                    per_model = defaultdict(list)
                    for r in data:
                        if variant_of(r["model"]) == v and r["token"] == token and int(r["layer"]) == l:
                            per_model[r["model"]].append(float(r["rank_corr"]))
                    cells.append(over_seeds([sum(x) / len(x) for x in per_model.values()]) if per_model else "–")
                out.append(f"| {v} | {token} | " + " | ".join(cells) + " |")
    path = os.path.join(d, "knockout.csv")
    if os.path.exists(path):
        data = [r for r in csv.DictReader(open(path)) if int(r["k"]) == K]
        out += [f"\n**Knock-outs at k = {K}**: the error change when each whole block is removed, and how many "
                "heads and FFNs raise the error by more than 0.01 (95% interval above 0.01), per seed\n"]
        L = 1 + max(int(r["layer"]) for r in data)
        out += ["| variant | " + " | ".join(f"block {l}" for l in range(L)) + " | FFNs > 0.01 | heads > 0.01 |",
                "|---|" + "---|" * (L + 2)]
        for v in dict.fromkeys(variant_of(r["model"]) for r in data):
            models = list(dict.fromkeys(r["model"] for r in data if variant_of(r["model"]) == v))
            blocks = [over_seeds([float(r["delta"]) for r in data if r["model"] in models and r["part"] == "block"
                                  and int(r["layer"]) == l]) for l in range(L)]
            count = lambda kind: " / ".join(str(sum(1 for r in data if r["model"] == m and r["part"] == kind and
                                                    float(r["delta"]) - 1.96 * float(r["delta_se"]) > 0.01)) for m in models)
            out.append(f"| {v} | " + " | ".join(blocks) + f" | {count('ffn')} | {count('head')} |")
    path = os.path.join(d, "ood.csv")
    if os.path.exists(path):
        data = list(csv.DictReader(open(path)))
        conds = list(dict.fromkeys(r["condition"] for r in data))
        kmax = max(int(r["k"]) for r in data)
        out += [f"\n**Off the training distribution at k = {kmax}**: 1 − cos(answer, y*), the model (mean ± SE over seeds) / GD / "
                "the construction's one step\n", "| variant | " + " | ".join(conds) + " |", "|---|" + "---|" * len(conds)]
        for v in dict.fromkeys(variant_of(r["model"]) for r in data):
            cells = []
            for c in conds:
                sel = {(r["model"], r["method"]): float(r["mean"]) for r in data
                       if variant_of(r["model"]) == v and r["condition"] == c and int(r["k"]) == kmax}
                model = over_seeds([x for (m, meth), x in sel.items() if meth == "model"])
                others = [next(x for (m, meth), x in sel.items() if meth == w) for w in ("gd", "construct") if any(meth == w for _, meth in sel)]
                cells.append(" / ".join([model] + [f"{x:.3f}" for x in others]))
            out.append(f"| {v} | " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


def main(argv):
    args, model, into = list(argv), None, None
    by_variant = "--by-variant" in args
    if by_variant:
        args.remove("--by-variant")
    for flag in ("--model", "--into"):
        if flag in args:
            i = args.index(flag)
            if i + 1 >= len(args):
                sys.exit(__doc__)
            model, into = (args[i + 1], into) if flag == "--model" else (model, args[i + 1])
            del args[i:i + 2]
    if len(args) != 1:
        sys.exit(__doc__)
    d = args[0]
    for name, draw in (("probes", probes), ("attention_rank", attention), ("knockout", knockout), ("ood", ood)):
        if os.path.exists(os.path.join(d, name + ".csv")):
            draw(d, model)
            print(os.path.join(d, name + ".png"))
    text = summary_by_variant(d) if by_variant else summary(d)
    with open(os.path.join(d, "summary.md"), "w") as f:
        f.write(text)
    if into:
        from paper_scale_tables import splice
        splice(into, text, os.path.basename(os.path.normpath(d)) + "_tables")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
