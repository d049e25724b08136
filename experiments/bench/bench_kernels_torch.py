#!/usr/bin/python3
"""The kernels of bench_kernels.cpp in PyTorch, same shapes and modes; prints one line per case:
NAME/backward:B/threads:T milliseconds. Used by scripts/bench_kernels.sh for the ratios."""
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "reference"))
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import icalign_torch  # noqa: E402  (its threading helper and the vectorised PL loss)

B, T, C, H, N, D = 256, 60, 96, 3, 20, 5


def case(name, make, fn):
    for threads in (1, 2):
        icalign_torch.set_threads(threads)
        for backward in (0, 1):
            torch.manual_seed(0)
            args = make()
            times = []
            for i in range(12):
                t0 = time.perf_counter()
                if backward:
                    y = fn(*args)
                    y.backward(torch.ones_like(y))
                else:
                    with torch.no_grad():
                        fn(*args)
                if i >= 2:
                    times.append(time.perf_counter() - t0)
            print(f"{name}/backward:{backward}/threads:{threads} {1e3 * statistics.median(times):.3f}", flush=True)


def attention(qkv):
    q, k, v = qkv.split(C, dim=2)
    q, k, v = (t.view(B, T, H, C // H).transpose(1, 2) for t in (q, k, v))
    att = (q @ k.transpose(-2, -1)) / (C // H) ** 0.5
    att = att.masked_fill(torch.ones(T, T, dtype=torch.bool).triu(1), float("-inf")).softmax(-1)
    return (att @ v).transpose(1, 2).reshape(B, T, C)


def req(*shape):
    return torch.randn(*shape).requires_grad_()


case("linear", lambda: (req(B, T, C), req(4 * C, C), req(4 * C)), F.linear)
case("attention", lambda: (req(B, T, 3 * C),), attention)
case("layer_norm", lambda: (req(B, T, C), req(C), req(C)), lambda x, g, b: F.layer_norm(x, (C,), g, b, 1e-5))
case("gelu", lambda: (req(B, T, 4 * C),), lambda x: F.gelu(x, approximate="tanh"))
case("softmax", lambda: (req(B, H, T, T),), lambda x: x.softmax(-1))
case("pl_loss", lambda: (req(B, N, D), torch.randn(B, N, D), torch.rand(B, N)), icalign_torch.pl_loss_vec)
