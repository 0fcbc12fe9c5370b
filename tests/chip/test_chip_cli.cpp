// The chip through the mxemu binary: `mxemu gemm` on .npy files (C, statistics, timeline),
// `mxemu run --firmware --in --out --scalar` with a firmware-declared output, and bad input.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <random>

#include "model/common/npy.h"
#include "model/numerics/fp8.h"
#include "model/numerics/mx.h"
#include "tests/chip/chip_test_util.h"
#include "tests/core/fw_path.h"
#include "tests/core/subprocess.h"

using namespace mxemu;

namespace {

struct Result {
  int rc;
  std::string out, err;
};

Result run_cli(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {test::mxemu_binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  test::Child c(argv);
  const int rc = c.finish(120);
  return {rc, c.out(), c.err()};
}

std::string tmp(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          ("mxemu_chip_" + std::to_string(getpid()) + "_" + name))
      .string();
}

}  // namespace

TEST_CASE("mxemu gemm: C, statistics and timeline from .npy files", "[chip][cli]") {
  std::mt19937_64 rng(21);
  const std::size_t m = 45, k = 128, n = 140;
  sim::GemmJob g = test::random_gemm(rng, m, k, n, 32);
  std::vector<float> c0(m * n);
  for (auto& v : c0) v = static_cast<float>(static_cast<int>(rng() % 2001) - 1000) / 8.0F;
  g.c0 = make_f32({m, n}, c0);
  g.fmt_a = "e5m2";
  const std::string a = tmp("a.npy"), b = tmp("b.npy"), sa = tmp("sa.npy"), sb = tmp("sb.npy"),
                    c0p = tmp("c0.npy"), c = tmp("c.npy"), stats = tmp("s.json"),
                    tl = tmp("t.json");
  write_npy(a, g.a);
  write_npy(b, g.b);
  write_npy(sa, *g.sa);
  write_npy(sb, *g.sb);
  write_npy(c0p, *g.c0);
  const Result r =
      run_cli({"gemm", "--a", a, "--b", b, "--a-scales", sa, "--b-scales", sb, "--c-init", c0p,
               "--fmt-a", "e5m2", "--out", c, "--stats", stats, "--timeline", tl});
  INFO(r.err);
  REQUIRE(r.rc == 0);
  CHECK(r.out.find("MXU utilisation") != std::string::npos);
  const NpyArray got = read_npy(c);
  REQUIRE(got.dtype == NpyDtype::kF32);
  REQUIRE(got.shape == std::vector<std::size_t>{m, n});
  test::require_bit_exact(got, g);
  std::ifstream fs(stats);
  const auto j = nlohmann::json::parse(fs);
  for (const char* key : {"total_cycles", "mxu_busy_cycles", "mxu_utilization", "hbm_bytes_read",
                          "hbm_bytes_written"}) {
    CHECK(j.contains(key));
  }
  CHECK(j["hbm_bytes_read"].get<std::uint64_t>() >= m * k + k * n);
  CHECK(j["hbm_bytes_written"].get<std::uint64_t>() >= m * n * 4);
  for (const char* e : {"DMA", "VPU", "MXU0", "MXU1"}) {
    CHECK(j["engines"][e].contains("busy_cycles"));
    CHECK(j["engines"][e]["stall_cycles"].is_object());
  }
  std::ifstream ft(tl);
  const auto t = nlohmann::json::parse(ft);
  CHECK(t["traceEvents"].size() > 10);
  for (const auto& p : {a, b, sa, sb, c0p, c, stats, tl}) std::filesystem::remove(p);
}

TEST_CASE("mxemu gemm refuses bad tensors with exit code 2", "[chip][cli]") {
  const std::string a = tmp("ba.npy"), b = tmp("bb.npy"), f = tmp("bf.npy"), c = tmp("bc.npy");
  write_npy(a, make_u8({4, 64}, std::vector<std::uint8_t>(256, 0x38)));
  write_npy(b, make_u8({32, 4}, std::vector<std::uint8_t>(128, 0x38)));
  write_npy(f, make_f32({4, 64}, std::vector<float>(256, 1.0F)));
  Result r = run_cli({"gemm", "--a", a, "--b", b, "--out", c});
  CHECK(r.rc == 2);
  CHECK(r.err.find("mxemu: error: A is (4, 64) but B is (32, 4)") != std::string::npos);
  r = run_cli({"gemm", "--a", f, "--b", b, "--out", c});
  CHECK(r.rc == 2);
  CHECK(r.err.find("A must be a uint8 array of FP8/UE8M0 bit patterns, got float32") !=
        std::string::npos);
  r = run_cli({"gemm", "--a", a, "--b", a, "--out", c, "--fmt-a", "e3m4"});
  CHECK(r.rc == 2);
  r = run_cli({"gemm", "--a", tmp("missing.npy"), "--b", b, "--out", c});
  CHECK(r.rc == 2);
  CHECK_FALSE(std::filesystem::exists(c));
  for (const auto& p : {a, b, f}) std::filesystem::remove(p);
}

