#!/usr/bin/env python3
"""Sweep MXFP8 GEMM shapes on two chip configurations and plot the MXU utilisation.

Chips: the default "mx1" (two 128 x 128 MXUs) and "mx1-64" (eight 64 x 64 MXUs, mx1_64.toml
beside this script): the same peak MAC rate, in coarse or fine tiles. Each GEMM runs the bundled
gemm firmware on the simulated chip (mxemu.Chip.gemm, i.e. `mxemu gemm`) on MXFP8 operands
quantised with mxemu.numerics.quantize_mx, and its result is checked bit for bit against
mxemu.numerics.gemm.

    PYTHONPATH=build/python python3 python/examples/sweep_gemm.py --out sweep.png [--quick]
"""

import argparse
import os
import sys

import matplotlib

matplotlib.use("Agg")  # PNG out, no display needed
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import mxemu  # noqa: E402
from mxemu import numerics  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
BLOCK = 32
# (M, N, K): square shapes, then skinny ones (few rows, as in LLM decoding).
SHAPES = [(128, 128, 128), (256, 256, 256), (512, 512, 512), (1024, 1024, 1024),
          (2048, 2048, 2048), (16, 1024, 1024), (64, 2048, 1024), (256, 4096, 512)]
QUICK_SHAPES = [(128, 128, 128), (256, 256, 256), (16, 512, 256)]


def mxfp8_operands(rng, m, n, k):
    """A (M x K) and B (K x N) as E4M3 codes with UE8M0 scales per BLOCK along K."""
    a, sa = numerics.quantize_mx(rng.standard_normal((m, k), dtype=np.float32), BLOCK)
    bt, sbt = numerics.quantize_mx(rng.standard_normal((n, k), dtype=np.float32), BLOCK)
    return a, np.ascontiguousarray(bt.T), sa, np.ascontiguousarray(sbt.T)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="sweep_gemm.png", help="PNG to write")
    parser.add_argument("--quick", action="store_true", help="three small shapes only")
    args = parser.parse_args()

    shapes = QUICK_SHAPES if args.quick else SHAPES
    chips = [mxemu.Chip(), mxemu.Chip(os.path.join(HERE, "mx1_64.toml"))]
    rng = np.random.default_rng(0)
    util = {chip.name: [] for chip in chips}
    print(f"{'chip':7s} {'M':>6s} {'N':>6s} {'K':>6s} {'cycles':>10s} {'MXU %':>6s}")
    for m, n, k in shapes:
        a, b, sa, sb = mxfp8_operands(rng, m, n, k)
        want = numerics.gemm(a, b, sa, sb, BLOCK)
        for chip in chips:
            r = chip.gemm(a, b, sa, sb, block=BLOCK)
            if not np.array_equal(r["C"].view(np.uint32), want.view(np.uint32)):
                sys.exit(f"{chip.name} {m}x{n}x{k}: chip result differs from mxemu.numerics.gemm")
            util[chip.name].append(100 * r.mxu_utilization)
            print(f"{chip.name:7s} {m:6d} {n:6d} {k:6d} {r.cycles:10d} {util[chip.name][-1]:6.1f}")

    fig, ax = plt.subplots(figsize=(9, 4.5))
    x = np.arange(len(shapes))
    width = 0.8 / len(chips)
    for i, chip in enumerate(chips):
        mxu = chip.config["mxu"]
        bars = ax.bar(x + (i - (len(chips) - 1) / 2) * width, util[chip.name], width,
                      label=f"{chip.name}: {mxu['count']} x {mxu['rows']}x{mxu['cols']}")
        ax.bar_label(bars, fmt="%.0f", fontsize=7)
    ax.set_xticks(x, [f"{m}x{n}x{k}" for m, n, k in shapes], rotation=30, ha="right")
    ax.set_xlabel("GEMM shape M x N x K (MXFP8 E4M3, block 32)")
    ax.set_ylabel("MXU utilisation (% of peak)")
    ax.set_ylim(0, 100)
    ax.set_title("mxemu: MXU utilisation of the bundled gemm kernel")
    ax.legend(title="chip: MXUs")
    fig.tight_layout()
    fig.savefig(args.out, dpi=120)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
