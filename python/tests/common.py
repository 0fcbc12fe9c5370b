"""Helpers shared by the Python tests: where the vectors, the CLI and the test firmware are, the
shared vectors as arrays, random MXFP8 operands, and running the CLI."""

import os
import subprocess
import unittest

import numpy as np

_REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def vectors_dir():
    """$MXEMU_VECTORS_DIR (set by ctest), else <repo>/../shared/vectors."""
    return os.environ.get("MXEMU_VECTORS_DIR") or os.path.join(_REPO, "..", "shared", "vectors")


def build_dir():
    """$MXEMU_BUILD_DIR (set by ctest), else <repo>/build."""
    return os.environ.get("MXEMU_BUILD_DIR") or os.path.join(_REPO, "build")


def cli():
    """The mxemu binary of this build; skips the test when it is not built."""
    path = os.path.join(build_dir(), "mxemu")
    if not os.path.exists(path):
        raise unittest.SkipTest(f"no mxemu binary at {path} (build target mxemu)")
    return path


def firmware(name):
    """A test firmware ELF of this build (firmware/tests); fails the test when it is missing."""
    path = os.path.join(build_dir(), "firmware", name + ".elf")
    if not os.path.exists(path):
        raise AssertionError(f"missing test firmware {path} (build target fw_{name})")
    return path


def run_cli(*args):
    """Runs the mxemu CLI; returns (exit status, stdout, stderr)."""
    env = dict(os.environ, SYSTEMC_DISABLE_COPYRIGHT_MESSAGE="1")
    p = subprocess.run([cli(), *args], capture_output=True, text=True, env=env, timeout=600)
    return p.returncode, p.stdout, p.stderr


def read_tsv(name):
    """A vectors table as {column: numpy array of str}."""
    with open(os.path.join(vectors_dir(), name), encoding="ascii") as f:
        header = f.readline().rstrip("\n").split("\t")
        rows = [line.rstrip("\n").split("\t") for line in f if line.strip()]
    table = np.array(rows, dtype=object)
    return {h: table[:, i].astype(str) for i, h in enumerate(header)}


def hex_u8(column):
    return np.array([int(v, 16) for v in column], dtype=np.uint8)


def hex_u32(column):
    return np.array([int(v, 16) for v in column], dtype=np.uint32)


def f32_bits(x):
    return np.ascontiguousarray(x, dtype=np.float32).view(np.uint32)


def random_codes(rng, shape, specials=False):
    """FP8 codes; without specials the exponent field stays below its maximum (no NaN/Inf in
    either format)."""
    c = rng.integers(0, 256, size=shape, dtype=np.uint8)
    if not specials:
        top = (c & 0x78) == 0x78
        c[top] &= 0xB7
    return c


def random_scales(rng, shape, extreme=False):
    if extreme:
        return rng.integers(0, 256, size=shape, dtype=np.uint8)
    return rng.integers(120, 135, size=shape, dtype=np.uint8)
