// NumPy .npy files (format versions 1.0-3.0), the tensor exchange format of DESIGN §4: FP8 and
// UE8M0 tensors travel as uint8 bit patterns ('|u1'), FP32 as '<f4'. C order only.
//
// The header is a Python dict literal; it is parsed by hand (a linear scan, no regex recursion)
// and strictly: exactly the keys 'descr', 'fortran_order' and 'shape', each once, as NumPy's own
// reader requires. Bounds (each refused with a message naming it):
// - at most kNpyMaxDims dimensions (NumPy 1.x's NPY_MAXDIMS);
// - every dimension fits in 64 bits, and the product of the non-zero dimensions times the item
//   size is at most kNpyMaxDataBytes, so element and byte counts computed from a shape (also by
//   callers, e.g. rows x columns) cannot wrap;
// - the file holds exactly header + data: missing bytes are "truncated data", extra bytes after
//   the data are refused too (np.save never writes them; they mean a shape that does not match).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mxemu {

enum class NpyDtype : std::uint8_t { kU8, kF32 };

inline constexpr std::size_t kNpyMaxDims = 32;
inline constexpr std::uint64_t kNpyMaxDataBytes = std::uint64_t{1} << 40;  // 1 TiB

struct NpyArray {
  NpyDtype dtype = NpyDtype::kU8;
  std::vector<std::size_t> shape;
  std::vector<std::uint8_t> data;  // raw little-endian bytes, C order

  std::size_t elements() const;
  std::size_t element_bytes() const { return dtype == NpyDtype::kU8 ? 1 : 4; }
  std::string shape_str() const;  // "(3, 4)"
  // The values of a float32 array; bad input naming the dtype for a uint8 one.
  std::vector<float> as_f32() const;
};

std::string_view npy_dtype_name(NpyDtype d);  // "uint8" / "float32"

// Throws mxemu::Error (bad input) naming the file and the problem: missing, not .npy, truncated,
// malformed header (with the byte offset in the header), unsupported dtype (with the dtype found),
// Fortran order, too many dimensions, a shape beyond the bounds above, or trailing bytes.
NpyArray read_npy(const std::string& path);
// The same from bytes in memory; `name` stands for the file in messages.
NpyArray parse_npy(std::span<const std::uint8_t> bytes, const std::string& name);

// The .npy bytes of `a` (version 1.0),
// header padded so the data starts at a multiple of 64 bytes. Throws mxemu::Error (internal) when
// a.data does not hold exactly elements() * element_bytes() bytes.
std::vector<std::uint8_t> encode_npy(const NpyArray& a);
void write_npy(const std::string& path, const NpyArray& a);
NpyArray make_f32(std::vector<std::size_t> shape, const std::vector<float>& values);
NpyArray make_u8(std::vector<std::size_t> shape, std::vector<std::uint8_t> values);

}  // namespace mxemu
