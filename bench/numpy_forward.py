#!/usr/bin/env python3
"""The Mini-GPT forward in NumPy float32: the comparison scripts/bench.sh prints.

    numpy_forward.py WEIGHTS T REPETITIONS ITERATIONS [LOGITS]

Reads a model saved by the project's safetensors writer (minimodel_bench writes it), runs the
forward of CONVENTIONS.md (Pre-LN blocks, interleaved RoPE, causal softmax, exact GELU, tied
head) on the benchmark's tokens (7·t + 3 mod vocab_size, t = 0..T-1) once to warm up, then
REPETITIONS times ITERATIONS forwards, and prints one line of JSON: over the repetitions (each
the mean time per forward of its iterations, as Google Benchmark reports them), the median and
the standard deviation; and, when LOGITS (T × vocab_size raw float32, the C++ forward's) is
given, the largest |difference| from them: the check that both sides ran the same model.

NumPy's products run on the BLAS it was built with (Debian's: OpenBLAS); the caller sets
OPENBLAS_NUM_THREADS. The exact GELU needs erf, which NumPy lacks (it is in SciPy, which the
workbook does not install): it is written here with NumPy's array operations from the
Numerical Recipes erfc fit (fractional error < 1.2e-7), as a NumPy user without SciPy would.
"""
import json
import statistics
import struct
import sys
import time

import numpy as np


def load(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    meta = header.pop("__metadata__")
    tensors = {}
    for name, entry in header.items():
        assert entry["dtype"] == "F32", name
        begin, end = entry["data_offsets"]
        tensors[name] = np.frombuffer(data, dtype="<f4", count=(end - begin) // 4, offset=begin).reshape(entry["shape"])
    return meta, tensors


def layer_norm(x, gamma, beta, eps):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return gamma * (x - mu) / np.sqrt(var + eps) + beta


def erfc(z):
    a = np.abs(z)
    t = np.float32(1) / (np.float32(1) + np.float32(0.5) * a)
    c = [-1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806,
         0.27886807, -1.13520398, 1.48851587, -0.82215223, 0.17087277]
    poly = np.float32(c[-1])
    for coefficient in reversed(c[:-1]):
        poly = poly * t + np.float32(coefficient)
    e = t * np.exp(-a * a + poly)
    return np.where(z >= 0, e, np.float32(2) - e)


def gelu_exact(x):
    return np.float32(0.5) * x * erfc(-x * np.float32(1 / np.sqrt(2)))


class Model:
    def __init__(self, meta, w):
        assert meta.get("gelu") == "exact" and meta.get("norm") == "layernorm", meta
        self.w = w
        self.d = int(meta["d_model"])
        self.H = int(meta["n_heads"])
        self.L = int(meta["n_layers"])
        self.eps = np.float32(float(meta["ln_eps"]))
        self.dh = self.d // self.H
        context = int(meta["context_len"])
        # cos and sin of p·θ_i, computed in double and stored as float (CONVENTIONS.md §5).
        theta = float(meta["rope_base"]) ** (-2.0 * np.arange(self.dh // 2) / self.dh)
        angle = np.arange(context)[:, None] * theta[None, :]
        self.cos, self.sin = np.cos(angle).astype(np.float32), np.sin(angle).astype(np.float32)

    def rope(self, x):  # (T, d): pairs (2i, 2i+1) of every head turned by p·θ_i
        T = x.shape[0]
        x = x.reshape(T, self.H, self.dh // 2, 2)
        c, s = self.cos[:T, None, :], self.sin[:T, None, :]
        even, odd = x[..., 0], x[..., 1]
        return np.stack([even * c - odd * s, even * s + odd * c], axis=-1).reshape(T, self.d)

    def forward(self, tokens):
        w, T, H, dh = self.w, len(tokens), self.H, self.dh
        h = w["E"][tokens]
        future = np.triu(np.ones((T, T), dtype=bool), 1)
        scale = np.float32(1 / np.sqrt(dh))
        for i in range(self.L):
            p = f"block_{i}."
            x = layer_norm(h, w[p + "ln1.gamma"], w[p + "ln1.beta"], self.eps)
            q = self.rope(x @ w[p + "attn.W_q"]).reshape(T, H, dh).transpose(1, 0, 2)
            k = self.rope(x @ w[p + "attn.W_k"]).reshape(T, H, dh).transpose(1, 0, 2)
            v = (x @ w[p + "attn.W_v"]).reshape(T, H, dh).transpose(1, 0, 2)
            s = (q @ k.transpose(0, 2, 1)) * scale  # (H, T, T)
            s[:, future] = -np.inf
            s -= s.max(-1, keepdims=True)
            np.exp(s, out=s)
            s /= s.sum(-1, keepdims=True)
            heads = (s @ v).transpose(1, 0, 2).reshape(T, self.d)
            h = h + heads @ w[p + "attn.W_o"]
            x = layer_norm(h, w[p + "ln2.gamma"], w[p + "ln2.beta"], self.eps)
            u = gelu_exact(x @ w[p + "ffn.W_1"] + w[p + "ffn.b_1"])
            h = h + u @ w[p + "ffn.W_2"] + w[p + "ffn.b_2"]
        x = layer_norm(h, w["ln_final.gamma"], w["ln_final.beta"], self.eps)
        return x @ w["E"].T


def main():
    weights, T, repetitions, iterations = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    meta, w = load(weights)
    model = Model(meta, w)
    vocab = int(meta["vocab_size"])
    tokens = np.array([(7 * t + 3) % vocab for t in range(T)])
    logits = model.forward(tokens)  # warm-up
    assert logits.dtype == np.float32
    times = []
    for _ in range(repetitions):
        start = time.perf_counter()
        for _ in range(iterations):
            model.forward(tokens)
        times.append((time.perf_counter() - start) / iterations)
    result = {"median_s": statistics.median(times),
              "stddev_s": statistics.stdev(times) if len(times) > 1 else 0.0,
              "repetitions": repetitions}
    if len(sys.argv) > 5:
        reference = np.fromfile(sys.argv[5], dtype="<f4").reshape(logits.shape)
        result["max_abs_diff"] = float(np.max(np.abs(logits - reference)))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
