// The chip through the mxemu binary: `mxemu gemm` on .npy files (C, statistics, timeline),
// `mxemu run --firmware --in --out --scalar` with a firmware-declared output, and bad input.
#include <fmt/core.h>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>

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
  for (std::size_t rr = 0; rr < R; ++rr) {
    for (std::size_t p = 0; p < P; ++p) {
      for (std::size_t bb = 0; bb < B; ++bb)
        REQUIRE(y.data[(rr * P + p) * B + bb] == x[p * sps + rr * srs + bb]);
    }
  }
  {
    // One 3 MiB row (the DMA engine moves it in 1 MiB pieces), then dma3d's VMEM -> VMEM copy of
    // it from offset 0 to 1 MiB, which overlaps its own destination (moved whole): Y is X.
    std::vector<std::uint8_t> big(std::size_t{3} << 20);
    for (auto& v : big) v = static_cast<std::uint8_t>(rng());
    write_npy(xp, make_u8({big.size()}, big));
    const Result rb = run_cli({"run", "--firmware", test::firmware_elf("chip_dma3d"), "--in",
                               "X=" + xp, "--out", "Y=" + yp, "--scalar", "row_bytes=3145728"});
    INFO(rb.err);
    REQUIRE(rb.rc == 0);
    const bool same = read_npy(yp).data == big;  // not decomposed: 3 MiB vectors print slowly
    CHECK(same);
  }
  Result bad = run_cli({"run", "--firmware", test::firmware_elf("chip_dma3d"), "--in", "X" + xp});
  CHECK(bad.rc == 2);
  CHECK(bad.err.find("--in expects NAME=VALUE") != std::string::npos);
  bad = run_cli({"run", "--firmware", test::firmware_elf("chip_dma3d"), "--in", "X=" + xp,
                 "--scalar", "rows=five"});
  CHECK(bad.rc == 2);
  CHECK(bad.err.find("'five' is not a 32-bit unsigned integer") != std::string::npos);
  // Negative scalars go in as their two's complement, down to -2^31.
  bad = run_cli({"run", "--firmware", test::firmware_elf("chip_dma3d"), "--in", "X=" + xp,
                 "--scalar", "rows=-2147483649"});
  CHECK(bad.rc == 2);
  CHECK(bad.err.find("'-2147483649' is not a 32-bit integer") != std::string::npos);
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

TEST_CASE("mxemu run warns of a semaphore two engines wait on at once", "[chip][cli]") {
  const Result r =
      run_cli({"run", "--firmware", test::firmware_elf("chip_loop"), "--scalar", "mode=6"});
  CHECK(r.rc == 0);  // a warning, not a failure
  CHECK_THAT(r.err, Catch::Contains("mxemu: warning: semaphore 7 was waited on by DMA and VPU at "
                                    "once (first at cycle "));
  const Result q = run_cli(
      {"run", "--firmware", test::firmware_elf("chip_loop"), "--scalar", "mode=6", "--quiet"});
  CHECK(q.err.find("warning") == std::string::npos);
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
  // A kernel that refuses its inputs before declaring its outputs: its failure (code 2) is the
  // result, not the missing output (which was an mxemu fault, status 3, the code lost).
  std::filesystem::remove(qp);
  const Result refused = run_cli({"run", "--kernel", "quantize", "--out", "Q=" + qp});
  INFO(refused.err);
  CHECK(refused.rc == 1);
  CHECK_THAT(refused.err, Catch::Contains("mxemu: firmware failed with code 2"));
  CHECK_THAT(refused.err,
             Catch::Contains("no output 'Q' written: the firmware failed before declaring it"));
  CHECK_FALSE(std::filesystem::exists(qp));
  const Result bad = run_cli({"run", "--kernel", "quantise", "--in", "X=" + xp});
  CHECK(bad.rc == 2);
  CHECK(bad.err.find("no bundled kernel 'quantise'") != std::string::npos);
  for (const auto& p : {xp, qp, sp}) std::filesystem::remove(p);
}

