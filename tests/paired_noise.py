"""Every committed eval CSV evaluates every noise level on the same held-out sequences: a reward-blind
baseline (the mean of the responses seen) has the same value at every p for each run, seed and k, in
a sweep's results (a noise column) and across a run's eval_noise<p>.csv files.
Usage: paired_noise.py RESULTS_DIR"""
import csv
import glob
import os
import sys
from collections import defaultdict

failures, checked = [], 0
for path in sorted(glob.glob(os.path.join(sys.argv[1], "**", "*.csv"), recursive=True)):
    with open(path) as f:
        rows = list(csv.DictReader(f))
    if not rows or not {"method", "noise", "k", "mean"} <= set(rows[0]):
        continue
    values = defaultdict(set)
    for r in rows:
        if r["method"] == "mean_response":
            values[(r.get("run", ""), r.get("seed", ""), r["k"])].add(r["mean"])
    checked += 1
    unpaired = sorted({key[:2] for key, v in values.items() if len(v) > 1})
    if unpaired:
        failures.append(f"{path}: the mean response differs between noise levels for (run, seed) {unpaired}")
for run in sorted({os.path.dirname(p) for p in glob.glob(os.path.join(sys.argv[1], "**", "eval_noise*.csv"), recursive=True)}):
    values = defaultdict(set)
    for path in glob.glob(os.path.join(run, "eval_noise*.csv")):
        with open(path) as f:
            for r in csv.DictReader(f):
                if r["method"] == "mean_response":
                    values[r["k"]].add(r["mean"])
    checked += 1
    if any(len(v) > 1 for v in values.values()):
        failures.append(f"{run}: the mean response differs between its eval_noise*.csv files")
print(f"{checked} evaluations checked")
if failures:
    sys.exit("\n".join(failures))
