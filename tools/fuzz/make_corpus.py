#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz harnesses (tools/fuzz/corpus/<harness>/).

Every input is built here from the format specifications (NumPy's .npy format 1.0-3.0, the ELF32
and RISC-V psABI headers, DRAMSys StlPlayer and Ramulator LoadStoreTrace lines, the GDB remote
serial protocol framing with its modulo-256 checksum), independently of the C++ parsers, so the
regression tests that read these files check the parsers against a second source.

Files named regress_* are inputs that crashed, hung or were silently accepted before the parsers
were hardened; the Catch2 tests (tests/common/test_npy.cpp, tests/core/test_elf.cpp,
tests/hbm/test_trace.cpp, tests/core/test_gdb_packet.cpp) assert the error each one gets now.

    tools/fuzz/make_corpus.py [--firmware-dir build/firmware]

--firmware-dir also copies three small firmware ELFs of the project's own build (debug
information stripped) as real-world ELF seeds; without it the committed copies stay.
"""
import argparse
import os
import shutil
import struct
import subprocess

TOP = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(TOP, "corpus")


def write(harness, name, data):
    d = os.path.join(CORPUS, harness)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("latin-1")
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# ---------------------------------------------------------------------------------------------
# .npy: magic "\x93NUMPY", major, minor, header length (2 bytes LE for 1.0, 4 for 2.0/3.0),
# header dict padded with spaces and ended by '\n' so the data starts at a multiple of 64.


def npy(header, data=b"", version=1, pad=True, header_len=None):
    prefix = 10 if version == 1 else 12
    h = header
    if pad:
        h += " " * ((64 - (prefix + len(h) + 1) % 64) % 64) + "\n"
    hb = h.encode("latin-1")
    n = len(hb) if header_len is None else header_len
    length = struct.pack("<H", n) if version == 1 else struct.pack("<I", n)
    return b"\x93NUMPY" + bytes([version, 0]) + length + hb + data


def npy_corpus():
    f4 = lambda *v: struct.pack("<%df" % len(v), *v)  # noqa: E731
    w = lambda n, d: write("npy", n, d)  # noqa: E731
    w("valid_u8_2x3.npy", npy("{'descr': '|u1', 'fortran_order': False, 'shape': (2, 3), }",
                              bytes(range(1, 7))))
    w("valid_f32_4.npy", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }",
                             f4(1.0, -2.5, 0.0, 448.0)))
    w("valid_f32_scalar.npy", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (), }",
                                  f4(3.0)))
    w("valid_u8_empty.npy", npy("{'descr': '|u1', 'fortran_order': False, 'shape': (0, 7), }"))
    w("valid_v2.npy", npy("{'descr': '<u1', 'fortran_order': False, 'shape': (3,), }",
                          b"\x01\x02\x03", version=2))
    w("valid_v3_dquotes.npy",
      npy('{"shape": (1, 2), "fortran_order": False, "descr": "<f4"}', f4(1.0, 2.0), version=3))
    w("valid_py2_long.npy", npy("{'descr': '|u1', 'fortran_order': False, 'shape': (2L, 1L), }",
                                b"\x07\x08"))
    w("near_fortran.npy", npy("{'descr': '<f4', 'fortran_order': True, 'shape': (1,), }",
                              f4(1.0)))
    w("near_f8.npy", npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }",
                         bytes(16)))
    w("near_truncated.npy", npy("{'descr': '|u1', 'fortran_order': False, 'shape': (8,), }",
                                bytes(5)))
    w("near_structured.npy",
      npy("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", bytes(4)))
    # Regressions.
    # A 48,000-character descr: std::regex recursed once per character and overflowed the stack.
    w("regress_long_descr.npy",
      npy("{'descr': '" + "x" * 48000 + "', 'fortran_order': False, 'shape': (1,), }", b"\0"))
    # A dimension of 20 digits beyond 2^64: std::stoull threw std::out_of_range (not an Error).
    w("regress_shape_digits.npy",
      npy("{'descr': '|u1', 'fortran_order': False, 'shape': (99999999999999999999,), }"))
    # 2^32 x 2^32 elements: the element count wrapped to 0, so an empty file passed.
    w("regress_shape_wrap.npy",
      npy("{'descr': '|u1', 'fortran_order': False, 'shape': (4294967296, 4294967296), }"))
    # 2^62 float32 elements: elements x 4 bytes wrapped to 0.
    w("regress_shape_bytes_wrap.npy",
      npy("{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904,), }"))
    w("regress_too_many_dims.npy",
      npy("{'descr': '|u1', 'fortran_order': False, 'shape': (" + "1, " * 33 + "), }", b"\0"))
    # Data bytes beyond the shape were silently ignored.
    w("regress_trailing.npy", npy("{'descr': '|u1', 'fortran_order': False, 'shape': (2,), }",
                                  b"\x01\x02\x03"))
    # A header length that cuts the dict short (the rest was taken as data).
    w("regress_header_len.npy",
      npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }   ", bytes(16), pad=False,
          header_len=0x30))
    # Found by fuzz_npy: an empty float32 array; as_f32() passed a null pointer to memcpy (UB).
    w("regress_empty_f32.npy",
      npy("{'descr': '<f4', 'fortran_order': False, 'shape': (0000000000000000000,), }"))
    w("regress_unterminated.npy", npy("{'descr': '" + "y" * 2000, pad=False))


# ---------------------------------------------------------------------------------------------
# ELF32 little-endian RISC-V executables (ELF specification; RISC-V psABI for e_flags).

EHDR, PHDR, SHDR = 52, 32, 40


def elf(segments, flags=0, entry=0x80000000, symbols=None, extra_symtab=False, strtab_type=3,
        phentsize=PHDR, machine=243, elfclass=1):
    """segments: (paddr, data, memsz[, offset]); symbols: {name: value}."""
    phnum = len(segments)
    body = bytearray()
    off = EHDR + phnum * PHDR
    phdrs = bytearray()
    for seg in segments:
        paddr, data, memsz = seg[:3]
        seg_off = seg[3] if len(seg) > 3 else off + len(body)
        if len(seg) <= 3:
            body += data
        phdrs += struct.pack("<8I", 1, seg_off, paddr, paddr, len(data), memsz, 7, 4)
    shdrs = bytearray(SHDR)  # section 0: SHT_NULL
    shnum = 1
    if symbols is not None:
        strtab = b"\0"
        syms = bytearray(16)  # symbol 0
        for name, value in symbols.items():
            syms += struct.pack("<IIIBBH", len(strtab), value, 8, 0x11, 0, 1)
            strtab += name.encode() + b"\0"
        sym_off = EHDR + phnum * PHDR + len(body)
        body += syms
        str_off = EHDR + phnum * PHDR + len(body)
        body += strtab
        symtab_index = shnum
        for _ in range(2 if extra_symtab else 1):
            shdrs += struct.pack("<10I", 0, 2, 0, 0, sym_off, len(syms), symtab_index + 2
                                 if extra_symtab else symtab_index + 1, 1, 4, 16)
            shnum += 1
        shdrs += struct.pack("<10I", 0, strtab_type, 0, 0, str_off, len(strtab), 0, 0, 1, 0)
        shnum += 1
    shoff = EHDR + phnum * PHDR + len(body) if shnum > 1 else 0
    ident = b"\x7fELF" + bytes([elfclass, 1, 1, 0]) + bytes(8)
    ehdr = ident + struct.pack("<HHIIIIIHHHHHH", 2, machine, 1, entry, EHDR if phnum else 0,
                               shoff, flags, EHDR, phentsize, phnum, SHDR,
                               shnum if shoff else 0, 0)
    return bytes(ehdr + phdrs + body + (shdrs if shoff else b""))


# addi a0, x0, 1 ; sw a0, 0(t0) ... any RV32I words will do: the loader does not decode them.
CODE = struct.pack("<4I", 0x00100513, 0x00000297, 0x00a2a023, 0x0000006f)


def elf_corpus(firmware_dir):
    w = lambda n, d: write("elf", n, d)  # noqa: E731
    w("valid_minimal.elf", elf([(0x80000000, CODE, len(CODE))]))
    w("valid_bss_symbols.elf",
      elf([(0x80000000, CODE, len(CODE)), (0x80001000, b"\x2a\0\0\0", 0x100)],
          symbols={"tohost": 0x80001000, "fromhost": 0x80001008}))
    w("near_truncated.elf", elf([(0x80000000, CODE, len(CODE))])[:40])
    w("near_elf64.elf", elf([(0x80000000, CODE, len(CODE))], elfclass=2))
    w("near_x86.elf", elf([(0x80000000, CODE, len(CODE))], machine=3))
    w("near_outside_ram.elf", elf([(0x00001000, CODE, len(CODE))], entry=0x1000))
    # Regressions.
    w("regress_rvc.elf", elf([(0x80000000, CODE, len(CODE))], flags=0x1))  # EF_RISCV_RVC
    w("regress_float_abi.elf", elf([(0x80000000, CODE, len(CODE))], flags=0x4))  # double ABI
    w("regress_filesz_gt_memsz.elf", elf([(0x80000000, CODE, 8)]))
    w("regress_segment_wrap.elf", elf([(0xFFFFF000, CODE, 0x2000)]))
    w("regress_overlap.elf",
      elf([(0x80000000, CODE, 0x100), (0x80000080, CODE, len(CODE))]))
    # 64 program headers sharing one file range: each was copied, so 65,535 of them over a
    # large file asked for 65,535 copies of it (memory exhaustion).
    blob = bytes(range(256))
    w("regress_file_overlap.elf",
      elf([(0x80000000 + 0x100 * i, blob, len(blob), EHDR + 65 * PHDR) for i in range(64)]
          + [(0x80010000, blob, len(blob))]))
    # Found by fuzz_elf: a segment with memory but no file data (bss only); load_elf passed its
    # null data pointer to memcpy (UB).
    w("regress_bss_only.elf", elf([(0x80000000, b"", 0x200)]))
    w("regress_two_symtabs.elf",
      elf([(0x80000000, CODE, len(CODE))], symbols={"tohost": 0x80000010}, extra_symtab=True))
    w("regress_symtab_link.elf",
      elf([(0x80000000, CODE, len(CODE))], symbols={"tohost": 0x80000010}, strtab_type=1))
    if firmware_dir:
        for name in ("bad_forever", "rv32ui_ctrl", "exit_code"):
            src = os.path.join(firmware_dir, name + ".elf")
            dst = os.path.join(CORPUS, "elf", "fw_" + name + ".elf")
            subprocess.run(["riscv64-unknown-elf-strip", "--strip-debug", "-o", dst, src],
                           check=True)


# ---------------------------------------------------------------------------------------------
# Traces: DRAMSys StlPlayer "<cycle>:\t<read|write>\t0x<addr>[\t0x<data>]", Ramulator
# LoadStoreTrace "LD 0x<addr>" / "ST 0x<addr>".


def trace_corpus():
    d = lambda n, t: write("trace_dramsys", n, t)  # noqa: E731
    d("valid_example.stl", "0:\tread\t0x0\n0:\twrite\t0x20\t0x0102030405060708\n10:\tread\t0x40000\n")
    d("valid_comments_crlf.stl", "# DRAMSys trace\r\n5:\tread\t0x1000\r\n\r\n6:\twrite\t0x1020 # w\r\n")
    d("valid_hex_cycles.stl", "0x10:\tread\t0x40\n0x20:\twrite\t0x80\t0xdeadbeef\n")
    d("valid_full_access.stl", "1:\twrite\t0x60\t0x" + "ab" * 32 + "\n2:\tread\t0x60\n")
    d("valid_limit.stl", "1073741824:\tread\t0x0\n")  # exactly kMaxTraceCycle = 2^30
    d("near_backwards.stl", "5:\tread\t0x0\n4:\tread\t0x20\n")
    d("near_fetch.stl", "0:\tread\t0x0\n2:\tfetch\t0x40\n")
    d("near_read_data.stl", "0:\tread\t0x0\t0x00\n")
    d("near_cross.stl", "0:\twrite\t0x1f\t0x0102\n")
    # Regressions: each replayed for minutes to hours (or forever) before there was a bound.
    d("regress_cycle_1e11.stl", "0:\tread\t0x0\n100000000000:\tread\t0x20\n")
    d("regress_cycle_u64max.stl", "18446744073709551615:\tread\t0x0\n")
    d("near_cycle_2p64.stl", "18446744073709551616:\tread\t0x0\n")
    d("near_long_line.stl", "0:\tread\t0x0\n1:\twrite\t0x20\t0x" + "00" * 4000 + "\n")
    d("near_binary.stl", "0:\tread\t0x0\n\x00\x01\xff\x7f:\tread\n")
    r = lambda n, t: write("trace_ramulator", n, t)  # noqa: E731
    r("valid_ld_st.trace", "LD 0x0\nST 0x40\n# comment\n\nLD 0x1000\n")
    r("valid_decimal.trace", "LD 4096\nST 8192\r\n")
    r("valid_strided.trace", "".join("LD 0x%x\n" % (i * 64) for i in range(32)))
    r("near_missing_addr.trace", "LD\n")
    r("near_extra_field.trace", "LD 0x0 0x1\n")
    r("near_mixed.trace", "LD 0x0\n0:\tread\t0x20\n")
    r("near_beyond.trace", "LD 0x0\nLD 0x1000000000\n")
    r("near_long_line.trace", "LD 0x" + "0" * 5000 + "1\n")
    r("near_addr_2p64.trace", "ST 0x10000000000000000\n")


# ---------------------------------------------------------------------------------------------
# GDB remote serial protocol: "$payload#ck", ck = sum of the payload bytes mod 256, two hex digits.


def pkt(payload):
    if isinstance(payload, str):
        payload = payload.encode("latin-1")
    return b"$" + payload + b"#%02x" % (sum(payload) % 256)


def gdb_corpus():
    w = lambda n, d: write("gdb_packet", n, d)  # noqa: E731
    session = [
        "qSupported:multiprocess+;swbreak+;hwbreak+;qRelocInsn+", "QStartNoAckMode", "Hg0", "?",
        "qXfer:features:read:target.xml:0,ffb", "qAttached", "qfThreadInfo", "qsThreadInfo", "g",
        "p20", "p342", "m80000000,4", "M80000100,4:01020304", "m80000100,4", "Z0,80000010,4",
        "c", "z0,80000010,4", "s", "P5=78563412", "D",
    ]
    w("valid_session.bin", b"+" + b"+".join(pkt(p) for p in session))
    w("valid_interrupt.bin", pkt("c") + b"\x03" + pkt("?") + pkt("k"))
    w("valid_g_write.bin", pkt("G" + "00000000" * 32 + "00000080"))
    w("valid_escaped.bin", pkt(b"m}\x180000000,1"))  # '}' escapes the next byte: 0x18 ^ 0x20 = '8'
    w("near_bad_checksum.bin", b"$g#00" + pkt("g"))
    w("near_restart.bin", b"$m8000" + pkt("?"))
    w("near_unknown.bin", pkt("vCont?") + pkt("X80000000,0:") + pkt("qTStatus"))
    # Regressions.
    # 2 x len wrapped past 2^64, so the data length check passed and the loop read past the
    # packet (out-of-bounds read, then 2^63 byte writes).
    w("regress_M_len_wrap.bin", pkt("M80000000,8000000000000000:"))
    # Address above 2^32 was truncated to 32 bits; register 2^32 + 1 to register 1.
    w("regress_m_addr_wide.bin", pkt("m180000000,4"))
    w("regress_p_reg_wide.bin", pkt("p100000001") + pkt("P100000001=01000000"))
    # Non-hex register and memory data were written as garbage.
    w("regress_G_bad_hex.bin", pkt("G" + "zz" * 4 * 33))
    w("regress_M_bad_hex.bin", pkt("M80000000,2:zz11"))
    w("regress_P_short.bin", pkt("P5=12"))
    # A packet without '#' grew without bound; now it is dropped past the packet size.
    w("regress_long_packet.bin", b"$" + b"a" * 20000 + b"#00" + pkt("?"))


# ---------------------------------------------------------------------------------------------
# MXU and ICI descriptors (tools/regmap/regmap.toml): a flags byte, then descriptors of 16
# little-endian words. Word 0's low byte is the opcode; the others are the op's fields.
VMEM, ACC0, ACC_STRIDE, HBM = 0x0, 0x10000000, 0x1000000, 0x100000000


def descs(flags, *ds):
    out = bytes([flags])
    for d in ds:
        words = [0] * 16
        for i, v in d.items():
            words[i] = v & 0xFFFFFFFF
        out += struct.pack("<16I", *words)
    return out


def load_w(w_addr, w_stride, k, n, s_addr=0, s_stride=0, fmt=0, scaled=0, block=0):
    return {0: 1, 1: w_addr, 2: w_stride, 3: k | n << 16, 4: s_addr, 5: s_stride,
            6: fmt | scaled << 1 | block << 8}


def matmul(a_addr, a_stride, m, acc_addr, acc_stride, sa_addr=0, sa_stride=0, fmt=0, scaled=0,
           accumulate=0):
    return {0: 2, 1: a_addr, 2: a_stride, 3: m, 4: sa_addr, 5: sa_stride, 6: acc_addr,
            7: acc_stride, 8: fmt | scaled << 1 | accumulate << 2}


def desc_mxu_corpus():
    w = lambda name, data: write("desc_mxu", name, data)
    # flags bit 0: the small 8x8 chip (cycle-accurate, 64 KiB VMEM, 4 KiB ACC); bit 1: force ops.
    acc1 = ACC0 + ACC_STRIDE  # the harness drives the chip's last MXU (MXU1)
    w("valid_load_matmul", descs(0, load_w(0x0, 128, 128, 128),
                                 matmul(0x4000, 128, 64, 0, 512)))
    w("valid_scaled", descs(0, load_w(0x0, 128, 128, 128, 0x8000, 128, scaled=1, block=32),
                            matmul(0x10000, 128, 16, 0, 512, 0x20000, 4, scaled=1, accumulate=1)))
    w("valid_small_e5m2", descs(1, load_w(0x0, 8, 8, 8, fmt=1), matmul(0x100, 8, 8, 0, 32, fmt=1),
                                matmul(0x100, 8, 4, 256, 32, accumulate=1)))
    w("valid_small_partial", descs(1, load_w(0x40, 16, 5, 3), matmul(0x200, 7, 9, 64, 12)))
    w("valid_small_scaled", descs(1, load_w(0x0, 8, 8, 8, 0x80, 8, scaled=1, block=4),
                                  matmul(0x100, 8, 8, 0, 32, 0x200, 2, scaled=1)))
    w("near_matmul_first", descs(0, matmul(0x0, 128, 1, 0, 512)))
    w("near_k_too_big", descs(0, load_w(0x0, 256, 129, 128)))
    w("near_n_zero", descs(1, load_w(0x0, 8, 8, 0)))
    w("near_block", descs(0, load_w(0x0, 128, 96, 128, 0x8000, 128, scaled=1, block=64)))
    w("near_w_stride", descs(0, load_w(0x0, 127, 128, 128)))
    w("near_w_in_acc", descs(0, load_w(acc1, 128, 4, 4)))
    w("near_w_past_vmem", descs(1, load_w(0xFFF0, 8, 8, 8)))
    w("near_acc_unaligned", descs(1, load_w(0x0, 8, 8, 8), matmul(0x100, 8, 1, 2, 32)))
    w("near_acc_overflow", descs(1, load_w(0x0, 8, 8, 8), matmul(0x0, 8, 129, 0, 32)))
    w("near_m_zero", descs(1, load_w(0x0, 8, 8, 8), matmul(0x0, 8, 0, 0, 32)))
    w("near_a_in_hbm", descs(0, load_w(0x0, 128, 4, 4), matmul(HBM, 128, 1, 0, 16)))
    w("near_sa_stride", descs(1, load_w(0x0, 8, 8, 8, 0x80, 8, scaled=1, block=4),
                              matmul(0x100, 8, 8, 0, 32, 0x200, 1, scaled=1)))
    w("near_scaled_no_block", descs(1, load_w(0x0, 8, 4, 8), matmul(0x100, 8, 2, 0, 32, 0, 1,
                                                                    scaled=1)))
    w("near_bad_opcode", descs(0, {0: 3}))
    # The largest matmul the default chip's 4 MiB accumulators hold with N = 1: M = 2^20 rows.
    w("near_m_max", descs(0, load_w(0x0, 1, 1, 1), matmul(0x0, 1, 1 << 20, 0, 4)))


def ici(op, peer, tag=0, addr=0, nbytes=0, pre_bytes=None, pre_msg=0):
    d = {0: op, 1: peer, 2: tag, 3: addr, 4: addr >> 32, 5: nbytes}
    if pre_bytes is not None:  # the peer's packets for this message arrive first
        d[14] = pre_bytes
        d[15] = 1 | pre_msg << 1
    return d


def desc_ici_corpus():
    w = lambda name, data: write("desc_ici", name, data)
    # flags bits 0-1: pod (0 one chip, 1 ring of 4, 2 ring of 4 with chip 2 cut off); bit 2: force.
    SEND, RECV, SIGNAL = 1, 2, 3
    w("valid_send_recv", descs(1, ici(SEND, 1, 7, 0x1000, 8192), ici(RECV, 3, 7, 0x4000, 8192)))
    w("valid_self", descs(0, ici(SEND, 0, 1, 0x0, 100), ici(RECV, 0, 1, 0x1000, 100),
                          ici(SIGNAL, 0, 5)))
    w("valid_signal", descs(1, ici(SIGNAL, 3, 31)))
    w("valid_hbm_acc", descs(1, ici(SEND, 2, 0, HBM + 0x10000, 4096),
                             ici(RECV, 1, 0, ACC0 + 0x100, 64)))
    w("valid_early", descs(1, ici(RECV, 1, 9, 0x2000, 5000, pre_bytes=5000)))
    w("valid_ring_allreduce", descs(1, ici(SEND, 1, 2, 0x0, 16384), ici(RECV, 3, 2, 0x8000, 16384),
                                    ici(SIGNAL, 1, 0), ici(SEND, 1, 2, 0x8000, 16384),
                                    ici(RECV, 3, 2, 0x0, 16384, pre_bytes=16384, pre_msg=1)))
    w("near_peer", descs(1, ici(SEND, 4, 0, 0x0, 64)))
    w("near_unreachable", descs(2, ici(SEND, 2, 0, 0x0, 64)))
    w("near_signal_unreachable", descs(2, ici(SIGNAL, 2, 0)))
    w("near_sem", descs(1, ici(SIGNAL, 1, 32)))
    w("near_bytes_zero", descs(1, ici(RECV, 1, 0, 0x0, 0)))
    w("near_past_vmem", descs(1, ici(SEND, 1, 0, 0x1FFFFF0, 0x20)))
    w("near_acc_index", descs(1, ici(RECV, 1, 0, ACC0 + 2 * ACC_STRIDE, 16)))
    w("near_size_mismatch", descs(1, ici(RECV, 1, 4, 0x0, 4096, pre_bytes=4097)))
    w("near_bad_opcode", descs(1, {0: 4, 1: 1}))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--firmware-dir", help="build/firmware: copy real firmware ELFs as seeds")
    args = ap.parse_args()
    npy_corpus()
    elf_corpus(args.firmware_dir)
    trace_corpus()
    gdb_corpus()
    desc_mxu_corpus()
    desc_ici_corpus()


if __name__ == "__main__":
    main()