TEST_CASE("mxemu run --firmware with --in, --out and --scalar; 3-D DMA", "[chip][cli]") {
  const std::size_t P = 3, R = 5, B = 24, srs = 40, sps = 256;
  std::vector<std::uint8_t> x(P * sps + 64);
  std::mt19937_64 rng(8);
  for (auto& v : x) v = static_cast<std::uint8_t>(rng());
  const std::string xp = tmp("x.npy"), yp = tmp("y.npy");
  write_npy(xp, make_u8({x.size()}, x));
  const Result r =
      run_cli({"run", "--firmware", test::firmware_elf("chip_dma3d"), "--in", "X=" + xp, "--out",
               "Y=" + yp, "--scalar", "planes=3", "--scalar", "rows=5", "--scalar", "row_bytes=24",
               "--scalar", "src_row_stride=40", "--scalar", "src_plane_stride=0x100"});
  INFO(r.err);
  REQUIRE(r.rc == 0);
  CHECK(r.out == "dma3d: 3 x 5 x 24 bytes\n");
  const NpyArray y = read_npy(yp);
  REQUIRE(y.shape == std::vector<std::size_t>{R, P, B});
  for (std::size_t rr = 0; rr < R; ++rr)
    for (std::size_t p = 0; p < P; ++p)
      for (std::size_t bb = 0; bb < B; ++bb)
        REQUIRE(y.data[(rr * P + p) * B + bb] == x[p * sps + rr * srs + bb]);
  Result bad = run_cli({"run", "--firmware", test::firmware_elf("chip_dma3d"), "--in", "X" + xp});
  CHECK(bad.rc == 2);
  CHECK(bad.err.find("--in expects NAME=VALUE") != std::string::npos);
  bad = run_cli({"run", "--firmware", test::firmware_elf("chip_dma3d"), "--in", "X=" + xp,
                 "--scalar", "rows=five"});
  CHECK(bad.rc == 2);
  CHECK(bad.err.find("'five' is not a 32-bit unsigned integer") != std::string::npos);
  bad = run_cli({"run", "--firmware", test::firmware_elf("chip_dma3d"), "--in", "X=" + xp, "--out",
                 "Z=" + yp});
  CHECK(bad.rc == 3);
  CHECK(bad.err.find("no output named 'Z'") != std::string::npos);
  const Result dl = run_cli({"run", "--firmware", test::firmware_elf("chip_deadlock")});
  CHECK(dl.rc == 3);
  CHECK(dl.err.find("mxemu: error: deadlock") != std::string::npos);
  std::filesystem::remove(xp);
  std::filesystem::remove(yp);
}

TEST_CASE("mxemu run --kernel: bundled kernels declare their own outputs", "[chip][cli]") {
  const std::size_t rows = 33, cols = 96;
  std::vector<float> x(rows * cols);
  std::mt19937_64 rng(12);
  std::normal_distribution<float> d(0.0F, 50.0F);
  for (auto& v : x) v = d(rng);
  const std::string xp = tmp("kx.npy"), qp = tmp("kq.npy"), sp = tmp("ks.npy");
  write_npy(xp, make_f32({rows, cols}, x));
  const Result r =
      run_cli({"run", "--kernel", "quantize", "--in", "X=" + xp, "--scalar", "block=32", "--scalar",
               "fmt=1", "--out", "Q=" + qp, "--out", "S=" + sp});
  INFO(r.err);
  REQUIRE(r.rc == 0);
  std::vector<std::uint8_t> q(rows * cols), s(rows * cols / 32);
  num::mx_quantize(x, rows, cols, 32, num::Fp8Format::kE5M2, num::MxScaleMode::kFloor, q, s);
  CHECK(read_npy(qp).data == q);
  CHECK(read_npy(sp).data == s);
  const Result bad = run_cli({"run", "--kernel", "quantise", "--in", "X=" + xp});
  CHECK(bad.rc == 2);
  CHECK(bad.err.find("no bundled kernel 'quantise'") != std::string::npos);
  for (const auto& p : {xp, qp, sp}) std::filesystem::remove(p);
}
