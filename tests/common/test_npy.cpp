// .npy round trips and bad files. The byte layout is checked against the format specification
// (magic, version, little-endian header length, 64-byte alignment) written out in the test; the
// inputs under tools/fuzz/corpus/npy/ are built by tools/fuzz/make_corpus.py from the same
// specification (regress_*: inputs that crashed or were accepted before the header was parsed by
// hand with bounded arithmetic).
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "model/common/error.h"
#include "model/common/npy.h"

using namespace mxemu;

namespace {
std::string temp_path(const char* name) {
  return (std::filesystem::temp_directory_path() / (std::string("mxemu_test_") + name)).string();
}
std::string slurp(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}
void spit(const std::string& p, const std::string& s) {
  std::ofstream out(p, std::ios::binary);
  out << s;
}
// A v1.0 file with the header padded (spaces and '\n') so the data starts at 64 bytes.
std::string npy_v1(std::string header, const std::string& data) {
  header.append((64 - (10 + header.size() + 1) % 64) % 64, ' ');
  header += '\n';
  const std::size_t n = header.size();
  return std::string("\x93NUMPY\x01\x00", 8) + static_cast<char>(n & 0xFF) +
         static_cast<char>(n >> 8) + header + data;
}
constexpr const char* kCorpus = "tools/fuzz/corpus/npy/";
std::string corpus_error(const std::string& file) {
  try {
    read_npy(std::string(kCorpus) + file);
  } catch (const Error& e) {
    CHECK(e.code() == ExitCode::kBadInput);
    return e.what();
  }
  FAIL("no error for " << file);
  return "";
}
}  // namespace

TEST_CASE("npy: write follows the v1.0 layout and reads back", "[common][npy]") {
  const std::string p = temp_path("rt.npy");
  write_npy(p, make_f32({2, 3}, {1, 2, 3, 4, 5, -6.5F}));
  const std::string raw = slurp(p);
  REQUIRE(raw.size() > 10);
  CHECK(raw.substr(0, 8) == std::string("\x93NUMPY\x01\x00", 8));
  const std::size_t hlen =
      static_cast<unsigned char>(raw[8]) | (static_cast<unsigned char>(raw[9]) << 8);
  CHECK((10 + hlen) % 64 == 0);
  CHECK(raw.find("'descr': '<f4'") != std::string::npos);
  CHECK(raw.find("'shape': (2, 3)") != std::string::npos);
  CHECK(raw.size() == 10 + hlen + 24);
  float last = 0;
  std::memcpy(&last, raw.data() + raw.size() - 4, 4);
  CHECK(last == -6.5F);
  const NpyArray a = read_npy(p);
  CHECK(a.dtype == NpyDtype::kF32);
  CHECK(a.shape == std::vector<std::size_t>{2, 3});
  CHECK(a.as_f32()[5] == -6.5F);
  write_npy(p, make_u8({5}, {1, 2, 3, 4, 255}));
  const NpyArray b = read_npy(p);
  CHECK(b.shape == std::vector<std::size_t>{5});
  CHECK(b.data[4] == 255);
  std::remove(p.c_str());
}

TEST_CASE("npy: bad files get clear errors", "[common][npy]") {
  const std::string p = temp_path("bad.npy");
  spit(p, "hello world, not numpy");
  CHECK_THROWS_WITH(read_npy(p), Catch::Contains("not a .npy file"));
  spit(p,
       npy_v1("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", std::string(16, '\0')));
  CHECK_THROWS_WITH(read_npy(p), Catch::Contains("unsupported dtype '<f8'"));
  write_npy(p, make_f32({4, 4}, std::vector<float>(16, 1.0F)));
  std::string raw = slurp(p);
  spit(p, raw.substr(0, raw.size() - 5));
  CHECK_THROWS_WITH(read_npy(p), Catch::Contains("truncated data"));
  CHECK_THROWS_WITH(read_npy(temp_path("missing.npy")), Catch::Contains("cannot open"));
  try {
    read_npy(temp_path("missing.npy"));
  } catch (const Error& e) {
    CHECK(e.code() == ExitCode::kBadInput);
  }
  std::remove(p.c_str());
}

