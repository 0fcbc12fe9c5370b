// One RV32IM hart in machine mode: plain-C++ architectural state and instruction semantics
// (spike style: decode, then a few lines of semantics per instruction). No SystemC here; the
// SystemC shell (core_module.h) decides how far the hart may run ahead of simulated time.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "model/core/bus.h"
#include "model/core/config.h"

namespace mxemu::core {

// Machine-mode CSR numbers.
enum Csr : std::uint32_t {
  kCsrMstatus = 0x300,
  kCsrMisa = 0x301,
  kCsrMie = 0x304,
  kCsrMtvec = 0x305,
  kCsrMscratch = 0x340,
  kCsrMepc = 0x341,
  kCsrMcause = 0x342,
  kCsrMtval = 0x343,
  kCsrMip = 0x344,
  kCsrPmpcfg0 = 0x3A0,   // pmpcfg0..3: four 8-bit entry configurations each (RV32)
  kCsrPmpaddr0 = 0x3B0,  // pmpaddr0..15: address bits 33:2
  kCsrTselect = 0x7A0,   // debug triggers (Sdtrig)
  kCsrTdata1 = 0x7A1,
  kCsrTdata2 = 0x7A2,
  kCsrTdata3 = 0x7A3,
  kCsrTinfo = 0x7A4,
  kCsrTcontrol = 0x7A5,
  kCsrMcycle = 0xB00,
  kCsrMinstret = 0xB02,
  kCsrMcycleh = 0xB80,
  kCsrMinstreth = 0xB82,
  kCsrCycle = 0xC00,
  kCsrTime = 0xC01,
  kCsrInstret = 0xC02,
  kCsrCycleh = 0xC80,
  kCsrTimeh = 0xC81,
  kCsrInstreth = 0xC82,
  kCsrMvendorid = 0xF11,
  kCsrMarchid = 0xF12,
  kCsrMimpid = 0xF13,
  kCsrMhartid = 0xF14,
};

// mcause exception codes (interrupts have bit 31 set).
enum TrapCause : std::uint32_t {
  kCauseMisalignedFetch = 0,
  kCauseFetchAccess = 1,
  kCauseIllegalInstruction = 2,
  kCauseBreakpoint = 3,
  kCauseMisalignedLoad = 4,
  kCauseLoadAccess = 5,
  kCauseMisalignedStore = 6,
  kCauseStoreAccess = 7,
  kCauseEcallM = 11,
  kCauseInterrupt = 0x80000000u,
  kIrqSoftware = 3,
  kIrqTimer = 7,
  kIrqExternal = 11,
};

std::string trap_cause_name(std::uint32_t mcause);

// Why Hart::run returned.
enum class StopReason {
  kBudget,      // reached the cycle it was allowed to run to
  kStep,        // executed the requested single instruction (debug step)
  kBreakpoint,  // pc reached a debugger breakpoint (the instruction there has not executed)
  kExit,        // firmware ended (HTIF tohost); see exit_code()
  kFault,       // a trap with no handler, or an unrecoverable fault; see fault()
  kWfi,  // WFI with nothing that the hart itself can wake it with (waits for an external irq)
  kStopRequest,  // a device or the shell asked the hart to stop (request_stop)
};

// Called by the hart around accesses to devices with needs_sync() (the SystemC shell implements
// it). sync_before brings simulated time to `cycle`; stall_after returns how many cycles the
// access took in simulated time beyond that point (the device may have waited).
class SyncHook {
 public:
  virtual ~SyncHook() = default;
  virtual void sync_before(std::uint64_t cycle) = 0;
  virtual std::uint64_t stall_after(std::uint64_t cycle) = 0;
};

class Hart {
 public:
  Hart(const CoreConfig& cfg, Bus& bus);

  void reset(std::uint32_t pc);

  // Runs until the cycle counter reaches `until_cycle` (or past it by the last instruction's
  // cycles) or something stops the hart. With single_step, executes exactly one instruction.
  StopReason run(std::uint64_t until_cycle, bool single_step = false);

