// NumPy .npy files (format versions 1.0-3.0), the tensor exchange format of DESIGN §4: FP8 and
// UE8M0 tensors travel as uint8 bit patterns ('|u1'), FP32 as '<f4'. C order only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace mxemu {

enum class NpyDtype : std::uint8_t { kU8, kF32 };

struct NpyArray {
  NpyDtype dtype = NpyDtype::kU8;
  std::vector<std::size_t> shape;
  std::vector<std::uint8_t> data;  // raw little-endian bytes, C order

  std::size_t elements() const;
  std::size_t element_bytes() const { return dtype == NpyDtype::kU8 ? 1 : 4; }
  std::string shape_str() const;      // "(3, 4)"
  std::vector<float> as_f32() const;  // requires kF32
};

std::string_view npy_dtype_name(NpyDtype d);  // "uint8" / "float32"

// Throws mxemu::Error (bad input) naming the file and the problem: missing, not .npy, truncated,
// unsupported dtype (with the dtype found) or Fortran order.
NpyArray read_npy(const std::string& path);

void write_npy(const std::string& path, const NpyArray& a);
NpyArray make_f32(std::vector<std::size_t> shape, const std::vector<float>& values);
NpyArray make_u8(std::vector<std::size_t> shape, std::vector<std::uint8_t> values);

}  // namespace mxemu