TEST_CASE("npy: headers as NumPy writes them, in any key order and quoting", "[common][npy]") {
  const NpyArray a = read_npy(std::string(kCorpus) + "valid_u8_2x3.npy");
  CHECK(a.dtype == NpyDtype::kU8);
  CHECK(a.shape == std::vector<std::size_t>{2, 3});
  CHECK(a.data == std::vector<std::uint8_t>{1, 2, 3, 4, 5, 6});
  const NpyArray v3 =
      read_npy(std::string(kCorpus) + "valid_v3_dquotes.npy");  // version 3.0, "..." keys
  CHECK(v3.dtype == NpyDtype::kF32);
  CHECK(v3.shape == std::vector<std::size_t>{1, 2});
  CHECK(v3.as_f32() == std::vector<float>{1.0F, 2.0F});
  const NpyArray v2 = read_npy(std::string(kCorpus) + "valid_v2.npy");  // version 2.0, '<u1'
  CHECK(v2.shape == std::vector<std::size_t>{3});
  CHECK(v2.data == std::vector<std::uint8_t>{1, 2, 3});
  const NpyArray scalar =
      read_npy(std::string(kCorpus) + "valid_f32_scalar.npy");  // shape (): one element
  CHECK(scalar.shape.empty());
  CHECK(scalar.as_f32() == std::vector<float>{3.0F});
  const NpyArray empty = read_npy(std::string(kCorpus) + "valid_u8_empty.npy");
  CHECK(empty.shape == std::vector<std::size_t>{0, 7});
  CHECK(empty.data.empty());
  const NpyArray py2 = read_npy(std::string(kCorpus) + "valid_py2_long.npy");  // (2L, 1L)
  CHECK(py2.shape == std::vector<std::size_t>{2, 1});
  CHECK(py2.data == std::vector<std::uint8_t>{7, 8});
  CHECK(read_npy(std::string(kCorpus) + "valid_f32_4.npy").as_f32() ==
        std::vector<float>{1.0F, -2.5F, 0.0F, 448.0F});
}

TEST_CASE("npy: a parsed file round-trips through the writer byte for byte", "[common][npy]") {
  // np.save's layout for this array (v1.0, header padded to 64 bytes), written out by hand.
  const std::string want = npy_v1("{'descr': '|u1', 'fortran_order': False, 'shape': (2, 3), }",
                                  std::string("\x01\x02\x03\x04\x05\x06", 6));
  const std::string got = slurp(std::string(kCorpus) + "valid_u8_2x3.npy");
  CHECK(got == want);
  const std::vector<std::uint8_t> enc =
      encode_npy(read_npy(std::string(kCorpus) + "valid_u8_2x3.npy"));
  CHECK(std::string(enc.begin(), enc.end()) == want);
}

TEST_CASE("npy: regression inputs get clear errors", "[common][npy][regress]") {
  // Each crashed (stack overflow in std::regex, std::out_of_range from stoull) or was accepted
  // with a wrapped element count before.
  CHECK_THAT(corpus_error("regress_long_descr.npy"),
             Catch::Contains("unsupported dtype 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...'"));
  CHECK_THAT(corpus_error("regress_shape_digits.npy"),
             Catch::Contains("shape dimension 99999999999999999999 does not fit in 64 bits"));
  CHECK_THAT(corpus_error("regress_shape_wrap.npy"),
             Catch::Contains("shape (4294967296, 4294967296) of uint8 is larger than the limit "
                             "of 1099511627776 bytes"));
  CHECK_THAT(corpus_error("regress_shape_bytes_wrap.npy"),
             Catch::Contains("shape (4611686018427387904,) of float32 is larger than the limit"));
  CHECK_THAT(corpus_error("regress_too_many_dims.npy"),
             Catch::Contains(".npy shape has more than 32 dimensions"));
  CHECK_THAT(corpus_error("regress_trailing.npy"),
             Catch::Contains("1 bytes after the data (shape (2,) of uint8 needs exactly 2)"));
  CHECK_THAT(corpus_error("regress_header_len.npy"),
             Catch::Contains("malformed .npy header: it ends where ':' after a key is expected"));
  CHECK_THAT(corpus_error("regress_unterminated.npy"),
             Catch::Contains("it ends where the closing quote of a string is expected"));
}

