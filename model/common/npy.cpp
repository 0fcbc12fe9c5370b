#include "model/common/npy.h"

#include <cstring>
#include <fstream>
#include <iterator>
#include <regex>

#include "model/common/error.h"

namespace mxemu {

std::size_t NpyArray::elements() const {
  std::size_t n = 1;
  for (const std::size_t d : shape) n *= d;
  return n;
}

std::string NpyArray::shape_str() const {
  std::string s = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    s += std::to_string(shape[i]);
    if (i + 1 < shape.size() || shape.size() == 1) s += ", ";
  }
  if (shape.size() == 1) s.pop_back();
  return s + ")";
}

std::vector<float> NpyArray::as_f32() const {
  std::vector<float> v(elements());
  std::memcpy(v.data(), data.data(), v.size() * sizeof(float));
  return v;
}

std::string_view npy_dtype_name(NpyDtype d) {
  return d == NpyDtype::kU8 ? "uint8" : "float32";
}

NpyArray read_npy(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw_bad_input("cannot open .npy file '{}'", path);
  const std::vector<char> bytes((std::istreambuf_iterator<char>(in)),
                                std::istreambuf_iterator<char>());
  constexpr char kMagic[] = "\x93NUMPY";
  if (bytes.size() < 10 || std::memcmp(bytes.data(), kMagic, 6) != 0) {
    throw_bad_input("'{}' is not a .npy file (bad magic)", path);
  }
  const int major = static_cast<unsigned char>(bytes[6]);
  std::size_t header_len = 0, header_start = 0;
  if (major == 1) {
    header_len = static_cast<unsigned char>(bytes[8]) |
                 (static_cast<std::size_t>(static_cast<unsigned char>(bytes[9])) << 8);
    header_start = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) throw_bad_input("'{}': truncated .npy header", path);
    for (int i = 0; i < 4; ++i) {
      header_len |= static_cast<std::size_t>(static_cast<unsigned char>(bytes[8 + i])) << (8 * i);
    }
    header_start = 12;
  } else {
    throw_bad_input("'{}': unsupported .npy format version {}", path, major);
  }
  if (bytes.size() < header_start + header_len) {
    throw_bad_input("'{}': truncated .npy header", path);
  }
  const std::string header(bytes.data() + header_start, header_len);
  const std::regex kDescr(R"('descr'\s*:\s*'([^']*)')");
  const std::regex kFortran(R"('fortran_order'\s*:\s*(True|False))");
  const std::regex kShape(R"('shape'\s*:\s*\(([^)]*)\))");
  std::smatch m;
  if (!std::regex_search(header, m, kDescr))
    throw_bad_input("'{}': .npy header has no descr", path);
  const std::string descr = m[1];
  NpyArray a;
  if (descr == "|u1" || descr == "<u1" || descr == "u1") {
    a.dtype = NpyDtype::kU8;
  } else if (descr == "<f4") {
    a.dtype = NpyDtype::kF32;
  } else {
    throw_bad_input("'{}': unsupported dtype '{}' (expected uint8 '|u1' or float32 '<f4')", path,
                    descr);
  }
  if (!std::regex_search(header, m, kFortran)) {
    throw_bad_input("'{}': .npy header has no fortran_order", path);
  }
  if (m[1] == "True") throw_bad_input("'{}': Fortran-order arrays are not supported", path);
  if (!std::regex_search(header, m, kShape))
    throw_bad_input("'{}': .npy header has no shape", path);
  const std::string dims = m[1];
  const std::regex kDim(R"(\s*(\d+)\s*,?)");
  for (auto it = std::sregex_iterator(dims.begin(), dims.end(), kDim); it != std::sregex_iterator();
       ++it) {
    a.shape.push_back(std::stoull((*it)[1]));
  }
  const std::size_t want = a.elements() * a.element_bytes();
  const std::size_t have = bytes.size() - header_start - header_len;
  if (have < want) {
    throw_bad_input("'{}': truncated data ({} bytes for shape {} of {}, need {})", path, have,
                    a.shape_str(), npy_dtype_name(a.dtype), want);
  }
  const auto* first =
      reinterpret_cast<const std::uint8_t*>(bytes.data() + header_start + header_len);
  a.data.assign(first, first + want);
  return a;
}

void write_npy(const std::string& path, const NpyArray& a) {
  std::string header = "{'descr': '";
  header += a.dtype == NpyDtype::kU8 ? "|u1" : "<f4";
  header += "', 'fortran_order': False, 'shape': " + a.shape_str() + ", }";
  // Pad with spaces so that magic + length + header + '\n' is a multiple of 64.
  const std::size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::ofstream out(path, std::ios::binary);
  if (!out) throw_bad_input("cannot write .npy file '{}'", path);
  out.write("\x93NUMPY\x01\x00", 8);
  const auto len = static_cast<std::uint16_t>(header.size());
  const char len_bytes[2] = {static_cast<char>(len & 0xFF), static_cast<char>(len >> 8)};
  out.write(len_bytes, 2);
  out.write(header.data(), static_cast<std::streamsize>(header.size()));
  out.write(reinterpret_cast<const char*>(a.data.data()),
            static_cast<std::streamsize>(a.data.size()));
  if (!out) throw_bad_input("failed writing .npy file '{}'", path);
}

NpyArray make_f32(std::vector<std::size_t> shape, const std::vector<float>& values) {
  NpyArray a;
  a.dtype = NpyDtype::kF32;
  a.shape = std::move(shape);
  a.data.resize(values.size() * sizeof(float));
  std::memcpy(a.data.data(), values.data(), a.data.size());
  return a;
}

NpyArray make_u8(std::vector<std::size_t> shape, std::vector<std::uint8_t> values) {
  NpyArray a;
  a.dtype = NpyDtype::kU8;
  a.shape = std::move(shape);
  a.data = std::move(values);
  return a;
}

}  // namespace mxemu
