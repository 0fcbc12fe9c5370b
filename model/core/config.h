// Configuration of the control core and its platform: every timing number is a named field.
#pragma once

#include <cstdint>
#include <string>

#include "firmware/include/mxemu/platform.h"

namespace mxemu::core {

// Cycles per instruction class (the timing model, docs/CORE.md). Loads and stores add the latency
// of the target they reach (Bus region latency) and any stall the target reports.
struct CoreTiming {
  std::uint32_t alu_cycles = 1;               // OP, OP-IMM, LUI, AUIPC
  std::uint32_t branch_not_taken_cycles = 1;  // conditional branch, falls through
  std::uint32_t branch_taken_cycles = 3;      // conditional branch taken (pipeline refill)
  std::uint32_t jump_cycles = 2;              // JAL, JALR
  std::uint32_t mul_cycles = 3;               // MUL, MULH, MULHSU, MULHU
  std::uint32_t div_cycles = 34;              // DIV, DIVU, REM, REMU (iterative divider)
  std::uint32_t load_cycles = 1;              // plus the target's latency
  std::uint32_t store_cycles = 1;             // plus the target's latency
  std::uint32_t csr_cycles = 1;               // CSR instructions
  std::uint32_t system_cycles = 1;            // ECALL/EBREAK issue, FENCE, FENCE.I, WFI issue
  std::uint32_t trap_cycles = 3;              // trap entry (exception or interrupt)
  std::uint32_t mret_cycles = 3;              // MRET

  template <typename V>
  void visit(V& v) {
    constexpr std::uint32_t kMax = 10000;  // cycles of one instruction class
    v.field("alu_cycles", alu_cycles, 1, kMax, "OP, OP-IMM, LUI, AUIPC");
    v.field("branch_not_taken_cycles", branch_not_taken_cycles, 1, kMax, "branch falls through");
    v.field("branch_taken_cycles", branch_taken_cycles, 1, kMax, "branch taken");
    v.field("jump_cycles", jump_cycles, 1, kMax, "JAL, JALR");
    v.field("mul_cycles", mul_cycles, 1, kMax, "MUL, MULH, MULHSU, MULHU");
    v.field("div_cycles", div_cycles, 1, kMax, "DIV, DIVU, REM, REMU");
    v.field("load_cycles", load_cycles, 1, kMax, "plus the target's latency");
    v.field("store_cycles", store_cycles, 1, kMax, "plus the target's latency");
    v.field("csr_cycles", csr_cycles, 1, kMax, "CSR instructions");
    v.field("system_cycles", system_cycles, 1, kMax, "ECALL/EBREAK issue, FENCE, FENCE.I, WFI");
    v.field("trap_cycles", trap_cycles, 1, kMax, "trap entry");
    v.field("mret_cycles", mret_cycles, 1, kMax, "MRET");
  }
};

// Latencies, in core cycles, of the targets of the platform memory map.
struct PlatformLatency {
  std::uint32_t ram_cycles = 1;
  std::uint32_t launch_cycles = 1;
  std::uint32_t console_cycles = 4;
  std::uint32_t sysreg_cycles = 4;
  std::uint32_t timer_cycles = 4;
  std::uint32_t htif_cycles = 1;

  template <typename V>
  void visit(V& v) {
    constexpr std::uint32_t kMax = 100000;  // cycles of one access
    v.field("ram_cycles", ram_cycles, 0, kMax, "core RAM");
    v.field("launch_cycles", launch_cycles, 0, kMax, "launch block");
    v.field("console_cycles", console_cycles, 0, kMax, "console");
    v.field("sysreg_cycles", sysreg_cycles, 0, kMax, "system registers");
    v.field("timer_cycles", timer_cycles, 0, kMax, "timer (CLINT)");
    v.field("htif_cycles", htif_cycles, 0, kMax, "tohost / fromhost");
  }
};

struct CoreConfig {
  CoreTiming timing;
  PlatformLatency latency;
  // The core's clock: the chip clock ([chip] clock_hz; see model/common/clock.h). `[core]
  // clock_hz` is still read, as another name for it, from configs written for the core alone.
  std::uint64_t clock_hz = 1'000'000'000;
  std::uint32_t ram_size_bytes = MXEMU_RAM_DEFAULT_SIZE;
  std::uint32_t timer_divider = 1;     // mtime = cycles / timer_divider
  std::uint32_t chip_id = 0x4d580001;  // "MX" + 0001: the mx1 chip
  std::uint32_t hart_id = 0;
  // Temporal decoupling: the core runs this many cycles ahead of SystemC time before syncing.
  std::uint64_t quantum_cycles = 100'000;
  // Cycle-by-cycle (lock-step) mode: sync with SystemC time after every instruction. Gives the
  // same architectural results and cycle counts as the decoupled mode, only slower.
  bool lockstep = false;
  // Misaligned loads and stores (TOML `[core] misaligned`): false (default) performs them as
  // riscv-tests rv32ui-p-ma_data expects, one access per aligned word touched; true traps them
  // instead (cause 4 / 6, mtval = the address). docs/CORE.md "Misaligned accesses".
  bool misaligned_trap = false;

  // The [core] table (with [core.timing] and [core.latency]) for the config reader and writer.
  template <typename V>
  void visit(V& v) {
    v.table("core", "The control core (RV32IM) and its platform (docs/CORE.md)", [&] {
      v.alias("clock_hz", clock_hz, 1'000'000, 10'000'000'000ull);
      v.field("ram_size_bytes", ram_size_bytes, 4096, 0x40000000u,
              "core RAM at 0x8000_0000 (a multiple of 4)");
      v.check(ram_size_bytes % 4 == 0, "ram_size_bytes",
              "= " + std::to_string(ram_size_bytes) + " is not a multiple of 4");
      v.field("timer_divider", timer_divider, 1, 1u << 20, "mtime = cycles / timer_divider");
      v.field("chip_id", chip_id, 0, 0xFFFFFFFFu, "sysreg CHIP_ID (the chip model's id)");
      v.field("hart_id", hart_id, 0, 0xFFFFFFFFu, "mhartid");
      v.field("quantum_cycles", quantum_cycles, 1, 100'000'000,
              "temporal decoupling: cycles run ahead of SystemC time");
      v.field("lockstep", lockstep, "true: sync with SystemC time after every instruction");
      v.choice("misaligned", misaligned_trap, {{"emulate", false}, {"trap", true}},
               "misaligned loads/stores: complete them, or trap (cause 4/6, mtval = address)");
      v.table("timing", "Cycles per instruction class", [&] { timing.visit(v); });
      v.table("latency", "Cycles per access, by target", [&] { latency.visit(v); });
    });
  }
};

}  // namespace mxemu::core
