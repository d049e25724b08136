#!/usr/bin/python3
"""Write an icalign run in the official code's format, for its evaluate.py and noise notebook.

usage: export_official.py RUN_DIR OUT_DIR

OUT_DIR/state.pt is {"model_state_dict": ..., "train_step": ...} with the official module names
and layouts (python/icalign_torch/official.py), and OUT_DIR/config.yaml the arguments the official
get_model_from_run reads (model: family gpt2, n_dims, n_positions = triplets, n_embd, n_layer,
n_head; training: the run's batch size, learning rate and steps). Only softmax, causal, FFN models
map onto the official TransformerModel; others are refused with the reason.
"""
import os
import sys

import torch
import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from icalign_torch import load_run  # noqa: E402
from icalign_torch import official, safetensors_io  # noqa: E402


def main(argv):
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    run_dir, out_dir = argv
    try:
        model, cfg = load_run(run_dir)
        state = official.to_official(model)
    except (ValueError, FileNotFoundError) as e:
        print(f"export_official: {run_dir}: {e}", file=sys.stderr)
        return 1
    _, meta = safetensors_io.read(os.path.join(run_dir, "checkpoint", "model.safetensors"))
    ours = {}
    if os.path.exists(os.path.join(run_dir, "config.yaml")):
        with open(os.path.join(run_dir, "config.yaml")) as f:
            ours = yaml.safe_load(f) or {}
    training = ours.get("training", {})
    conf = {
        "model": {"family": "gpt2", "n_dims": cfg.n_dims, "n_positions": cfg.n_points, "n_embd": cfg.n_embd,
                  "n_layer": cfg.n_layer, "n_head": cfg.n_head},
        "training": {"task": "mixed_linear_alignment", "data": "mixed_gaussian", "task_kwargs": {},
                     "batch_size": training.get("batch_size", 256), "learning_rate": training.get("learning_rate", 1e-4),
                     "train_steps": training.get("train_steps", int(meta.get("step", 0)))},
        "out_dir": out_dir,
        "test_run": False,
    }
    os.makedirs(out_dir, exist_ok=True)
    torch.save({"model_state_dict": state, "train_step": int(meta.get("step", 0))}, os.path.join(out_dir, "state.pt.new"))
    os.replace(os.path.join(out_dir, "state.pt.new"), os.path.join(out_dir, "state.pt"))
    with open(os.path.join(out_dir, "config.yaml.new"), "w") as f:
        yaml.safe_dump(conf, f, default_flow_style=False)
    os.replace(os.path.join(out_dir, "config.yaml.new"), os.path.join(out_dir, "config.yaml"))
    print(f"{out_dir}: state.pt ({len(state)} tensors, official TransformerModel names) and config.yaml")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
