"""The in-context alignment transformer, every variant icalign trains.

A GPT-2-style pre-LN transformer over the 3N tokens (x_1, y_1, [r_1, 0, ..., 0], x_2, ...):
read-in Linear(d -> C) on each token, a learned positional embedding, n_layer blocks, a final
LayerNorm, read-out Linear(C -> d), answers read at the x tokens (positions 0, 3, 6, ...).
A block is x + attn(ln_1 x), then x + mlp(ln_2 x) with mlp = Linear(C, 4C), tanh-GELU,
Linear(4C, C) (GPT-2's "gelu_new"). Attention is GPT-2's: one fused q,k,v projection, scores
q.k / sqrt(head size); "softmax" normalises them (future tokens masked to -inf when causal),
"linear" uses them as they are (future tokens weigh 0 when causal). Without FFN a block is its
attention sublayer only, with no ln_2.

Parameter names and layouts are the C++ model's (experiments/model/model.hpp), so an icalign
checkpoint loads with load_state_dict(strict=True): _read_in, wpe, h.{i}.ln_1, h.{i}.c_attn
(weight (3C, C)), h.{i}.c_proj, h.{i}.ln_2, h.{i}.c_fc, h.{i}.mlp_proj, ln_f, _read_out.

For probing: a forward hook on h[i] sees the residual stream after block i, and one on
h[i].attention_weights sees that block's attention, (B, H, T, T).
"""
import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class ModelConfig:
    n_dims: int = 5
    n_points: int = 20
    n_embd: int = 96
    n_layer: int = 20
    n_head: int = 3
    attention: str = "softmax"  # or "linear"
    ffn: bool = True
    causal: bool = True
    activation: str = "gelu"  # the MLP's: "gelu" (GPT-2's tanh form) or "softplus"

    def __post_init__(self):
        if self.attention not in ("softmax", "linear"):
            raise ValueError(f"model.attention must be softmax or linear, got '{self.attention}'")
        if self.activation not in ("gelu", "softplus"):
            raise ValueError(f"model.activation must be gelu or softplus, got '{self.activation}'")
        for field in ("n_dims", "n_points", "n_embd", "n_layer", "n_head"):
            if int(getattr(self, field)) < 1:
                raise ValueError(f"model.{field} must be >= 1, got {getattr(self, field)}")
        if self.n_embd % self.n_head:
            raise ValueError(f"model.n_embd ({self.n_embd}) must be a multiple of model.n_head ({self.n_head})")

    @staticmethod
    def from_metadata(meta):
        """From a checkpoint's or config's "model.<field>" strings (booleans as on/off)."""
        onoff = {"on": True, "off": False}
        get = lambda k, default: meta.get("model." + k, default)
        return ModelConfig(n_dims=int(get("n_dims", 5)), n_points=int(get("n_points", 20)), n_embd=int(get("n_embd", 96)),
                           n_layer=int(get("n_layer", 20)), n_head=int(get("n_head", 3)),
                           attention=get("attention", "softmax"), ffn=onoff[get("ffn", "on")],
                           causal=onoff[get("causal", "on")], activation=get("activation", "gelu"))

    def to_metadata(self):
        return {"model.n_dims": str(self.n_dims), "model.n_points": str(self.n_points), "model.n_embd": str(self.n_embd),
                "model.n_layer": str(self.n_layer), "model.n_head": str(self.n_head), "model.attention": self.attention,
                "model.ffn": "on" if self.ffn else "off", "model.causal": "on" if self.causal else "off",
                **({"model.activation": self.activation} if self.activation != "gelu" else {})}


class Block(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        C = cfg.n_embd
        self.n_head, self.softmax, self.causal = cfg.n_head, cfg.attention == "softmax", cfg.causal
        self.ln_1 = nn.LayerNorm(C, eps=1e-5)
        self.c_attn = nn.Linear(C, 3 * C)
        self.c_proj = nn.Linear(C, C)
        self.attention_weights = nn.Identity()  # a place to hook: (B, H, T, T)
        if cfg.ffn:
            self.ln_2 = nn.LayerNorm(C, eps=1e-5)
            self.c_fc = nn.Linear(C, 4 * C)
            self.mlp_proj = nn.Linear(4 * C, C)
        self.ffn = cfg.ffn
        self.activation = (lambda a: F.gelu(a, approximate="tanh")) if cfg.activation == "gelu" else F.softplus

    def attend(self, x):  # (B, T, C) -> (B, T, C)
        B, T, C = x.shape
        H, hs = self.n_head, C // self.n_head
        q, k, v = (t.reshape(B, T, H, hs).transpose(1, 2) for t in self.c_attn(x).split(C, dim=2))  # (B, H, T, hs)
        att = q @ k.transpose(-1, -2) / math.sqrt(hs)                                             # (B, H, T, T)
        if self.causal:
            future = torch.ones(T, T, dtype=torch.bool, device=x.device).triu(1)
            att = att.masked_fill(future, -math.inf if self.softmax else 0.0)
        if self.softmax:
            att = F.softmax(att, dim=-1)
        att = self.attention_weights(att)
        return self.c_proj((att @ v).transpose(1, 2).reshape(B, T, C))

    def forward(self, x):
        x = x + self.attend(self.ln_1(x))
        if self.ffn:
            x = x + self.mlp_proj(self.activation(self.c_fc(self.ln_2(x))))
        return x


class ICAlignTransformer(nn.Module):
    def __init__(self, cfg: ModelConfig = ModelConfig()):
        super().__init__()
        self.cfg = cfg
        T, C = 3 * cfg.n_points, cfg.n_embd
        self._read_in = nn.Linear(cfg.n_dims, C)
        self.wpe = nn.Embedding(T, C)
        self.h = nn.ModuleList([Block(cfg) for _ in range(cfg.n_layer)])
        self.ln_f = nn.LayerNorm(C, eps=1e-5)
        self._read_out = nn.Linear(C, cfg.n_dims)
        # GPT-2's initialisation for the backbone; the read-in and read-out keep nn.Linear's, as in
        # the official TransformerModel.
        for name, p in self.named_parameters():
            if name.startswith("_read_"):
                continue
            if "ln_" in name:
                nn.init.ones_(p) if name.endswith("weight") else nn.init.zeros_(p)
            elif name.endswith("bias"):
                nn.init.zeros_(p)
            else:
                std = 0.02 / math.sqrt(2 * cfg.n_layer) if name.endswith(("c_proj.weight", "mlp_proj.weight")) else 0.02
                nn.init.normal_(p, 0.0, std)

    @staticmethod
    def tokens(xs, ys, rs):
        """xs, ys (B, N, d), rs (B, N) -> (B, 3N, d): x_i, y_i, [r_i, 0, ..., 0] for each i."""
        B, N, d = xs.shape
        r_token = torch.cat((rs.reshape(B, N, 1), xs.new_zeros(B, N, d - 1)), dim=2)
        return torch.stack((xs, ys, r_token), dim=2).reshape(B, 3 * N, d)

    def forward(self, xs, ys, rs):
        """-> the answer at every x token, (B, N, d); the one at x token k has seen k triplets."""
        z = self.tokens(xs, ys, rs)
        h = self._read_in(z) + self.wpe.weight[: z.shape[1]]
        for block in self.h:
            h = block(h)
        return self._read_out(self.ln_f(h))[:, ::3, :]
