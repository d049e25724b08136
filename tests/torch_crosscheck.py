#!/usr/bin/python3
"""Cross-check against the PyTorch reference (../shared/reference/icalign_torch.py).

Loads the weights our C++ model saved (safetensors, parsed here with json + numpy: no extra
package) into the reference ICAlignTransformer, runs the same batch, and compares the predictions
and every parameter gradient of loss = sum(pred * w) with ours, and the Plackett-Luce loss of the
predictions (value and gradient) with the reference's pl_loss_vec.
Usage: torch_crosscheck.py DUMP_DIR REFERENCE_DIR float32|float64
Exit 0 when every relative difference max|ours - torch| / max|torch| is within tolerance."""
import math
import json
import struct
import sys

import numpy as np
import torch

TOL = {"float64": 1e-9, "float32": 1e-4}
NP = {"F32": np.float32, "F64": np.float64}


def load_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (hlen,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + hlen])
    data = raw[8 + hlen:]
    meta = header.pop("__metadata__", {})
    out = {}
    for name, e in header.items():
        b, end = e["data_offsets"]
        arr = np.frombuffer(data[b:end], dtype=NP[e["dtype"]]).reshape(e["shape"])
        out[name] = torch.from_numpy(arr.copy())
    return out, meta


def main():
    dump_dir, ref_dir, dtype = sys.argv[1], sys.argv[2], sys.argv[3]
    sys.path.insert(0, ref_dir)
    import icalign_torch as ref

    weights, meta = load_safetensors(f"{dump_dir}/model.safetensors")
    io, _ = load_safetensors(f"{dump_dir}/io.safetensors")
    tdtype = {"float32": torch.float32, "float64": torch.float64}[dtype]
    model = ref.ICAlignTransformer(n_dims=int(meta["model.n_dims"]), n_points=int(meta["model.n_points"]),
                                   n_embd=int(meta["model.n_embd"]), n_layer=int(meta["model.n_layer"]),
                                   n_head=int(meta["model.n_head"])).to(tdtype)
    model.load_state_dict(weights, strict=True)  # names and shapes must match exactly
    pred = model(io["xs"], io["ys"], io["rs"])
    (pred * io["w"]).sum().backward()

    # The Plackett-Luce training loss of the same predictions (the reference's vectorised form).
    leaf = io["pred"].clone().requires_grad_()
    pl = ref.pl_loss_vec(leaf, io["ys"], io["rs"])
    pl.backward()

    worst = 0.0
    rows = [("pred", pred.detach(), io["pred"]), ("pl_loss", pl.detach(), io["pl_loss"]), ("pl_grad", leaf.grad, io["pl_grad"])]
    rows += [(f"grad.{n}", p.grad, io[f"grad.{n}"]) for n, p in model.named_parameters()]
    for name, theirs, ours in rows:
        rel = (ours - theirs).abs().max().item() / max(theirs.abs().max().item(), 1e-30)
        if not math.isfinite(rel):  # NaN compares false both ways, and max(worst, nan) keeps worst
            rel = math.inf
        worst = max(worst, rel)
        if rel > TOL[dtype]:
            print(f"MISMATCH {dtype} {name}: relative difference {rel:.3e} > {TOL[dtype]:.0e}")
    n_grads = len(rows) - 3
    print(f"{dtype}: predictions, {n_grads} parameter gradients, PL loss and its gradient: max relative difference {worst:.3e}"
          f" (tolerance {TOL[dtype]:.0e}, torch {torch.__version__})")
    return 0 if worst <= TOL[dtype] else 1


if __name__ == "__main__":
    sys.exit(main())
