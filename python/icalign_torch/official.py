"""The official code's model layout (github.com/yifeiwang77/Self-Correction, synthetic_experiment/):
mapping icalign models to and from it, and a module tree with its names, shapes and forward.

The official TransformerModel (models.py) is `_read_in` Linear(d, C), a HuggingFace GPT2Model as
`_backbone`, and `_read_out` Linear(C, d); train.py saves {"model_state_dict", "optimizer_state_dict",
"train_step"} to state.pt and the Quinfig arguments to config.yaml, and evaluate.py's
get_model_from_run loads them with load_state_dict. Its environment pins transformers 4.17.0, whose
GPT2Model (models/gpt2/modeling_gpt2.py) has:

  _backbone.wte.weight            (50257, C)  token embedding; unused, the model feeds inputs_embeds
  _backbone.wpe.weight            (3N, C)     n_positions = 3N tokens
  _backbone.h.{i}.ln_1.{weight,bias}
  _backbone.h.{i}.attn.bias       (1, 1, 3N, 3N) uint8 lower-triangular causal mask (a buffer)
  _backbone.h.{i}.attn.masked_bias ()         -1e4, the score given to masked positions (a buffer)
  _backbone.h.{i}.attn.c_attn.{weight (C, 3C), bias}   Conv1D: weight stored (in, out)
  _backbone.h.{i}.attn.c_proj.{weight (C, C), bias}
  _backbone.h.{i}.ln_2.{weight,bias}
  _backbone.h.{i}.mlp.c_fc.{weight (C, 4C), bias}
  _backbone.h.{i}.mlp.c_proj.{weight (4C, C), bias}
  _backbone.ln_f.{weight,bias}

Only this model maps one to one onto icalign's softmax, causal, FFN model. The official ablations
are other architectures: NoSoftmaxTransformerModel uses exact (erf) GELU and separate q, k, v
Linears, NoFFNTransformerModel puts a LayerNorm after each block (x = ln_2(x + attn(ln_1 x))), and
both attend without a causal mask; icalign's linear and noffn models are not those, so they are
refused here rather than mislabelled.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from .model import ICAlignTransformer, ModelConfig

GPT2_VOCAB = 50257  # GPT2Config's default vocab_size, hence wte's rows


def check_mappable(cfg: ModelConfig):
    if cfg.attention != "softmax" or not cfg.causal or not cfg.ffn:
        raise ValueError(f"the official TransformerModel is a causal softmax GPT-2 with its MLP; this model has "
                         f"attention={cfg.attention}, causal={'on' if cfg.causal else 'off'}, ffn={'on' if cfg.ffn else 'off'}. "
                         f"The official ablations (NoSoftmax/NoFFN) are different architectures (erf GELU, post-block "
                         f"LayerNorm, no mask), so there is no faithful mapping")


def to_official(model: ICAlignTransformer):
    """-> the official state_dict (float32) of an icalign softmax/causal/FFN model."""
    cfg = model.cfg
    check_mappable(cfg)
    sd = {k: v.detach().to(torch.float32) for k, v in model.state_dict().items()}
    T, C = 3 * cfg.n_points, cfg.n_embd
    out = {"_read_in.weight": sd["_read_in.weight"], "_read_in.bias": sd["_read_in.bias"],
           "_backbone.wte.weight": torch.zeros(GPT2_VOCAB, C), "_backbone.wpe.weight": sd["wpe.weight"]}
    for i in range(cfg.n_layer):
        o, h = f"_backbone.h.{i}.", f"h.{i}."
        out.update({
            o + "ln_1.weight": sd[h + "ln_1.weight"], o + "ln_1.bias": sd[h + "ln_1.bias"],
            o + "attn.bias": torch.tril(torch.ones(T, T, dtype=torch.uint8)).view(1, 1, T, T),
            o + "attn.masked_bias": torch.tensor(-1e4),
            o + "attn.c_attn.weight": sd[h + "c_attn.weight"].t().contiguous(), o + "attn.c_attn.bias": sd[h + "c_attn.bias"],
            o + "attn.c_proj.weight": sd[h + "c_proj.weight"].t().contiguous(), o + "attn.c_proj.bias": sd[h + "c_proj.bias"],
            o + "ln_2.weight": sd[h + "ln_2.weight"], o + "ln_2.bias": sd[h + "ln_2.bias"],
            o + "mlp.c_fc.weight": sd[h + "c_fc.weight"].t().contiguous(), o + "mlp.c_fc.bias": sd[h + "c_fc.bias"],
            o + "mlp.c_proj.weight": sd[h + "mlp_proj.weight"].t().contiguous(), o + "mlp.c_proj.bias": sd[h + "mlp_proj.bias"],
        })
    out.update({"_backbone.ln_f.weight": sd["ln_f.weight"], "_backbone.ln_f.bias": sd["ln_f.bias"],
                "_read_out.weight": sd["_read_out.weight"], "_read_out.bias": sd["_read_out.bias"]})
    return out


def from_official(state_dict, n_dims, n_points, n_layer, n_head):
    """-> an icalign ICAlignTransformer with the official model's weights. Refuses, naming the
    tensor, a state dict that is not the official TransformerModel of this shape."""
    if any(".attn.query." in k or ".mlp.0." in k for k in state_dict):
        raise ValueError("this is an official ablation (NoSoftmax/NoFFN: separate query/key/value or a Sequential MLP), "
                         "a different architecture from icalign's models; only TransformerModel imports")
    C = state_dict["_backbone.wpe.weight"].shape[1] if "_backbone.wpe.weight" in state_dict else None
    if C is None:
        raise ValueError("no _backbone.wpe.weight: not the official TransformerModel's state_dict")
    model = ICAlignTransformer(ModelConfig(n_dims=n_dims, n_points=n_points, n_embd=C, n_layer=n_layer, n_head=n_head))
    expected = to_official(model)
    for k in expected:
        if k not in state_dict:
            raise ValueError(f"missing {k}: not the official TransformerModel with {n_layer} layers")
        if tuple(state_dict[k].shape) != tuple(expected[k].shape):
            raise ValueError(f"{k} has shape {tuple(state_dict[k].shape)}, expected {tuple(expected[k].shape)} "
                             f"for n_dims={n_dims}, n_points={n_points}, n_embd={C}, n_layer={n_layer}")
    extra = sorted(set(state_dict) - set(expected))
    if extra:
        raise ValueError(f"unexpected tensor {extra[0]}: not the official TransformerModel")
    T = 3 * n_points
    for i in range(n_layer):
        mask = state_dict[f"_backbone.h.{i}.attn.bias"].reshape(T, T)
        if not torch.equal(mask.bool(), torch.ones(T, T, dtype=torch.bool).tril()):
            raise ValueError(f"_backbone.h.{i}.attn.bias is not a causal mask; icalign's causal model cannot hold it")
    sd = {"_read_in.weight": state_dict["_read_in.weight"], "_read_in.bias": state_dict["_read_in.bias"],
          "wpe.weight": state_dict["_backbone.wpe.weight"], "ln_f.weight": state_dict["_backbone.ln_f.weight"],
          "ln_f.bias": state_dict["_backbone.ln_f.bias"], "_read_out.weight": state_dict["_read_out.weight"],
          "_read_out.bias": state_dict["_read_out.bias"]}
    for i in range(n_layer):
        o, h = f"_backbone.h.{i}.", f"h.{i}."
        sd.update({h + "ln_1.weight": state_dict[o + "ln_1.weight"], h + "ln_1.bias": state_dict[o + "ln_1.bias"],
                   h + "c_attn.weight": state_dict[o + "attn.c_attn.weight"].t(), h + "c_attn.bias": state_dict[o + "attn.c_attn.bias"],
                   h + "c_proj.weight": state_dict[o + "attn.c_proj.weight"].t(), h + "c_proj.bias": state_dict[o + "attn.c_proj.bias"],
                   h + "ln_2.weight": state_dict[o + "ln_2.weight"], h + "ln_2.bias": state_dict[o + "ln_2.bias"],
                   h + "c_fc.weight": state_dict[o + "mlp.c_fc.weight"].t(), h + "c_fc.bias": state_dict[o + "mlp.c_fc.bias"],
                   h + "mlp_proj.weight": state_dict[o + "mlp.c_proj.weight"].t(), h + "mlp_proj.bias": state_dict[o + "mlp.c_proj.bias"]})
    model.load_state_dict({k: v.to(torch.float32).contiguous() for k, v in sd.items()}, strict=True)
    return model.eval()


# A module tree with the official names, shapes and forward (transformers 4.17's GPT2Model with
# dropout 0, inputs_embeds, no past; models.py's TransformerModel around it), so that an export is
# tested by a strict load and a forward, without the transformers package.
class Conv1D(nn.Module):
    """GPT-2's Conv1D: a Linear whose weight is stored (in, out)."""

    def __init__(self, n_out, n_in):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(n_in, n_out))
        self.bias = nn.Parameter(torch.zeros(n_out))

    def forward(self, x):
        return torch.addmm(self.bias, x.reshape(-1, x.shape[-1]), self.weight).reshape(*x.shape[:-1], -1)