TEST_CASE("exit status: 0 only for a pass; a firmware failure is 1 with its full code printed",
          "[chip][cli][exit]") {
  const std::string stats = tmp("exit.json");
  // Codes the OS would truncate (256 -> 0) or confuse with mxemu's own (2, 3, 4).
  for (const int code : {0, 1, 2, 3, 4, 255, 256, 257, 668}) {
    for (const int via : {0, 1, 2}) {  // exit(), return from main, tohost written directly
      INFO("code " << code << " via " << via);
      const Result r = run_cli({"run", "--firmware", test::firmware_elf("exit_with"), "--scalar",
                                "code=" + std::to_string(code), "--scalar",
                                "via=" + std::to_string(via), "--stats", stats});
      std::ifstream f(stats);
      const auto j = nlohmann::json::parse(f);
      CHECK(j.at("exit_code") == code);  // the full code, never truncated
      CHECK(j.at("core").contains("quantum_cycles"));
      CHECK(j.at("core").contains("host_mips"));
      if (code == 0) {
        CHECK(r.rc == 0);
        CHECK_THAT(r.err, Catch::Matches("mxemu: firmware passed \\(exit 0\\) in [0-9]+ cycles, "
                                         "[0-9]+ instructions\n"));
      } else {
        CHECK(r.rc == 1);
        CHECK_THAT(r.err,
                   Catch::Contains("mxemu: firmware failed with code " + std::to_string(code) +
                                   " (riscv-tests: test " + std::to_string(code) + ") in "));
        CHECK_THAT(r.err, Catch::Contains(" instructions\n"));
      }
      // --quiet: no result line; --exit-code passthrough: the firmware's code, 8 bits of it.
      const Result q =
          run_cli({"run", "--quiet", "--exit-code", "passthrough", "--firmware",
                   test::firmware_elf("exit_with"), "--scalar", "code=" + std::to_string(code),
                   "--scalar", "via=" + std::to_string(via)});
      CHECK(q.err.empty());
      CHECK(q.rc == (code & 0xFF));
    }
  }
  std::filesystem::remove(stats);
  // mxemu's own statuses are unchanged: a fault is 3, the cycle limit 4.
  CHECK(run_cli({"run", "--firmware", test::firmware_elf("bad_illegal")}).rc == 3);
  CHECK(run_cli({"run", "--firmware", test::firmware_elf("bad_forever"), "--max-cycles", "1000"})
            .rc == 4);
  CHECK(run_cli({"run", "--exit-code", "sometimes", "--firmware", test::firmware_elf("exit_with")})
            .rc == 2);
}

