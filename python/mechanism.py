#!/usr/bin/python3
"""Inside a trained icalign transformer: what its layers encode, where its heads look, which parts it
needs, and how it behaves off its training distribution (docs/mechanism.md).

    mechanism.py probes    RUN BATCH OUT.csv [--label L]   ridge probes on every layer's residual stream
    mechanism.py attention RUN BATCH OUT.csv [--label L]   attention to each response against its reward rank
    mechanism.py knockout  RUN BATCH OUT.csv [--label L]   zero one head, one FFN or one block at a time
    mechanism.py ood       RUN OUT.csv [--label L]         model, GD and the construction off the training distribution

BATCH is icalign's held-out sequences with the model's and GD's answers, from
`icalign eval --run RUN --sequences 3072 --dump BATCH` (the probes fit on the first 2048 sequences and
score on the rest). Rows go to OUT.csv beside other models' rows, labelled
with --label (the run's name and seed, e.g. default-s1); a rerun replaces that label's rows.
"""
import argparse
import csv
import math
import os
import re
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from icalign_torch import (ICAlignTransformer, alignment_error, load_run, pl_loss, sample_batch,  # noqa: E402
                          sample_spread_batch, safetensors_io)

KS = (2, 5, 10, 19)
TRAIN = 2048


# ----------------------------------------------------------------------------- what the model holds
def residual_streams(model, xs, ys, rs, chunk=512):
    """-> [stream (B, 3N, C) before block 0 (the embedded tokens), after block 0, ..., after the last]."""
    out = [[] for _ in range(len(model.h) + 1)]
    hooks = [b.register_forward_hook(lambda _m, _i, o, i=i: out[i + 1].append(o)) for i, b in enumerate(model.h)]
    hooks.append(model.h[0].register_forward_pre_hook(lambda _m, i: out[0].append(i[0])))
    try:
        with torch.no_grad():
            for s in range(0, xs.shape[0], chunk):
                model(xs[s:s + chunk], ys[s:s + chunk], rs[s:s + chunk])
    finally:
        for h in hooks:
            h.remove()
    return [torch.cat(o) for o in out]


def targets(batch, k, beta=1.0):
    """The quantities a candidate algorithm computes at x token k (having seen triplets 0..k-1), (B, d) each;
    "answer" is the model's own (how well a linear probe can read what the model does read out)."""
    ys, rs, rs_true, ystar = batch["ys"], batch["rs"], batch["rs_true"], batch["ystar"]
    seen_y, seen_r = ys[:, :k], rs[:, :k]
    r0 = rs_true[:, :1]
    e = (ys[:, 0] - r0 * ystar) / (1 - r0)                       # the bad response: y_0 = r_0 y* + (1 - r_0) e
    weighted = (seen_r[..., None] * seen_y).sum(1) / seen_r.sum(1, keepdim=True)
    top = seen_y[torch.arange(ys.shape[0]), seen_r.argmax(1)]
    return {"answer": batch["answers"][:, k], "gd": batch["gd"][:, k], "ystar": ystar, "e": e, "reward_weighted": weighted, "top_reward": top,
            "one_step": construction_step(seen_y, seen_r, beta)}


def construction_step(seen_y, seen_r, beta=1.0):
    """The construction's answer, one GD step from u = 0 on the quadratic PL loss (docs/construction.md), up to
    its positive step size: the top remaining response minus the softmax(-beta |y|^2)-weighted mean of the
    remaining ones, summed over ranks. seen_y (B, k, d), seen_r (B, k) -> (B, d)."""
    B, k, _ = seen_y.shape
    order = seen_r.argsort(1, descending=True)
    ranked = seen_y[torch.arange(B)[:, None], order]              # (B, k, d), best first
    w = torch.exp(-beta * (ranked ** 2).sum(-1))                 # (B, k)
    step = torch.zeros_like(seen_y[:, 0])
    for i in range(k - 1):
        p = w[:, i:] / w[:, i:].sum(1, keepdim=True)
        step += ranked[:, i] - (p[..., None] * ranked[:, i:]).sum(1)
    return step


