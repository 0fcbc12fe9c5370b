// `mxemu run --firmware`: exit codes, console on stdout, errors with pc and cycle, bad ELF files,
// --max-cycles, --stats and --config, through the real binary.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "tests/core/fw_path.h"
#include "tests/core/subprocess.h"

using namespace mxemu;

namespace {

struct Result {
  int rc;
  std::string out, err;
};

Result mxemu_run(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {test::mxemu_binary(), "run"};
  argv.insert(argv.end(), args.begin(), args.end());
  test::Child c(argv);
  const int rc = c.finish(60);
  return {rc, c.out(), c.err()};
}

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          ("mxemu_core_" + std::to_string(getpid()) + "_" + name))
      .string();
}

std::vector<std::uint8_t> read_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

std::string write_bytes(const std::string& name, const std::vector<std::uint8_t>& b) {
  std::string p = temp_path(name);
  std::ofstream(p, std::ios::binary).write(reinterpret_cast<const char*>(b.data()), b.size());
  return p;
}

void put32(std::vector<std::uint8_t>& b, std::size_t off, std::uint32_t v) {
  std::memcpy(b.data() + off, &v, 4);
}

}  // namespace

TEST_CASE("firmware exit code and console", "[core][cli]") {
  auto r = mxemu_run({"--firmware", test::firmware_elf("exit_code")});
  CHECK(r.rc == 1);  // a firmware failure: its code is printed, not the process status
  CHECK(r.out == "exiting with 42\n");
  CHECK(r.err.find("mxemu: firmware failed with code 42") != std::string::npos);
  r = mxemu_run({"--firmware", test::firmware_elf("exit_code"), "--exit-code", "passthrough"});
  CHECK(r.rc == 42);
  r = mxemu_run({"--firmware", test::firmware_elf("rv32um")});
  CHECK(r.rc == 0);
  CHECK(r.out.empty());
}

TEST_CASE("faults of the simulated core name the cause, pc and cycle", "[core][cli]") {
  auto r = mxemu_run({"--firmware", test::firmware_elf("bad_illegal")});
  CHECK(r.rc == 3);
  // Two nops (1 cycle each) at 0x80000000 and 0x80000004, then the zero word.
  CHECK(r.err.find(
            "mxemu: error: core: illegal instruction (instruction 0x00000000) at pc 0x80000008, "
            "cycle 2: no trap handler (mtvec is 0)\n") != std::string::npos);
  r = mxemu_run({"--firmware", test::firmware_elf("bad_out_of_map")});
  CHECK(r.rc == 3);
  CHECK(r.err.find("load access fault (address 0x40000000) at pc 0x80000004, cycle 1") !=
        std::string::npos);
  r = mxemu_run({"--firmware", test::firmware_elf("bad_wfi_deadlock")});
  CHECK(r.rc == 3);
  CHECK(r.err.find("wfi at pc 0x8000000c, cycle 4: waiting for an external interrupt that "
                   "nothing can raise (deadlock)") != std::string::npos);
  // A loop of addi (1 cycle) + j (2 cycles): the limit stops it; exit code 4.
  r = mxemu_run({"--firmware", test::firmware_elf("bad_forever"), "--max-cycles", "30000"});
  CHECK(r.rc == 4);
  CHECK(r.err.find("mxemu: error: core: cycle limit 30000 reached at pc 0x800000") !=
        std::string::npos);
  CHECK(r.err.find("(20000 instructions retired)") != std::string::npos);
}

TEST_CASE("bad ELF files are refused with exit code 2", "[core][cli][elf]") {
  const auto good = read_bytes(test::firmware_elf("exit_code"));
  REQUIRE(good.size() > 200);
  struct Case {
    const char* name;
    std::vector<std::uint8_t> bytes;
    const char* message;
  };
  std::vector<Case> cases;
  cases.push_back({"text", {'h', 'e', 'l', 'l', 'o', '\n'}, "not an ELF file (bad magic)"});
  auto c64 = good;
  c64[4] = 2;
  cases.push_back({"class64", c64, "wrong ELF class ELFCLASS64"});
  auto x86 = good;
  x86[18] = 3;  // EM_386
  x86[19] = 0;
  cases.push_back({"machine", x86, "wrong ELF machine 3 (expected EM_RISCV = 243)"});
  cases.push_back({"truncated", std::vector<std::uint8_t>(good.begin(), good.begin() + 200),
                   "truncated ELF file"});
  cases.push_back({"header_only", std::vector<std::uint8_t>(good.begin(), good.begin() + 30),
                   "truncated ELF file: ELF header"});
  // Move the first loadable segment to 0x1000_0000 (the console): outside memory.
  auto moved = good;
  std::uint32_t phoff, type = 0;
  std::memcpy(&phoff, moved.data() + 28, 4);
  while (true) {  // the first PT_LOAD program header
    std::memcpy(&type, moved.data() + phoff, 4);
    if (type == 1) break;
    phoff += 32;
  }
  put32(moved, phoff + 12, 0x10000000);
  put32(moved, phoff + 8, 0x10000000);
  cases.push_back({"outside", moved, "lies outside the memory of the core"});
  for (const auto& c : cases) {
    SECTION(c.name) {
      const std::string p = write_bytes(c.name, c.bytes);
      const auto r = mxemu_run({"--firmware", p});
      std::filesystem::remove(p);
      CHECK(r.rc == 2);
      CHECK(r.err.find("mxemu: error: ") != std::string::npos);
      CHECK(r.err.find(c.message) != std::string::npos);
      INFO(r.err);
    }
  }
  SECTION("missing file") {
    const auto r = mxemu_run({"--firmware", "/nonexistent/fw.elf"});
    CHECK(r.rc == 2);
    CHECK(r.err.find("cannot open firmware file '/nonexistent/fw.elf'") != std::string::npos);
  }
}