TEST_CASE("mxemu run --chips: per-chip firmware and tensors, unknown chips refused",
          "[chip][cli][pod]") {
  const std::string fw = test::firmware_elf("chip_identity");
  const std::string ex = test::firmware_elf("exit_with");
  const std::string stats = tmp("pod.json"), tl = tmp("pod_tl.json");
  // Chip 0 passes, chip 1 fails with 7, chip 2 reports its identity (exit 102).
  Result r = run_cli({"run", "--chips", "3", "--firmware", ex, "--firmware", "2:" + fw, "--scalar",
                      "1:code=7", "--stats", stats, "--timeline", tl});
  CHECK(r.rc == 1);
  CHECK_THAT(r.err, Catch::Contains("mxemu: chip 0: firmware passed (exit 0)"));
  CHECK_THAT(r.err, Catch::Contains("mxemu: chip 1: firmware failed with code 7"));
  CHECK_THAT(r.err, Catch::Contains("mxemu: chip 2: firmware failed with code 102"));
  CHECK_THAT(r.out, Catch::Contains("id 1 2 3 2 0 0"));
  {
    std::ifstream f(stats);
    const auto j = nlohmann::json::parse(f);
    CHECK(j.at("pod").at("chips") == 3);
    CHECK(j.at("chips").size() == 3);
    CHECK(j.at("chips").at(1).at("exit_code") == 7);
    CHECK(j.at("chips").at(2).at("sc_name") == "pod.chip2");
    std::ifstream t(tl);
    CHECK(nlohmann::json::parse(t).contains("traceEvents"));
  }
  std::filesystem::remove(stats);
  std::filesystem::remove(tl);
  // A chip index the pod does not have, in any per-chip option, is bad input.
  for (const std::vector<std::string>& bad :
       {std::vector<std::string>{"--firmware", "3:" + ex},
        std::vector<std::string>{"--firmware", ex, "--scalar", "5:code=1"},
        std::vector<std::string>{"--firmware", ex, "--in", "9:A=x.npy"},
        std::vector<std::string>{"--firmware", ex, "--out", "4:C=c.npy"},
        std::vector<std::string>{"--firmware", ex, "--gdb", "3:0"}}) {
    std::vector<std::string> args{"run", "--chips", "3"};
    args.insert(args.end(), bad.begin(), bad.end());
    r = run_cli(args);
    INFO(r.err);
    CHECK(r.rc == 2);
    CHECK_THAT(r.err, Catch::Contains("does not exist (the pod has 3 chips: 0..2)"));
  }
  r = run_cli({"run", "--chips", "2", "--firmware", "1:" + ex});
  CHECK(r.rc == 2);
  CHECK_THAT(r.err, Catch::Contains("chip 0 has no firmware"));
  r = run_cli({"run", "--chips", "2", "--firmware", ex, "--out", "C=c.npy"});
  CHECK(r.rc == 2);
  CHECK_THAT(r.err, Catch::Contains("say which chip's output"));
}

TEST_CASE("mxemu config --dump prints the effective config, which reads back", "[chip][cli]") {
  const std::string cfg = tmp("cfg.toml"), dumped = tmp("dumped.toml");
  std::ofstream(cfg) << "[mxu]\ncount = 3\n[mx]\nblock = 128\n";
  Result r = run_cli({"config", "--dump", "--config", cfg});
  REQUIRE(r.rc == 0);
  CHECK_THAT(r.out, Catch::Contains("[mxu]\ncount = 3 "));
  CHECK_THAT(r.out, Catch::Contains("block = 128"));
  CHECK_THAT(r.out, Catch::Contains("[hbm.timing]"));
  std::ofstream(dumped) << r.out;
  const Result back = run_cli({"config", "--dump", "--config", dumped});
  CHECK(back.rc == 0);
  CHECK(back.out.substr(back.out.find("\n\n")) == r.out.substr(r.out.find("\n\n")));
  std::ofstream(cfg) << "[mxu]\ncount = 99\n";
  r = run_cli({"config", "--config", cfg});
  CHECK(r.rc == 2);
  CHECK_THAT(r.err, Catch::Contains("[mxu] count = 99 is out of range [1, 12]"));
  std::filesystem::remove(cfg);
  std::filesystem::remove(dumped);
}

TEST_CASE("limits: a firmware spinning forever ends with 4; bad limits are refused",
          "[chip][cli][limits]") {
  // No cycle limit: the wall-clock limit ends it, with the cycle-limit status.
  Result r = run_cli({"run", "--firmware", test::firmware_elf("bad_forever"), "--max-cycles", "0",
                      "--max-seconds", "1"});
  CHECK(r.rc == 4);
  CHECK_THAT(r.err, Catch::Contains("mxemu: error: wall-clock limit of 1 s reached at cycle"));
  for (const char* bad : {"-5", "99999999999999999999999", "1000000000000001", "1e3", ""}) {
    INFO(bad);
    r = run_cli({"run", "--firmware", test::firmware_elf("exit_with"), "--max-cycles", bad});
    CHECK(r.rc == 2);
  }
  r = run_cli({"run", "--firmware", test::firmware_elf("exit_with"), "--max-cycles", "-5"});
  CHECK_THAT(r.err, Catch::Contains("--max-cycles -5: expected a whole number in [0, "));
  r = run_cli({"run", "--firmware", test::firmware_elf("exit_with"), "--max-seconds", "-1"});
  CHECK(r.rc == 2);
  CHECK_THAT(r.err, Catch::Contains("--max-seconds -1: expected a number of seconds"));
  r = run_cli({"run", "--firmware", test::firmware_elf("exit_with"), "--threads", "-1"});
  CHECK(r.rc == 2);
  r = run_cli({"run", "--firmware", test::firmware_elf("exit_with"), "--chips", "99999"});
  CHECK(r.rc == 2);
}

