// .npy round trips and bad files. The byte layout is checked against the format specification
// (magic, version, little-endian header length, 64-byte alignment) written out in the test.
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
  spit(p, std::string("\x93NUMPY\x01\x00\x30\x00", 10) +
              "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }   \n" +
              std::string(16, '\0'));
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
