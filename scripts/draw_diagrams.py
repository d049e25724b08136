#!/usr/bin/env python3
"""Draws the explanatory diagrams of the docs into docs/figures/ (PNG):

    tape.png          the tape of loss = sum(relu(x W)): forward appends nodes, backward runs them in reverse
    tokens.png        the (x, y, r) token interleave of a sequence and what each token may attend to
    construction.png  the coordinates (slots) of the explicit construction's tokens, and what each part of
                      a block reads and writes

    python3 scripts/draw_diagrams.py [OUT_DIR]      (default: docs/figures)

Every label is drawn from the facts in the code (autograd/tape.cpp, experiments/model/model.cpp,
experiments/model/construction.hpp); nothing is measured.
"""
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import FancyArrowPatch, Rectangle  # noqa: E402

BLUE, ORANGE, GREEN, GREY, RED = "#4C72B0", "#DD8452", "#55A868", "#BBBBBB", "#C44E52"


def box(ax, x, y, w, h, text, color, fontsize=10, alpha=0.25):
    ax.add_patch(Rectangle((x, y), w, h, facecolor=color, edgecolor=color, alpha=alpha, lw=1.5))
    ax.add_patch(Rectangle((x, y), w, h, facecolor="none", edgecolor=color, lw=1.5))
    ax.text(x + w / 2, y + h / 2, text, ha="center", va="center", fontsize=fontsize)


def arrow(ax, start, end, color, text=None, offset=(0, 0.12), style="-|>", fontsize=9):
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle=style, mutation_scale=14, color=color, lw=1.5))
    if text:
        ax.text((start[0] + end[0]) / 2 + offset[0], (start[1] + end[1]) / 2 + offset[1], text, ha="center",
                va="bottom", fontsize=fontsize, color=color)


def draw_tape(path):
    fig, ax = plt.subplots(figsize=(11, 4.4))
    ax.set_xlim(0, 11), ax.set_ylim(0, 4.4), ax.axis("off")
    # Leaves and the ops' outputs, left to right as the forward runs.
    values = [("x", 0.2), ("W", 0.2)]
    box(ax, 0.2, 2.9, 1.0, 0.7, "x (leaf)", GREY)
    box(ax, 0.2, 1.6, 1.0, 0.7, "W (leaf,\nrequires grad)", GREY, fontsize=8)
    ops = [("h = matmul(x, W)", "dW += xᵀ·dh\n(no dx: x needs no grad)"), ("a = relu(h)", "dh += da · [a > 0]"),
           ("loss = sum(a)", "da += dloss · 1")]
    xs = [2.4, 5.2, 8.0]
    for i, ((fwd, bwd), x0) in enumerate(zip(ops, xs)):
        box(ax, x0, 2.35, 2.2, 0.8, fwd, BLUE)
        box(ax, x0, 0.35, 2.2, 0.9, f"node {i}: closure\n{bwd}", ORANGE, fontsize=8)
        arrow(ax, (x0 + 1.1, 2.35), (x0 + 1.1, 1.25), GREY, style="-|>")
    arrow(ax, (1.2, 3.25), (2.4, 2.85), BLUE)
    arrow(ax, (1.2, 1.95), (2.4, 2.6), BLUE)
    arrow(ax, (4.6, 2.75), (5.2, 2.75), BLUE)
    arrow(ax, (7.4, 2.75), (8.0, 2.75), BLUE)
    ax.text(5.5, 4.05, "forward: each op computes its output and appends one node (a closure) to the tape",
            ha="center", fontsize=10, color=BLUE)
    arrow(ax, (10.6, 0.1), (2.4, 0.1), ORANGE, style="-|>")
    ax.text(6.5, -0.05, "loss.backward(): dloss = 1, then the nodes run newest first (2, 1, 0), each adding into its "
            "inputs' gradients", ha="center", va="top", fontsize=10, color=ORANGE)
    ax.text(10.45, 1.75, "the tape:\na vector of\nnodes", ha="center", fontsize=9, color=ORANGE)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)


