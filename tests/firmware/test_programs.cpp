// C firmware (firmware/tests/c) run through the SystemC runner: console text compared with text
// computed here independently (closed forms, a bitwise CRC, std::sort), and exit codes.
#include <fmt/format.h>
#include <catch2/catch.hpp>
#include <systemc>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "model/core/runner.h"
#include "tests/core/fw_path.h"

using namespace mxemu;

namespace {

// Runs firmware `name` in a fresh SystemC context (NOTES.md: one context per elaboration).
core::RunReport run(const std::string& name, bool lockstep = false) {
  core::RunOptions o;
  o.firmware = test::firmware_elf(name);
  o.config.lockstep = lockstep;
  o.max_cycles = 200'000'000;
  core::RunReport r = core::run_firmware(o);
  sc_core::sc_curr_simcontext = new sc_core::sc_simcontext();
  sc_core::sc_default_global_context = sc_core::sc_curr_simcontext;
  return r;
}

// CRC-32 (IEEE, reflected) bit by bit: no table, unlike the firmware.
std::uint32_t crc32_bitwise(const std::vector<std::uint8_t>& data) {
  std::uint32_t c = 0xffffffffu;
  for (std::uint8_t b : data) {
    c ^= b;
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
  }
  return ~c;
}

}  // namespace

TEST_CASE("printf reaches the console", "[firmware]") {
  const auto r = run("hello");
  CHECK(r.exit_code == 0);
  CHECK(r.console ==
        "hello from the mxemu control core\n"
        "dec 42 -17 4000000000\n"
        "hex beef 1234ABCD 0xff\n"
        "str [abc] [   ab] [ab   ] char Z\n"
        "long long -1234567890123\n"
        "chip 0x4d580001 ram 1048576 bytes at 0x80000000\n");
}

TEST_CASE("malloc, realloc and free work on the heap", "[firmware]") {
  unsigned long total = 0, regrown = 0;
  for (int i = 0; i < 64; ++i) total += 16ul * (i + 1);
  for (int i = 1; i < 64; i += 2) regrown += 2ul * 16ul * (i + 1);
  const auto r = run("malloc_test");
  CHECK(r.exit_code == 0);
  CHECK(r.console ==
        fmt::format("malloc ok: 64 blocks, {} bytes, regrown {} bytes, 64 KiB block ok\n"
                    "4 MiB block refused, errno ENOMEM, guard intact\n",
                    total, regrown));
}

TEST_CASE("CRC-32 matches the check value and a bitwise CRC", "[firmware]") {
  std::vector<std::uint8_t> buf(4096);
  for (unsigned i = 0; i < buf.size(); ++i) buf[i] = static_cast<std::uint8_t>(7 * i + 3);
  const auto r = run("crc");
  CHECK(r.exit_code == 0);
  // 0xCBF43926: the published check value of CRC-32/ISO-HDLC.
  CHECK(r.console == fmt::format("crc32(\"123456789\") = cbf43926\ncrc32(buf[4096]) = {:08x}\n",
                                 crc32_bitwise(buf)));
}

TEST_CASE("qsort and insertion sort agree with std::sort", "[firmware]") {
  std::vector<std::uint32_t> v(1000);
  std::uint32_t x = 1;
  for (auto& e : v) {
    x = 1103515245u * x + 12345u;
    e = x >> 8;
  }
  std::sort(v.begin(), v.end());
  std::uint32_t hash = 0;
  for (std::uint32_t e : v) hash = hash * 31u + e;
  const auto r = run("sort");
  CHECK(r.exit_code == 0);
  CHECK(r.console == fmt::format("sorted 1000: min {} median {} max {} hash {:08x}\n", v[0], v[500],
                                 v[999], hash));
}

TEST_CASE("timer interrupts wake WFI", "[firmware]") {
  const auto r = run("timer_irq");
  CHECK(r.exit_code == 0);
  CHECK(r.console == "timer ticks 5\n");
  CHECK(r.interrupts == 5);
  CHECK(r.sleep_cycles > 0);
  // Five periods of 1000 timer ticks (1 tick per cycle by default) have passed.
  CHECK(r.cycles >= 5000);
}

TEST_CASE("exit() code reaches the host", "[firmware]") {
  const auto r = run("exit_code");
  CHECK(r.exit_code == 42);
  CHECK(r.console == "exiting with 42\n");
}

TEST_CASE("decoupled and cycle-by-cycle modes agree exactly", "[firmware][lockstep]") {
  for (const char* fw : {"timer_irq", "crc", "core_mix_short"}) {
    SECTION(fw) {
      const auto fast = run(fw, false);
      const auto slow = run(fw, true);
      CHECK(fast.exit_code == slow.exit_code);
      CHECK(fast.console == slow.console);
      CHECK(fast.cycles == slow.cycles);
      CHECK(fast.instret == slow.instret);
      CHECK(fast.sleep_cycles == slow.sleep_cycles);
      CHECK(fast.interrupts == slow.interrupts);
      // SystemC time follows the core's cycles at 1 GHz in both modes.
      CHECK(fast.sim_time_ps == fast.cycles * 1000);
      CHECK(slow.sim_time_ps == slow.cycles * 1000);
    }
  }
}
