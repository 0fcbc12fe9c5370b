#include "model/common/npy.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>

#include "model/common/error.h"

namespace mxemu {

namespace {

static_assert(sizeof(std::size_t) == sizeof(std::uint64_t), "shapes are 64-bit");

constexpr std::array<std::uint8_t, 6> kMagic = {0x93, 'N', 'U', 'M', 'P', 'Y'};

// A header string as it appears in a message: at most 40 bytes.
std::string clip(std::string_view s) {
  return s.size() <= 40 ? std::string(s) : std::string(s.substr(0, 40)) + "...";
}

// A parser of the header dict, e.g. "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"
// followed by spaces and a newline. Python literal syntax as np.save writes it: keys and the descr
// are quoted with ' or " (no escapes), booleans are True/False, the shape is a tuple of decimal
// integers (a Python 2 'L' suffix is accepted). Every step consumes input, so it is linear.
class HeaderParser {
 public:
  HeaderParser(std::string_view h, const std::string& name) : h_(h), name_(name) {}

  void parse(NpyArray& a) {
    skip_space();
    expect('{', "'{'");
    std::optional<std::string_view> descr;
    std::optional<bool> fortran;
    std::optional<std::vector<std::size_t>> shape;
    skip_space();
    while (!at('}')) {
      const std::size_t key_at = i_;
      const std::string_view key = quoted("a quoted key");
      skip_space();
      expect(':', "':' after a key");
      skip_space();
      auto once = [&](bool seen) {
        if (seen) throw_bad_input("'{}': .npy header repeats the key '{}'", name_, clip(key));
      };
      if (key == "descr") {
        once(descr.has_value());
        if (!at('\'') && !at('"')) {
          throw_bad_input(
              "'{}': unsupported dtype: the .npy descr is not a simple type string (structured "
              "arrays are not supported; expected uint8 '|u1' or float32 '<f4')",
              name_);
        }
        descr = quoted("the descr string");
      } else if (key == "fortran_order") {
        once(fortran.has_value());
        fortran = boolean();
      } else if (key == "shape") {
        once(shape.has_value());
        shape = tuple();
      } else {
        throw_bad_input(
            "'{}': malformed .npy header at byte {}: unexpected key '{}' (expected descr, "
            "fortran_order and shape)",
            name_, key_at, clip(key));
      }
      skip_space();
      if (at(',')) {
        ++i_;
        skip_space();
      } else if (!at('}')) {
        fail("',' or '}' after a value");
      }
    }
    ++i_;  // '}'
    skip_space();
    if (i_ != h_.size()) fail("only spaces and a newline after the dict");

    if (!descr) throw_bad_input("'{}': .npy header has no descr", name_);
    if (*descr == "|u1" || *descr == "<u1" || *descr == "u1") {
      a.dtype = NpyDtype::kU8;
    } else if (*descr == "<f4") {
      a.dtype = NpyDtype::kF32;
    } else {
      throw_bad_input("'{}': unsupported dtype '{}' (expected uint8 '|u1' or float32 '<f4')", name_,
                      clip(*descr));
    }
    if (!fortran) throw_bad_input("'{}': .npy header has no fortran_order", name_);
    if (*fortran) throw_bad_input("'{}': Fortran-order arrays are not supported", name_);
    if (!shape) throw_bad_input("'{}': .npy header has no shape", name_);
    a.shape = std::move(*shape);
  }

