#!/usr/bin/python3
"""Cross-check of one model variant against the project's PyTorch oracle (python/icalign_torch).

Loads the weights our C++ model saved into the oracle's ICAlignTransformer (strict: names and
shapes must match), runs the same batch, and compares the predictions and every parameter gradient
of loss = sum(pred * w) with ours, and the Plackett-Luce and Bradley-Terry losses of the
predictions (values and gradients) with the oracle's.
Usage: torch_crosscheck.py DUMP_DIR float32|float64
Exit 0 when every relative difference max|ours - torch| / max|torch| is within tolerance."""
import math
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from icalign_torch import ICAlignTransformer, ModelConfig, bt_loss, pl_loss  # noqa: E402
from icalign_torch import safetensors_io  # noqa: E402

TOL = {"float64": 1e-9, "float32": 1e-4}


def main():
    dump_dir, dtype = sys.argv[1], sys.argv[2]
    weights, meta = safetensors_io.read(f"{dump_dir}/model.safetensors")
    io, _ = safetensors_io.read(f"{dump_dir}/io.safetensors")
    cfg = ModelConfig.from_metadata(meta)
    model = ICAlignTransformer(cfg).to(getattr(torch, dtype))
    model.load_state_dict(weights, strict=True)
    pred = model(io["xs"], io["ys"], io["rs"])
    (pred * io["w"]).sum().backward()
    rows = [("pred", pred.detach(), io["pred"])]
    for name, loss in (("pl", pl_loss), ("bt", bt_loss)):
        leaf = io["pred"].clone().requires_grad_()
        value = loss(leaf, io["ys"], io["rs"])
        value.backward()
        rows += [(f"{name}_loss", value.detach(), io[f"{name}_loss"]), (f"{name}_grad", leaf.grad, io[f"{name}_grad"])]
    rows += [(f"grad.{n}", p.grad, io[f"grad.{n}"]) for n, p in model.named_parameters()]

    worst = 0.0
    for name, theirs, ours in rows:
        rel = (ours - theirs).abs().max().item() / max(theirs.abs().max().item(), 1e-30)
        if not math.isfinite(rel):  # NaN compares false both ways, and max(worst, nan) keeps worst
            rel = math.inf
        worst = max(worst, rel)
        if rel > TOL[dtype]:
            print(f"MISMATCH {dtype} {name}: relative difference {rel:.3e} > {TOL[dtype]:.0e}")
    variant = f"{cfg.attention}, {'causal' if cfg.causal else 'full'}, {cfg.activation + ' ffn' if cfg.ffn else 'no ffn'}"
    print(f"{dtype} {variant}: predictions, {len(rows) - 5} parameter gradients, PL and BT losses and their gradients: "
          f"max relative difference {worst:.3e} (tolerance {TOL[dtype]:.0e}, torch {torch.__version__})")
    return 0 if worst <= TOL[dtype] else 1


if __name__ == "__main__":
    sys.exit(main())
