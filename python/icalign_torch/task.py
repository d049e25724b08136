"""The paper's synthetic ranking task (docs/paper.md, "The task").

Per sequence: one query x ~ N(0, I_d) shown at every position, a target map W* and a "bad" map W_e
with N(0, 1) entries, y* = x W*, e = x W_e, rewards r_i ~ U(0, 1), and responses
y_i = r_i y* + (1 - r_i) e: a higher reward means a response closer to the target.
The same distribution as icalign's sampler, from torch's generator (so not the same draws).
"""
import torch


def sample_batch(B, n_dims=5, n_points=20, dtype=torch.float32, generator=None):
    """-> xs (B, N, d), ys (B, N, d), rs (B, N), ystar (B, d)."""
    g = generator
    x = torch.randn(B, 1, n_dims, generator=g, dtype=dtype)
    w_star = torch.randn(B, n_dims, n_dims, generator=g, dtype=dtype)
    w_bad = torch.randn(B, n_dims, n_dims, generator=g, dtype=dtype)
    rs = torch.rand(B, n_points, generator=g, dtype=dtype)
    ystar, e = x @ w_star, x @ w_bad                       # (B, 1, d) each
    ys = rs[..., None] * ystar + (1 - rs[..., None]) * e    # (B, N, d)
    return x.expand(B, n_points, n_dims).contiguous(), ys, rs, ystar[:, 0]


def sample_spread_batch(B, n_dims=5, n_points=20, dtype=torch.float32, generator=None):
    """The spread task (icalign's task.responses: spread): each response mixes y* with a wrong direction
    of its own, e_n = x W_n, and is scaled to |y*|; its reward is its quality (1 + cos(y_n, y*)) / 2.
    -> xs (B, N, d), ys (B, N, d), rs (B, N), ystar (B, d)."""
    g = generator
    x = torch.randn(B, 1, n_dims, generator=g, dtype=dtype)
    w_star = torch.randn(B, n_dims, n_dims, generator=g, dtype=dtype)
    w_own = torch.randn(B, n_points, n_dims, n_dims, generator=g, dtype=dtype)
    mix = torch.rand(B, n_points, 1, generator=g, dtype=dtype)
    ystar = x @ w_star                                       # (B, 1, d)
    e = torch.einsum("bi,bnij->bnj", x[:, 0], w_own)          # (B, N, d)
    ys = mix * ystar + (1 - mix) * e
    ys = ys * (ystar.norm(dim=-1, keepdim=True) / ys.norm(dim=-1, keepdim=True))
    rs = (1 + torch.cosine_similarity(ys, ystar.expand_as(ys), dim=-1)) / 2
    return x.expand(B, n_points, n_dims).contiguous(), ys, rs, ystar[:, 0]


def replace_rewards(rs, p, generator=None):
    """Reward noise as the official notebook applies it: each reward independently, with probability
    p, becomes a fresh U(0, 1) draw; the responses keep the rewards they were built with."""
    mask = torch.rand(rs.shape, generator=generator, dtype=rs.dtype) < p
    return torch.where(mask, torch.rand(rs.shape, generator=generator, dtype=rs.dtype), rs)


def alignment_error(pred, ystar):
    """1 - cos(pred_k, y*) per sequence and x token: pred (B, N, d), ystar (B, d) -> (B, N)."""
    return 1 - torch.cosine_similarity(pred, ystar[:, None, :].expand_as(pred), dim=-1)
