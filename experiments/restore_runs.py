#!/usr/bin/env python3
"""Put finished runs back into a sweep's runs directory from the sweep's committed results CSV.

A grid that takes days outlives machines; its run directories do not. The results of every finished
run are committed (run,seed,noise,method,k,mean,sem,n), and that is all `icalign sweep` needs to count
a run as finished: its eval CSVs and a `done` marker. This writes them back for each run whose
directory is missing, so a new machine trains only what is not in the repo yet. It never touches an
existing run directory. The restored eval CSVs hold the committed lines, byte for byte.

usage: restore_runs.py RESULTS_CSV RUNS_DIR
"""
import csv
import os
import sys
from collections import defaultdict


def eval_csv_name(noise: str) -> str:  # experiments/lab/evaluate.cpp: eval_csv_name
    return "eval.csv" if float(noise) < 0 else "eval_noise%.2f.csv" % float(noise)


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    results, runs_dir = sys.argv[1], sys.argv[2]
    groups = defaultdict(list)  # (run, seed) -> {noise: [lines]}
    with open(results, newline="") as f:
        header = f.readline().strip()
        if header != "run,seed,noise,method,k,mean,sem,n":
            print(f"{results}: not a sweep results CSV (header '{header}')", file=sys.stderr)
            return 1
        for line in f:
            run, seed, noise, rest = line.rstrip("\n").split(",", 3)
            groups[(run, seed)].append((noise, rest))
    for (run, seed), rows in groups.items():
        d = os.path.join(runs_dir, f"{run}-s{seed}")
        if os.path.exists(d):
            continue
        os.makedirs(d)
        files = defaultdict(list)
        for noise, rest in rows:
            files[eval_csv_name(noise)].append(rest)
        for name, lines in files.items():
            with open(os.path.join(d, name + ".new"), "w") as f:
                f.write("method,k,mean,sem,n\n" + "".join(l + "\n" for l in lines))
            os.replace(os.path.join(d, name + ".new"), os.path.join(d, name))
        open(os.path.join(d, "done"), "w").close()
        print(f"restored {run}-s{seed} from {results} ({len(files)} eval files)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