def draw_tokens(path, N=4):
    T = 3 * N
    names = []
    for i in range(N):
        names += [f"x{i}", f"y{i}", f"r{i}"]
    colors = {"x": BLUE, "y": GREEN, "r": ORANGE}
    fig, (top, mat) = plt.subplots(2, 1, figsize=(8.5, 9.5), gridspec_kw={"height_ratios": [1.1, 5]})
    top.set_xlim(-0.5, T + 0.5), top.set_ylim(-0.2, 1.7), top.axis("off")
    for t, name in enumerate(names):
        box(top, t, 0.5, 0.9, 0.6, name, colors[name[0]], fontsize=10)
        if name[0] == "x":
            top.annotate(f"answer {name[1:]}", (t + 0.45, 0.5), (t + 0.45, 0.0), ha="center", fontsize=8,
                         arrowprops=dict(arrowstyle="<-", color=BLUE))
    top.text(T / 2, 1.35, "one sequence of N = 4 triplets: 3N tokens; reward token = [r, 0, …, 0]; the model "
             "answers at every x token", ha="center", fontsize=9)
    # The causal mask: row = the token attending, column = the token attended to.
    mat.set_xlim(-0.5, T - 0.5), mat.set_ylim(T - 0.5, -0.5)
    for q in range(T):
        for k in range(T):
            visible = k <= q
            is_answer = names[q][0] == "x"
            color = (BLUE if is_answer else GREY) if visible else "white"
            mat.add_patch(Rectangle((k - 0.5, q - 0.5), 1, 1, facecolor=color, alpha=0.55 if visible else 1,
                                    edgecolor="white", lw=1))
    mat.set_xticks(range(T)), mat.set_xticklabels(names), mat.set_yticks(range(T)), mat.set_yticklabels(names)
    mat.xaxis.tick_top()
    mat.set_xlabel("attended to (key)"), mat.set_ylabel("attending (query)")
    mat.text(T / 2 - 0.5, T + 0.6, "causal mask: a token sees itself and every token before it. The answer at x_k "
             "(blue rows) has seen\nthe k triplets 0…k−1 and its own x: it never sees y_k, r_k or anything later.",
             ha="center", va="top", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)


def draw_construction(path, d=5):
    slots = [("Y", d, "y_j", "0"), ("NY", 1, "‖y_j‖²", "0"), ("R", 1, "r_j", "0"), ("M", 1, "flag", "0"),
             ("Q", 1, "0", "1"), ("U", d, "0", "u"), ("AT", d, "0", "Σ y_τ(i)"), ("AB", d, "0", "Σ ȳ_i"),
             ("RHO", 1, "0", "ρ_i"), ("pad", 1, "0", "0")]
    width = sum(s[1] for s in slots)
    fig, ax = plt.subplots(figsize=(12, 5.6))
    ax.set_xlim(-4.5, width + 0.5), ax.set_ylim(-4.3, 3.2), ax.axis("off")
    palette = [GREEN, GREEN, ORANGE, RED, GREY, BLUE, BLUE, BLUE, ORANGE, GREY]
    x = 0
    centers = {}
    for (name, w, response, query), color in zip(slots, palette):
        box(ax, x, 1.6, w, 0.7, name, color, fontsize=9)
        box(ax, x, 0.8, w, 0.7, response, color, fontsize=7, alpha=0.1)
        box(ax, x, 0.0, w, 0.7, query, color, fontsize=7, alpha=0.1)
        ax.text(x + w / 2, 2.45, f"{x}" + (f"…{x + w - 1}" if w > 1 else ""), ha="center", fontsize=7, color="#555555")
        centers[name] = x + w / 2
        x += w
    ax.text(-0.3, 1.95, "slot", ha="right", va="center", fontsize=9)
    ax.text(-0.3, 1.15, "response token j", ha="right", va="center", fontsize=9)
    ax.text(-0.3, 0.35, "query token", ha="right", va="center", fontsize=9)
    ax.text(width / 2, 2.9, f"one token's {width} coordinates (d = {d}: 4d + 5 = {4 * d + 5}, plus a pad to an even "
            "width for two heads)", ha="center", fontsize=10)
    rows = [("head S (selection)", "score γ r_j − C m_j − C q_j: the best remaining reward", ["R", "M", "Q"], ["Y", "R"],
             ["AT", "RHO"], -1.0),
            ("head P (policy average)", "score −β‖u − y_j‖² − C (m_j + q_j): the PL softmax", ["U", "Y", "NY", "M", "Q"],
             ["Y"], ["AB"], -2.1),
            ("FFN", "ReLU pairs: clear ρ, flag the selected response", ["R", "RHO"], [], ["RHO", "M"], -3.2)]
    for name, what, reads, values, writes, y in rows:
        ax.text(-0.3, y + 0.25, name, ha="right", va="center", fontsize=9, weight="bold")
        ax.text(-0.3, y - 0.05, what, ha="right", va="top", fontsize=7)
        for s in reads:  # a slot can be read and written by the same part: three heights
            ax.plot([centers[s]], [y + 0.45], "o", color=GREY, ms=7)
        for s in values:
            ax.plot([centers[s]], [y + 0.25], "s", color=GREEN, ms=6, alpha=0.8)
        for s in writes:
            ax.plot([centers[s]], [y + 0.05], "*", color=RED, ms=12)
        ax.plot([0, width], [y + 0.25, y + 0.25], color="#DDDDDD", lw=0.8, zorder=0)
    ax.plot([], [], "o", color=GREY, label="read (by a score: query or key; by the FFN: its input)")
    ax.plot([], [], "s", color=GREEN, label="read as the value")
    ax.plot([], [], "*", color=RED, label="written (added to the residual stream)")
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, -0.1), ncol=3, fontsize=8, frameon=False)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)


def main(argv):
    out = argv[0] if argv else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "docs", "figures")
    os.makedirs(out, exist_ok=True)
    for name, draw in (("tape.png", draw_tape), ("tokens.png", draw_tokens), ("construction.png", draw_construction)):
        draw(os.path.join(out, name))
        print(os.path.join(out, name))


if __name__ == "__main__":
    main(sys.argv[1:])