TEST_CASE("--stats writes JSON with total_cycles and core.instret", "[core][cli]") {
  const std::string stats = temp_path("stats.json");
  const auto r = mxemu_run(
      {"--firmware", test::firmware_elf("bad_forever"), "--max-cycles", "3000", "--stats", stats});
  CHECK(r.rc == 4);
  std::ifstream f(stats);
  const auto j = nlohmann::json::parse(f);
  std::filesystem::remove(stats);
  // addi (1) + j (2) per iteration: 3000 cycles are 1000 iterations, 2000 instructions.
  CHECK(j.at("total_cycles").get<std::uint64_t>() == 3000);
  CHECK(j.at("core").at("instret").get<std::uint64_t>() == 2000);
  CHECK(j.at("simulated_time_ps").get<std::uint64_t>() == 3000 * 1000);
}

TEST_CASE("--config sets the timing model; bad configs are refused", "[core][cli]") {
  const std::string cfg = temp_path("core.toml");
  const std::string stats = temp_path("stats2.json");
  std::ofstream(cfg) << "[core]\nclock_hz = 500000000\n[core.timing]\njump_cycles = 5\n";
  auto r = mxemu_run({"--firmware", test::firmware_elf("bad_forever"), "--max-cycles", "6000",
                      "--stats", stats, "--config", cfg});
  CHECK(r.rc == 4);
  {
    std::ifstream f(stats);
    const auto j = nlohmann::json::parse(f);
    // addi (1) + j (5): 1000 iterations in 6000 cycles of 2 ns.
    CHECK(j.at("core").at("instret").get<std::uint64_t>() == 2000);
    CHECK(j.at("simulated_time_ps").get<std::uint64_t>() == 6000 * 2000);
  }
  std::ofstream(cfg) << "[core]\nclock_hz = 1000000000\nram_sise_bytes = 4096\n";
  r = mxemu_run({"--firmware", test::firmware_elf("exit_code"), "--config", cfg});
  CHECK(r.rc == 2);
  CHECK(r.err.find("unknown key 'ram_sise_bytes' in [core]") != std::string::npos);
  std::ofstream(cfg) << "[core]\nram_size_bytes = 4096\n";  // hello's 13 KB no longer fit
  r = mxemu_run({"--firmware", test::firmware_elf("hello"), "--config", cfg});
  CHECK(r.rc == 2);
  CHECK(r.err.find("lies outside the memory of the core") != std::string::npos);
  std::filesystem::remove(cfg);
  std::filesystem::remove(stats);
}

TEST_CASE("the documented defaults config changes nothing", "[core][cli]") {
  const std::string s1 = temp_path("stats_a.json"), s2 = temp_path("stats_b.json");
  const auto a = mxemu_run({"--firmware", test::firmware_elf("sort"), "--stats", s1});
  const auto b = mxemu_run({"--firmware", test::firmware_elf("sort"), "--stats", s2, "--config",
                            "testbench/configs/core/defaults.toml"});
  CHECK(a.rc == 0);
  CHECK(b.rc == 0);
  CHECK(a.out == b.out);
  std::ifstream fa(s1), fb(s2);
  const auto ja = nlohmann::json::parse(fa), jb = nlohmann::json::parse(fb);
  CHECK(ja.at("total_cycles") == jb.at("total_cycles"));
  CHECK(ja.at("core").at("instret") == jb.at("core").at("instret"));
  std::filesystem::remove(s1);
  std::filesystem::remove(s2);
}

TEST_CASE("mxemu run without --firmware runs the pod demo; --demo chip the chip demo",
          "[core][cli]") {
  const auto r = mxemu_run({});
  CHECK(r.rc == 0);
  CHECK(r.out.find("2x2x2 torus") != std::string::npos);
  CHECK(r.out.find("0 of 2097152 GEMM outputs differ") != std::string::npos);
  CHECK(r.out.find("0 all-reduced elements differ between chips") != std::string::npos);
  CHECK(r.out.find("PASS") != std::string::npos);
  const auto c = mxemu_run({"--demo", "chip"});
  CHECK(c.rc == 0);
  CHECK(c.out.find("1024x1024x1024") != std::string::npos);
  CHECK(c.out.find("PASS") != std::string::npos);
  const auto bad = mxemu_run({"--demo", "cluster"});
  CHECK(bad.rc == 2);
  CHECK(bad.err.find("--demo") != std::string::npos);
}