 private:
  bool at(char c) const { return i_ < h_.size() && h_[i_] == c; }
  [[noreturn]] void fail(const char* expected) const {
    if (i_ >= h_.size()) {
      throw_bad_input("'{}': malformed .npy header: it ends where {} is expected", name_, expected);
    }
    const auto c = static_cast<unsigned char>(h_[i_]);
    if (c >= 0x20 && c < 0x7f) {
      throw_bad_input("'{}': malformed .npy header at byte {}: expected {}, found '{}'", name_, i_,
                      expected, static_cast<char>(c));
    }
    throw_bad_input("'{}': malformed .npy header at byte {}: expected {}, found byte 0x{:02x}",
                    name_, i_, expected, c);
  }
  void expect(char c, const char* what) {
    if (!at(c)) fail(what);
    ++i_;
  }
  void skip_space() {
    while (i_ < h_.size() && (h_[i_] == ' ' || h_[i_] == '\t' || h_[i_] == '\n' || h_[i_] == '\r'))
      ++i_;
  }
  std::string_view quoted(const char* what) {
    if (!at('\'') && !at('"')) fail(what);
    const char q = h_[i_++];
    const std::size_t start = i_;
    while (i_ < h_.size() && h_[i_] != q) {
      if (h_[i_] == '\\') fail("a string without escapes");
      ++i_;
    }
    if (i_ >= h_.size()) fail("the closing quote of a string");
    return h_.substr(start, i_++ - start);
  }
  bool boolean() {
    if (h_.substr(i_, 4) == "True") {
      i_ += 4;
      return true;
    }
    if (h_.substr(i_, 5) == "False") {
      i_ += 5;
      return false;
    }
    fail("True or False");
  }
  std::size_t dimension() {
    const std::size_t start = i_;
    std::uint64_t v = 0;
    bool too_large = false;
    while (i_ < h_.size() && h_[i_] >= '0' && h_[i_] <= '9') {
      const auto digit = static_cast<std::uint64_t>(h_[i_] - '0');
      if (v > (UINT64_MAX - digit) / 10) too_large = true;
      v = v * 10 + digit;
      ++i_;
    }
    if (i_ == start) fail("a non-negative integer dimension");
    if (too_large) {
      throw_bad_input("'{}': .npy shape dimension {} does not fit in 64 bits", name_,
                      clip(h_.substr(start, i_ - start)));
    }
    if (at('L')) ++i_;  // Python 2 long
    return static_cast<std::size_t>(v);
  }
  std::vector<std::size_t> tuple() {
    expect('(', "'(' starting the shape tuple");
    std::vector<std::size_t> dims;
    skip_space();
    while (!at(')')) {
      if (dims.size() == kNpyMaxDims) {
        throw_bad_input("'{}': .npy shape has more than {} dimensions", name_, kNpyMaxDims);
      }
      dims.push_back(dimension());
      skip_space();
      if (at(',')) {
        ++i_;
        skip_space();
      } else if (!at(')')) {
        fail("',' or ')' in the shape tuple");
      }
    }
    ++i_;  // ')'
    return dims;
  }

  std::string_view h_;
  const std::string& name_;
  std::size_t i_ = 0;
};

std::uint32_t le(std::span<const std::uint8_t> b, std::size_t at, int bytes) {
  std::uint32_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= static_cast<std::uint32_t>(b[at + i]) << (8 * i);
  return v;
}

}  // namespace

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
  if (dtype != NpyDtype::kF32) {
    throw_bad_input("tensor of shape {} is {}, where float32 is expected", shape_str(),
                    npy_dtype_name(dtype));
  }
  std::vector<float> v(data.size() / sizeof(float));
  if (!v.empty()) std::memcpy(v.data(), data.data(), v.size() * sizeof(float));  // not null
  return v;
}

std::string_view npy_dtype_name(NpyDtype d) {
  return d == NpyDtype::kU8 ? "uint8" : "float32";
}

