"""icalign's PyTorch oracle: the task, the transformer (every variant icalign trains), the
Plackett-Luce and Bradley-Terry losses, and loading an icalign run into PyTorch.

Written for this project, independently of the C++ code, so that it can check it: the C++ tests
compare values and gradients with it (tests/torch_crosscheck.py), `icalign bench` times it as the
baseline, and researchers load trained runs with it to probe them (python/examples/probe.py).
It needs only Debian's python3-torch and python3-numpy.

    import sys; sys.path.insert(0, "python")
    from icalign_torch import load_run, sample_batch
    model, cfg = load_run("docs/results/paper_model")
    xs, ys, rs, ystar = sample_batch(64, generator=torch.Generator().manual_seed(0))
    pred = model(xs, ys, rs)                  # (B, N, d): the answer at every x token
"""
from .losses import bt_loss, pl_loss, pl_loss_loop
from .model import ICAlignTransformer, ModelConfig
from .run import load_run, load_weights, save_run
from .task import alignment_error, replace_rewards, sample_batch, sample_spread_batch

__all__ = ["ICAlignTransformer", "ModelConfig", "load_run", "load_weights", "save_run", "sample_batch", "sample_spread_batch", "replace_rewards",
           "alignment_error", "pl_loss", "pl_loss_loop", "bt_loss"]
