"""mxemu.numerics against the shared golden vectors (NVIDIA cuda_fp8.h), closed forms, and the
C++ CLI (`mxemu gemm`, the bundled quantize kernel) on the same arrays, bit for bit."""

import tempfile
import threading
import time
import unittest

import numpy as np

from common import (f32_bits, hex_u32, hex_u8, random_codes, random_scales, read_tsv, run_cli)
from mxemu import numerics

CANONICAL_NAN = 0x7FC00000


class DecodeTest(unittest.TestCase):
    def test_every_code_matches_the_vectors(self):
        t = read_tsv("fp8_decode.tsv")
        codes = hex_u8(t["code"])
        for fmt in ("e4m3", "e5m2", "ue8m0"):
            with self.subTest(fmt=fmt):
                want = hex_u32(t[f"{fmt}_f32"])
                nan = t[f"{fmt}_class"] == "nan"
                got = numerics.decode(codes, fmt)
                self.assertEqual(got.dtype, np.float32)
                self.assertTrue(np.isnan(got[nan]).all())
                np.testing.assert_array_equal(f32_bits(got)[~nan], want[~nan])
                # DESIGN §3: a NaN code decodes to the canonical NaN.
                self.assertTrue((f32_bits(got)[nan] == CANONICAL_NAN).all())

    def test_keeps_shape_and_takes_non_contiguous_arrays(self):
        codes = np.arange(256, dtype=np.uint8).reshape(4, 8, 8)
        flat = numerics.decode(codes.ravel(), "e5m2")
        got = numerics.decode(codes, "e5m2")
        self.assertEqual(got.shape, (4, 8, 8))
        np.testing.assert_array_equal(f32_bits(got).ravel(), f32_bits(flat))
        strided = numerics.decode(codes[:, ::2, 1::3], "e5m2")
        np.testing.assert_array_equal(f32_bits(strided), f32_bits(got[:, ::2, 1::3]))


class EncodeTest(unittest.TestCase):
    def test_fp32_to_fp8_matches_the_vectors(self):
        for fmt in ("e4m3", "e5m2"):
            t = read_tsv(f"fp32_to_{fmt}.tsv")
            x = hex_u32(t["in_f32"]).view(np.float32)
            for mode, column in (("satfinite", "cuda_sat"), ("nonsat", "cuda_nosat")):
                with self.subTest(fmt=fmt, mode=mode):
                    got = numerics.encode(x, fmt, mode)
                    self.assertEqual(got.dtype, np.uint8)
                    want = hex_u8(t[column])
                    bad = np.flatnonzero(got != want)
                    self.assertEqual(bad.size, 0,
                                     f"first mismatch: input {t['in_f32'][bad[:1]]}, "
                                     f"got {got[bad[:1]]}, want {want[bad[:1]]}")
            # The default mode is satfinite, and rounding 'rne' is the only FP8 rounding.
            np.testing.assert_array_equal(numerics.encode(x, fmt),
                                          numerics.encode(x, fmt, "satfinite", "rne"))

    def test_fp32_to_ue8m0_matches_the_vectors(self):
        t = read_tsv("fp32_to_ue8m0.tsv")
        x = hex_u32(t["in_f32"]).view(np.float32)
        for rounding, r in (("toward_zero", "rz"), ("up", "rp")):
            for mode, s in (("satfinite", "sat"), ("nonsat", "nosat")):
                with self.subTest(rounding=rounding, mode=mode):
                    got = numerics.encode(x, "ue8m0", mode, rounding)
                    np.testing.assert_array_equal(got, hex_u8(t[f"cuda_{r}_{s}"]))

    def test_decode_encode_round_trip_of_every_finite_code(self):
        codes = np.arange(256, dtype=np.uint8)
        for fmt, nan_or_inf in (("e4m3", (codes & 0x7F) == 0x7F),
                                ("e5m2", (codes & 0x7C) == 0x7C)):
            finite = codes[~nan_or_inf]
            back = numerics.encode(numerics.decode(finite, fmt), fmt, "nonsat")
            np.testing.assert_array_equal(back, finite)