TEST_CASE("mxemu run --pod --topology with per-chip tensors ({chip} files, --in-stack)",
          "[chip][cli][pod]") {
  const std::uint32_t n = 4;
  const std::size_t bytes = 5000;
  std::vector<std::vector<std::uint8_t>> x(n);
  std::vector<std::uint8_t> stack;
  std::mt19937_64 rng(12);
  for (std::uint32_t i = 0; i < n; ++i) {
    x[i].resize(bytes);
    for (auto& b : x[i]) b = static_cast<std::uint8_t>(rng());
    write_npy(tmp("x_" + std::to_string(i) + ".npy"), make_u8({bytes}, x[i]));
    stack.insert(stack.end(), x[i].begin(), x[i].end());
  }
  write_npy(tmp("stack.npy"), make_u8({n, bytes}, stack));
  write_npy(tmp("y.npy"), make_u8({bytes}, std::vector<std::uint8_t>(bytes)));
  const std::string fw = test::firmware_elf("chip_ici_ring");
  for (const bool stacked : {false, true}) {
    INFO("stacked " << stacked);
    std::vector<std::string> args{"run",
                                  "--pod",
                                  "4x1x1",
                                  "--topology",
                                  "ring",
                                  "--firmware",
                                  fw,
                                  "--in",
                                  "Y=" + tmp("y.npy"),
                                  "--out",
                                  "Y=" + tmp("out_{chip}.npy")};
    if (stacked) {
      args.insert(args.end(), {"--in-stack", "X=" + tmp("stack.npy")});
    } else {
      args.insert(args.end(), {"--in", "X=" + tmp("x_{chip}.npy")});
    }
    const Result r = run_cli(args);
    INFO(r.err);
    REQUIRE(r.rc == 0);
    for (std::uint32_t i = 0; i < n; ++i) {
      CHECK(read_npy(tmp("out_" + std::to_string(i) + ".npy")).data == x[(i + n - 1) % n]);
    }
  }
  // The OCS reprograms the ring's wrap-around (3 x+ -> 0 x-) while the messages go round; what
  // the interconnect did is printed.
  {
    std::ofstream f(tmp("ocs.toml"));
    f << "[ocs]\nreconfig_ns = 500\n[[pod.ocs]]\nat_ns = 100\n"
         "circuits = [{ a = [3, 0], b = [0, 1] }]\n";
  }
  const Result o = run_cli({"run", "--pod", "4x1x1", "--topology", "ring", "--config",
                            tmp("ocs.toml"), "--firmware", fw, "--in", "Y=" + tmp("y.npy"), "--in",
                            "X=" + tmp("x_{chip}.npy"), "--out", "Y=" + tmp("out_{chip}.npy")});
  INFO(o.err);
  REQUIRE(o.rc == 0);
  for (std::uint32_t i = 0; i < n; ++i) {
    CHECK(read_npy(tmp("out_" + std::to_string(i) + ".npy")).data == x[(i + n - 1) % n]);
  }
  CHECK_THAT(o.err, Catch::Contains("mxemu: pod: at 100 ns: OCS: program 0 (circuits): 1 link "
                                    "down, 1 circuit moving for 500 ns"));
  CHECK_THAT(o.err, Catch::Contains("mxemu: pod: at 600 ns: OCS: program 0: 1 circuit up"));
  // A stack whose leading axis is not the chip count, an unknown topology, a bad shape.
  Result r =
      run_cli({"run", "--pod", "2x1x1", "--firmware", fw, "--in-stack", "X=" + tmp("stack.npy")});
  CHECK(r.rc == 2);
  CHECK_THAT(r.err, Catch::Contains("its leading axis must be the 2 chips"));
  r = run_cli({"run", "--pod", "4", "--topology", "hypercube", "--firmware", fw});
  CHECK(r.rc == 2);
  CHECK_THAT(r.err, Catch::Contains("expected ring, mesh, torus or twisted"));
  r = run_cli({"run", "--pod", "4x0", "--firmware", fw});
  CHECK(r.rc == 2);
  r = run_cli({"run", "--pod", "6x4", "--firmware", fw});
  CHECK(r.rc == 2);
  CHECK_THAT(r.err, Catch::Contains("is not made of 4x4x4 cubes"));
}

