// mxemu._mxemu.numerics: the numerics reference (model/numerics) over whole NumPy arrays. Every
// function checks its arguments (dtype, shape, format and mode names) before it touches data,
// then runs its element loop in C++ with the GIL released.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "model/numerics/fp8.h"
#include "model/numerics/gemm.h"
#include "model/numerics/mx.h"
#include "python/src/bindings.h"

namespace mxemu::py {

namespace {

// The formats decode/encode take: the two FP8 element formats and the UE8M0 scale format.
struct CodeFormat {
  bool ue8m0 = false;
  num::Fp8Format fp8 = num::Fp8Format::kE4M3;
};

CodeFormat parse_code_format(const std::string& name) {
  if (name == "ue8m0") return {true, num::Fp8Format::kE4M3};
  const auto f = num::parse_format(name);
  if (!f) {
    throw pb::value_error("unknown format '" + name + "' (expected 'e4m3', 'e5m2' or 'ue8m0')");
  }
  return {false, *f};
}

std::vector<pb::ssize_t> shape_of(const pb::array& a) {
  return {a.shape(), a.shape() + a.ndim()};
}

std::string shape_str(const pb::array& a) {
  std::string s = "(";
  for (pb::ssize_t i = 0; i < a.ndim(); ++i) {
    if (i > 0) s += ", ";
    s += std::to_string(a.shape(i));
  }
  return s + (a.ndim() == 1 ? ",)" : ")");
}

std::string pair_str(std::size_t a, std::size_t b) {
  return "(" + std::to_string(a) + ", " + std::to_string(b) + ")";
}

void require_2d(const pb::array& a, const char* what, const char* dims) {
  if (a.ndim() != 2) {
    throw pb::value_error(std::string(what) + " must be 2-D (" + dims + "), got shape " +
                          shape_str(a));
  }
}

std::size_t dim(const pb::array& a, pb::ssize_t i) {
  return static_cast<std::size_t>(a.shape(i));
}

pb::array_t<float> decode(const pb::object& codes_obj, const std::string& fmt_name) {
  const CodeFormat fmt = parse_code_format(fmt_name);
  const auto codes = require_array<std::uint8_t>(codes_obj, "codes", "uint8");
  pb::array_t<float> out(shape_of(codes));
  const std::uint8_t* in = codes.data();
  float* o = out.mutable_data();
  const auto n = static_cast<std::size_t>(codes.size());
  {
    const pb::gil_scoped_release release;
    if (fmt.ue8m0) {
      for (std::size_t i = 0; i < n; ++i) o[i] = num::decode_ue8m0(in[i]);
    } else {
      for (std::size_t i = 0; i < n; ++i) o[i] = num::decode(fmt.fp8, in[i]);
    }
  }
  return out;
}

pb::array_t<std::uint8_t> encode(const pb::object& x_obj, const std::string& fmt_name,
                                 const std::string& mode_name,
                                 const std::optional<std::string>& rounding) {
  const CodeFormat fmt = parse_code_format(fmt_name);
  const num::SatMode mode = parse_sat_mode(mode_name);
  num::Ue8m0Round round = num::Ue8m0Round::kTowardZero;
  if (fmt.ue8m0) {
    if (!rounding || (*rounding != "toward_zero" && *rounding != "up")) {
      throw pb::value_error("UE8M0 needs rounding='toward_zero' or rounding='up', got " +
                            (rounding ? "'" + *rounding + "'" : std::string("none")));
    }
    round = *rounding == "up" ? num::Ue8m0Round::kUp : num::Ue8m0Round::kTowardZero;
  } else if (rounding && *rounding != "rne") {
    throw pb::value_error("FP32 -> " + fmt_name +
                          " rounds to nearest even only: rounding must "
                          "be 'rne' or None, got '" +
                          *rounding + "'");
  }
  const auto x = require_array<float>(x_obj, "x", "float32");
  pb::array_t<std::uint8_t> out(shape_of(x));
  const float* in = x.data();
  std::uint8_t* o = out.mutable_data();
  const auto n = static_cast<std::size_t>(x.size());
  {
    const pb::gil_scoped_release release;
    if (fmt.ue8m0) {
      const bool saturate = mode == num::SatMode::kSatFinite;
      for (std::size_t i = 0; i < n; ++i) o[i] = num::encode_ue8m0(in[i], round, saturate);
    } else {
      for (std::size_t i = 0; i < n; ++i) o[i] = num::encode(fmt.fp8, in[i], mode);
    }
  }
  return out;
}

pb::tuple quantize_mx(const pb::object& x_obj, int block, const std::string& mode_name,
                      const std::string& fmt_name) {
  num::MxScaleMode mode = num::MxScaleMode::kFloor;
  if (mode_name == "ceil") {
    mode = num::MxScaleMode::kCeil;
  } else if (mode_name != "floor") {
    throw pb::value_error("unknown scale mode '" + mode_name + "' (expected 'floor' or 'ceil')");
  }
  const num::Fp8Format fmt = parse_fp8_format(fmt_name, "the elements");
  if (block <= 0) throw pb::value_error("block must be positive, got " + std::to_string(block));
  const auto x = require_array<float>(x_obj, "x", "float32");
  if (x.ndim() == 0) {
    throw pb::value_error("x must have at least one dimension (blocks run along the last one)");
  }
  const std::size_t cols = dim(x, x.ndim() - 1);
  const auto bs = static_cast<std::size_t>(block);
  if (cols % bs != 0) {
    throw pb::value_error("x's last dimension (" + std::to_string(cols) +
                          ") is not a multiple of the block (" + std::to_string(block) + ")");
  }
  std::vector<pb::ssize_t> scale_shape = shape_of(x);
  scale_shape.back() = static_cast<pb::ssize_t>(cols / bs);
  pb::array_t<std::uint8_t> codes(shape_of(x));
  pb::array_t<std::uint8_t> scales(scale_shape);
  const auto n = static_cast<std::size_t>(x.size());
  if (n > 0) {
    const std::size_t rows = n / cols;
    const std::span<const float> in(x.data(), n);
    const std::span<std::uint8_t> c(codes.mutable_data(), n);
    const std::span<std::uint8_t> s(scales.mutable_data(), rows * (cols / bs));
    const pb::gil_scoped_release release;
    num::mx_quantize(in, rows, cols, block, fmt, mode, c, s);
  }
  return pb::make_tuple(codes, scales);
}

pb::array_t<float> gemm(const pb::object& a_obj, const pb::object& b_obj, const pb::object& sa_obj,
                        const pb::object& sb_obj, int block, const std::string& fmt_a,
                        const std::string& fmt_b, const pb::object& c_init_obj, int threads,
                        bool exact) {
  num::GemmProblem p;
  p.fmt_a = parse_fp8_format(fmt_a, "a");
  p.fmt_b = parse_fp8_format(fmt_b, "b");
  const auto a = require_array<std::uint8_t>(a_obj, "a", "uint8 (FP8 codes)");
  const auto b = require_array<std::uint8_t>(b_obj, "b", "uint8 (FP8 codes)");
  require_2d(a, "a", "M x K");
  require_2d(b, "b", "K x N");
  p.m = dim(a, 0);
  p.k = dim(a, 1);
  p.n = dim(b, 1);
  if (dim(b, 0) != p.k) {
    throw pb::value_error("a is " + shape_str(a) + " but b is " + shape_str(b) +
                          ": a's columns must equal b's rows");
  }
  p.a = {a.data(), static_cast<std::size_t>(a.size())};
  p.b = {b.data(), static_cast<std::size_t>(b.size())};
  if (sa_obj.is_none() != sb_obj.is_none()) {
    throw pb::value_error("give both scales sa and sb, or neither");
  }
  pb::array_t<std::uint8_t, pb::array::c_style> sa, sb;
  if (!sa_obj.is_none()) {
    if (block <= 0) throw pb::value_error("block must be positive, got " + std::to_string(block));
    const auto bs = static_cast<std::size_t>(block);
    if (p.k % bs != 0) {
      throw pb::value_error("K = " + std::to_string(p.k) + " is not a multiple of the block (" +
                            std::to_string(block) + ")");
    }
    sa = require_array<std::uint8_t>(sa_obj, "sa", "uint8 (UE8M0 codes)");
    sb = require_array<std::uint8_t>(sb_obj, "sb", "uint8 (UE8M0 codes)");
    if (sa.ndim() != 2 || dim(sa, 0) != p.m || dim(sa, 1) != p.k / bs) {
      throw pb::value_error("sa is " + shape_str(sa) +
                            " but must be M x K/block = " + pair_str(p.m, p.k / bs));
    }
    if (sb.ndim() != 2 || dim(sb, 0) != p.k / bs || dim(sb, 1) != p.n) {
      throw pb::value_error("sb is " + shape_str(sb) +
                            " but must be K/block x N = " + pair_str(p.k / bs, p.n));
    }
    p.scale_a = {sa.data(), static_cast<std::size_t>(sa.size())};
    p.scale_b = {sb.data(), static_cast<std::size_t>(sb.size())};
    p.block = block;
  }
  pb::array_t<float, pb::array::c_style> c_init;
  if (!c_init_obj.is_none()) {
    c_init = require_array<float>(c_init_obj, "c_init", "float32");
    if (c_init.ndim() != 2 || dim(c_init, 0) != p.m || dim(c_init, 1) != p.n) {
      throw pb::value_error("c_init is " + shape_str(c_init) +
                            " but must be M x N = " + pair_str(p.m, p.n));
    }
    p.c_init = {c_init.data(), static_cast<std::size_t>(c_init.size())};
  }
  if (threads < 0) {
    throw pb::value_error("threads must be 0 (one per host core) or more, got " +
                          std::to_string(threads));
  }
  pb::array_t<float> c(
      std::vector<pb::ssize_t>{static_cast<pb::ssize_t>(p.m), static_cast<pb::ssize_t>(p.n)});
  const std::span<float> out(c.mutable_data(), p.m * p.n);
  if (!out.empty()) {
    const pb::gil_scoped_release release;
    if (exact) {
      num::gemm_exact(p, out);
    } else {
      num::GemmOptions opt;
      opt.threads = threads;
      num::gemm(p, out, opt);
    }
  }
  return c;
}

}  // namespace

void register_numerics(pb::module_& m) {
  using pb::arg;
  m.attr("FORMATS") = pb::make_tuple("e4m3", "e5m2", "ue8m0");
  m.def("decode", &decode, arg("codes"), arg("fmt"),
        R"(Decode FP8 or UE8M0 codes to float32 (exactly).

codes: uint8 array of bit patterns, any shape. fmt: 'e4m3', 'e5m2' or 'ue8m0'.
Returns a float32 array of the same shape. NaN codes give the canonical NaN 0x7FC00000;
UE8M0 0x00 is 2**-127 (an FP32 subnormal), 0xFF is NaN.)");
  m.def("encode", &encode, arg("x"), arg("fmt"), arg("mode") = "satfinite",
        arg("rounding") = pb::none(),
        R"(Convert float32 values to FP8 or UE8M0 codes (DESIGN §3).

x: float32 array, any shape (other dtypes are refused: converting float64 first would round
twice). fmt: 'e4m3', 'e5m2' or 'ue8m0'.
mode: 'satfinite' (overflow and +-Inf to +-max finite; UE8M0: saturate to 0xFE) or 'nonsat'
(E4M3 overflow to NaN 0x7F, E5M2 to +-Inf, UE8M0 to 0xFF).
rounding: FP8 rounds to nearest even ('rne' or None); UE8M0 needs 'toward_zero' or 'up'.
Returns a uint8 array of the same shape.)");
  m.def("quantize_mx", &quantize_mx, arg("x"), arg("block") = num::kDefaultMxBlock,
        arg("mode") = "floor", arg("fmt") = "e4m3",
        R"(MX block quantisation: float32 -> (FP8 codes, UE8M0 scales).

x: float32 array with at least one dimension; blocks of `block` consecutive elements along the
last dimension (a multiple of block) share one scale. mode: 'floor' (OCP) or 'ceil' (never
clips). fmt: element format 'e4m3' or 'e5m2'.
Returns (codes, scales): codes has x's shape, scales x's shape with the last dimension divided by
block.)");
  m.def("gemm", &gemm, arg("a"), arg("b"), arg("sa") = pb::none(), arg("sb") = pb::none(),
        arg("block") = num::kDefaultMxBlock, arg("fmt_a") = "e4m3", arg("fmt_b") = "e4m3",
        arg("c_init") = pb::none(), pb::kw_only(), arg("threads") = 0, arg("exact") = false,
        R"(MXFP8 GEMM, bit-exact with the C++ reference and the chip's MXU (DESIGN §3).

C = c_init + sum_k a[m,k] * b[k,n] * 2**(sa[m,k//block] + sb[k//block,n] - 254), one FP32
round-to-nearest-even per k step, k increasing.
a: M x K uint8 codes, b: K x N uint8 codes, in formats fmt_a / fmt_b ('e4m3' or 'e5m2').
sa: M x K/block, sb: K/block x N uint8 UE8M0 codes (both or neither; neither: every scale 2**0).
c_init: M x N float32 (None: +0.0). threads: host threads (0: one per host core).
exact: run the definition (a plain loop over the fused step) instead of the fast kernel; the
bits are the same, only slower. Returns C, M x N float32.)");
}

}  // namespace mxemu::py