class GemmTest(unittest.TestCase):
    def test_k1_outer_products_match_the_vectors(self):
        # With K = 1 and C_init = -0.0, C[m][n] = round(-0 + a*b) = a*b exactly (every FP8
        # product is an exact FP32; -0 + x = x for every x, the zeros' signs included).
        t = read_tsv("fp8_products.tsv")
        for fa, fb in (("e4m3", "e4m3"), ("e5m2", "e5m2"), ("e4m3", "e5m2")):
            with self.subTest(fmt_a=fa, fmt_b=fb):
                sel = (t["fmt_a"] == fa) & (t["fmt_b"] == fb)
                a_codes, b_codes = hex_u8(t["a"][sel]), hex_u8(t["b"][sel])
                want = hex_u32(t["prod_f32"][sel])
                a = np.arange(256, dtype=np.uint8).reshape(256, 1)
                b = np.arange(256, dtype=np.uint8).reshape(1, 256)
                c0 = np.full((256, 256), -0.0, dtype=np.float32)
                c = numerics.gemm(a, b, fmt_a=fa, fmt_b=fb, c_init=c0)
                got = f32_bits(c)[a_codes, b_codes]
                nan = np.isnan(want.view(np.float32))
                self.assertTrue((got[nan] == CANONICAL_NAN).all())
                np.testing.assert_array_equal(got[~nan], want[~nan])

    def test_fast_kernel_equals_the_definition(self):
        rng = np.random.default_rng(7)
        for m, k, n, block, fa, fb in ((37, 96, 29, 32, "e4m3", "e4m3"),
                                       (20, 256, 41, 128, "e5m2", "e4m3"),
                                       (9, 64, 70, 32, "e4m3", "e5m2")):
            with self.subTest(m=m, k=k, n=n, block=block):
                a = random_codes(rng, (m, k), specials=True)
                b = random_codes(rng, (k, n), specials=True)
                sa = random_scales(rng, (m, k // block), extreme=True)
                sb = random_scales(rng, (k // block, n), extreme=True)
                c0 = rng.standard_normal((m, n)).astype(np.float32)
                fast = numerics.gemm(a, b, sa, sb, block, fa, fb, c0, threads=2)
                exact = numerics.gemm(a, b, sa, sb, block, fa, fb, c0, exact=True)
                np.testing.assert_array_equal(f32_bits(fast), f32_bits(exact))

    def test_closed_form_small_case(self):
        # 1.0 (E4M3 0x38) * 2.0 (0x40) * 2^(128 + 126 - 254) = 2, summed over K = 64, plus 0.5.
        a = np.full((2, 64), 0x38, dtype=np.uint8)
        b = np.full((64, 3), 0x40, dtype=np.uint8)
        sa = np.full((2, 2), 128, dtype=np.uint8)
        sb = np.full((2, 3), 126, dtype=np.uint8)
        c = numerics.gemm(a, b, sa, sb, 32, c_init=np.full((2, 3), 0.5, np.float32))
        np.testing.assert_array_equal(c, np.full((2, 3), 128.5, np.float32))

    def test_equals_the_cli_gemm_bit_for_bit(self):
        rng = np.random.default_rng(11)
        cases = [
            # m, k, n, block, fmt_a, fmt_b, scales, c_init
            (70, 160, 50, 32, "e4m3", "e5m2", True, False),
            (33, 256, 130, 128, "e4m3", "e4m3", True, True),
            (17, 40, 9, 32, "e5m2", "e5m2", False, True),
        ]
        with tempfile.TemporaryDirectory() as d:
            for i, (m, k, n, block, fa, fb, scales, with_c0) in enumerate(cases):
                with self.subTest(case=i):
                    a = random_codes(rng, (m, k))
                    b = random_codes(rng, (k, n))
                    a[0, :3] = [0x7F, 0x00, 0x7E]  # a NaN (E4M3) / Inf (E5M2) and extremes
                    args = ["gemm", "--a", f"{d}/a.npy", "--b", f"{d}/b.npy", "--fmt-a", fa,
                            "--fmt-b", fb, "--out", f"{d}/c.npy"]
                    np.save(f"{d}/a.npy", a)
                    np.save(f"{d}/b.npy", b)
                    sa = sb = c0 = None
                    if scales:
                        sa = random_scales(rng, (m, k // block))
                        sb = random_scales(rng, (k // block, n))
                        np.save(f"{d}/sa.npy", sa)
                        np.save(f"{d}/sb.npy", sb)
                        args += ["--a-scales", f"{d}/sa.npy", "--b-scales", f"{d}/sb.npy",
                                 "--block", str(block)]
                    if with_c0:
                        c0 = rng.standard_normal((m, n)).astype(np.float32)
                        np.save(f"{d}/c0.npy", c0)
                        args += ["--c-init", f"{d}/c0.npy"]
                    rc, out, err = run_cli(*args)
                    self.assertEqual(rc, 0, err)
                    want = np.load(f"{d}/c.npy")
                    got = numerics.gemm(a, b, sa, sb, block, fa, fb, c0)
                    self.assertEqual(got.shape, (m, n))
                    np.testing.assert_array_equal(f32_bits(got), f32_bits(want))

    def test_releases_the_gil(self):
        # While a long gemm runs in another thread, this thread's short sleeps must wake on
        # time; a gemm holding the GIL would delay one of them by about its whole duration.
        rng = np.random.default_rng(3)
        b = random_codes(rng, (2048, 1024))
        m = 256
        while True:  # grow M until one single-threaded gemm takes long enough to tell
            a = random_codes(rng, (m, 2048))
            t0 = time.perf_counter()
            numerics.gemm(a, b, threads=1)
            duration = time.perf_counter() - t0
            if duration > 0.4 or m >= 16384:
                break
            m *= 2
        worker = threading.Thread(target=numerics.gemm, args=(a, b), kwargs={"threads": 1})
        worker.start()
        s = time.perf_counter()
        time.sleep(0.02)  # the worker enters the gemm
        worst = time.perf_counter() - s - 0.02
        naps = 0
        while worker.is_alive():
            s = time.perf_counter()
            time.sleep(0.001)
            worst = max(worst, time.perf_counter() - s)
            naps += 1
        worker.join()
        self.assertGreater(naps, 10, "the gemm ended before this thread could run")
        self.assertGreater(duration, 0.2, "gemm too short to tell")
        self.assertLess(worst, duration / 2,
                        f"a 1 ms sleep took {worst:.3f} s during a {duration:.3f} s gemm")


class QuantizeTest(unittest.TestCase):
    def test_worked_example_of_the_numerics_doc(self):
        # docs/NUMERICS.md, "MX block quantisation": E4M3, block {0.5, -3, 1000, 0.01}.
        x = np.array([[0.5, -3.0, 1000.0, 0.01]], dtype=np.float32)
        codes, scales = numerics.quantize_mx(x, block=4, mode="floor")
        np.testing.assert_array_equal(scales, [[0x80]])
        np.testing.assert_array_equal(codes, [[0x28, 0xBC, 0x7E, 0x03]])
        codes, scales = numerics.quantize_mx(x, block=4, mode="ceil")
        np.testing.assert_array_equal(scales, [[0x81]])
        np.testing.assert_array_equal(codes, [[0x20, 0xB4, 0x78, 0x01]])

    def test_scales_and_codes_follow_the_closed_form(self):
        rng = np.random.default_rng(5)
        for fmt, emax, max_finite in (("e4m3", 8, 448.0), ("e5m2", 15, 57344.0)):
            for mode in ("floor", "ceil"):
                for block in (32, 128):
                    with self.subTest(fmt=fmt, mode=mode, block=block):
                        x = (rng.standard_normal((6, 4, 256)) *
                             np.exp2(rng.integers(-20, 20, (6, 4, 1)))).astype(np.float32)
                        codes, scales = numerics.quantize_mx(x, block, mode, fmt)
                        self.assertEqual(codes.shape, x.shape)
                        self.assertEqual(scales.shape, (6, 4, 256 // block))
                        blocks = x.reshape(6, 4, -1, block).astype(np.float64)
                        amax = np.abs(blocks).max(axis=-1)
                        _, e2 = np.frexp(amax)  # amax = f * 2^e2, f in [0.5, 1)
                        e = e2 - 1 - emax  # floor(log2 amax) - emax
                        if mode == "ceil":
                            e = e + (amax > np.ldexp(max_finite, e))
                        np.testing.assert_array_equal(scales, (e + 127).astype(np.uint8))
                        # Elements: x / 2^e (exact here) converted satfinite.
                        scaled = np.ldexp(x.reshape(blocks.shape), -e[..., None]).astype(np.float32)
                        want = numerics.encode(scaled, fmt, "satfinite").reshape(x.shape)
                        np.testing.assert_array_equal(codes, want)

    def test_special_blocks(self):
        x = np.zeros((3, 32), dtype=np.float32)
        x[1, 5] = np.nan
        x[2, 7] = -np.inf
        _, scales = numerics.quantize_mx(x, 32)
        # DESIGN §3 / NUMERICS.md: an all-zero block gets 2^0, a NaN or Inf block the NaN scale.
        np.testing.assert_array_equal(scales[:, 0], [127, 0xFF, 0xFF])

    def test_equals_the_bundled_quantize_kernel_on_the_chip(self):
        rng = np.random.default_rng(9)
        x = (rng.standard_normal((48, 256)) * 100).astype(np.float32)
        with tempfile.TemporaryDirectory() as d:
            np.save(f"{d}/x.npy", x)
            for fmt, code in (("e4m3", 0), ("e5m2", 1)):
                with self.subTest(fmt=fmt):
                    rc, _, err = run_cli("run", "--kernel", "quantize", "--in", f"X={d}/x.npy",
                                         "--scalar", "block=32", "--scalar", f"fmt={code}",
                                         "--out", f"Q={d}/q.npy", "--out", f"S={d}/s.npy")
                    self.assertEqual(rc, 0, err)
                    codes, scales = numerics.quantize_mx(x, 32, "floor", fmt)
                    np.testing.assert_array_equal(codes, np.load(f"{d}/q.npy"))
                    np.testing.assert_array_equal(scales, np.load(f"{d}/s.npy"))


class BadArgumentsTest(unittest.TestCase):
    def assert_value_error(self, fn, *needles):
        with self.assertRaises(ValueError) as cm:
            fn()
        for needle in needles:
            self.assertIn(needle, str(cm.exception))

    def test_wrong_dtypes(self):
        u8 = np.zeros((4, 4), dtype=np.uint8)
        self.assert_value_error(lambda: numerics.decode(np.zeros(4, np.int32), "e4m3"),
                                "codes must be a NumPy array of dtype uint8, got int32")
        self.assert_value_error(lambda: numerics.decode([1, 2], "e4m3"),
                                "codes must be a NumPy array of dtype uint8, got a list")
        self.assert_value_error(lambda: numerics.encode(np.zeros(4), "e4m3"),
                                "x must be a NumPy array of dtype float32, got float64")
        self.assert_value_error(lambda: numerics.encode(np.zeros(4, ">f4"), "e4m3"),
                                "dtype float32, got >f4")
        self.assert_value_error(lambda: numerics.quantize_mx(np.zeros((2, 32)), 32),
                                "x must be", "float32, got float64")
        self.assert_value_error(lambda: numerics.gemm(u8.astype(np.float32), u8),
                                "a must be a NumPy array of dtype uint8", "got float32")
        self.assert_value_error(lambda: numerics.gemm(u8, u8, c_init=np.zeros((4, 4))),
                                "c_init must be a NumPy array of dtype float32, got float64")
        self.assert_value_error(
            lambda: numerics.gemm(u8, u8, u8[:, :1].astype(np.int8), u8[:1], block=4),
            "sa must be a NumPy array of dtype uint8", "got int8")

    def test_wrong_shapes(self):
        a = np.zeros((4, 64), dtype=np.uint8)
        b = np.zeros((64, 8), dtype=np.uint8)
        self.assert_value_error(lambda: numerics.gemm(a[0], b), "a must be 2-D (M x K)",
                                "shape (64,)")
        self.assert_value_error(lambda: numerics.gemm(a, b[:32]), "a is (4, 64) but b is (32, 8)",
                                "a's columns must equal b's rows")
        sa = np.zeros((4, 2), dtype=np.uint8)
        sb = np.zeros((2, 8), dtype=np.uint8)
        self.assert_value_error(lambda: numerics.gemm(a, b, sa), "give both scales sa and sb")
        self.assert_value_error(lambda: numerics.gemm(a, b, sa[:, :1], sb),
                                "sa is (4, 1) but must be M x K/block = (4, 2)")
        self.assert_value_error(lambda: numerics.gemm(a, b, sa, sb.T),
                                "sb is (8, 2) but must be K/block x N = (2, 8)")
        self.assert_value_error(lambda: numerics.gemm(a, b, sa, sb, block=48),
                                "K = 64 is not a multiple of the block (48)")
        self.assert_value_error(lambda: numerics.gemm(a, b, sa, sb, block=0),
                                "block must be positive, got 0")
        self.assert_value_error(
            lambda: numerics.gemm(a, b, c_init=np.zeros((8, 4), np.float32)),
            "c_init is (8, 4) but must be M x N = (4, 8)")
        self.assert_value_error(lambda: numerics.quantize_mx(np.zeros((2, 48), np.float32), 32),
                                "last dimension (48) is not a multiple of the block (32)")
        self.assert_value_error(lambda: numerics.quantize_mx(np.array(1.0, np.float32), 32),
                                "at least one dimension")

    def test_unknown_formats_and_modes(self):
        u8 = np.zeros((2, 2), dtype=np.uint8)
        x = np.zeros(4, dtype=np.float32)
        self.assert_value_error(lambda: numerics.decode(u8, "e3m4"), "unknown format 'e3m4'",
                                "'e4m3', 'e5m2' or 'ue8m0'")
        self.assert_value_error(lambda: numerics.encode(x, "fp8"), "unknown format 'fp8'")
        self.assert_value_error(lambda: numerics.encode(x, "e4m3", "saturate"),
                                "unknown mode 'saturate'", "'satfinite' or 'nonsat'")
        self.assert_value_error(lambda: numerics.encode(x, "e4m3", rounding="up"),
                                "rounds to nearest even only")
        self.assert_value_error(lambda: numerics.encode(x, "ue8m0"),
                                "UE8M0 needs rounding='toward_zero' or rounding='up'")
        self.assert_value_error(lambda: numerics.gemm(u8, u8, fmt_b="e2m5"),
                                "unknown format 'e2m5' for b")
        self.assert_value_error(lambda: numerics.quantize_mx(x, 4, "round"),
                                "unknown scale mode 'round'", "'floor' or 'ceil'")
        self.assert_value_error(lambda: numerics.quantize_mx(x, 4, fmt="ue8m0"),
                                "unknown format 'ue8m0' for the elements")
        self.assert_value_error(lambda: numerics.gemm(u8, u8, threads=-1),
                                "threads must be 0")


if __name__ == "__main__":
    unittest.main()
