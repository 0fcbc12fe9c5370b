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
};

// Latencies, in core cycles, of the targets of the platform memory map.
struct PlatformLatency {
  std::uint32_t ram_cycles = 1;
  std::uint32_t launch_cycles = 1;
  std::uint32_t console_cycles = 4;
  std::uint32_t sysreg_cycles = 4;
  std::uint32_t timer_cycles = 4;
  std::uint32_t htif_cycles = 1;
};

struct CoreConfig {
  CoreTiming timing;
  PlatformLatency latency;
  std::uint64_t clock_hz = 1'000'000'000;  // core clock; SystemC period = 1e12 / clock_hz ps
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
};

// Reads a [core] table (and [core.timing], [core.latency]) of a TOML config file into `cfg`.
// Unknown keys and wrong types are bad input (exit 2). Missing keys keep their defaults.
void load_core_config(const std::string& path, CoreConfig& cfg);

}  // namespace mxemu::core
