#!/usr/bin/python3
"""The mechanism study's tools where the answer is known (python/mechanism.py):
- a ridge probe recovers a planted linear feature and fails on shuffled targets;
- knocking out nothing changes nothing, bit for bit, and every knock-out's hooks are removed after;
- the attention-rank score is 1 for attention that follows the rewards and -1 for the reverse;
- batched GD is the same as one GD run per sequence;
- the construction's step is minus the gradient of the quadratic PL loss at u = 0, by autograd;
- the spread task's responses have |y*|'s length, rewards (1 + cos)/2, and leave the line;
- a model too short for the studies' k is a clear error.
"""
import os
import subprocess
import sys
import tempfile

import torch

PY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python")
sys.path.insert(0, PY)
import mechanism  # noqa: E402
from icalign_torch import ICAlignTransformer, ModelConfig, pl_loss, sample_batch, sample_spread_batch, save_run  # noqa: E402

failures, checks = [], []


def check(ok, what):
    checks.append(what)
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)


g = torch.Generator().manual_seed(0)
X = torch.randn(3000, 16, generator=g)
Y = X @ torch.randn(16, 5, generator=g) + 1e-3 * torch.randn(3000, 5, generator=g)
r2 = mechanism.ridge_r2(X, Y, 2000, lam=1e-6)
r2_shuffled = mechanism.ridge_r2(X, Y, 2000, lam=1e-6, shuffle=torch.Generator().manual_seed(1))
check(r2 > 0.9999, f"planted linear feature: R² {r2:.6f} > 0.9999")
check(r2_shuffled < 0.01, f"shuffled targets: R² {r2_shuffled:.4f} < 0.01")

torch.manual_seed(3)
cfg = ModelConfig(n_embd=24, n_layer=3, n_head=3, n_points=8)
model = ICAlignTransformer(cfg).eval()
xs, ys, rs, ystar = sample_batch(16, n_points=8, generator=g)
with torch.no_grad():
    plain = mechanism.alignment_error(model(xs, ys, rs).double(), ystar.double())
check(torch.equal(mechanism.errors(model, xs, ys, rs, ystar, [("none",)]), plain), "knock-out of nothing is bit-identical")
for part in (("block", 1), ("ffn", 2), ("head", 0, 1)):
    changed = not torch.equal(mechanism.errors(model, xs, ys, rs, ystar, [part]), plain)
    with torch.no_grad():
        restored = torch.equal(mechanism.alignment_error(model(xs, ys, rs).double(), ystar.double()), plain)
    check(changed and restored, f"knock-out {part} changes the answers, and its hooks are gone afterwards")

rewards = torch.rand(32, 9, generator=g)
check(mechanism.rank_scores(rewards.softmax(1), rewards) == (1.0, 1.0), "attention ordered by reward: rank score 1, top-1 always")
corr, top1 = mechanism.rank_scores((-rewards).softmax(1), rewards)
check(abs(corr + 1) < 1e-12 and top1 == 0.0, f"attention against reward: rank score {corr:.3f}, top-1 {top1}")

xs, ys, rs, ystar = sample_batch(6, n_points=8, dtype=torch.float64, generator=g)
batched = mechanism.gd_answers(xs, ys, rs, 5, steps=20, generator=torch.Generator().manual_seed(9))
init = (torch.rand(6, 5, 5, generator=torch.Generator().manual_seed(9), dtype=torch.float64) * 2 - 1) / 5 ** 0.5
one_by_one = []
for b in range(6):
    W = init[b].clone().requires_grad_()
    opt = torch.optim.Adam([W], lr=0.1)
    for _ in range(20):
        opt.zero_grad()
        u = (W @ xs[b, 0])[None, None, :].expand(1, 6, 5)
        pl_loss(u, torch.cat([ys[b:b + 1, :5], ys[b:b + 1, :1]], 1), torch.cat([rs[b:b + 1, :5], rs[b:b + 1, :1]], 1), n_start=5).backward()
        opt.step()
    one_by_one.append((W @ xs[b, 0]).detach())
diff = (batched - torch.stack(one_by_one)).abs().max().item()
check(diff < 1e-12, f"batched GD equals one run per sequence (max difference {diff:.1e})")

# The PL loss with the quadratic score s_j = -beta |u - y_j|^2 over k ranked responses, by its definition:
# L = -sum_i [s_tau(i) - log sum_{m >= i} exp s_tau(m)]. Its gradient at u = 0 is -2 beta g, g the step.
k, beta = 6, 0.7
seen_y, seen_r = ys[:, :k], rs[:, :k]
u = torch.zeros(6, 5, dtype=torch.float64, requires_grad=True)
order = seen_r.argsort(1, descending=True)
s = -beta * ((u[:, None, :] - seen_y) ** 2).sum(-1)
s_ranked = s[torch.arange(6)[:, None], order]
loss = -sum((s_ranked[:, i] - torch.logsumexp(s_ranked[:, i:], 1)).sum() for i in range(k))
loss.backward()
step = mechanism.construction_step(seen_y, seen_r, beta)
diff = (step - (-u.grad / (2 * beta))).abs().max().item()
check(diff < 1e-12, f"the construction's step is -grad/(2 beta) of the quadratic PL loss at u = 0 (max difference {diff:.1e})")

xs_s, ys_s, rs_s, ystar_s = sample_spread_batch(64, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
lengths = (ys_s.norm(dim=-1) - ystar_s.norm(dim=-1, keepdim=True)).abs().max().item()
quality = (rs_s - (1 + torch.cosine_similarity(ys_s, ystar_s[:, None].expand_as(ys_s), dim=-1)) / 2).abs().max().item()
off_line = ys_s - (ys_s @ ystar_s[..., None]) / (ystar_s ** 2).sum(-1)[:, None, None] * ystar_s[:, None]
rank = torch.linalg.matrix_rank(off_line).min().item()
check(lengths < 1e-12 and quality < 1e-12 and rank >= 2,
      f"spread responses: |y_n| = |y*| ({lengths:.0e}), r = (1 + cos)/2 ({quality:.0e}), off the line (rank {rank} >= 2)")

with tempfile.TemporaryDirectory() as tmp:
    save_run(model, os.path.join(tmp, "short"))
    r = subprocess.run(["/usr/bin/python3", os.path.join(PY, "mechanism.py"), "ood", os.path.join(tmp, "short"), os.path.join(tmp, "o.csv")],
                       capture_output=True, text=True)
    check(r.returncode == 2 and "only 8 triplets" in r.stderr, "a model with fewer triplets than the studies' k is refused: "
          + r.stderr.strip().splitlines()[-1][:100])

print(f"{len(checks) - len(failures)} passed, {len(failures)} failed")
sys.exit(1 if failures else 0)
