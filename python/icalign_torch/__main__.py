"""python3 -m icalign_torch check | bench --n-layer L --n-embd C --n-head H --n-points N --n-dims d --batch B

check: the vectorised losses against their definitions (float64), causality of every causal variant.
bench: median seconds per training step (zero_grad, forward, PL loss, backward, Adam) of the workload
       `icalign bench` reads from a config file and passes here, printed as one line `icalign bench`
       parses ("median=<s>s ... rss=<MB>MB").
"""
import argparse
import ctypes
import resource
import statistics
import sys
import time

import torch

from .losses import bt_loss, bt_loss_loop, pl_loss, pl_loss_loop
from .model import ICAlignTransformer, ModelConfig
from .task import sample_batch


def set_threads(n):
    """ATen's pool and OpenBLAS's (which Debian's torch calls for every GEMM) are separate."""
    torch.set_num_threads(n)
    try:
        ctypes.CDLL("libopenblas.so.0").openblas_set_num_threads(n)
    except OSError:
        pass


def cmd_check(args):
    ok = True
    g = torch.Generator().manual_seed(0)
    for B, N in ((3, 20), (2, 7)):
        xs, ys, rs, _ = sample_batch(B, n_points=N, dtype=torch.float64, generator=g)
        rs[:, 4] = rs[:, 1]  # a tie: broken by index
        pred = torch.randn(B, N, 5, dtype=torch.float64, generator=g, requires_grad=True)
        for name, fast, slow in (("pl", pl_loss, pl_loss_loop), ("bt", bt_loss, bt_loss_loop)):
            a, b = fast(pred, ys, rs), slow(pred, ys, rs)
            ga, = torch.autograd.grad(a, pred)
            gb, = torch.autograd.grad(b, pred)
            err = max(abs(a.item() - b.item()) / abs(b.item()), ((ga - gb).abs().max() / gb.abs().max()).item())
            print(f"{name} loss B={B} N={N}: vectorised {a.item():.12f}, definition {b.item():.12f}, max relative difference {err:.1e}")
            ok &= err < 1e-10
    for attention in ("softmax", "linear"):
        for ffn in (True, False):
            model = ICAlignTransformer(ModelConfig(n_embd=16, n_layer=2, n_head=2, n_points=8, attention=attention, ffn=ffn))
            xs, ys, rs, _ = sample_batch(2, n_points=8, generator=g)
            ys2, rs2 = ys.clone(), rs.clone()
            ys2[:, 5:] += 1
            rs2[:, 5:] = 0.5
            change = (model(xs, ys, rs)[:, :6] - model(xs, ys2, rs2)[:, :6]).abs().max().item()
            print(f"causal {attention}, ffn {ffn}: answers at x tokens 0..5 move by {change:.1e} when triplets 5.. change")
            ok &= change == 0.0
    print("CHECK", "PASSED" if ok else "FAILED")
    return 0 if ok else 1


def cmd_bench(args):
    set_threads(args.threads)
    torch.manual_seed(0)
    model = ICAlignTransformer(ModelConfig(n_dims=args.n_dims, n_points=args.n_points, n_embd=args.n_embd,
                                           n_layer=args.n_layer, n_head=args.n_head))
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    batches = [sample_batch(args.batch, n_dims=args.n_dims, n_points=args.n_points) for _ in range(4)]

    def step(batch):
        xs, ys, rs, _ = batch
        if args.forward_only:
            with torch.no_grad():
                return pl_loss(model(xs, ys, rs), ys, rs).item()
        opt.zero_grad()
        loss = pl_loss(model(xs, ys, rs), ys, rs)
        loss.backward()
        opt.step()
        return loss.item()

    for i in range(args.warmup):
        step(batches[i % 4])
    times = []
    for i in range(args.steps):
        t0 = time.perf_counter()
        step(batches[i % 4])
        times.append(time.perf_counter() - t0)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"[bench] layers={args.n_layer} embd={args.n_embd} heads={args.n_head} batch={args.batch} {'forward' if args.forward_only else 'train'} threads={args.threads} "
          f"median={statistics.median(times):.4f}s (min {min(times):.4f}, max {max(times):.4f}, n={len(times)}) "
          f"rss={rss:.0f}MB torch {torch.__version__}", flush=True)
    return 0


def main():
    ap = argparse.ArgumentParser(prog="python3 -m icalign_torch", description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("check")
    b = sub.add_parser("bench")
    # The workload, as `icalign bench` reads it from a config file (experiments/configs).
    for name in ("n-layer", "n-embd", "n-head", "n-points", "n-dims", "batch"):
        b.add_argument("--" + name, type=int, required=True)
    b.add_argument("--threads", type=int, default=2)
    b.add_argument("--steps", type=int, default=10)
    b.add_argument("--warmup", type=int, default=3)
    b.add_argument("--forward-only", action="store_true")
    args = ap.parse_args()
    return cmd_check(args) if args.cmd == "check" else cmd_bench(args)


if __name__ == "__main__":
    sys.exit(main())