def ridge_r2(X, Y, n_train, lam=1e-3, shuffle=None):
    """Fit a ridge map X -> Y on the first n_train rows (standardised features, an intercept), score R² on
    the rest: 1 - SSE / SST, pooled over Y's columns. shuffle: a generator to permute the training targets
    (the control that any fit to noise gets)."""
    X, Y = X.double(), Y.double()
    Xtr, Ytr, Xte, Yte = X[:n_train], Y[:n_train], X[n_train:], Y[n_train:]
    if shuffle is not None:
        Ytr = Ytr[torch.randperm(n_train, generator=shuffle)]
    mu, sd = Xtr.mean(0), Xtr.std(0).clamp_min(1e-12)
    A = torch.cat([(Xtr - mu) / sd, torch.ones(n_train, 1, dtype=X.dtype)], 1)
    reg = lam * n_train * torch.eye(A.shape[1], dtype=X.dtype)
    reg[-1, -1] = 0  # no penalty on the intercept
    coef = torch.linalg.solve(A.T @ A + reg, A.T @ Ytr)
    pred = torch.cat([(Xte - mu) / sd, torch.ones(Xte.shape[0], 1, dtype=X.dtype)], 1) @ coef
    return 1 - ((Yte - pred) ** 2).sum().item() / ((Yte - Ytr.mean(0)) ** 2).sum().item()


def cmd_probes(model, cfg, batch, label, out):
    xs, ys, rs = (batch[k].float() for k in ("xs", "ys", "rs"))
    if xs.shape[0] <= TRAIN:
        raise SystemExit(f"the probes fit on {TRAIN} sequences and score on the rest: dump more than {TRAIN}")
    torch.manual_seed(12345)
    control = ICAlignTransformer(cfg).eval()  # the same shape, random init: what the architecture alone gives
    trained, random = residual_streams(model, xs, ys, rs), residual_streams(control, xs, ys, rs)
    rows = []
    for k in KS:
        for name, y in targets(batch, k).items():
            for layer in range(len(trained)):
                r2 = ridge_r2(trained[layer][:, 3 * k], y, TRAIN)
                r2_random = ridge_r2(random[layer][:, 3 * k], y, TRAIN)
                r2_shuffled = ridge_r2(trained[layer][:, 3 * k], y, TRAIN, shuffle=torch.Generator().manual_seed(layer))
                rows.append([label, layer, k, name, f"{r2:.4f}", f"{r2_random:.4f}", f"{r2_shuffled:.4f}"])
    append(out, ["model", "layer", "k", "target", "r2", "control_random", "control_shuffled"], rows)


# ----------------------------------------------------------------------------- where the heads look
def attention_maps(model, xs, ys, rs):
    """-> [(B, H, T, T) attention of block i]."""
    maps = []
    hooks = [b.attention_weights.register_forward_hook(lambda _m, _i, o: maps.append(o)) for b in model.h]
    try:
        with torch.no_grad():
            model(xs, ys, rs)
    finally:
        for h in hooks:
            h.remove()
    return maps


def rank_scores(weights, rewards):
    """weights, rewards (B, k): the mean over sequences of the Spearman correlation between the attention
    paid to each response and its reward, and how often the most attended response is the top-rewarded one."""
    def ranks(v):
        return v.argsort(1).argsort(1).double()
    a, r = ranks(weights), ranks(rewards)
    a, r = a - a.mean(1, keepdim=True), r - r.mean(1, keepdim=True)
    corr = (a * r).sum(1) / ((a ** 2).sum(1) * (r ** 2).sum(1)).sqrt().clamp_min(1e-12)
    top1 = (weights.argmax(1) == rewards.argmax(1)).double()
    return corr.mean().item(), top1.mean().item()


def cmd_attention(model, cfg, batch, label, out, sequences=1024):
    xs, ys, rs = (batch[k][:sequences].float() for k in ("xs", "ys", "rs"))
    maps = attention_maps(model, xs, ys, rs)
    rows = []
    for layer, att in enumerate(maps):
        for head in range(att.shape[1]):
            for k in KS:
                q = att[:, head, 3 * k]                      # from x token k to every position (B, T)
                for token, offset in (("y", 1), ("r", 2)):
                    w = q[:, offset:3 * k:3]                 # to the k responses (or their reward tokens)
                    corr, top1 = rank_scores(w, rs[:, :k])
                    rows.append([label, layer, head, k, token, f"{corr:.4f}", f"{top1:.4f}", f"{w.sum(1).mean().item():.4f}"])
    append(out, ["model", "layer", "head", "k", "token", "rank_corr", "top1", "mass"], rows)