  // Architectural state.
  std::uint32_t pc() const { return pc_; }
  void set_pc(std::uint32_t pc) { pc_ = pc; }
  std::uint32_t reg(unsigned i) const { return x_[i & 31]; }
  void set_reg(unsigned i, std::uint32_t v) {
    if ((i & 31) != 0) x_[i & 31] = v;
  }
  std::uint64_t cycle() const { return cycle_; }
  std::uint64_t instret() const { return instret_; }
  // Reads a CSR as a CSR instruction would (false: no such CSR).
  bool read_csr(std::uint32_t csr, std::uint32_t& value) const;
  // Writes a CSR for the debugger as a CSRRW instruction would, with the same WARL rules and
  // side effects on the hart (mie, mstatus, triggers, PMP), but no instruction retires: a write
  // to minstret[h] reads back as written. False for an unknown or read-only CSR (number bits
  // 11:10 = 3: cycle, time, instret, mvendorid ... mhartid); nothing changes then.
  bool debug_write_csr(std::uint32_t csr, std::uint32_t value);

  // Timer (CLINT) state lives with the hart so the interrupt check stays on the hot path.
  std::uint64_t mtime() const;
  void set_mtime(std::uint64_t v);
  std::uint64_t mtimecmp() const { return mtimecmp_; }
  void set_mtimecmp(std::uint64_t v);
  void set_msip(bool v);
  bool msip() const { return (mip_ & (1u << kIrqSoftware)) != 0; }
  // WFI support for the shell: the cycle at which the timer will wake the hart (~0: never), and
  // sleeping until a cycle (counted as sleep cycles).
  std::uint64_t timer_wake_cycle() const;
  void sleep_until(std::uint64_t cycle);
  // The machine external interrupt line (driven by the chip).
  void set_external_irq(bool v);

  // Stops the hart after the current instruction (devices: HTIF exit; shell: debugger).
  void request_exit(int code);
  void request_stop() { stop_request_ = true, irq_check_cycle_ = 0; }
  int exit_code() const { return exit_code_; }
  const std::string& fault() const { return fault_; }

  // Debugger breakpoints (checked only while the list is non-empty).
  void add_breakpoint(std::uint32_t pc);
  void remove_breakpoint(std::uint32_t pc);
  void clear_breakpoints() { breakpoints_.clear(); }
  // The next run() starts without checking a breakpoint at the current pc (resume over it).
  void skip_breakpoint_once() { skip_bp_ = true; }

  void set_sync_hook(SyncHook* hook) { sync_ = hook; }

  // Statistics.
  std::uint64_t stall_cycles() const { return stall_cycles_; }
  std::uint64_t sleep_cycles() const { return sleep_cycles_; }
  std::uint64_t traps() const { return traps_; }
  std::uint64_t interrupts() const { return interrupts_; }

 private:
  // One mcontrol (type 2) trigger of the Sdtrig trigger module: tdata1 as it reads (type 15 while
  // disabled) and tdata2, the compare address.
  struct Trigger {
    std::uint32_t tdata1 = 0;
    std::uint32_t tdata2 = 0;
  };

  // kDebug: the checked loop (debugger breakpoints, single step, execute triggers); the other
  // loop is the fast one and has none of those checks.
  template <bool kDebug>
  StopReason run_loop(std::uint64_t until_cycle, bool single_step);
  // Handles a trap: enters the handler, or records a fault when there is none. Returns false
  // when the hart must stop (fault). `what_name`, when given, replaces the cause's name in the
  // fault message (trigger breakpoints).
  bool trap(std::uint32_t cause, std::uint32_t tval, const char* what_name = nullptr);
  bool check_interrupts();  // true when an interrupt was taken
  void update_irq_check();
  std::uint64_t timer_fire_cycle() const;
  bool csr_op(std::uint32_t insn);  // false: illegal instruction
  bool write_csr(std::uint32_t csr, std::uint32_t v);
  bool wfi();

  // Naturally aligned accesses through the bus (false: access fault).
  bool load(std::uint32_t addr, unsigned size, std::uint32_t& value, std::uint32_t& extra);
  bool store(std::uint32_t addr, unsigned size, std::uint32_t value, std::uint32_t& extra);
  // Every load/store the fast RAM path does not take: load/store triggers, misaligned accesses
  // (performed, or trapped with CoreConfig::misaligned_trap), PMP, then the bus. False: the
  // instruction traps with `cause` and `tval`.
  bool load_slow(std::uint32_t addr, unsigned size, std::uint32_t& value, std::uint32_t& extra,
                 std::uint32_t& cause, std::uint32_t& tval);
  bool store_slow(std::uint32_t addr, unsigned size, std::uint32_t value, std::uint32_t& extra,
                  std::uint32_t& cause, std::uint32_t& tval);
  // Maps each byte of a misaligned access to the plain memory behind it (misaligned accesses to
  // MMIO devices, overlays or unmapped bytes are access faults). False, with `bad` = the first
  // byte that is not plain memory. `extra` = one access latency per aligned word touched.
  bool resolve_misaligned(std::uint32_t addr, unsigned size, std::array<std::uint8_t*, 4>& bytes,
                          std::uint32_t& extra, std::uint32_t& bad);
  bool fetch_slow(std::uint32_t addr, std::uint32_t& insn);

