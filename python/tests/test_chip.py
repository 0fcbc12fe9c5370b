"""mxemu.Chip against the mxemu CLI on the same inputs: results, statistics, timelines and error
messages (with their exit statuses) must be the CLI's."""

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import threading
import unittest

import numpy as np

from common import f32_bits, firmware, random_codes, random_scales, run_cli
import mxemu
from mxemu import numerics

# A second chip: one 256 x 256 MXU instead of two 128 x 128 ones.
BIG_MXU_TOML = """
[chip]
name = "big1"
[mxu]
count = 1
rows = 256
cols = 256
"""

_EXAMPLE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                        "examples", "sweep_gemm.py")


def cli_error(stderr):
    """The message of the CLI's "mxemu: error: <message>" line."""
    lines = [line for line in stderr.splitlines() if line.startswith("mxemu: error: ")]
    assert len(lines) == 1, stderr
    return lines[0][len("mxemu: error: "):]


def without_host_figures(stats):
    """Statistics minus what depends on the host's speed."""
    s = json.loads(json.dumps(stats))
    s.pop("host_seconds", None)
    s.get("core", {}).pop("host_mips", None)
    return s


class ChipTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.dir = cls.tmp.name
        cls.big_config = os.path.join(cls.dir, "big1.toml")
        with open(cls.big_config, "w", encoding="utf-8") as f:
            f.write(BIG_MXU_TOML)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def path(self, name):
        return os.path.join(self.dir, name)

    def gemm_operands(self, seed, m, k, n, block):
        rng = np.random.default_rng(seed)
        a, b = random_codes(rng, (m, k)), random_codes(rng, (k, n))
        sa = random_scales(rng, (m, k // block))
        sb = random_scales(rng, (k // block, n))
        c0 = rng.standard_normal((m, n)).astype(np.float32)
        for name, arr in (("a", a), ("b", b), ("sa", sa), ("sb", sb), ("c0", c0)):
            np.save(self.path(name + ".npy"), arr)
        return a, b, sa, sb, c0

    def cli_gemm(self, *extra):
        rc, _, err = run_cli("gemm", "--a", self.path("a.npy"), "--b", self.path("b.npy"),
                             "--a-scales", self.path("sa.npy"), "--b-scales",
                             self.path("sb.npy"), "--c-init", self.path("c0.npy"),
                             "--out", self.path("c.npy"), "--stats", self.path("s.json"), *extra)
        self.assertEqual(rc, 0, err)
        with open(self.path("s.json"), encoding="utf-8") as f:
            return np.load(self.path("c.npy")), json.load(f)

    # --- results and statistics -------------------------------------------------------------

    def test_gemm_equals_the_cli_and_the_numerics(self):
        a, b, sa, sb, c0 = self.gemm_operands(1, 200, 384, 300, 32)
        want_c, want_stats = self.cli_gemm("--fmt-b", "e5m2", "--timeline", self.path("t.json"))
        r = mxemu.Chip().gemm(a, b, sa, sb, fmt_b="e5m2", c_init=c0,
                              timeline=self.path("py_t.json"))
        np.testing.assert_array_equal(f32_bits(r["C"]), f32_bits(want_c))
        np.testing.assert_array_equal(
            f32_bits(r["C"]), f32_bits(numerics.gemm(a, b, sa, sb, 32, "e4m3", "e5m2", c0)))
        self.assertEqual(r.cycles, want_stats["total_cycles"])
        self.assertEqual(without_host_figures(r.stats), without_host_figures(want_stats))
        self.assertEqual(r.mxu_utilization, want_stats["mxu_utilization"])
        self.assertEqual(r.exit_code, 0)
        self.assertEqual(r.timeline, self.path("py_t.json"))
        with open(self.path("t.json"), encoding="utf-8") as f:
            want_timeline = json.load(f)
        with open(r.timeline, encoding="utf-8") as f:
            got_timeline = json.load(f)
        self.assertGreater(len(got_timeline["traceEvents"]), 0)
        self.assertEqual(got_timeline, want_timeline)

    def test_gemm_on_another_config_equals_the_cli(self):
        a, b, sa, sb, c0 = self.gemm_operands(2, 64, 512, 256, 128)
        want_c, want_stats = self.cli_gemm("--config", self.big_config, "--block", "128")
        chip = mxemu.Chip(self.big_config)
        self.assertEqual(chip.name, "big1")
        r = chip.gemm(a, b, sa, sb, block=128, c_init=c0)
        np.testing.assert_array_equal(f32_bits(r["C"]), f32_bits(want_c))
        self.assertEqual(r.cycles, want_stats["total_cycles"])
        self.assertEqual(r.stats["chip"], "big1")
        # The same chip from TOML text, and the defaults, which differ in cycles.
        same = mxemu.Chip.from_toml(BIG_MXU_TOML).gemm(a, b, sa, sb, block=128, c_init=c0)
        self.assertEqual(same.cycles, r.cycles)
        default = mxemu.Chip().gemm(a, b, sa, sb, block=128, c_init=c0)
        np.testing.assert_array_equal(f32_bits(default["C"]), f32_bits(want_c))
        self.assertNotEqual(default.cycles, r.cycles)

    def test_runs_are_repeatable_in_one_process(self):
        a, b, sa, sb, c0 = self.gemm_operands(3, 96, 128, 64, 32)
        chip = mxemu.Chip()
        first = chip.gemm(a, b, sa, sb, c_init=c0)
        second = chip.gemm(a, b, sa, sb, c_init=c0)
        self.assertEqual(without_host_figures(first.stats), without_host_figures(second.stats))
        np.testing.assert_array_equal(f32_bits(first["C"]), f32_bits(second["C"]))

    def test_runs_from_two_threads_take_turns(self):
        a, b, sa, sb, c0 = self.gemm_operands(4, 64, 256, 128, 32)
        want = numerics.gemm(a, b, sa, sb, 32, c_init=c0)
        results, errors = [], []

        def work():
            try:
                results.append(mxemu.Chip().gemm(a, b, sa, sb, c_init=c0))
            except Exception as e:  # reported below
                errors.append(e)

        threads = [threading.Thread(target=work) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])
        self.assertEqual(len(results), 2)
        for r in results:
            np.testing.assert_array_equal(f32_bits(r["C"]), f32_bits(want))
        self.assertEqual(results[0].cycles, results[1].cycles)

    def test_run_bundled_kernel_equals_the_cli(self):
        rng = np.random.default_rng(5)
        x = (rng.standard_normal((40, 128)) * 10).astype(np.float32)
        np.save(self.path("x.npy"), x)
        rc, _, err = run_cli("run", "--kernel", "quantize", "--in", f"X={self.path('x.npy')}",
                             "--scalar", "block=32", "--out", f"Q={self.path('q.npy')}",
                             "--out", f"S={self.path('s.npy')}", "--stats",
                             self.path("qs.json"))
        self.assertEqual(rc, 0, err)
        self.assertIn("quantize", mxemu.bundled_kernels())
        r = mxemu.Chip().run("quantize", inputs={"X": x}, scalars={"block": 32},
                             outputs=["Q", "S"])
        np.testing.assert_array_equal(r["Q"], np.load(self.path("q.npy")))
        np.testing.assert_array_equal(r["S"], np.load(self.path("s.npy")))
        self.assertEqual(r["Q"].dtype, np.uint8)
        with open(self.path("qs.json"), encoding="utf-8") as f:
            self.assertEqual(without_host_figures(r.stats), without_host_figures(json.load(f)))
        codes, scales = numerics.quantize_mx(x, 32)
        np.testing.assert_array_equal(r["Q"], codes)
        np.testing.assert_array_equal(r["S"], scales)

    def test_run_firmware_from_a_path_or_bytes(self):
        elf = firmware("hello")
        rc, out, err = run_cli("run", "--firmware", elf)
        self.assertEqual(rc, 0, err)
        by_path = mxemu.Chip().run(elf)
        with open(elf, "rb") as f:
            by_bytes = mxemu.Chip().run(f.read())
        self.assertEqual(by_path.console, out)
        self.assertEqual(by_bytes.console, out)
        self.assertIn("hello from the mxemu control core", out)
        self.assertEqual(by_path.stats["firmware"], elf)
        self.assertEqual(by_bytes.cycles, by_path.cycles)

    # --- errors: the CLI's messages and exit statuses ---------------------------------------

    def test_failing_firmware_raises_the_cli_message(self):
        elf = firmware("exit_with")
        rc, _, err = run_cli("run", "--firmware", elf, "--scalar", "code=5")
        self.assertEqual(rc, 1)
        line = [x for x in err.splitlines() if x.startswith("mxemu: firmware failed")]
        self.assertEqual(len(line), 1, err)
        with self.assertRaises(mxemu.FirmwareError) as cm:
            mxemu.Chip().run(elf, scalars={"code": 5})
        e = cm.exception
        self.assertIsInstance(e, mxemu.Error)
        self.assertIsInstance(e, RuntimeError)
        self.assertEqual(str(e), line[0][len("mxemu: "):])
        self.assertEqual((e.code, e.firmware_code, e.result.exit_code), (rc, 5, 5))
        # check=False returns the result instead.
        r = mxemu.Chip().run(elf, scalars={"code": 5}, check=False)
        self.assertEqual(r.exit_code, 5)

    def test_faulting_firmware_raises_the_cli_message(self):
        elf = firmware("bad_illegal")
        rc, _, err = run_cli("run", "--firmware", elf)
        self.assertEqual(rc, 3)
        with self.assertRaises(mxemu.SimFaultError) as cm:
            mxemu.Chip().run(elf)
        self.assertEqual(str(cm.exception), cli_error(err))
        self.assertEqual(cm.exception.code, 3)
        self.assertIn("illegal", str(cm.exception))

    def test_cycle_limit_raises_the_cli_message(self):
        elf = firmware("bad_forever")
        rc, _, err = run_cli("run", "--firmware", elf, "--max-cycles", "20000")
        self.assertEqual(rc, 4)
        with self.assertRaises(mxemu.CycleLimitError) as cm:
            mxemu.Chip().run(elf, max_cycles=20000)
        self.assertEqual(str(cm.exception), cli_error(err))
        self.assertEqual(cm.exception.code, 4)

    def test_missing_output_raises_the_cli_message(self):
        elf = firmware("hello")
        rc, _, err = run_cli("run", "--firmware", elf, "--out", f"Z={self.path('z.npy')}")
        self.assertEqual(rc, 3)
        with self.assertRaises(mxemu.SimFaultError) as cm:
            mxemu.Chip().run(elf, outputs=["Z"])
        self.assertEqual(str(cm.exception), cli_error(err))

    def test_bad_config_raises_the_cli_message(self):
        bad = self.path("bad.toml")
        with open(bad, "w", encoding="utf-8") as f:
            f.write("[mxu]\ncount = 99\n")
        rc, _, err = run_cli("run", "--config", bad, "--firmware", firmware("hello"))
        self.assertEqual(rc, 2)
        with self.assertRaises(mxemu.BadInputError) as cm:
            mxemu.Chip(bad)
        self.assertEqual(str(cm.exception), cli_error(err))
        self.assertEqual(cm.exception.code, 2)
        self.assertIsInstance(cm.exception, ValueError)

    def test_gemm_bad_input_raises_the_cli_message(self):
        self.gemm_operands(6, 8, 64, 16, 32)
        a, b = np.load(self.path("a.npy")), np.load(self.path("b.npy"))
        np.save(self.path("bt.npy"), np.ascontiguousarray(b[:32]))
        rc, _, err = run_cli("gemm", "--a", self.path("a.npy"), "--b", self.path("bt.npy"),
                             "--out", self.path("c.npy"))
        self.assertEqual(rc, 2)
        with self.assertRaises(ValueError) as cm:
            mxemu.Chip().gemm(a, b[:32])
        self.assertIsInstance(cm.exception, mxemu.BadInputError)
        self.assertEqual(str(cm.exception), cli_error(err))
        with self.assertRaises(mxemu.BadInputError) as cm:
            mxemu.Chip().gemm(a, b, fmt_a="e3m4")
        self.assertEqual(str(cm.exception), "unknown format 'e3m4' for A (expected e4m3 or e5m2)")
        sa = np.full((8, 1), 127, np.uint8)
        with self.assertRaises(mxemu.BadInputError) as cm:
            mxemu.Chip().gemm(a, b, sa, np.full((2, 16), 127, np.uint8))
        self.assertIn("the A scales are (8, 1) but must be M x K/block = (8, 2)",
                      str(cm.exception))

    def test_bad_arguments_raise_value_error(self):
        u8 = np.zeros((8, 32), np.uint8)
        chip = mxemu.Chip()
        cases = [
            (lambda: chip.gemm(u8.astype(np.float32), u8.T),
             "a must be a NumPy array of dtype uint8 (FP8 codes), got float32"),
            (lambda: chip.gemm(u8, u8.T, c_init=np.zeros((8, 8))),
             "c_init must be a NumPy array of dtype float32, got float64"),
            (lambda: chip.gemm(u8, u8.T, fmt_a=3), "fmt_a must be 'e4m3' or 'e5m2'"),
            (lambda: chip.run("quantize", inputs={"X": np.zeros((4, 32))}),
             "input 'X' must be a NumPy array of dtype uint8 (FP8/UE8M0 codes) or float32, "
             "got float64"),
            (lambda: chip.run("quantize", inputs={"X": np.zeros((1,) * 5, np.float32)}),
             "input 'X' has 5 dimensions"),
            (lambda: chip.run("quantize", inputs=[("X", u8)]), "inputs must be a dict"),
            (lambda: chip.run("quantize", scalars={"block": 2**32}),
             "scalar 'block' must be in [0, 4294967295], got 4294967296"),
            (lambda: chip.run("quantize", scalars={"block": 1.5}),
             "scalar 'block' must be an integer, got float"),
            (lambda: chip.run("quantize", outputs="Q"), "outputs must be a list of names"),
            (lambda: chip.run("quantize", max_cycles=-1), "max_cycles must be in [0, "),
            (lambda: chip.run(42), "firmware must be ELF bytes, a path or a bundled kernel"),
            (lambda: mxemu.Chip(config=42), "config must be None or the path of a TOML file"),
        ]
        for fn, needle in cases:
            with self.subTest(needle=needle):
                with self.assertRaises(ValueError) as cm:
                    fn()
                self.assertIn(needle, str(cm.exception))

    def test_unknown_firmware(self):
        with self.assertRaises(mxemu.BadInputError) as cm:
            mxemu.Chip().run("no_such_kernel")
        self.assertIn("neither a file nor a bundled kernel (gemm, quantize", str(cm.exception))
        missing = self.path("missing.elf")
        with self.assertRaises(mxemu.BadInputError) as cm:
            mxemu.Chip().run(missing)
        self.assertEqual(str(cm.exception), f"cannot open firmware file '{missing}'")

    # --- the example ------------------------------------------------------------------------

    def test_example_sweep_writes_a_png(self):
        if importlib.util.find_spec("matplotlib") is None:
            self.skipTest("matplotlib is not installed (Debian: python3-matplotlib)")
        png = self.path("sweep.png")
        p = subprocess.run([sys.executable, _EXAMPLE, "--quick", "--out", png],
                           capture_output=True, text=True, timeout=600)
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(png, "rb") as f:
            self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")
        # One table row per (config, shape), each with a utilisation in (0, 100] %.
        rows = [x.split() for x in p.stdout.splitlines() if x.startswith(("mx1 ", "mx1-64 "))]
        self.assertEqual(len(rows), 2 * 3, p.stdout)
        for row in rows:
            self.assertTrue(0 < float(row[-1]) <= 100, row)


if __name__ == "__main__":
    unittest.main()
