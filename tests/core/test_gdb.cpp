// A real gdb-multiarch session (batch mode) against `mxemu run --firmware spin.elf --gdb 0`:
// connect, registers (and CSRs), memory read/write, breakpoints set/hit/cleared, continue, stepi,
// next and finish (stepping by breakpoint),
// and a Ctrl-C (SIGINT to gdb -> 0x03 to the stub) that interrupts the running target.
#include <unistd.h>
#include <catch2/catch.hpp>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <thread>

#include "tests/core/fw_path.h"
#include "tests/core/subprocess.h"

using namespace mxemu;

namespace {
bool contains(const std::string& s, const std::string& what) {
  return s.find(what) != std::string::npos;
}
}  // namespace

TEST_CASE("gdb-multiarch drives the control core through the RSP stub", "[core][gdb]") {
  const std::string elf = test::firmware_elf("spin");
  test::Child emu({test::mxemu_binary(), "run", "--firmware", elf, "--gdb", "0"});
  std::smatch m;
  const std::regex listen_re(R"(listening on 127\.0\.0\.1:([0-9]+))");
  REQUIRE(emu.wait_until([&] { return std::regex_search(emu.err(), m, listen_re); }, 20));
  const std::string port = m[1];

  const std::string script =
      (std::filesystem::temp_directory_path() / ("mxemu_gdb_" + std::to_string(getpid()) + ".gdb"))
          .string();
  std::ofstream(script) << "set pagination off\n"
                           "set confirm off\n"
                           "set architecture riscv:rv32\n"
                           "file "
                        << elf << "\n"
                        << "target remote 127.0.0.1:" << port << "\n"
                        << "printf \"PC0=%#x\\n\", $pc\n"
                           "printf \"X5=%#x\\n\", $t0\n"
                           "break main\n"
                           "continue\n"
                           "next\n"
                           "printf \"MSTATUS=%#x\\n\", $mstatus\n"
                           "printf \"MISA=%#x\\n\", $misa\n"
                           "delete\n"
                           "break tick\n"
                           "continue\n"
                           "printf \"ARG=%u\\n\", $a0\n"
                           "set var counter = 1000\n"
                           "printf \"COUNTER=%u\\n\", counter\n"
                           "x/1xw &counter\n"
                           "continue\n"
                           "printf \"ARG=%u\\n\", $a0\n"
                           "printf \"COUNTER=%u\\n\", counter\n"
                           "stepi\n"
                           "printf \"STEPPED=%d\\n\", $pc == tick + 4\n"
                           "finish\n"
                           "printf \"FINISHED=%d\\n\", $pc > main && $pc < tick\n"
                           "delete\n"
                           "echo RUNNING\\n\n"
                           "continue\n"
                           "printf \"COUNTER_GREW=%d\\n\", counter > 1000\n"
                           "set var stop_flag = 1\n"
                           "continue\n";
  test::Child gdb({"gdb-multiarch", "-batch", "-nx", "-x", script});
  // Interrupt once gdb has resumed the target with no breakpoints left (Ctrl-C in a terminal).
  const bool running = gdb.wait_until([&] { return contains(gdb.out(), "RUNNING"); }, 30);
  if (running) {
    // gdb resumes the target right after the echo; on a loaded machine a SIGINT may come before
    // the continue reached the stub and be lost, so it is repeated until gdb reports the stop.
    for (int attempt = 0; attempt < 5; ++attempt) {
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      gdb.signal(SIGINT);
      if (gdb.wait_until([&] { return contains(gdb.out(), "received signal SIGINT"); }, 3)) break;
    }
  }
  const int gdb_rc = gdb.finish(30);
  const int emu_rc = emu.finish(20);
  std::filesystem::remove(script);
  const std::string& out = gdb.out();
  INFO("gdb stdout:\n"
       << out << "\ngdb stderr:\n"
       << gdb.err() << "\nmxemu stderr:\n"
       << emu.err());
  REQUIRE(running);
  CHECK(gdb_rc == 0);
  CHECK(contains(out, "PC0=0x80000000"));  // stopped at the ELF entry before the first insn
  CHECK(contains(out, "X5=0\n"));          // reset value of t0
  CHECK(contains(out, "Breakpoint 1, main ()"));
  CHECK(
      std::regex_search(out, std::regex("\n13\\s+for \\(uint32_t i = 0;")));  // `next` over printf
  CHECK(contains(out, "MSTATUS=0x1800"));  // CSRs through the target description
  CHECK(contains(out, "MISA=0x40001100"));
  CHECK(contains(out, "Breakpoint 2, tick (i=i@entry=0)"));
  CHECK(contains(out, "ARG=0"));
  CHECK(contains(out, "COUNTER=1000"));  // memory write seen by a memory read
  CHECK(std::regex_search(out, std::regex("<counter>:\\s+0x000003e8")));
  CHECK(contains(out, "Breakpoint 2, tick (i=i@entry=1)"));
  CHECK(contains(out, "ARG=1"));
  CHECK(contains(out, "STEPPED=1"));
  CHECK(contains(out, "FINISHED=1"));
  CHECK(contains(out, "Program received signal SIGINT"));
  CHECK(contains(out, "COUNTER_GREW=1"));
  CHECK(contains(out, "exited with code 07"));
  // The firmware ran to its end: console and the firmware's failure reach the mxemu process.
  CHECK(emu_rc == 1);  // "firmware reported failure" (docs/CORE.md, exit status)
  CHECK(emu.out() == "spin start\nspin done\n");
}
