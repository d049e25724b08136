#!/usr/bin/env python3
"""Put finished runs back into a sweep's runs directory from the committed results and models.

A grid that takes days outlives machines; its run directories do not. The results of every finished
run are committed (run,seed,noise,method,k,mean,sem,n), and with --models DIR so is each finished
model (DIR/RUN-sSEED/: config.yaml and checkpoint/model.safetensors). A restored run gets its eval
CSVs, its config and weights, and a `done` marker, which is all `icalign sweep` needs to count it as
finished and all the loops and probes need to run on it. With --models, a run whose model is not
committed is not restored, so the sweep trains it again; without --models every run in the CSV is
restored, with no weights. It never touches an existing run directory. The restored eval CSVs hold
the committed lines, byte for byte.

usage: restore_runs.py RESULTS_CSV RUNS_DIR [--models DIR]
"""
import os
import shutil
import sys
from collections import defaultdict

HEADER = "run,seed,noise,method,k,mean,sem,n"


def eval_csv_name(noise: str) -> str:  # experiments/studies/evaluate.cpp: eval_csv_name
    return "eval.csv" if float(noise) < 0 else "eval_noise%.2f.csv" % float(noise)


def read_results(path: str) -> dict:
    """(run, seed) -> [(noise, 'method,k,mean,sem,n')] in file order."""
    groups = defaultdict(list)
    with open(path, newline="") as f:
        header = f.readline().strip()
        if header != HEADER:
            raise SystemExit(f"{path}: not a sweep results CSV (header '{header}')")
        for line in f:
            run, seed, noise, rest = line.rstrip("\n").split(",", 3)
            groups[(run, seed)].append((noise, rest))
    return groups


def write_atomically(path: str, text: str) -> None:
    with open(path + ".new", "w") as f:
        f.write(text)
    os.replace(path + ".new", path)


def main(argv: list) -> int:
    models = None
    if len(argv) == 4 and argv[2] == "--models":
        argv, models = argv[:2], argv[3]
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    results, runs_dir = argv
    for (run, seed), rows in read_results(results).items():
        name = f"{run}-s{seed}"
        d = os.path.join(runs_dir, name)
        model = os.path.join(models, name) if models else None
        if os.path.exists(d) or (model and not os.path.exists(model)):
            continue
        os.makedirs(d + ".restoring", exist_ok=True)
        files = defaultdict(list)
        for noise, rest in rows:
            files[eval_csv_name(noise)].append(rest)
        for file, lines in files.items():
            write_atomically(os.path.join(d + ".restoring", file), "method,k,mean,sem,n\n" + "".join(l + "\n" for l in lines))
        if model:
            os.makedirs(os.path.join(d + ".restoring", "checkpoint"), exist_ok=True)
            shutil.copy(os.path.join(model, "config.yaml"), d + ".restoring")
            shutil.copy(os.path.join(model, "checkpoint", "model.safetensors"), os.path.join(d + ".restoring", "checkpoint"))
            if os.path.exists(os.path.join(model, "log.jsonl")):  # the training curve, for run_times.py
                shutil.copy(os.path.join(model, "log.jsonl"), d + ".restoring")
        open(os.path.join(d + ".restoring", "done"), "w").close()
        os.replace(d + ".restoring", d)  # a run directory appears whole or not at all
        print(f"restored {name} from {results} ({len(files)} eval files{', with its model' if model else ''})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
