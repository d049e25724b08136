#!/usr/bin/python3
"""Interop with the official code (python/export_official.py, python/import_official.py).

1. The released model exported to the official format loads with strict=True into a module tree
   with the official names, shapes and forward (icalign_torch.official.OfficialTransformerModel,
   transformers 4.17's GPT2Model layout), and answers as our model does on the same batch.
2. Export then import gives back every tensor bit for bit, and the same model metadata.
3. What cannot be mapped is refused with a message: a linear-attention run on export, a state
   dict with a tensor the official model does not have on import.
Usage: torch_official.py RELEASED_RUN_DIR
"""
import os
import subprocess
import sys
import tempfile

import torch
import yaml

PY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python")
sys.path.insert(0, PY)
from icalign_torch import ICAlignTransformer, ModelConfig, load_run, sample_batch, save_run, safetensors_io  # noqa: E402
from icalign_torch.official import OfficialTransformerModel  # noqa: E402


def run(script, *args):
    return subprocess.run(["/usr/bin/python3", os.path.join(PY, script), *args], capture_output=True, text=True)


def main():
    released = sys.argv[1]
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        out, back = os.path.join(tmp, "official"), os.path.join(tmp, "imported")
        r = run("export_official.py", released, out)
        if r.returncode:
            sys.exit(f"FAILED: export: {r.stderr}")
        with open(os.path.join(out, "config.yaml")) as f:
            m = yaml.safe_load(f)["model"]
        official = OfficialTransformerModel(m["n_dims"], m["n_positions"], m["n_embd"], m["n_layer"], m["n_head"])
        official.load_state_dict(torch.load(os.path.join(out, "state.pt"))["model_state_dict"], strict=True)
        ours, _ = load_run(released)
        xs, ys, rs, _ = sample_batch(32, generator=torch.Generator().manual_seed(5))
        with torch.no_grad():
            a, b = official(xs, ys, rs), ours(xs, ys, rs)
        rel = ((a - b).abs().max() / b.abs().max()).item()
        print(f"strict load into the official module tree; answers within {rel:.1e} (relative) of ours")
        if rel > 1e-5:
            failures.append(f"official forward differs from ours by {rel:.1e}")

        r = run("import_official.py", os.path.join(out, "state.pt"), os.path.join(out, "config.yaml"), back)
        if r.returncode:
            sys.exit(f"FAILED: import: {r.stderr}")
        t0, meta0 = safetensors_io.read(os.path.join(released, "checkpoint", "model.safetensors"))
        t1, meta1 = safetensors_io.read(os.path.join(back, "checkpoint", "model.safetensors"))
        same = t0.keys() == t1.keys() and all(t0[k].dtype == t1[k].dtype and torch.equal(t0[k], t1[k]) for k in t0)
        model_meta = lambda meta: {k: v for k, v in meta.items() if k.startswith("model.")}
        print(f"export -> import: {len(t1)} tensors {'bit-identical' if same else 'DIFFER'}; "
              f"model metadata {'equal' if model_meta(meta0) == model_meta(meta1) else 'DIFFERS'}")
        if not same or model_meta(meta0) != model_meta(meta1):
            failures.append("export -> import is not the identity")

        lin = os.path.join(tmp, "linear")
        save_run(ICAlignTransformer(ModelConfig(n_embd=16, n_layer=2, n_head=2, attention="linear")), lin)
        r = run("export_official.py", lin, os.path.join(tmp, "x"))
        print(f"linear run on export: exit {r.returncode}: {r.stderr.strip()[:120]}")
        if r.returncode != 1 or "attention=linear" not in r.stderr:
            failures.append("export of a linear-attention run was not refused with its reason")

        state = torch.load(os.path.join(out, "state.pt"))
        state["model_state_dict"]["_backbone.h.0.attn.query.weight"] = torch.zeros(1)
        torch.save(state, os.path.join(tmp, "bad.pt"))
        r = run("import_official.py", os.path.join(tmp, "bad.pt"), os.path.join(out, "config.yaml"), os.path.join(tmp, "y"))
        print(f"an ablation's tensor on import: exit {r.returncode}: {r.stderr.strip()[:120]}")
        if r.returncode != 1 or "ablation" not in r.stderr or os.path.exists(os.path.join(tmp, "y")):
            failures.append("import of a state dict with an ablation's tensor was not refused cleanly")
    for f in failures:
        print("FAILED:", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