# ----------------------------------------------------------------------------- which parts it needs
def knocked_out(model, part):
    """Hooks that remove one part: ("head", layer, h) zeroes that head's attention (so its output is 0),
    ("ffn", layer) the MLP's output, ("block", layer) the whole block (it returns its input), ("none",)
    nothing. Returns the hook handles."""
    kind = part[0]
    if kind == "none":
        return [model.h[0].register_forward_hook(lambda _m, _i, o: o)]
    block = model.h[part[1]]
    if kind == "head":
        def zero_head(_m, _i, att, h=part[2]):
            att = att.clone()
            att[:, h] = 0
            return att
        return [block.attention_weights.register_forward_hook(zero_head)]
    if kind == "ffn":
        return [block.mlp_proj.register_forward_hook(lambda _m, _i, o: torch.zeros_like(o))]
    if kind == "block":
        return [block.register_forward_hook(lambda _m, i, _o: i[0])]
    raise ValueError(f"unknown part {part}")


def answers(model, xs, ys, rs, parts=(("none",),)):
    """The model's answers (B, N, d) with `parts` knocked out."""
    hooks = [h for p in parts for h in knocked_out(model, p)]
    try:
        with torch.no_grad():
            return model(xs, ys, rs).double()
    finally:
        for h in hooks:
            h.remove()


def errors(model, xs, ys, rs, ystar, parts=(("none",),)):
    return alignment_error(answers(model, xs, ys, rs, parts), ystar.double())  # (B, N)


def cmd_knockout(model, cfg, batch, label, out, sequences=256):
    """Each part's effect on the error against y* at each k, and on the training loss (the PL loss over
    positions 2..N-1, which the model was trained to lower; the two need not move together)."""
    xs, ys, rs, ystar = (batch[k][:sequences].float() for k in ("xs", "ys", "rs", "ystar"))
    loss = lambda a: pl_loss(a, ys.double(), rs.double(), per_sequence=True)
    base_answers = answers(model, xs, ys, rs)
    base, base_loss = alignment_error(base_answers, ystar.double()), loss(base_answers)
    parts = [("block", l) for l in range(cfg.n_layer)] + [("head", l, h) for l in range(cfg.n_layer) for h in range(cfg.n_head)]
    if cfg.ffn:
        parts += [("ffn", l) for l in range(cfg.n_layer)]
    rows = []
    for part in parts:
        a = answers(model, xs, ys, rs, [part])
        e, dl = alignment_error(a, ystar.double()), loss(a) - base_loss
        for k in KS:
            d = e[:, k] - base[:, k]  # paired: the same sequences with and without the part
            rows.append([label, part[0], part[1], part[2] if part[0] == "head" else "", k, f"{e[:, k].mean().item():.4f}",
                         f"{d.mean().item():.4f}", f"{d.std().item() / math.sqrt(len(d)):.4f}",
                         f"{dl.mean().item():.4f}", f"{dl.std().item() / math.sqrt(len(dl)):.4f}"])
    append(out, ["model", "part", "layer", "head", "k", "error", "delta", "delta_se", "loss_delta", "loss_delta_se"], rows)


