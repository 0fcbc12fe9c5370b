#include "model/core/hart.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <limits>

namespace mxemu::core {

namespace {

constexpr std::uint32_t kMstatusMie = 1u << 3;
constexpr std::uint32_t kMstatusMpie = 1u << 7;
constexpr std::uint32_t kMstatusMpp = 3u << 11;                             // always machine mode
constexpr std::uint32_t kMisaRv32im = (1u << 30) | (1u << 8) | (1u << 12);  // MXL=1, I, M
constexpr std::uint32_t kMieMask = (1u << kIrqSoftware) | (1u << kIrqTimer) | (1u << kIrqExternal);
constexpr std::uint64_t kNever = std::numeric_limits<std::uint64_t>::max();

constexpr std::int32_t imm_i(std::uint32_t insn) {
  return static_cast<std::int32_t>(insn) >> 20;
}
constexpr std::int32_t imm_s(std::uint32_t insn) {
  return ((static_cast<std::int32_t>(insn) >> 25) << 5) |
         static_cast<std::int32_t>((insn >> 7) & 31);
}
constexpr std::int32_t imm_b(std::uint32_t insn) {
  return ((static_cast<std::int32_t>(insn) >> 31) << 12) |
         static_cast<std::int32_t>(((insn >> 7) & 1) << 11 | ((insn >> 25) & 0x3f) << 5 |
                                   ((insn >> 8) & 0xf) << 1);
}
constexpr std::int32_t imm_j(std::uint32_t insn) {
  return ((static_cast<std::int32_t>(insn) >> 31) << 20) |
         static_cast<std::int32_t>((insn & 0xff000) | ((insn >> 20) & 1) << 11 |
                                   ((insn >> 21) & 0x3ff) << 1);
}

inline std::uint32_t ld_le(const std::uint8_t* p, unsigned size) {
  switch (size) {
    case 1:
      return p[0];
    case 2: {
      std::uint16_t v;
      std::memcpy(&v, p, 2);
      return v;
    }
    default: {
      std::uint32_t v;
      std::memcpy(&v, p, 4);
      return v;
    }
  }
}
inline void st_le(std::uint8_t* p, unsigned size, std::uint32_t v) {
  switch (size) {
    case 1:
      p[0] = static_cast<std::uint8_t>(v);
      break;
    case 2: {
      const auto h = static_cast<std::uint16_t>(v);
      std::memcpy(p, &h, 2);
      break;
    }
    default:
      std::memcpy(p, &v, 4);
      break;
  }
}

// RV32M semantics, including the defined results of division by zero and signed overflow.
inline std::uint32_t mul_op(unsigned funct3, std::uint32_t a, std::uint32_t b) {
  const auto sa = static_cast<std::int32_t>(a), sb = static_cast<std::int32_t>(b);
  switch (funct3) {
    case 0:  // MUL
      return a * b;
    case 1:  // MULH
      return static_cast<std::uint32_t>(static_cast<std::uint64_t>(static_cast<std::int64_t>(sa) *
                                                                   static_cast<std::int64_t>(sb)) >>
                                        32);
    case 2:  // MULHSU
      return static_cast<std::uint32_t>(static_cast<std::uint64_t>(static_cast<std::int64_t>(sa) *
                                                                   static_cast<std::int64_t>(b)) >>
                                        32);
    case 3:  // MULHU
      return static_cast<std::uint32_t>((static_cast<std::uint64_t>(a) * b) >> 32);
    case 4:  // DIV
      if (b == 0) return ~0u;
      if (sa == std::numeric_limits<std::int32_t>::min() && sb == -1) return a;
      return static_cast<std::uint32_t>(sa / sb);
    case 5:  // DIVU
      return b == 0 ? ~0u : a / b;
    case 6:  // REM
      if (b == 0) return a;
      if (sa == std::numeric_limits<std::int32_t>::min() && sb == -1) return 0;
      return static_cast<std::uint32_t>(sa % sb);
    default:  // REMU
      return b == 0 ? a : a % b;
  }
}

}  // namespace

std::string trap_cause_name(std::uint32_t mcause) {
  if ((mcause & kCauseInterrupt) != 0) {
    switch (mcause & ~kCauseInterrupt) {
      case kIrqSoftware:
        return "machine software interrupt";
      case kIrqTimer:
        return "machine timer interrupt";
      case kIrqExternal:
        return "machine external interrupt";
      default:
        return fmt::format("interrupt {}", mcause & ~kCauseInterrupt);
    }
  }
  switch (mcause) {
    case kCauseMisalignedFetch:
      return "misaligned instruction address";
    case kCauseFetchAccess:
      return "instruction access fault";
    case kCauseIllegalInstruction:
      return "illegal instruction";
    case kCauseBreakpoint:
      return "breakpoint (ebreak)";
    case kCauseMisalignedLoad:
      return "misaligned load";
    case kCauseLoadAccess:
      return "load access fault";
    case kCauseMisalignedStore:
      return "misaligned store";
    case kCauseStoreAccess:
      return "store access fault";
    case kCauseEcallM:
      return "environment call (ecall)";
    default:
      return fmt::format("exception {}", mcause);
  }
}

Hart::Hart(const CoreConfig& cfg, Bus& bus) : cfg_(cfg), t_(cfg.timing), bus_(bus) {}

void Hart::reset(std::uint32_t pc) {
  x_.fill(0);
  pc_ = pc;
  cycle_ = instret_ = 0;
  mstatus_ = mie_ = mip_ = mtvec_ = mepc_ = mcause_ = mtval_ = mscratch_ = 0;
  mcycle_offset_ = minstret_offset_ = mtime_offset_ = 0;
  mtimecmp_ = kNever;
  irq_check_cycle_ = 0;
  stop_request_ = exited_ = false;
  exit_code_ = 0;
  fault_.clear();
  stall_cycles_ = sleep_cycles_ = traps_ = interrupts_ = 0;
  // The fast path reaches core RAM directly unless an overlay (HTIF words) sits inside it.
  ram_ = nullptr;
  ram_base_ = ram_size_ = hole_lo_ = hole_size_ = 0;
  for (const Region& reg : bus_.regions()) {
    if (reg.contains(MXEMU_RAM_BASE) && reg.device->host_memory() != nullptr) {
      ram_ = reg.device->host_memory();
      ram_base_ = reg.base;
      ram_size_ = reg.size & ~3u;  // whole words: the fetch fast path reads 4 bytes
      ram_latency_ = reg.latency_cycles;
    }
  }
  std::uint32_t lo = ~0u, hi = 0;
  for (const Region& o : bus_.overlays()) {
    if (o.base - ram_base_ < ram_size_ || (o.base + o.size - 1) - ram_base_ < ram_size_) {
      lo = std::min(lo, o.base);
      hi = std::max(hi, o.base + o.size);
    }
  }
  if (lo < hi) hole_lo_ = lo, hole_size_ = hi - lo;
}

std::uint64_t Hart::mtime() const {
  return cycle_ / cfg_.timer_divider + mtime_offset_;
}
void Hart::set_mtime(std::uint64_t v) {
  mtime_offset_ = v - cycle_ / cfg_.timer_divider;
  irq_check_cycle_ = 0;
}
void Hart::set_mtimecmp(std::uint64_t v) {
  mtimecmp_ = v;
  irq_check_cycle_ = 0;
}
void Hart::set_msip(bool v) {
  mip_ = v ? (mip_ | (1u << kIrqSoftware)) : (mip_ & ~(1u << kIrqSoftware));
  irq_check_cycle_ = 0;
}
void Hart::set_external_irq(bool v) {
  mip_ = v ? (mip_ | (1u << kIrqExternal)) : (mip_ & ~(1u << kIrqExternal));
  irq_check_cycle_ = 0;
}

void Hart::request_exit(int code) {
  exited_ = true;
  exit_code_ = code;
  request_stop();
}

void Hart::add_breakpoint(std::uint32_t pc) {
  if (std::find(breakpoints_.begin(), breakpoints_.end(), pc) == breakpoints_.end())
    breakpoints_.push_back(pc);
}
void Hart::remove_breakpoint(std::uint32_t pc) {
  breakpoints_.erase(std::remove(breakpoints_.begin(), breakpoints_.end(), pc), breakpoints_.end());
}

bool Hart::trap(std::uint32_t cause, std::uint32_t tval) {
  const std::uint32_t base = mtvec_ & ~3u;
  if (base == 0) {
    std::string what = trap_cause_name(cause);
    if (cause == kCauseIllegalInstruction)
      what += fmt::format(" (instruction 0x{:08x})", tval);
    else if (cause != kCauseEcallM && cause != kCauseBreakpoint)
      what += fmt::format(" (address 0x{:08x})", tval);
    fault_ =
        fmt::format("{} at pc 0x{:08x}, cycle {}: no trap handler (mtvec is 0)", what, pc_, cycle_);
    return false;
  }
  if ((cause == kCauseFetchAccess || cause == kCauseMisalignedFetch) && pc_ == base) {
    fault_ = fmt::format("trap handler at mtvec 0x{:08x} cannot be fetched ({}), cycle {}", base,
                         trap_cause_name(cause), cycle_);
    return false;
  }
  mepc_ = pc_;
  mcause_ = cause;
  mtval_ = tval;
  mstatus_ = (mstatus_ & kMstatusMie) != 0 ? (mstatus_ | kMstatusMpie) : (mstatus_ & ~kMstatusMpie);
  mstatus_ &= ~kMstatusMie;
  pc_ = ((mtvec_ & 1) != 0 && (cause & kCauseInterrupt) != 0) ? base + 4 * (cause & 0x7fffffff)
                                                              : base;
  cycle_ += t_.trap_cycles;
  ++traps_;
  irq_check_cycle_ = 0;
  return true;
}

void Hart::update_irq_check() {
  if ((mstatus_ & kMstatusMie) == 0) {
    irq_check_cycle_ = kNever;  // re-armed by mstatus writes and mret
    return;
  }
  if ((mip_ & mie_) != 0) {
    irq_check_cycle_ = 0;
    return;
  }
  irq_check_cycle_ = (mie_ & (1u << kIrqTimer)) != 0 ? timer_fire_cycle() : kNever;
}

// The first cycle at which mtime >= mtimecmp, with mtime = cycle / divider + offset (the offset
// is negative after firmware set mtime back): 0 when that holds from cycle 0, kNever if never.
std::uint64_t Hart::timer_fire_cycle() const {
  const __int128 ticks =
      static_cast<__int128>(mtimecmp_) - static_cast<std::int64_t>(mtime_offset_);
  if (ticks <= 0) return 0;
  const __int128 cycle = ticks * cfg_.timer_divider;
  return cycle >= static_cast<__int128>(kNever) ? kNever : static_cast<std::uint64_t>(cycle);
}

bool Hart::check_interrupts() {
  std::uint32_t pending = mip_;
  if (mtime() >= mtimecmp_) pending |= 1u << kIrqTimer;
  const std::uint32_t ready = pending & mie_;
  if ((mstatus_ & kMstatusMie) != 0 && ready != 0) {
    std::uint32_t irq = kIrqTimer;
    if ((ready & (1u << kIrqExternal)) != 0)
      irq = kIrqExternal;
    else if ((ready & (1u << kIrqSoftware)) != 0)
      irq = kIrqSoftware;
    ++interrupts_;
    trap(kCauseInterrupt | irq, 0);  // mtvec != 0 is checked by the caller's trap path
    return true;
  }
  update_irq_check();
  // A pending-but-disabled interrupt must not keep the check armed every instruction.
  if (irq_check_cycle_ <= cycle_) irq_check_cycle_ = kNever;
  return false;
}

bool Hart::read_csr(std::uint32_t csr, std::uint32_t& v) const {
  const std::uint64_t mcycle = cycle_ + mcycle_offset_;
  const std::uint64_t minstret = instret_ + minstret_offset_;
  switch (csr) {
    case kCsrMstatus:
      v = mstatus_ | kMstatusMpp;
      return true;
    case kCsrMisa:
      v = kMisaRv32im;
      return true;
    case kCsrMie:
      v = mie_;
      return true;
    case kCsrMtvec:
      v = mtvec_;
      return true;
    case kCsrMscratch:
      v = mscratch_;
      return true;
    case kCsrMepc:
      v = mepc_;
      return true;
    case kCsrMcause:
      v = mcause_;
      return true;
    case kCsrMtval:
      v = mtval_;
      return true;
    case kCsrMip:
      v = mip_ | (mtime() >= mtimecmp_ ? (1u << kIrqTimer) : 0u);
      return true;
    case kCsrMcycle:
    case kCsrCycle:
      v = static_cast<std::uint32_t>(mcycle);
      return true;
    case kCsrMcycleh:
    case kCsrCycleh:
      v = static_cast<std::uint32_t>(mcycle >> 32);
      return true;
    case kCsrMinstret:
    case kCsrInstret:
      v = static_cast<std::uint32_t>(minstret);
      return true;
    case kCsrMinstreth:
    case kCsrInstreth:
      v = static_cast<std::uint32_t>(minstret >> 32);
      return true;
    case kCsrTime:
      v = static_cast<std::uint32_t>(mtime());
      return true;
    case kCsrTimeh:
      v = static_cast<std::uint32_t>(mtime() >> 32);
      return true;
    case kCsrMvendorid:
    case kCsrMarchid:
    case kCsrMimpid:
      v = 0;
      return true;
    case kCsrMhartid:
      v = cfg_.hart_id;
      return true;
    default:
      return false;
  }
}

// Writes take effect for the next instruction; counters written here are seen as written by the
// next instruction (this instruction's own increment is absorbed into the offset).
bool Hart::write_csr(std::uint32_t csr, std::uint32_t v) {
  switch (csr) {
    case kCsrMstatus:
      mstatus_ = v & (kMstatusMie | kMstatusMpie);
      irq_check_cycle_ = 0;
      return true;
    case kCsrMisa:  // WARL: the ISA is fixed
    case kCsrMip:   // MSIP comes from the timer block, MTIP/MEIP are read-only
      return true;
    case kCsrMie:
      mie_ = v & kMieMask;
      irq_check_cycle_ = 0;
      return true;
    case kCsrMtvec:
      mtvec_ = v & ~2u;  // direct (0) or vectored (1) mode
      return true;
    case kCsrMscratch:
      mscratch_ = v;
      return true;
    case kCsrMepc:
      mepc_ = v & ~3u;
      return true;
    case kCsrMcause:
      mcause_ = v;
      return true;
    case kCsrMtval:
      mtval_ = v;
      return true;
    case kCsrMcycle:
    case kCsrMcycleh: {
      const std::uint64_t cur = cycle_ + mcycle_offset_;
      const std::uint64_t want = csr == kCsrMcycle
                                     ? ((cur & ~0xffffffffull) | v)
                                     : ((cur & 0xffffffffull) | (std::uint64_t{v} << 32));
      mcycle_offset_ = want - cycle_;
      return true;
    }
    case kCsrMinstret:
    case kCsrMinstreth: {
      const std::uint64_t cur = instret_ + minstret_offset_;
      const std::uint64_t want = csr == kCsrMinstret
                                     ? ((cur & ~0xffffffffull) | v)
                                     : ((cur & 0xffffffffull) | (std::uint64_t{v} << 32));
      minstret_offset_ = want - instret_ - 1;  // this CSR instruction's retirement is absorbed
      return true;
    }
    default:
      return false;
  }
}

bool Hart::csr_op(std::uint32_t insn) {
  const std::uint32_t csr = insn >> 20;
  const unsigned rd = (insn >> 7) & 31, rs1 = (insn >> 15) & 31, f3 = (insn >> 12) & 7;
  const std::uint32_t src = (f3 & 4) != 0 ? rs1 : x_[rs1];  // CSRR*I: zero-extended uimm
  std::uint32_t old = 0;
  if (!read_csr(csr, old)) return false;
  const bool writes = (f3 & 3) == 1 || rs1 != 0;  // CSRRS/C with x0/zero do not write
  if (writes) {
    if ((csr >> 10) == 3) return false;  // read-only CSR
    std::uint32_t nv = src;
    if ((f3 & 3) == 2) nv = old | src;
    if ((f3 & 3) == 3) nv = old & ~src;
    if (!write_csr(csr, nv)) return false;
  }
  x_[rd] = old;
  return true;
}

bool Hart::load(std::uint32_t addr, unsigned size, std::uint32_t& value, std::uint32_t& extra) {
  const Region* r = bus_.find(addr);
  if (r == nullptr || addr - r->base > r->size - size) return false;
  if (r->device->needs_sync() && sync_ != nullptr) sync_->sync_before(cycle_);
  const AccessResult res = r->device->read(addr - r->base, size, value, cycle_);
  if (!res.ok) return false;
  extra = r->latency_cycles + res.stall_cycles;
  if (r->device->needs_sync() && sync_ != nullptr) extra += sync_->stall_after(cycle_);
  return true;
}

bool Hart::store(std::uint32_t addr, unsigned size, std::uint32_t value, std::uint32_t& extra) {
  const Region* r = bus_.find(addr);
  if (r == nullptr || addr - r->base > r->size - size) return false;
  if (r->device->needs_sync() && sync_ != nullptr) sync_->sync_before(cycle_);
  const AccessResult res = r->device->write(addr - r->base, size, value, cycle_);
  if (!res.ok) return false;
  extra = r->latency_cycles + res.stall_cycles;
  if (r->device->needs_sync() && sync_ != nullptr) extra += sync_->stall_after(cycle_);
  return true;
}

bool Hart::fetch_slow(std::uint32_t addr, std::uint32_t& insn) {
  const Region* r = bus_.find(addr);
  if (r == nullptr || addr - r->base > r->size - 4) return false;
  if (std::uint8_t* mem = r->device->host_memory()) {
    insn = ld_le(mem + (addr - r->base), 4);
    return true;
  }
  return false;  // code runs from memory only, not from MMIO registers
}

std::uint64_t Hart::timer_wake_cycle() const {
  if ((mie_ & (1u << kIrqTimer)) == 0) return kNever;
  return std::max(cycle_, timer_fire_cycle());
}

void Hart::sleep_until(std::uint64_t cycle) {
  if (cycle > cycle_) {
    sleep_cycles_ += cycle - cycle_;
    cycle_ = cycle;
  }
  irq_check_cycle_ = 0;
}

// WFI: returns true when the hart can continue (an enabled interrupt is pending, or the timer
// will raise one and the hart skips ahead to it); false when only the chip can wake it.
bool Hart::wfi() {
  const std::uint32_t pending = mip_ | (mtime() >= mtimecmp_ ? (1u << kIrqTimer) : 0u);
  if ((pending & mie_) != 0) return true;  // wakes at once (even with mstatus.MIE clear)
  if ((mie_ & (1u << kIrqExternal)) != 0) return false;  // the shell waits for irq or timer
  const std::uint64_t wake = timer_wake_cycle();
  if (wake == kNever) return false;
  sleep_until(wake);
  return true;
}

StopReason Hart::run(std::uint64_t until_cycle, bool single_step) {
  if (!fault_.empty()) return StopReason::kFault;
  if (exited_) return StopReason::kExit;
  return breakpoints_.empty() && !single_step ? run_loop<false>(until_cycle, false)
                                              : run_loop<true>(until_cycle, single_step);
}

template <bool kDebug>
StopReason Hart::run_loop(std::uint64_t until_cycle, bool single_step) {
  std::uint32_t* const x = x_.data();
  bool first = true;
  while (cycle_ < until_cycle || (kDebug && single_step && first)) {
    // Slow checks: interrupts, stop requests. Armed by irq_check_cycle_ so the common case is
    // a single compare.
    if (cycle_ >= irq_check_cycle_) {
      if (stop_request_) {
        stop_request_ = false;
        update_irq_check();
        return exited_ ? StopReason::kExit : StopReason::kStopRequest;
      }
      if (check_interrupts()) {
        if (!fault_.empty()) return StopReason::kFault;
        if (kDebug && single_step) return StopReason::kStep;  // stop at the handler's first insn
        continue;
      }
    }
    if constexpr (kDebug) {
      if (!(first && skip_bp_) &&
          std::find(breakpoints_.begin(), breakpoints_.end(), pc_) != breakpoints_.end()) {
        skip_bp_ = false;
        return StopReason::kBreakpoint;
      }
      if (!first && single_step) return StopReason::kStep;
      first = false;
    }
    skip_bp_ = false;

    const std::uint32_t pc = pc_;
    std::uint32_t insn;
    if (pc - ram_base_ < ram_size_) {  // aligned, and RAM sizes are multiples of 4
      std::memcpy(&insn, ram_ + (pc - ram_base_), 4);
    } else if (!fetch_slow(pc, insn)) {
      if (!trap(kCauseFetchAccess, pc)) return StopReason::kFault;
      continue;
    }

    const unsigned rd = (insn >> 7) & 31;
    const unsigned f3 = (insn >> 12) & 7;
    const std::uint32_t a = x[(insn >> 15) & 31];
    const std::uint32_t b = x[(insn >> 20) & 31];
    const unsigned f7 = insn >> 25;
    std::uint32_t next = pc + 4;
    std::uint32_t cost = t_.alu_cycles;
    bool illegal = false;

    switch (insn & 0x7f) {
      case 0x37:  // LUI
        x[rd] = insn & 0xfffff000u;
        break;
      case 0x17:  // AUIPC
        x[rd] = pc + (insn & 0xfffff000u);
        break;
      case 0x6f: {  // JAL
        const std::uint32_t target = pc + static_cast<std::uint32_t>(imm_j(insn));
        if ((target & 3) != 0) {
          if (!trap(kCauseMisalignedFetch, target)) return StopReason::kFault;
          continue;
        }
        x[rd] = next;
        next = target;
        cost = t_.jump_cycles;
        break;
      }
      case 0x67: {  // JALR
        if (f3 != 0) {
          illegal = true;
          break;
        }
        const std::uint32_t target = (a + static_cast<std::uint32_t>(imm_i(insn))) & ~1u;
        if ((target & 3) != 0) {
          if (!trap(kCauseMisalignedFetch, target)) return StopReason::kFault;
          continue;
        }
        x[rd] = next;
        next = target;
        cost = t_.jump_cycles;
        break;
      }
      case 0x63: {  // BRANCH
        bool take;
        switch (f3) {
          case 0:
            take = a == b;
            break;
          case 1:
            take = a != b;
            break;
          case 4:
            take = static_cast<std::int32_t>(a) < static_cast<std::int32_t>(b);
            break;
          case 5:
            take = static_cast<std::int32_t>(a) >= static_cast<std::int32_t>(b);
            break;
          case 6:
            take = a < b;
            break;
          case 7:
            take = a >= b;
            break;
          default:
            illegal = true;
            take = false;
            break;
        }
        if (illegal) break;
        cost = t_.branch_not_taken_cycles;
        if (take) {
          const std::uint32_t target = pc + static_cast<std::uint32_t>(imm_b(insn));
          if ((target & 3) != 0) {
            if (!trap(kCauseMisalignedFetch, target)) return StopReason::kFault;
            continue;
          }
          next = target;
          cost = t_.branch_taken_cycles;
        }
        break;
      }
      case 0x03: {  // LOAD
        const std::uint32_t addr = a + static_cast<std::uint32_t>(imm_i(insn));
        const unsigned size = 1u << (f3 & 3);
        if (f3 == 3 || f3 > 5) {
          illegal = true;
          break;
        }
        if ((addr & (size - 1)) != 0) {
          if (!trap(kCauseMisalignedLoad, addr)) return StopReason::kFault;
          continue;
        }
        std::uint32_t v;
        std::uint32_t extra;
        if (addr - ram_base_ < ram_size_ && addr - hole_lo_ >= hole_size_) {
          v = ld_le(ram_ + (addr - ram_base_), size);
          extra = ram_latency_;
        } else if (!load(addr, size, v, extra)) {
          if (!fault_.empty()) return StopReason::kFault;
          if (!trap(kCauseLoadAccess, addr)) return StopReason::kFault;
          continue;
        }
        if (f3 == 0) v = static_cast<std::uint32_t>(static_cast<std::int8_t>(v));
        if (f3 == 1) v = static_cast<std::uint32_t>(static_cast<std::int16_t>(v));
        x[rd] = v;
        cost = t_.load_cycles + extra;
        break;
      }
      case 0x23: {  // STORE
        const std::uint32_t addr = a + static_cast<std::uint32_t>(imm_s(insn));
        const unsigned size = 1u << f3;
        if (f3 > 2) {
          illegal = true;
          break;
        }
        if ((addr & (size - 1)) != 0) {
          if (!trap(kCauseMisalignedStore, addr)) return StopReason::kFault;
          continue;
        }
        std::uint32_t extra;
        if (addr - ram_base_ < ram_size_ && addr - hole_lo_ >= hole_size_) {
          st_le(ram_ + (addr - ram_base_), size, b);
          extra = ram_latency_;
        } else if (!store(addr, size, b, extra)) {
          if (!fault_.empty()) return StopReason::kFault;
          if (!trap(kCauseStoreAccess, addr)) return StopReason::kFault;
          continue;
        }
        cost = t_.store_cycles + extra;
        break;
      }
      case 0x13: {  // OP-IMM
        const auto imm = static_cast<std::uint32_t>(imm_i(insn));
        const unsigned sh = (insn >> 20) & 31;
        switch (f3) {
          case 0:
            x[rd] = a + imm;
            break;
          case 1:
            if (f7 != 0)
              illegal = true;
            else
              x[rd] = a << sh;
            break;
          case 2:
            x[rd] = static_cast<std::int32_t>(a) < static_cast<std::int32_t>(imm) ? 1 : 0;
            break;
          case 3:
            x[rd] = a < imm ? 1 : 0;
            break;
          case 4:
            x[rd] = a ^ imm;
            break;
          case 5:
            if (f7 == 0)
              x[rd] = a >> sh;
            else if (f7 == 0x20)
              x[rd] = static_cast<std::uint32_t>(static_cast<std::int32_t>(a) >> sh);
            else
              illegal = true;
            break;
          case 6:
            x[rd] = a | imm;
            break;
          default:
            x[rd] = a & imm;
            break;
        }
        break;
      }
      case 0x33: {  // OP
        if (f7 == 1) {
          x[rd] = mul_op(f3, a, b);
          cost = f3 < 4 ? t_.mul_cycles : t_.div_cycles;
          break;
        }
        if (f7 == 0x20) {
          if (f3 == 0)
            x[rd] = a - b;
          else if (f3 == 5)
            x[rd] = static_cast<std::uint32_t>(static_cast<std::int32_t>(a) >> (b & 31));
          else
            illegal = true;
          break;
        }
        if (f7 != 0) {
          illegal = true;
          break;
        }
        switch (f3) {
          case 0:
            x[rd] = a + b;
            break;
          case 1:
            x[rd] = a << (b & 31);
            break;
          case 2:
            x[rd] = static_cast<std::int32_t>(a) < static_cast<std::int32_t>(b) ? 1 : 0;
            break;
          case 3:
            x[rd] = a < b ? 1 : 0;
            break;
          case 4:
            x[rd] = a ^ b;
            break;
          case 5:
            x[rd] = a >> (b & 31);
            break;
          case 6:
            x[rd] = a | b;
            break;
          default:
            x[rd] = a & b;
            break;
        }
        break;
      }
      case 0x0f:  // MISC-MEM: FENCE, FENCE.I (memory is coherent, the core has no caches)
        if (f3 > 1) illegal = true;
        cost = t_.system_cycles;
        break;
      case 0x73: {  // SYSTEM
        if (f3 == 0) {
          if (insn == 0x00000073) {
            if (!trap(kCauseEcallM, 0)) return StopReason::kFault;
            cycle_ += t_.system_cycles;
            continue;
          }
          if (insn == 0x00100073) {
            if (!trap(kCauseBreakpoint, pc)) return StopReason::kFault;
            cycle_ += t_.system_cycles;
            continue;
          }
          if (insn == 0x30200073) {  // MRET
            next = mepc_;
            mstatus_ = (mstatus_ & kMstatusMpie) != 0 ? (mstatus_ | kMstatusMie)
                                                      : (mstatus_ & ~kMstatusMie);
            mstatus_ |= kMstatusMpie;
            irq_check_cycle_ = 0;
            cost = t_.mret_cycles;
            break;
          }
          if (insn == 0x10500073) {  // WFI
            cost = t_.system_cycles;
            cycle_ += cost;
            ++instret_;
            pc_ = next;
            if (!wfi()) {
              // Only an external interrupt (from the chip) can wake the hart now.
              if ((mie_ & (1u << kIrqExternal)) != 0) return StopReason::kWfi;
              fault_ = fmt::format(
                  "wfi at pc 0x{:08x}, cycle {}: no enabled interrupt can wake the core "
                  "(deadlock)",
                  pc, cycle_ - cost);
              return StopReason::kFault;
            }
            continue;
          }
          illegal = true;
          break;
        }
        if (f3 == 4 || !csr_op(insn)) {
          illegal = true;
          break;
        }
        cost = t_.csr_cycles;
        break;
      }
      default:
        illegal = true;
        break;
    }
    if (illegal) {
      x[0] = 0;
      if (!trap(kCauseIllegalInstruction, insn)) return StopReason::kFault;
      continue;
    }
    x[0] = 0;
    pc_ = next;
    cycle_ += cost;
    ++instret_;
  }
  if (kDebug && single_step) return StopReason::kStep;
  return StopReason::kBudget;
}

template StopReason Hart::run_loop<false>(std::uint64_t, bool);
template StopReason Hart::run_loop<true>(std::uint64_t, bool);

}  // namespace mxemu::core
