#!/usr/bin/env python3
"""Small and skinny GEMMs through the bundled gemm firmware on mx1, against a baseline firmware.

Runs `mxemu run --firmware ELF --in A=... --in B=... --out C=... --stats` for each shape with the
current build's gemm.elf and with the gemm firmware of an earlier commit (`--baseline-rev`,
compiled here from that commit's firmware/ with the flags the build uses), both on the current
model, in the same invocation. C must be byte-identical between the two; the table gives modelled
cycles (deterministic), their ratio, the MXU utilisation and the core's instructions.

  tools/bench/skinny/bench_skinny.py --build build --baseline-rev 026c5af
"""
import argparse
import json
import os
import subprocess
import sys
import io
import tarfile
import tempfile

import numpy as np

SHAPES = [  # M, K, N, scaled
    (8, 4096, 8, False), (8, 4096, 8, True), (8, 4096, 128, False), (128, 4096, 8, False),
    (1, 8192, 1, False), (64, 64, 64, False), (1024, 1024, 1024, False)]

FLAGS = ["-march=rv32im", "-mabi=ilp32", "-misa-spec=2.2", "-Wl,--no-warn-rwx-segments", "-O2",
         "-g", "--specs=picolibc.specs", "-nostartfiles"]


def build_baseline(repo, rev, out_dir):
    """gemm.elf of commit `rev`, from its own firmware/ tree."""
    blob = subprocess.run(["git", "-C", repo, "archive", rev, "firmware"], check=True,
                          capture_output=True).stdout
    src = os.path.join(out_dir, "baseline")
    with tarfile.open(fileobj=io.BytesIO(blob)) as t:
        t.extractall(src)
    fw = os.path.join(src, "firmware")
    elf = os.path.join(out_dir, "gemm_baseline.elf")
    subprocess.run(["riscv64-unknown-elf-gcc", *FLAGS, "-T", f"{fw}/runtime/link.ld",
                    f"{fw}/runtime/crt0.S", f"{fw}/runtime/runtime.c", f"-I{fw}/include",
                    f"{fw}/kernels/gemm/gemm.c", "-o", elf], check=True)
    return elf


def codes(rng, rows, cols):
    """Random FP8 codes, NaN (0x7F, 0xFF) replaced by 0."""
    x = rng.integers(0, 256, (rows, cols), dtype=np.uint8)
    return np.where(x & 0x7F == 0x7F, 0, x).astype(np.uint8)


def run(mxemu, elf, d, tag, shape):
    m, k, n, scaled = shape
    args = [mxemu, "run", "--firmware", elf, "--in", f"A={d}/a.npy", "--in", f"B={d}/b.npy",
            "--out", f"C={d}/c_{tag}.npy", "--stats", f"{d}/s_{tag}.json"]
    if scaled:
        args += ["--in", f"SA={d}/sa.npy", "--in", f"SB={d}/sb.npy"]
    r = subprocess.run(args, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"{' '.join(args)}: exit {r.returncode}\n{r.stdout}{r.stderr}")
    with open(f"{d}/s_{tag}.json") as f:
        s = json.load(f)
    return s, np.load(f"{d}/c_{tag}.npy")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--baseline-rev", required=True, help="commit whose gemm firmware is the baseline")
    a = ap.parse_args()
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__)))))
    mxemu = os.path.join(a.build, "mxemu")
    current = os.path.join(a.build, "firmware", "gemm.elf")
    rng = np.random.default_rng(5)
    with tempfile.TemporaryDirectory() as d:
        base = build_baseline(repo, a.baseline_rev, d)
        print("| M×K×N | scaled | baseline cycles | cycles | **ratio** | MXU util. baseline → now |"
              " core instructions baseline → now |")
        print("|---|---|---|---|---|---|---|")
        for shape in SHAPES:
            m, k, n, scaled = shape
            np.save(f"{d}/a.npy", codes(rng, m, k))
            np.save(f"{d}/b.npy", codes(rng, k, n))
            if scaled:
                np.save(f"{d}/sa.npy", rng.integers(120, 134, (m, k // 32), dtype=np.uint8))
                np.save(f"{d}/sb.npy", rng.integers(120, 134, (k // 32, n), dtype=np.uint8))
            sb, cb = run(mxemu, base, d, "base", shape)
            sn, cn = run(mxemu, current, d, "now", shape)
            if cb.tobytes() != cn.tobytes():
                sys.exit(f"{m}x{k}x{n}: C differs between the baseline and the current firmware")
            tb, tn = sb["total_cycles"], sn["total_cycles"]
            print(f"| {m}×{k}×{n} | {'yes' if scaled else 'no'} | {tb:,} | {tn:,} | **{tn / tb:.2f}** |"
                  f" {100 * sb['mxu_utilization']:.2f} % → {100 * sn['mxu_utilization']:.2f} % |"
                  f" {sb['core']['instret']:,} → {sn['core']['instret']:,} |", flush=True)


if __name__ == "__main__":
    main()
