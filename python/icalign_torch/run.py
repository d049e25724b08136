"""icalign run directories in PyTorch.

A run directory holds config.yaml and checkpoint/model.safetensors, whose metadata names the model
("model.n_layer" and so on) and carries a checksum. load_run gives back a PyTorch model with the
run's weights; save_run writes a run directory icalign can evaluate (`icalign eval --run DIR`).
"""
import os

import torch

from . import safetensors_io
from .model import ICAlignTransformer, ModelConfig


def load_run(run_dir, dtype=torch.float32):
    """-> (model in eval mode, ModelConfig). Clear errors if the directory is not a run."""
    path = os.path.join(run_dir, "checkpoint", "model.safetensors")
    if not os.path.exists(path):
        raise FileNotFoundError(f"{run_dir} is not an icalign run with weights: no {path}")
    return load_weights(path, dtype)


def load_weights(path, dtype=torch.float32):
    """A model from one icalign weights file (a checkpoint or a snapshot, snapshots/step-NNNNNN.safetensors)."""
    weights, meta = safetensors_io.read(path)
    cfg = ModelConfig.from_metadata(meta)
    model = ICAlignTransformer(cfg)
    model.load_state_dict(weights, strict=True)
    return model.to(dtype).eval(), cfg


def save_run(model, run_dir, step=0, training=None):
    """Writes run_dir/config.yaml and run_dir/checkpoint/model.safetensors (float32) for `model`.
    `training`: extra training.* fields for config.yaml (e.g. seed, learning_rate)."""
    cfg = model.cfg
    os.makedirs(os.path.join(run_dir, "checkpoint"), exist_ok=True)
    meta = dict(cfg.to_metadata(), step=str(step))
    params = [(n, p.detach().to(torch.float32)) for n, p in model.named_parameters()]
    safetensors_io.write(os.path.join(run_dir, "checkpoint", "model.safetensors"), params, meta)
    lines = ["model:"] + [f"  {k[len('model.'):]}: {v}" for k, v in cfg.to_metadata().items()]
    if training:
        lines += ["training:"] + [f"  {k}: {v}" for k, v in training.items()]
    with open(os.path.join(run_dir, "config.yaml.new"), "w") as f:
        f.write("\n".join(lines) + "\n")
    os.replace(os.path.join(run_dir, "config.yaml.new"), os.path.join(run_dir, "config.yaml"))
