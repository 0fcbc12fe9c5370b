#!/usr/bin/env python3
"""One MXFP8 transformer block on the modelled chip (firmware/kernels/transformer_block).

Generates random inputs (X ~ N(0, 1), weights ~ N(0, 1/sqrt(fan-in)) quantised to E4M3 with
floor scales along K), runs `mxemu run --kernel transformer_block --scalar verbose=1 --stats`,
and reports cycles, the per-step profile the firmware prints, each engine's utilisation (busy
cycles / total cycles, from the statistics), the bound (the busiest engine) and the accuracy of
the block's two residual updates against an FP64 NumPy block on the exactly decoded weights
(LayerNorm, softmax, tanh GELU in FP64; no quantisation of activations).

  tools/bench/transformer/bench_transformer.py --build build [--seq 512 --d-model 1024
      --heads 16 --d-ff 4096 --block 32]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

# Every finite non-negative E4M3 value, in code order (code = index; 0x7F is NaN).
E4M3 = np.array([m / 8 * 2.0**-6 if e == 0 else (1 + m / 8) * 2.0**(e - 7)
                 for e in range(16) for m in range(8)][:127])


def e4m3_encode(v):
    """Nearest E4M3 code of v (|v| <= 448), ties to the even code."""
    a = np.abs(v)
    i = np.clip(np.searchsorted(E4M3, a), 1, len(E4M3) - 1)
    lo, hi = E4M3[i - 1], E4M3[i]
    pick_lo = (a - lo < hi - a) | ((a - lo == hi - a) & ((i - 1) % 2 == 0))
    code = np.where(pick_lo, i - 1, i).astype(np.uint8)
    return code | np.where(v < 0, 0x80, 0).astype(np.uint8)


def e4m3_decode(c):
    c = c.astype(np.int64)
    v = E4M3[np.minimum(c & 0x7F, 126)]
    return np.where(c & 0x80, -v, v)


def quant_weight(w, b):
    """K x N weight -> codes (K x N) and UE8M0 scales (K/b x N), blocks along K, floor rule."""
    k, n = w.shape
    wb = w.reshape(k // b, b, n)
    se = np.floor(np.log2(np.abs(wb).max(1))) - 8
    v = np.clip(wb / 2.0**se[:, None, :], -448, 448)
    return e4m3_encode(v).reshape(k, n), (se + 127).astype(np.uint8)


def dequant(codes, scales, b):
    return e4m3_decode(codes) * np.repeat(2.0**(scales.astype(np.float64) - 127), b, axis=0)


def layer_norm(x, g, bb):
    m = x.mean(1, keepdims=True)
    v = ((x - m)**2).mean(1, keepdims=True)
    return (x - m) / np.sqrt(v + 1e-5) * g + bb


def reference(t, w, heads):
    x = t["X"].astype(np.float64)
    h = layer_norm(x, t["G1"], t["B1"])
    q, k, v = h @ w["WQ"], h @ w["WK"], h @ w["WV"]
    dh = x.shape[1] // heads
    o = np.zeros_like(q)
    for i in range(heads):
        sl = slice(i * dh, (i + 1) * dh)
        s = q[:, sl] @ k[:, sl].T / np.sqrt(dh)
        p = np.exp(s - s.max(1, keepdims=True))
        o[:, sl] = (p / p.sum(1, keepdims=True)) @ v[:, sl]
    x1 = x + o @ w["WO"]
    u = layer_norm(x1, t["G2"], t["B2"]) @ w["W1"]
    g = 0.5 * u * (1 + np.tanh(np.sqrt(2 / np.pi) * (u + 0.044715 * u**3)))
    return x, x1, x1 + g @ w["W2"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--build", default="build")
    ap.add_argument("--seq", type=int, default=512)
    ap.add_argument("--d-model", type=int, default=1024)
    ap.add_argument("--heads", type=int, default=16)
    ap.add_argument("--d-ff", type=int, default=4096)
    ap.add_argument("--block", type=int, default=32)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    s, d, f, b = a.seq, a.d_model, a.d_ff, a.block
    rng = np.random.default_rng(a.seed)
    t = {"X": rng.standard_normal((s, d)).astype(np.float32)}
    for n in ("G1", "G2"):
        t[n] = (1 + 0.1 * rng.standard_normal(d)).astype(np.float32)
    for n in ("B1", "B2"):
        t[n] = (0.1 * rng.standard_normal(d)).astype(np.float32)
    w = {}
    for n, (k, m) in {"WQ": (d, d), "WK": (d, d), "WV": (d, d), "WO": (d, d), "W1": (d, f),
                      "W2": (f, d)}.items():
        t[n], t["S" + n] = quant_weight(rng.standard_normal((k, m)) / np.sqrt(k), b)
        w[n] = dequant(t[n], t["S" + n], b)
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [os.path.join(a.build, "mxemu"), "run", "--kernel", "transformer_block"]
        for n, arr in t.items():
            np.save(os.path.join(tmp, n + ".npy"), arr)
            cmd += ["--in", f"{n}={os.path.join(tmp, n + '.npy')}"]
        cmd += ["--scalar", f"heads={a.heads}", "--scalar", f"block={b}", "--scalar", "verbose=1",
                "--out", f"Y={tmp}/y.npy", "--out", f"X1={tmp}/x1.npy", "--stats", f"{tmp}/st.json"]
        t0 = time.time()
        r = subprocess.run(cmd, capture_output=True, text=True)
        host = time.time() - t0
        if r.returncode != 0:
            sys.exit(f"mxemu failed ({r.returncode}):\n{r.stdout}{r.stderr}")
        y, x1 = np.load(f"{tmp}/y.npy"), np.load(f"{tmp}/x1.npy")
        st = json.load(open(f"{tmp}/st.json"))
    print(r.stdout, end="")
    total = st["total_cycles"]
    print(f"total {total} cycles ({total / 1e3:.1f} us at 1 GHz), host {host:.1f} s")
    busy = {e: v["busy_cycles"] for e, v in st["engines"].items() if v["busy_cycles"] > 0}
    for e, v in busy.items():
        print(f"  {e:5s} busy {v:9d} cycles = {100 * v / total:5.1f} %")
    print(f"  MXU utilisation (MACs / peak) {100 * st['mxu_utilization']:.1f} %")
    print(f"  bound: {max(busy, key=busy.get)} (the busiest engine)")
    x, rx1, ry = reference(t, w, a.heads)
    for name, got, want, base in (("attention update (X1 - X)", x1, rx1, x),
                                  ("mlp update (Y - X1)", y, ry, rx1)):
        err = np.linalg.norm(got - want) / np.linalg.norm(want - base)
        print(f"  {name}: relative error vs FP64 {100 * err:.2f} %")


if __name__ == "__main__":
    main()
