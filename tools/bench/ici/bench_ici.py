#!/usr/bin/python3
"""Pod benchmark: an all-reduce on a 4x4x4 torus (64 chips) through `mxemu run`, and an idle pod.

Reports host seconds, host memory (peak RSS of mxemu) per chip, simulated payload bytes per host
second, and, as the baseline measured in the same run, the host's own all-reduce of the same data
(NumPy adding the 64 vectors, bytes per second), so the figure is a ratio, not a raw speed.
The result of chip 0 is checked against NumPy's sum (FP32 rounding of 63 additions).

  tools/bench/ici/bench_ici.py [--build build] [--mib 16] [--shape 4x4x4] [--algo 2]
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np


def run(cmd):
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.monotonic() - t0
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if p.returncode != 0:
        sys.exit(f"bench_ici: {' '.join(cmd)} failed ({p.returncode}):\n{p.stderr[-2000:]}")
    return p, wall, max(peak_kib, before)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--mib", type=float, default=16, help="MiB of FP32 per chip")
    ap.add_argument("--shape", default="4x4x4")
    ap.add_argument("--algo", type=int, default=2, help="0 ring, 1 biring, 2 torus")
    args = ap.parse_args()
    mxemu = os.path.join(args.build, "mxemu")
    dims = [int(d) for d in args.shape.split("x")]
    chips = dims[0] * dims[1] * dims[2]
    n = int(args.mib * (1 << 20)) // 4
    with tempfile.TemporaryDirectory(prefix="bench_ici_") as tmp:
        # The idle pod first (its peak RSS is the child maximum so far): a 64-element all-reduce.
        for c in range(chips):
            np.save(f"{tmp}/tiny_{c}.npy", np.ones(64, np.float32))
        _, idle_wall, idle_kib = run([
            mxemu, "run", "--pod", args.shape, "--topology", "torus", "--kernel", "collective",
            "--scalar", "op=0", "--in", f"X={tmp}/tiny_{{chip}}.npy"])
        rng = np.random.default_rng(1)
        xs = []
        for c in range(chips):
            x = rng.standard_normal(n).astype(np.float32)
            np.save(f"{tmp}/x_{c}.npy", x)
            xs.append(x)
        t0 = time.monotonic()
        ref = np.zeros(n, np.float64)
        for x in xs:
            ref += x
        host_s = time.monotonic() - t0
        cmd = [mxemu, "run", "--pod", args.shape, "--topology", "torus", "--kernel", "collective",
               "--in", f"X={tmp}/x_{{chip}}.npy", "--scalar", "op=0", "--scalar",
               f"algo={args.algo}", "--out", f"Y={tmp}/y_{{chip}}.npy", "--stats",
               f"{tmp}/s.json", "--max-seconds", "3000"]
        p, wall, peak_kib = run(cmd)
        stats = json.load(open(f"{tmp}/s.json"))
        y0 = np.load(f"{tmp}/y_0.npy")
        mag = np.zeros(n, np.float64)
        for x in xs:
            mag += np.abs(x)
        bad = int(np.sum(np.abs(y0 - ref) > (chips - 1) * 2.0**-24 * mag))
        link_bytes = sum(d["payload_bytes"] for link in stats["pod"]["ici"]["links"]
                         for d in link["directions"])
        cycles = [int(line.split()[3]) - int(line.split()[2])
                  for line in p.stdout.splitlines() if line.startswith("collective: cycles")]
    sim_us = max(cycles) / 1e3 if cycles else float("nan")
    print(f"bench_ici: {args.shape} torus, {chips} chips, all-reduce of {args.mib:g} MiB FP32 per "
          f"chip, algo {args.algo}")
    print(f"  simulated: {sim_us:.1f} us of collective (slowest chip), "
          f"{link_bytes / 1e6:.1f} MB over the links")
    print(f"  host: {wall:.1f} s, peak RSS {peak_kib / 1024:.0f} MiB = "
          f"{peak_kib / 1024 / chips:.1f} MiB per chip (inputs and outputs included)")
    print(f"  idle pod ({chips} chips, a 64-element all-reduce): {idle_wall:.1f} s, peak RSS "
          f"{idle_kib / 1024:.0f} MiB = {idle_kib / 1024 / chips:.1f} MiB per chip")
    rate = link_bytes / wall
    base = chips * n * 4 / host_s
    print(f"  simulated link bytes per host second: {rate / 1e6:.1f} MB/s; the host's own "
          f"NumPy all-reduce: {base / 1e6:.0f} MB/s; ratio {rate / base:.2e}")
    print(f"  check: {bad} of {n} elements of chip 0 outside FP32 rounding of the exact sum")
    return 0 if bad == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
