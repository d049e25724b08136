#!/usr/bin/python3
"""Training time of every finished run of a sweep, from each run's log.jsonl: one CSV row per run
(grid directory, run, steps, seconds). docs/results.md quotes these.
Usage: run_times.py OUT.csv runs/panels [runs/panels_more ...]"""
import csv
import json
import os
import sys


def last_step(path):
    step, seconds = 0, 0.0
    for line in open(path):
        r = json.loads(line)
        if "elapsed_s" in r:
            step, seconds = r["step"], r["elapsed_s"]
    return step, seconds


def main(out, grids):
    with open(out, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["grid", "run", "steps", "train_seconds"])
        for grid in grids:
            for run in sorted(os.listdir(grid)):
                log = os.path.join(grid, run, "log.jsonl")
                if os.path.exists(os.path.join(grid, run, "done")) and os.path.exists(log):
                    step, seconds = last_step(log)
                    w.writerow([os.path.basename(grid), run, step, f"{seconds:.1f}"])
    print(out)


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2:])