TEST_CASE("npy: an empty float32 array has no values", "[common][npy][regress]") {
  // Found by fuzz_npy: as_f32() of an empty array passed a null pointer to memcpy (UBSan).
  const NpyArray a = read_npy(std::string(kCorpus) + "regress_empty_f32.npy");
  CHECK(a.shape == std::vector<std::size_t>{0});
  CHECK(a.as_f32().empty());
  CHECK(make_f32({0}, {}).data.empty());
}

TEST_CASE("npy: near-valid inputs name what is wrong", "[common][npy]") {
  CHECK_THAT(corpus_error("near_fortran.npy"),
             Catch::Contains("Fortran-order arrays are not supported"));
  CHECK_THAT(corpus_error("near_f8.npy"), Catch::Contains("unsupported dtype '<f8'"));
  CHECK_THAT(corpus_error("near_truncated.npy"),
             Catch::Contains("truncated data (5 bytes for shape (8,) of uint8, need 8)"));
  CHECK_THAT(corpus_error("near_structured.npy"),
             Catch::Contains("descr is not a simple type string"));
  auto header_error = [](const std::string& header) {
    const std::string bytes = npy_v1(header, "");
    try {
      parse_npy({reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()}, "h.npy");
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK_THAT(header_error("{'descr': '|u1', 'fortran_order': False, 'shape': (0,), 'x': 1}"),
             Catch::Contains("unexpected key 'x' (expected descr, fortran_order and shape)"));
  CHECK_THAT(header_error("{'descr': '|u1', 'descr': '|u1', 'fortran_order': False}"),
             Catch::Contains("repeats the key 'descr'"));
  CHECK_THAT(header_error("{'descr': '|u1', 'shape': (0,)}"),
             Catch::Contains("has no fortran_order"));
  CHECK_THAT(header_error("{'descr': '|u1', 'fortran_order': False}"),
             Catch::Contains("has no shape"));
  CHECK_THAT(header_error("{'descr': '|u1', 'fortran_order': false, 'shape': (0,)}"),
             Catch::Contains("at byte 34: expected True or False, found 'f'"));
  CHECK_THAT(header_error("{'descr': '|u1', 'fortran_order': False, 'shape': (1 2)}"),
             Catch::Contains("expected ',' or ')' in the shape tuple, found '2'"));
  CHECK_THAT(header_error("{'descr': '|u1', 'fortran_order': False, 'shape': (-1,)}"),
             Catch::Contains("expected a non-negative integer dimension, found '-'"));
  CHECK_THAT(header_error("{'descr': '|u1', 'fortran_order': False, 'shape': (1,)} junk"),
             Catch::Contains("expected only spaces and a newline after the dict, found 'j'"));
  CHECK(header_error("{'descr': '|u1', 'fortran_order': False, 'shape': (0,)}") == "no error");
}

TEST_CASE("npy: the writer refuses data that does not match the shape", "[common][npy]") {
  NpyArray a = make_u8({2, 2}, {1, 2, 3});
  try {
    encode_npy(a);
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.code() == ExitCode::kInternal);
    CHECK_THAT(std::string(e.what()), Catch::Contains("3 bytes of data for shape (2, 2)"));
  }
  CHECK_THROWS_WITH(make_u8({1}, {1}).as_f32(),
                    Catch::Contains("tensor of shape (1,) is uint8, where float32 is expected"));
}