NpyArray parse_npy(std::span<const std::uint8_t> bytes, const std::string& name) {
  if (bytes.size() < 10 || !std::equal(kMagic.begin(), kMagic.end(), bytes.begin())) {
    throw_bad_input("'{}' is not a .npy file (bad magic)", name);
  }
  const int major = bytes[6];
  std::size_t header_len = 0, header_start = 0;
  if (major == 1) {
    header_len = le(bytes, 8, 2);
    header_start = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) throw_bad_input("'{}': truncated .npy header", name);
    header_len = le(bytes, 8, 4);
    header_start = 12;
  } else {
    throw_bad_input("'{}': unsupported .npy format version {}", name, major);
  }
  if (bytes.size() - header_start < header_len) {
    throw_bad_input("'{}': truncated .npy header ({} bytes announced, {} present)", name,
                    header_len, bytes.size() - header_start);
  }
  const std::string_view header(reinterpret_cast<const char*>(bytes.data() + header_start),
                                header_len);
  NpyArray a;
  HeaderParser(header, name).parse(a);

  // Element and byte counts with overflow checks: the product of the non-zero dimensions times
  // the item size is bounded by kNpyMaxDataBytes (so it cannot wrap), a zero dimension empties it.
  std::uint64_t nonzero_bytes = a.element_bytes();
  bool empty = false;
  for (const std::size_t d : a.shape) {
    if (d == 0) {
      empty = true;
      continue;
    }
    if (nonzero_bytes > kNpyMaxDataBytes / d) {
      throw_bad_input("'{}': .npy shape {} of {} is larger than the limit of {} bytes", name,
                      a.shape_str(), npy_dtype_name(a.dtype), kNpyMaxDataBytes);
    }
    nonzero_bytes *= d;
  }
  const std::uint64_t want = empty ? 0 : nonzero_bytes;
  const std::size_t data_start = header_start + header_len;
  const std::size_t have = bytes.size() - data_start;
  if (have < want) {
    throw_bad_input("'{}': truncated data ({} bytes for shape {} of {}, need {})", name, have,
                    a.shape_str(), npy_dtype_name(a.dtype), want);
  }
  if (have > want) {
    throw_bad_input("'{}': {} bytes after the data (shape {} of {} needs exactly {})", name,
                    have - want, a.shape_str(), npy_dtype_name(a.dtype), want);
  }
  a.data.assign(bytes.begin() + static_cast<std::ptrdiff_t>(data_start), bytes.end());
  return a;
}

NpyArray read_npy(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    throw_bad_input("cannot open .npy file '{}': it is a directory", path);
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw_bad_input("cannot open .npy file '{}'", path);
  const std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                                        std::istreambuf_iterator<char>());
  if (in.bad()) throw_bad_input("cannot read .npy file '{}'", path);
  return parse_npy(bytes, path);
}

std::vector<std::uint8_t> encode_npy(const NpyArray& a) {
  if (a.shape.size() > kNpyMaxDims) {
    throw Error(ExitCode::kInternal, fmt::format("npy: shape {} has more than {} dimensions",
                                                 a.shape_str(), kNpyMaxDims));
  }
  std::uint64_t want = a.element_bytes();
  for (const std::size_t d : a.shape) {
    if (d != 0 && want > UINT64_MAX / d) {
      throw Error(ExitCode::kInternal, "npy: shape " + a.shape_str() + " overflows 64 bits");
    }
    want *= d;
  }
  if (want != a.data.size()) {
    throw Error(ExitCode::kInternal,
                fmt::format("npy: {} bytes of data for shape {} of {}, which needs {}",
                            a.data.size(), a.shape_str(), npy_dtype_name(a.dtype), want));
  }
  std::string header = "{'descr': '";
  header += a.dtype == NpyDtype::kU8 ? "|u1" : "<f4";
  header += "', 'fortran_order': False, 'shape': " + a.shape_str() + ", }";
  // Pad with spaces so that magic + version + length + header + '\n' is a multiple of 64. With
  // at most kNpyMaxDims dimensions the header is far below version 1.0's 64 KiB.
  header.append((64 - (10 + header.size() + 1) % 64) % 64, ' ');
  header += '\n';
  std::vector<std::uint8_t> out(kMagic.begin(), kMagic.end());
  out.push_back(1);
  out.push_back(0);
  out.push_back(static_cast<std::uint8_t>(header.size() & 0xFF));
  out.push_back(static_cast<std::uint8_t>(header.size() >> 8));
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), a.data.begin(), a.data.end());
  return out;
}

void write_npy(const std::string& path, const NpyArray& a) {
  const std::vector<std::uint8_t> bytes = encode_npy(a);
  std::ofstream out(path, std::ios::binary);
  if (!out) throw_bad_input("cannot write .npy file '{}'", path);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  if (!out) throw_bad_input("failed writing .npy file '{}'", path);
}

NpyArray make_f32(std::vector<std::size_t> shape, const std::vector<float>& values) {
  NpyArray a;
  a.dtype = NpyDtype::kF32;
  a.shape = std::move(shape);
  a.data.resize(values.size() * sizeof(float));
  if (!values.empty()) std::memcpy(a.data.data(), values.data(), a.data.size());
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
