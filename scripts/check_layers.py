"""Fails when a file includes a layer above its own.

    python3 scripts/check_layers.py [ROOT]   (default: this checkout; exit 1 and one line per offending include)

The layers, lowest first: autograd <- nn <- experiments/task <- model <- methods <- train <- studies
<- cli (with the programs in experiments/ and experiments/bench/ at the cli's level). A layer may
include its own and any lower layer's headers, never a higher one's: the task does not know the
studies, training does not call a study. CMakeLists.txt links the layers in the same order.
"""
import os
import re
import sys

ORDER = ["autograd", "nn", "experiments/task", "experiments/model", "experiments/methods", "experiments/train",
         "experiments/studies", "experiments/cli"]
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def layer_of(path):
    """the rank of a repository path's layer, or None for files outside the layers (tests, tools)"""
    for rank in range(len(ORDER) - 1, -1, -1):
        if path.startswith(ORDER[rank] + "/"):
            return rank
    if path.startswith("experiments/"):  # the programs: icalign.cpp, examples/, bench/
        return len(ORDER) - 1
    return None


def main(root):
    bad = []
    for top in ("autograd", "nn", "experiments"):
        for dirpath, _, names in os.walk(os.path.join(root, top)):
            for name in sorted(names):
                if not name.endswith((".hpp", ".cpp", ".h")):
                    continue
                path = os.path.relpath(os.path.join(dirpath, name), root)
                own = layer_of(path)
                for number, line in enumerate(open(os.path.join(root, path)), 1):
                    m = INCLUDE.match(line)
                    if not m:
                        continue
                    target = layer_of(m.group(1))
                    if target is not None and target > own:
                        bad.append(f"{path}:{number}: includes {m.group(1)} ({ORDER[target]} is above {ORDER[own]})")
    for line in bad:
        print(line)
    if bad:
        sys.exit(f"{len(bad)} include(s) against the layer order " + " <- ".join(ORDER))
    print("layers: every include goes down or sideways")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
