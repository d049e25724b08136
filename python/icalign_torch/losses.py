"""The alignment losses (docs/paper.md, "The losses").

For the answer at x token n, which has seen responses 0..n-1, the score of response j is
s_nj = cos(pred_n, y_j), and the responses are ranked by their in-context reward (descending,
ties by index). Both losses are averaged over n = 2..N-1, then over the batch.

  Plackett-Luce:  loss_n = sum_{i<n} [ -s_(i) + log sum_{k ranked at or after (i)} exp s_(k) ]
  Bradley-Terry:  loss_n = sum over pairs (w, l) among the first n, w ranked before l,
                  of -log sigmoid(s_w - s_l)

pl_loss and bt_loss are vectorised; pl_loss_loop and bt_loss_loop transcribe the definitions one
sequence at a time, and the vectorised forms are checked against them.
"""
import torch
import torch.nn.functional as F


def _scores(pred, ys, eps=1e-8):
    """S[b, n, j] = cos(pred_n, y_j): (B, N, N)."""
    pn = pred / pred.norm(dim=-1, keepdim=True).clamp_min(eps)
    yn = ys / ys.norm(dim=-1, keepdim=True).clamp_min(eps)
    return pn @ yn.transpose(1, 2)


def _ranked_before(rs):
    """A[b, j, k] = response j is ranked at or before k (higher reward, ties by index): (B, N, N)."""
    N = rs.shape[1]
    rj, rk = rs[:, :, None], rs[:, None, :]
    idx = torch.arange(N, device=rs.device)
    return (rj > rk) | ((rj == rk) & (idx[:, None] <= idx[None, :]))


def pl_loss(pred, ys, rs, n_start=2, per_sequence=False):
    """pred, ys (B, N, d); rs (B, N) -> scalar (per_sequence: (B), each sequence's mean over n)."""
    B, N, _ = pred.shape
    S = _scores(pred, ys)
    seen = torch.ones(N, N, dtype=torch.bool, device=pred.device).tril(-1)   # seen[n, j] = j < n
    E = torch.exp(S) * seen
    # denom[b, n, j] = sum over seen k ranked at or after j of exp s_nk; 1 where j is unseen (log 1 = 0)
    denom = E @ _ranked_before(rs).to(pred.dtype).transpose(1, 2) + (~seen)
    per_n = ((torch.log(denom) - S) * seen).sum(-1)                          # (B, N)
    per_seq = per_n[:, n_start:].mean(1)
    return per_seq if per_sequence else per_seq.mean(0)


def bt_loss(pred, ys, rs, n_start=2):
    """pred, ys (B, N, d); rs (B, N) -> scalar."""
    B, N, _ = pred.shape
    S = _scores(pred, ys)
    idx = torch.arange(N, device=pred.device)
    before = _ranked_before(rs) & (idx[:, None] != idx[None, :])             # (B, w, l): w strictly before l
    # pair (w, l) counts at n when both are seen: w < n and l < n
    seen = idx[None, :] < idx[:, None]                                       # seen[n, j] = j < n
    pair_seen = seen[:, :, None] & seen[:, None, :]                          # (n, w, l)
    margin = S[:, :, :, None] - S[:, :, None, :]                             # (B, n, w, l)
    terms = -F.logsigmoid(margin) * (before[:, None] & pair_seen[None])
    per_n = terms.sum((-1, -2))                                              # (B, N)
    return per_n[:, n_start:].mean(1).mean(0)


def pl_loss_loop(pred, ys, rs, n_start=2):
    """The definition, one sequence and one position at a time (slow; for checking pl_loss)."""
    per_seq = []
    for p, y, r in zip(pred, ys, rs):
        per_n = []
        for n in range(n_start, len(p)):
            order = sorted(range(n), key=lambda j: -float(r[j]))  # stable: ties keep index order
            s = torch.stack([torch.cosine_similarity(p[n], y[j], dim=0) for j in order])
            per_n.append(sum(torch.logsumexp(s[i:], 0) - s[i] for i in range(n)))
        per_seq.append(torch.stack(per_n).mean())
    return torch.stack(per_seq).mean()


def bt_loss_loop(pred, ys, rs, n_start=2):
    """The definition of bt_loss, one sequence and one position at a time (slow; for checking it)."""
    total = 0
    for p, y, r in zip(pred, ys, rs):
        per_n = []
        for n in range(n_start, len(p)):
            s = [torch.cosine_similarity(p[n], y[j], dim=0) for j in range(n)]
            before = lambda w, l: r[w] > r[l] or (r[w] == r[l] and w < l)
            per_n.append(sum(-F.logsigmoid(s[w] - s[l]) for w in range(n) for l in range(n) if w != l and before(w, l)))
        total = total + torch.stack(per_n).mean()
    return total / len(pred)
