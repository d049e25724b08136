#!/usr/bin/python3
"""Training time of every finished run of a sweep, from each run's log.jsonl: one CSV row per run
(grid directory, run, steps, seconds). docs/results.md quotes these. A run whose directory has no
log (one restored from committed results on a new machine, experiments/analysis/restore_runs.py) keeps the row
OUT.csv already has for it.
Usage: run_times.py OUT.csv runs/panels [runs/panels_more ...]"""
import csv
import json
import os
import sys


def last_step(path):
    """The last step and the training seconds that led to it. A resumed run's clock starts again at 0
    (its log is cut back to the checkpoint's step), so the seconds are summed over those segments."""
    step, seconds, before = 0, 0.0, 0.0
    for line in open(path):
        r = json.loads(line)
        if "elapsed_s" in r:
            if r["elapsed_s"] < seconds:  # a resume
                before += seconds
            step, seconds = r["step"], r["elapsed_s"]
    return step, before + seconds


def main(out, grids):
    rows = {}
    if os.path.exists(out):
        rows = {(r["grid"], r["run"]): [r["grid"], r["run"], r["steps"], r["train_seconds"]] for r in csv.DictReader(open(out))}
    for grid in grids:
        for run in sorted(os.listdir(grid)):
            log = os.path.join(grid, run, "log.jsonl")
            if os.path.exists(os.path.join(grid, run, "done")) and os.path.exists(log):
                step, seconds = last_step(log)
                rows[(os.path.basename(grid), run)] = [os.path.basename(grid), run, step, f"{seconds:.1f}"]
    with open(out + ".tmp", "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["grid", "run", "steps", "train_seconds"])
        w.writerows(rows[key] for key in sorted(rows))
    os.replace(out + ".tmp", out)
    print(out)


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2:])
