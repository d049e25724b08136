#!/usr/bin/env python3
"""Merge a sweep's fresh results.csv into the committed one, run by run.

Every (run, seed) in NEW replaces its rows in COMMITTED; the others keep their committed rows. So a
new machine that retrains only some runs (those whose models are not committed) does not drop the
results of the rest. Rows keep COMMITTED's order; runs new to it follow in NEW's order.

usage: merge_results.py COMMITTED NEW   (COMMITTED is rewritten atomically)
"""
import os
import sys
from collections import OrderedDict

HEADER = "run,seed,noise,method,k,mean,sem,n"


def read(path):
    groups = OrderedDict()
    with open(path) as f:
        header = f.readline().strip()
        if header != HEADER:
            raise SystemExit(f"{path}: not a sweep results CSV (header '{header}')")
        for line in f:
            run, seed, _ = line.split(",", 2)
            groups.setdefault((run, seed), []).append(line if line.endswith("\n") else line + "\n")
    return groups


def main(argv):
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    committed = read(argv[0]) if os.path.exists(argv[0]) else OrderedDict()
    new = read(argv[1])
    merged = OrderedDict((key, new.get(key, rows)) for key, rows in committed.items())
    merged.update((key, rows) for key, rows in new.items() if key not in merged)
    with open(argv[0] + ".new", "w") as f:
        f.write(HEADER + "\n" + "".join(line for rows in merged.values() for line in rows))
    os.replace(argv[0] + ".new", argv[0])
    replaced = sum(key in committed for key in new)
    print(f"{argv[0]}: {replaced} runs updated, {len(new) - replaced} added, {len(committed) - replaced} kept")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