class GPT2Attention(nn.Module):
    def __init__(self, C, n_head, n_positions):
        super().__init__()
        self.register_buffer("bias", torch.tril(torch.ones(n_positions, n_positions, dtype=torch.uint8)).view(1, 1, n_positions, n_positions))
        self.register_buffer("masked_bias", torch.tensor(-1e4))
        self.n_head = n_head
        self.c_attn, self.c_proj = Conv1D(3 * C, C), Conv1D(C, C)

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = (t.reshape(B, T, self.n_head, -1).transpose(1, 2) for t in self.c_attn(x).split(C, dim=2))
        w = q @ k.transpose(-1, -2) / (float(v.shape[-1]) ** 0.5)
        w = torch.where(self.bias[:, :, :T, :T].bool(), w, self.masked_bias.to(w.dtype))
        return self.c_proj((F.softmax(w, dim=-1) @ v).transpose(1, 2).reshape(B, T, C))


class GPT2MLP(nn.Module):
    def __init__(self, C):
        super().__init__()
        self.c_fc, self.c_proj = Conv1D(4 * C, C), Conv1D(C, 4 * C)

    def forward(self, x):
        h = self.c_fc(x)  # gelu_new, GPT-2's tanh approximation
        return self.c_proj(0.5 * h * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (h + 0.044715 * torch.pow(h, 3.0)))))