  // Marks the armed triggers of one kind (tdata1 execute/store/load bit) that match any byte of
  // [addr, addr + size) as hit; true when one did (the instruction takes a breakpoint trap).
  bool trigger_match(std::uint32_t kind, std::uint32_t addr, unsigned size);
  // Whether M-mode may access [addr, addr + size) with `perm` (pmpcfg R/W/X bit): the
  // lowest-numbered matching PMP entry decides; only a locked one can refuse M-mode.
  bool pmp_allows(std::uint32_t addr, unsigned size, std::uint32_t perm) const;
  // Re-derives which checks the fast paths must leave to the slow ones after trigger, tcontrol or
  // PMP state changed; asks run() to switch loops when the execute-trigger state flipped.
  void update_checks();

  const CoreConfig& cfg_;
  const CoreTiming t_;
  Bus& bus_;
  SyncHook* sync_ = nullptr;

  std::array<std::uint32_t, 32> x_{};
  std::uint32_t pc_ = 0;
  std::uint64_t cycle_ = 0;
  std::uint64_t instret_ = 0;

  // Fast path into core RAM, with a hole for overlays (HTIF words) that must take the slow path.
  // fetch_size_ / data_size_ are the windows the fast fetch and load/store paths use: ram_size_,
  // or 0 while triggers or PMP need every access checked (update_checks).
  std::uint8_t* ram_ = nullptr;
  std::uint32_t ram_base_ = 0, ram_size_ = 0, ram_latency_ = 0;
  std::uint32_t fetch_size_ = 0, data_size_ = 0;
  std::uint32_t hole_lo_ = 0, hole_size_ = 0;

  // CSRs.
  std::uint32_t mstatus_ = 0;  // MIE (bit 3), MPIE (bit 7); MPP reads as 3 (machine only)
  std::uint32_t mie_ = 0, mip_ = 0, mtvec_ = 0, mepc_ = 0, mcause_ = 0, mtval_ = 0, mscratch_ = 0;
  std::uint64_t mcycle_offset_ = 0, minstret_offset_ = 0;

  // Debug triggers (tselect, tdata1/2, tcontrol) and physical memory protection (pmpcfg0..3,
  // pmpaddr0..15): docs/CORE.md "Debug triggers" and "PMP".
  static constexpr unsigned kTriggers = 4;
  static constexpr unsigned kPmpEntries = 16;
  std::array<Trigger, kTriggers> trig_{};
  std::uint32_t tselect_ = 0, tcontrol_ = 0;
  std::array<std::uint8_t, kPmpEntries> pmpcfg_{};
  std::array<std::uint32_t, kPmpEntries> pmpaddr_{};
  // Derived by update_checks(): what is armed right now.
  bool exec_triggers_ = false;  // an execute trigger can fire: run() uses the checked loop
  bool data_triggers_ = false;  // a load or store trigger can fire
  bool pmp_active_ = false;     // a locked PMP entry is on: every access is checked
  bool loop_switch_ = false;    // exec_triggers_ changed: run() must pick its loop again

  // Timer.
  std::uint64_t mtimecmp_ = ~std::uint64_t{0};
  std::uint64_t mtime_offset_ = 0;  // mtime = cycle / divider + offset (mtime writes set it)
  // Next cycle at which an interrupt might need to be taken (0: check at once).
  std::uint64_t irq_check_cycle_ = 0;

  bool stop_request_ = false;
  bool exited_ = false;
  int exit_code_ = 0;
  std::string fault_;

  std::vector<std::uint32_t> breakpoints_;
  bool skip_bp_ = false;

  std::uint64_t stall_cycles_ = 0, sleep_cycles_ = 0, traps_ = 0, interrupts_ = 0;
};

}  // namespace mxemu::core
