#!/usr/bin/python3
"""Distributed pods (docs/DISTRIBUTED.md): speed-up of ranks over one rank, and host cost per chip.

1. A 16-chip 4x4 torus all-reduces --mib MiB of FP32 per chip (the torus algorithm): in one
   process, then under `mpirun -np 1` and `-np 2` (and more with --ranks). The baseline is the
   1-rank run of the same job in the same invocation; outputs must be identical across all runs.
2. Host cost per chip: rings of 8, 64 and 512 chips (--scale) all-reduce 64 elements; host
   seconds and peak memory of the process, per chip, and a linear fit extrapolated to 9,216 chips.

  tools/bench/mpi/bench_mpi.py [--build build] [--mib 4] [--ranks 1,2] [--scale 8,64,512]
"""
import argparse
import filecmp
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")


def run(cmd, repeat=1):
    """Runs cmd `repeat` times; returns (the least wall seconds, peak RSS in MiB of the largest
    process of the run: /usr/bin/time reports its child's tree, mpirun's ranks included)."""
    best, peak = None, 0.0
    with tempfile.NamedTemporaryFile() as rss:
        for _ in range(repeat):
            t0 = time.monotonic()
            p = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", rss.name] + cmd,
                               capture_output=True, text=True, env=ENV)
            wall = time.monotonic() - t0
            if p.returncode != 0:
                sys.exit(f"bench_mpi: {' '.join(cmd)} failed ({p.returncode}):\n"
                         f"{p.stderr[-2000:]}")
            best = wall if best is None else min(best, wall)
            with open(rss.name) as f:
                peak = max(peak, int(f.read().split()[-1]) / 1024)
    return best, peak


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--mib", type=float, default=4)
    ap.add_argument("--ranks", default="1,2")
    ap.add_argument("--scale", default="8,64,512", help="chip counts ('' : none)")
    ap.add_argument("--scale-ranks", type=int, default=4,
                    help="the host-cost runs also under mpirun with this many ranks (0: not)")
    ap.add_argument("--repeat", type=int, default=2, help="runs of each speed-up case (least)")
    args = ap.parse_args()
    mxemu = os.path.join(args.build, "mxemu")
    n = int(args.mib * (1 << 20)) // 4
    with tempfile.TemporaryDirectory(prefix="bench_mpi_") as tmp:
        rng = np.random.default_rng(1)
        for c in range(16):
            np.save(f"{tmp}/x_{c}.npy", rng.standard_normal(n).astype(np.float32))
        job = ["run", "--pod", "4x4x1", "--topology", "torus", "--kernel", "collective",
               "--scalar", "op=0", "--scalar", "algo=2", "--in", f"X={tmp}/x_{{chip}}.npy",
               "--quiet"]
        print(f"16-chip 4x4 torus all-reduce, {args.mib:g} MiB FP32 per chip")
        wall, peak = run([mxemu] + job + ["--out", f"Y={tmp}/one_{{chip}}.npy"], args.repeat)
        print(f"  one process       {wall:7.2f} s   peak {peak:6.0f} MiB")
        base = None
        for r in [int(x) for x in args.ranks.split(",")]:
            wall, peak = run(["mpirun", "--oversubscribe", "-np", str(r), mxemu] + job +
                             ["--out", f"Y={tmp}/r{r}_{{chip}}.npy"], args.repeat)
            same = all(filecmp.cmp(f"{tmp}/one_{c}.npy", f"{tmp}/r{r}_{c}.npy", shallow=False)
                       for c in range(16))
            if not same:
                sys.exit(f"bench_mpi: {r} ranks gave other outputs than one process")
            base = base or wall
            print(f"  mpirun -np {r:<3}     {wall:7.2f} s   peak {peak:6.0f} MiB (largest rank)"
                  f"   speed-up over 1 rank {base / wall:5.2f}x   outputs identical")
        print("host cost per chip (ring all-reduce of 64 elements, one process)")
        fit = []
        for chips in [int(x) for x in args.scale.split(",") if x]:
            for c in range(chips):
                np.save(f"{tmp}/t_{c}.npy", np.ones(64, np.float32))
            tiny = [mxemu, "run", "--chips", str(chips), "--kernel", "collective", "--scalar",
                    "op=0", "--in", f"X={tmp}/t_{{chip}}.npy", "--quiet"]
            wall, peak = run(tiny)
            fit.append((chips, wall, peak))
            line = (f"  {chips:5} chips  {wall:7.2f} s  {1000 * wall / chips:6.2f} ms/chip  "
                    f"{peak:8.0f} MiB  {peak / chips:6.2f} MiB/chip")
            r = args.scale_ranks
            if r > 0 and chips >= r:
                w2, p2 = run(["mpirun", "--oversubscribe", "-np", str(r)] + tiny)
                line += (f"  | {r} ranks: {w2:7.2f} s, largest rank {p2:6.0f} MiB = "
                         f"{p2 / (chips / r):6.2f} MiB per own chip")
            print(line)
        if len(fit) >= 2:
            xs = np.array([f[0] for f in fit], float)
            for name, col, unit in (("host seconds", 1, "s"), ("peak memory", 2, "MiB")):
                k, c0 = np.polyfit(xs, np.array([f[col] for f in fit], float), 1)
                print(f"  fit {name}: {c0:.2f} {unit} + {k:.4f} {unit}/chip -> 9216 chips: "
                      f"{c0 + k * 9216:.0f} {unit}")


if __name__ == "__main__":
    main()