class GPT2Block(nn.Module):
    def __init__(self, C, n_head, n_positions):
        super().__init__()
        self.ln_1, self.ln_2 = nn.LayerNorm(C, eps=1e-5), nn.LayerNorm(C, eps=1e-5)
        self.attn, self.mlp = GPT2Attention(C, n_head, n_positions), GPT2MLP(C)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT2Model(nn.Module):
    def __init__(self, C, n_layer, n_head, n_positions):
        super().__init__()
        self.wte, self.wpe = nn.Embedding(GPT2_VOCAB, C), nn.Embedding(n_positions, C)
        self.h = nn.ModuleList([GPT2Block(C, n_head, n_positions) for _ in range(n_layer)])
        self.ln_f = nn.LayerNorm(C, eps=1e-5)

    def forward(self, inputs_embeds):
        x = inputs_embeds + self.wpe(torch.arange(inputs_embeds.shape[1]))
        for block in self.h:
            x = block(x)
        return self.ln_f(x)


class OfficialTransformerModel(nn.Module):
    """models.py's TransformerModel(n_dims, n_positions, n_embd, n_layer, n_head): n_positions is
    the number of triplets N, the backbone gets 3N."""

    def __init__(self, n_dims, n_positions, n_embd, n_layer, n_head):
        super().__init__()
        self._read_in = nn.Linear(n_dims, n_embd)
        self._backbone = GPT2Model(n_embd, n_layer, n_head, 3 * n_positions)
        self._read_out = nn.Linear(n_embd, n_dims)

    def forward(self, xs, ys, rs):  # models.py's _combine, then the backbone, answers at the x tokens
        B, N, d = xs.shape
        r_wide = torch.cat((rs.view(B, N, 1), torch.zeros(B, N, d - 1, dtype=xs.dtype)), dim=2)
        zs = torch.stack((xs, ys, r_wide), dim=2).view(B, 3 * N, d)
        return self._read_out(self._backbone(self._read_in(zs)))[:, ::3, :]
