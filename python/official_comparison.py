#!/usr/bin/python3
"""Our paper-scale models under the official notebook's reward-noise protocol, beside its stored numbers.

The notebook (evaluate_wrong_reward.ipynb; docs/paper.md, "Evaluation") draws one batch of 256
sequences, corrupts its rewards at every p (each reward independently, with probability p, becomes a
fresh U(0, 1) draw), and reports the model's 1 - cos(answer, y*) at k = 2..15. This script does the
same with the PyTorch oracle (which agrees with icalign to float32 rounding: tests/torch_probe.sh):

- the same sequences for every model and every p (one batch per size; the noise of each p from a
  stream of its own), at 256 sequences as the notebook and at 1024;
- beside the independent rule, icalign eval's older rule (exactly round(p N) rewards replaced) on the
  same sequences, to see whether the rule matters;
- with --snapshots, the same measure along training from a run's snapshots/ (the official state.pt is
  the model after step 2500 of 3000: train.py saves every 500 steps of range(3000)).

usage: official_comparison.py OUT_DIR NOTEBOOK_CSV LABEL=RUN_DIR [LABEL=RUN_DIR ...] [--snapshots LABEL=RUN_DIR]
Writes OUT_DIR/comparison.csv (model, sequences, rule, p, k, mean, sem, notebook; k = "10-15" is the
mean over k = 10..15, per sequence) and, with
--snapshots, OUT_DIR/snapshots.csv (model, step, p, k, mean, sem).
"""
import argparse
import csv
import glob
import os
import re
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from icalign_torch import alignment_error, load_run, load_weights, replace_rewards, sample_batch  # noqa: E402

PS = (0, 0.25, 0.5, 0.75, 1)
KS = range(2, 16)
BATCH_SEED = 2024


def exact_count_replace(rs, p, generator):
    """icalign eval's rule until now: exactly round(p N) rewards per sequence, at positions chosen
    uniformly, become fresh U(0, 1) draws."""
    B, N = rs.shape
    m = round(p * N)
    out = rs.clone()
    for b in range(B):
        idx = torch.randperm(N, generator=generator)[:m]
        out[b, idx] = torch.rand(m, generator=generator, dtype=rs.dtype)
    return out


def noisy_rewards(rs, p, rule):
    g = torch.Generator().manual_seed(7919 + int(round(100 * p)) + (0 if rule == "independent" else 100000))
    return replace_rewards(rs, p, g) if rule == "independent" else exact_count_replace(rs, p, g)


def curve(model, xs, ys, rs, ystar):
    """{k: (mean, SE over sequences)} for k = 2..15, and "10-15": each sequence's mean over
    k = 10..15, whose SE counts that one sequence's errors at neighbouring k move together."""
    with torch.no_grad():
        e = alignment_error(model(xs, ys, rs).double(), ystar.double())  # (B, N)
    out = {k: e[:, k] for k in KS}
    out["10-15"] = e[:, 10:16].mean(1)
    return {k: (v.mean().item(), v.std().item() / v.shape[0] ** 0.5) for k, v in out.items()}


def parse_runs(items):
    runs = []
    for item in items:
        if "=" not in item:
            raise SystemExit(f"'{item}': give runs as LABEL=RUN_DIR")
        runs.append(tuple(item.split("=", 1)))
    return runs


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("notebook")
    ap.add_argument("runs", nargs="+")
    ap.add_argument("--sequences", type=int, nargs="+", default=[256, 1024])
    ap.add_argument("--snapshots", help="LABEL=RUN_DIR whose snapshots/ to evaluate along training (1024 sequences)")
    args = ap.parse_args()
    notebook = {(float(r["p"]), int(r["k"])): float(r["notebook"]) for r in csv.DictReader(open(args.notebook))}
    os.makedirs(args.out, exist_ok=True)

    rows = []
    for label, run_dir in parse_runs(args.runs):
        model, cfg = load_run(run_dir)
        for S in args.sequences:
            xs, ys, rs, ystar = sample_batch(S, cfg.n_dims, cfg.n_points, generator=torch.Generator().manual_seed(BATCH_SEED))
            for rule in ("independent", "exact_count"):
                for p in PS:
                    for k, (m, s) in curve(model, xs, ys, noisy_rewards(rs, p, rule), ystar).items():
                        nb = notebook[(p, k)] if k != "10-15" else sum(notebook[(p, j)] for j in range(10, 16)) / 6
                        rows.append([label, S, rule, p, k, f"{m:.6f}", f"{s:.6f}", f"{nb:.6f}"])
            print(f"{label}: {S} sequences done", flush=True)
    write(os.path.join(args.out, "comparison.csv"), ["model", "sequences", "rule", "p", "k", "mean", "sem", "notebook"], rows)

    if args.snapshots:
        (label, run_dir), = parse_runs([args.snapshots])
        files = sorted(glob.glob(os.path.join(run_dir, "snapshots", "step-*.safetensors")))
        if not files:
            raise SystemExit(f"{run_dir}/snapshots holds no step-*.safetensors")
        rows = []
        xs, ys, rs, ystar = sample_batch(1024, generator=torch.Generator().manual_seed(BATCH_SEED))
        for f in files:
            step = int(re.search(r"step-(\d+)", f).group(1))
            model, _ = load_weights(f)
            for p in PS:
                for k, (m, s) in curve(model, xs, ys, noisy_rewards(rs, p, "independent"), ystar).items():
                    rows.append([label, step, p, k, f"{m:.6f}", f"{s:.6f}"])
            print(f"{label}: step {step} done", flush=True)
        write(os.path.join(args.out, "snapshots.csv"), ["model", "step", "p", "k", "mean", "sem"], rows)
    return 0


def write(path, header, rows):
    with open(path + ".new", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    os.replace(path + ".new", path)
    print(f"wrote {path} ({len(rows)} rows)")


if __name__ == "__main__":
    sys.exit(main())
