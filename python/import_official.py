#!/usr/bin/python3
"""Turn a model trained by the official code into an icalign run directory.

usage: import_official.py STATE_PT CONFIG_YAML RUN_DIR

Reads the official state.pt ({"model_state_dict": ...}) and config.yaml (model: n_dims,
n_positions = triplets, n_embd, n_layer, n_head), and writes RUN_DIR/config.yaml and
RUN_DIR/checkpoint/model.safetensors, which `icalign eval --run RUN_DIR` evaluates. Only the
official TransformerModel (causal softmax GPT-2 with its MLP) maps onto an icalign model; its
ablations and anything else are refused, naming what does not fit.
"""
import os
import sys

import torch
import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from icalign_torch import official, save_run  # noqa: E402


def main(argv):
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    state_pt, config_yaml, run_dir = argv
    try:
        with open(config_yaml) as f:
            conf = yaml.safe_load(f) or {}
        m = conf.get("model", {})
        missing = [k for k in ("n_dims", "n_positions", "n_layer", "n_head") if k not in m]
        if missing:
            raise ValueError(f"{config_yaml}: model.{missing[0]} is missing (an official config names n_dims, "
                             f"n_positions, n_embd, n_layer, n_head)")
        if m.get("family", "gpt2") != "gpt2":
            raise ValueError(f"{config_yaml}: model.family is '{m['family']}'; only gpt2 imports")
        saved = torch.load(state_pt, map_location="cpu")
        state = saved.get("model_state_dict", saved)
        model = official.from_official(state, int(m["n_dims"]), int(m["n_positions"]), int(m["n_layer"]), int(m["n_head"]))
        if "n_embd" in m and int(m["n_embd"]) != model.cfg.n_embd:
            raise ValueError(f"{config_yaml}: model.n_embd is {m['n_embd']}, the weights have {model.cfg.n_embd}")
    except (OSError, ValueError, KeyError) as e:
        print(f"import_official: {e}", file=sys.stderr)
        return 1
    t = conf.get("training", {})
    training = {k: t[k] for k in ("batch_size", "learning_rate", "train_steps") if k in t}
    save_run(model, run_dir, step=saved.get("train_step", 0), training=training)
    print(f"{run_dir}: an icalign run with the official model's weights ({model.cfg.n_layer} layers, {model.cfg.n_embd} dims)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
