"""The FP8 / UE8M0 / MX numerics reference (DESIGN §3, docs/NUMERICS.md) on NumPy arrays.

The functions are the C++ library's (``model/numerics``), run over whole arrays in C++ with the
GIL released; results are bit-exact with it, with the ``mxemu`` CLI and with the chip.

- ``decode(codes, fmt)``: uint8 codes -> float32 (``fmt``: 'e4m3', 'e5m2', 'ue8m0').
- ``encode(x, fmt, mode='satfinite', rounding=None)``: float32 -> uint8 codes; ``mode``
  'satfinite' or 'nonsat'; UE8M0 needs ``rounding`` 'toward_zero' or 'up'.
- ``quantize_mx(x, block=32, mode='floor', fmt='e4m3')`` -> (codes, scales).
- ``gemm(a, b, sa=None, sb=None, block=32, fmt_a='e4m3', fmt_b='e4m3', c_init=None, *,
  threads=0, exact=False)`` -> C (float32).
"""

from mxemu._mxemu.numerics import FORMATS, decode, encode, gemm, quantize_mx

__all__ = ["FORMATS", "decode", "encode", "gemm", "quantize_mx"]
