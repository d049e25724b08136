#!/usr/bin/python3
"""Probe a trained icalign model in PyTorch: load a run, run it on a batch, and read every layer's
residual stream with forward hooks.

What it prints is a "logit lens": the model's own final LayerNorm and read-out applied to the
residual stream after each block, scored as the error 1 - cos(answer, y*) at a few k. It shows at
which depth the answer becomes readable by the model's last layer.

    /usr/bin/python3 python/examples/probe.py                                  # the released model
    /usr/bin/python3 python/examples/probe.py --run DIR --batch FILE --check   # the same sequences as
        # `icalign eval --run DIR --dump FILE`; --check: our answers and DIR/eval.csv must agree

The batch is either icalign's held-out sequences (--batch, from `icalign eval --dump`) or drawn
from the oracle's sampler (same distribution, other draws).
"""
import argparse
import csv
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from icalign_torch import alignment_error, load_run, sample_batch, safetensors_io  # noqa: E402

ROOT = os.path.relpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def residual_streams(model, xs, ys, rs):
    """-> (answers (B, N, d), [residual stream after block i, (B, 3N, C)])."""
    streams = []
    hooks = [block.register_forward_hook(lambda _m, _in, out: streams.append(out)) for block in model.h]
    try:
        with torch.no_grad():
            answers = model(xs, ys, rs)
    finally:
        for h in hooks:
            h.remove()
    return answers, streams


def check_against_icalign(run_dir, answers, batch, ks):
    """Our answers against icalign's on the same sequences, and our error curve against eval.csv's."""
    theirs = batch["answers"]
    rel = ((answers.double() - theirs).abs().max() / theirs.abs().max()).item()
    err = alignment_error(answers.double(), batch["ystar"]).mean(0)
    with open(os.path.join(run_dir, "eval.csv")) as f:
        rows = {int(r["k"]): float(r["mean"]) for r in csv.DictReader(f) if r["method"] == "model"}
    worst = max(abs(err[k].item() - rows[k]) for k in rows)
    print(f"check: answers within {rel:.1e} (relative) of icalign's; error curve within {worst:.1e} of "
          f"{run_dir}/eval.csv at k = {min(rows)}..{max(rows)}")
    return rel <= 1e-4 and worst <= 1e-5


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", default=os.path.join(ROOT, "docs", "results", "paper_model"), help="an icalign run directory")
    ap.add_argument("--batch", help="held-out sequences from `icalign eval --dump FILE` (default: 256 fresh ones)")
    ap.add_argument("--check", action="store_true", help="compare with icalign's answers in --batch and the run's eval.csv")
    ap.add_argument("--k", type=int, nargs="+", default=[2, 5, 10, 19], help="numbers of in-context examples to report")
    args = ap.parse_args()
    if args.check and not args.batch:
        ap.error("--check compares with icalign's answers: give the --batch that `icalign eval --dump` wrote")

    model, cfg = load_run(args.run)
    if args.batch:
        batch, _ = safetensors_io.read(args.batch)
        xs, ys, rs, ystar = (batch[k].float() for k in ("xs", "ys", "rs", "ystar"))
    else:
        xs, ys, rs, ystar = sample_batch(256, cfg.n_dims, cfg.n_points, generator=torch.Generator().manual_seed(0))
    bad = [k for k in args.k if not 1 <= k < cfg.n_points]
    if bad:
        ap.error(f"--k must be in 1..{cfg.n_points - 1} for this model, got {bad}")

    answers, streams = residual_streams(model, xs, ys, rs)
    print(f"{args.run}: {cfg.n_layer} layers, {cfg.n_embd} dims, {cfg.n_head} heads, {cfg.attention} attention; "
          f"{xs.shape[0]} sequences")
    print("logit lens: 1 - cos(read_out(ln_f(stream after block i)) at x token k, y*)")
    print("block " + "".join(f"{'k = ' + str(k):>10}" for k in args.k))
    with torch.no_grad():
        for i, h in enumerate(streams):
            err = alignment_error(model._read_out(model.ln_f(h))[:, ::3, :], ystar).mean(0)
            print(f"{i:5d} " + "".join(f"{err[k].item():10.3f}" for k in args.k))
    if args.check:
        return 0 if check_against_icalign(args.run, answers, batch, range(1, cfg.n_points)) else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
