// The self-checking RV32IM firmware tests (firmware/tests/isa, riscv-tests style) run on the
// plain-C++ machine and report through tohost: exit code 0 is a pass, n is failing case n.
#include <catch2/catch.hpp>

#include "model/core/machine.h"
#include "tests/core/fw_path.h"

using namespace mxemu;

TEST_CASE("riscv-tests style ISA tests pass", "[core][isa]") {
  const char* tests[] = {"rv32ui_alu", "rv32ui_mem", "rv32ui_ctrl",
                         "rv32um",     "rv32mi_csr", "rv32mi_trap"};
  for (const char* t : tests) {
    SECTION(t) {
      core::CoreConfig cfg;
      core::Machine m(cfg);
      m.load_file(test::firmware_elf(t));
      const core::RunResult r = m.run_plain(10'000'000);
      INFO(t << ": fault '" << m.hart().fault() << "' pc 0x" << std::hex << m.hart().pc());
      REQUIRE(r.reason == core::StopReason::kExit);
      // riscv-tests convention: failing case n exits with n (tohost = n << 1 | 1).
      CHECK(r.exit_code == 0);
      CHECK(r.instret > 50);
    }
  }
}