# ----------------------------------------------------------------------------- off the training distribution
def gd_answers(xs, ys, rs, k, steps=50, lr=0.1, generator=None):
    """GD as the evaluation runs it, batched: per sequence a fresh Linear(d, d) without bias (PyTorch's
    default init), Adam on the PL loss of its answer W x against the first k ranked responses. Each
    sequence's loss depends on its own W only, so one Adam over the summed loss is B separate runs."""
    B, _, d = xs.shape
    bound = 1 / math.sqrt(d)
    W = ((torch.rand(B, d, d, generator=generator, dtype=torch.float64) * 2 - 1) * bound).requires_grad_()
    x, y, r = xs[:, 0].double(), ys[:, :k].double(), rs[:, :k].double()
    opt = torch.optim.Adam([W], lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        u = torch.einsum("bij,bj->bi", W, x)[:, None, :].expand(B, k + 1, d)
        # pl_loss averages positions 2..N-1 of (B, N, d) answers: position k, with k responses before it
        loss = pl_loss(u, torch.cat([y, y[:, :1]], 1), torch.cat([r, r[:, :1]], 1), n_start=k) * B
        loss.backward()
        opt.step()
    return torch.einsum("bij,bj->bi", W, x).detach()


def cmd_ood(model, cfg, label, out, sequences=1024):
    g = torch.Generator().manual_seed(31)
    xs, ys, rs, ystar = sample_batch(sequences, cfg.n_dims, cfg.n_points, generator=g)
    conditions = {"base": (xs, ys, rs, ystar), "x_times_0.5": (0.5 * xs, ys, rs, ystar), "x_times_2": (2 * xs, ys, rs, ystar),
                  "r_to_0.5+0.5r": (xs, ys, 0.5 + 0.5 * rs, ystar), "r_to_1-r": (xs, ys, 1 - rs, ystar),
                  # responses off the line y* - e that the model was trained on (the spread task), own sequences
                  "spread_responses": sample_spread_batch(sequences, cfg.n_dims, cfg.n_points,
                                                          generator=torch.Generator().manual_seed(32))}
    rows = []
    for name, (x, y, r, target) in conditions.items():
        e = errors(model, x, y, r, target)
        for k in KS:
            gd = gd_answers(x, y, r, k, generator=torch.Generator().manual_seed(1000 + k))
            e_gd = 1 - torch.cosine_similarity(gd, target.double(), dim=-1)
            step = construction_step(y[:, :k].double(), r[:, :k].double())
            e_construct = 1 - torch.cosine_similarity(step, target.double(), dim=-1)
            for method, v in (("model", e[:, k]), ("gd", e_gd), ("construct", e_construct)):
                rows.append([label, name, k, method, f"{v.mean().item():.4f}", f"{v.std().item() / math.sqrt(len(v)):.4f}"])
    append(out, ["model", "condition", "k", "method", "mean", "sem"], rows)


# ----------------------------------------------------------------------------- plumbing
def seed_of(label):
    """the training seed in a label named RUN-sSEED, or "" """
    m = re.fullmatch(r".+-s(\d+)", label)
    return m.group(1) if m else ""


def append(path, header, rows):
    """Replaces the rows of this model label in path (so a rerun does not duplicate them), atomically.
    A seed column (from the label, RUN-sSEED) follows the model's."""
    header = header[:1] + ["seed"] + header[1:]
    rows = [r[:1] + [seed_of(r[0])] + r[1:] for r in rows]
    label, kept = rows[0][0], []
    if os.path.exists(path):
        with open(path, newline="") as f:
            old = list(csv.reader(f))
        if old and old[0] != header:
            raise SystemExit(f"{path}: its columns {old[0]} are not this study's {header}")
        kept = [r for r in old[1:] if r[0] != label]
    with open(path + ".new", "w", newline="") as f:
        csv.writer(f).writerows([header] + kept + rows)
    os.replace(path + ".new", path)
    print(f"{path}: {len(rows)} rows for {label}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("probes", "attention", "knockout", "ood"):
        p = sub.add_parser(name)
        p.add_argument("run")
        if name != "ood":
            p.add_argument("batch")
        p.add_argument("out")
        p.add_argument("--label", default=None)
    args = ap.parse_args()
    model, cfg = load_run(args.run)
    if max(KS) >= cfg.n_points:
        ap.error(f"the studies read k = {KS}; this model has only {cfg.n_points} triplets")
    label = args.label or os.path.basename(os.path.normpath(args.run))
    if args.cmd == "ood":
        return cmd_ood(model, cfg, label, args.out)
    batch, _ = safetensors_io.read(args.batch)
    missing = [k for k in ("xs", "ys", "rs", "rs_true", "ystar", "gd") if k not in batch]
    if missing:
        ap.error(f"{args.batch} has no '{missing[0]}': write it with `icalign eval --run RUN --sequences 3072 --dump FILE`")
    {"probes": cmd_probes, "attention": cmd_attention, "knockout": cmd_knockout}[args.cmd](model, cfg, batch, label, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