TEST_CASE("a pod's chips printing at once: each chip's console line comes out whole",
          "[chip][cli][pod]") {
  // Every chip prints its line in nine pieces, an MMIO read between them, all at the same times.
  const Result r =
      run_cli({"run", "--pod", "2x2x2", "--firmware", test::firmware_elf("chip_console_lines")});
  INFO(r.out << r.err);
  REQUIRE(r.rc == 0);
  std::set<std::uint32_t> seen;
  std::size_t lines = 0;
  for (std::size_t at = 0; at < r.out.size();) {
    const std::size_t nl = r.out.find('\n', at);
    REQUIRE(nl != std::string::npos);
    const std::string line = r.out.substr(at, nl - at);
    at = nl + 1;
    ++lines;
    const std::uint32_t c = std::stoul(line.substr(5));
    CHECK(line == fmt::format("chip {}: 0 1 2 3 4 5 6 7 end {}", c, c));
    seen.insert(c);
  }
  CHECK(lines == 8);
  CHECK(seen.size() == 8);
  CHECK(*seen.rbegin() == 7);
}

TEST_CASE("Ctrl-C ends a run with 130 after writing its statistics and timeline",
          "[chip][cli][limits]") {
  const std::string stats = tmp("int.json"), tl = tmp("int_tl.json");
  test::Child c({test::mxemu_binary(), "run", "--firmware", test::firmware_elf("bad_forever"),
                 "--max-cycles", "0", "--stats", stats, "--timeline", tl});
  // Let it run a while (it spins for ever), then interrupt it as a terminal's Ctrl-C would.
  c.wait_until([] { return false; }, 1.0);
  c.signal(SIGINT);
  const int rc = c.finish(60);
  CHECK(rc == 130);
  CHECK_THAT(c.err(), Catch::Contains("mxemu: error: interrupted (SIGINT) at cycle"));
  std::ifstream f(stats);
  const auto j = nlohmann::json::parse(f);
  CHECK(j.at("exit_code") == 130);
  CHECK_THAT(j.at("outcome").get<std::string>(), Catch::Contains("interrupted (SIGINT)"));
  CHECK(j.at("total_cycles").get<std::uint64_t>() > 1'000'000);
  std::ifstream t(tl);
  CHECK(nlohmann::json::parse(t).contains("traceEvents"));
  // A failing run writes its statistics and timeline too (a cycle limit here).
  const Result r = run_cli({"run", "--firmware", test::firmware_elf("bad_forever"), "--max-cycles",
                            "5000", "--stats", stats, "--timeline", tl});
  CHECK(r.rc == 4);
  std::ifstream f2(stats);
  CHECK(nlohmann::json::parse(f2).at("total_cycles").get<std::uint64_t>() >= 5000);
  std::filesystem::remove(stats);
  std::filesystem::remove(tl);
}
