#include "model/core/hart.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
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

// Debug triggers: the RISC-V debug specification 1.0 (Sdtrig), mcontrol = tdata1 type 2. Only
// address triggers with action 0 (breakpoint exception), timing "before", any access size, no
// chaining, M-mode only; match 0 (equal), 2 (>=), 3 (<), 4 (mask low half), 5 (mask high half).
constexpr unsigned kTdata1TypeShift = 28;
constexpr std::uint32_t kTypeMcontrol = 2;
constexpr std::uint32_t kTypeDisabled = 15;
constexpr std::uint32_t kMcHit = 1u << 20;
constexpr unsigned kMcMatchShift = 7;
constexpr std::uint32_t kMcM = 1u << 6;
constexpr std::uint32_t kMcExecute = 1u << 2;
constexpr std::uint32_t kMcStore = 1u << 1;
constexpr std::uint32_t kMcLoad = 1u << 0;
constexpr std::uint32_t kTdata1Disabled = kTypeDisabled << kTdata1TypeShift;
constexpr std::uint32_t kTcontrolMte = 1u << 3;   // M-mode triggers enabled
constexpr std::uint32_t kTcontrolMpte = 1u << 7;  // mte before the last trap
// tinfo: version 1 (Sdtrig 1.0) in bits 31:24; types 2 (mcontrol) and 15 (disabled).
constexpr std::uint32_t kTinfo = (1u << 24) | (1u << kTypeDisabled) | (1u << kTypeMcontrol);

// The WARL view of a tdata1 write: any type but mcontrol disables the trigger; dmode, maskmax,
// select, timing, sizelo, action, chain and the S/U bits are hard-wired to 0; an unsupported
// match value becomes 0 (equal).
constexpr std::uint32_t legal_tdata1(std::uint32_t v) {
  if ((v >> kTdata1TypeShift) != kTypeMcontrol) return kTdata1Disabled;
  std::uint32_t match = (v >> kMcMatchShift) & 0xf;
  if (match == 1 || match > 5) match = 0;
  return (kTypeMcontrol << kTdata1TypeShift) | (match << kMcMatchShift) |
         (v & (kMcHit | kMcM | kMcExecute | kMcStore | kMcLoad));
}

constexpr bool mcontrol_matches(std::uint32_t tdata1, std::uint32_t tdata2, std::uint32_t addr) {
  const std::uint32_t mask = tdata2 >> 16;
  switch ((tdata1 >> kMcMatchShift) & 0xf) {
    case 2:
      return addr >= tdata2;
    case 3:
      return addr < tdata2;
    case 4:
      return (addr & mask) == (tdata2 & mask);
    case 5:
      return ((addr >> 16) & mask) == (tdata2 & mask);
    default:
      return addr == tdata2;
  }
}

// PMP (privileged specification 1.12, section 3.7). Granularity 2^(G+2) bytes with G = 2
// (16 B): NA4 is not selectable, NAPOT reads pmpaddr bit 0 as 1, OFF/TOR read bits 1:0 as 0.
constexpr std::uint8_t kPmpR = 1u << 0;
constexpr std::uint8_t kPmpW = 1u << 1;
constexpr std::uint8_t kPmpX = 1u << 2;
constexpr unsigned kPmpAShift = 3;
constexpr std::uint8_t kPmpL = 1u << 7;
constexpr unsigned kPmpOff = 0, kPmpTor = 1, kPmpNa4 = 2, kPmpNapot = 3;
constexpr unsigned kPmpG = 2;
constexpr std::uint32_t kPmpGMask = (1u << kPmpG) - 1;            // read as 0 in OFF/TOR
constexpr std::uint32_t kPmpNapotOnes = (1u << (kPmpG - 1)) - 1;  // read as 1 in NAPOT

constexpr unsigned pmp_mode(std::uint8_t cfg) {
  return (cfg >> kPmpAShift) & 3;
}

// The WARL view of one pmpcfg byte: bits 6:5 are 0, R=0/W=1 (reserved) loses W, NA4 becomes
// NAPOT (G >= 1).
constexpr std::uint8_t legal_pmpcfg(std::uint8_t v) {
  v &= static_cast<std::uint8_t>(~0x60u);
  if ((v & kPmpR) == 0) v &= static_cast<std::uint8_t>(~kPmpW);
  if (pmp_mode(v) == kPmpNa4) v |= static_cast<std::uint8_t>(kPmpNapot << kPmpAShift);
  return v;
}

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
      return "breakpoint (ebreak)";  // trigger breakpoints name their trigger instead
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
  trig_.fill(Trigger{kTdata1Disabled, 0});
  tselect_ = tcontrol_ = 0;
  pmpcfg_.fill(0);
  pmpaddr_.fill(0);
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
  exec_triggers_ = false;
  update_checks();
  loop_switch_ = false;
}

void Hart::update_checks() {
  bool exec = false, data = false;
  if ((tcontrol_ & kTcontrolMte) != 0) {
    for (const Trigger& t : trig_) {
      if ((t.tdata1 >> kTdata1TypeShift) != kTypeMcontrol || (t.tdata1 & kMcM) == 0) continue;
      exec = exec || (t.tdata1 & kMcExecute) != 0;
      data = data || (t.tdata1 & (kMcLoad | kMcStore)) != 0;
    }
  }
  bool pmp = false;
  for (const std::uint8_t cfg : pmpcfg_)
    pmp = pmp || ((cfg & kPmpL) != 0 && pmp_mode(cfg) != kPmpOff);
  if (exec != exec_triggers_) {
    loop_switch_ = true;
    irq_check_cycle_ = 0;  // the loop's slow check notices the switch before the next insn
  }
  exec_triggers_ = exec;
  data_triggers_ = data;
  pmp_active_ = pmp;
  fetch_size_ = pmp ? 0 : ram_size_;
  data_size_ = pmp || data ? 0 : ram_size_;
}

bool Hart::trigger_match(std::uint32_t kind, std::uint32_t addr, unsigned size) {
  bool any = false;
  for (Trigger& t : trig_) {
    if ((t.tdata1 >> kTdata1TypeShift) != kTypeMcontrol || (t.tdata1 & kMcM) == 0 ||
        (t.tdata1 & kind) == 0)
      continue;
    // Every byte of the access is a compare value (the debug specification requires the lowest
    // and recommends all of them).
    for (unsigned i = 0; i < size; ++i) {
      if (mcontrol_matches(t.tdata1, t.tdata2, addr + i)) {
        t.tdata1 |= kMcHit;
        any = true;
        break;
      }
    }
  }
  return any;
}

bool Hart::pmp_allows(std::uint32_t addr, unsigned size, std::uint32_t perm) const {
  const std::uint64_t lo_a = addr, hi_a = lo_a + size;  // the access is [lo_a, hi_a)
  for (unsigned i = 0; i < kPmpEntries; ++i) {
    const std::uint8_t cfg = pmpcfg_[i];
    std::uint64_t lo = 0, hi = 0;
    switch (pmp_mode(cfg)) {
      case kPmpOff:
        continue;
      case kPmpTor:
        lo = i == 0 ? 0 : std::uint64_t{pmpaddr_[i - 1] & ~kPmpGMask} << 2;
        hi = std::uint64_t{pmpaddr_[i] & ~kPmpGMask} << 2;
        break;
      default: {  // NAPOT (NA4 is not selectable, legal_pmpcfg): k trailing ones, 2^(k+3) bytes
        const std::uint32_t v = pmpaddr_[i] | kPmpNapotOnes;
        const int k = std::countr_one(v);
        if (k >= 32) {
          hi = std::uint64_t{1} << 35;
        } else {
          lo = (std::uint64_t{v} & ~((std::uint64_t{1} << (k + 1)) - 1)) << 2;
          hi = lo + (std::uint64_t{1} << (k + 3));
        }
        break;
      }
    }
    if (hi_a <= lo || lo_a >= hi) continue;          // no byte of the access in this entry
    if (lo_a < lo || hi_a > hi) return false;        // some bytes but not all: the access fails
    return (cfg & kPmpL) == 0 || (cfg & perm) != 0;  // unlocked entries do not bind M-mode
  }
  return true;  // no entry matches: M-mode has full access
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

bool Hart::trap(std::uint32_t cause, std::uint32_t tval, const char* what_name) {
  const std::uint32_t base = mtvec_ & ~3u;
  if (base == 0) {
    std::string what = what_name != nullptr ? std::string(what_name) : trap_cause_name(cause);
    if (cause == kCauseIllegalInstruction) {
      what += fmt::format(" (instruction 0x{:08x})", tval);
    } else if (cause != kCauseEcallM && (cause != kCauseBreakpoint || what_name != nullptr)) {
      what += fmt::format(" (address 0x{:08x})", tval);
    }
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
  if (tcontrol_ != 0) {  // Sdtrig: mpte <- mte, mte <- 0, so no trigger fires in the handler
    tcontrol_ = (tcontrol_ & kTcontrolMte) != 0 ? kTcontrolMpte : 0;
    update_checks();
  }
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
    if ((ready & (1u << kIrqExternal)) != 0) {
      irq = kIrqExternal;
    } else if ((ready & (1u << kIrqSoftware)) != 0) {
      irq = kIrqSoftware;
    }
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
    case kCsrTselect:
      v = tselect_;
      return true;
    case kCsrTdata1:
      v = trig_[tselect_].tdata1;
      return true;
    case kCsrTdata2:
      v = trig_[tselect_].tdata2;
      return true;
    case kCsrTdata3:  // no textra matching (mhselect/sselect 0: ignore)
      v = 0;
      return true;
    case kCsrTinfo:
      v = kTinfo;
      return true;
    case kCsrTcontrol:
      v = tcontrol_;
      return true;
    default:
      if (csr - kCsrPmpcfg0 < kPmpEntries / 4) {
        const unsigned e = (csr - kCsrPmpcfg0) * 4;
        v = 0;
        for (unsigned i = 0; i < 4; ++i) v |= std::uint32_t{pmpcfg_[e + i]} << (8 * i);
        return true;
      }
      if (csr - kCsrPmpaddr0 < kPmpEntries) {
        const unsigned i = csr - kCsrPmpaddr0;
        // The stored value keeps every bit; the mode decides how the low G bits read.
        const unsigned mode = pmp_mode(pmpcfg_[i]);
        v = pmpaddr_[i];
        if (mode == kPmpNapot) v |= kPmpNapotOnes;
        if (mode == kPmpOff || mode == kPmpTor) v &= ~kPmpGMask;
        return true;
      }
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
    case kCsrTselect:  // WARL: an index with no trigger leaves tselect as it was
      if (v < kTriggers) tselect_ = v;
      return true;
    case kCsrTdata1:
      trig_[tselect_].tdata1 = legal_tdata1(v);
      update_checks();
      return true;
    case kCsrTdata2:
      trig_[tselect_].tdata2 = v;
      return true;
    case kCsrTdata3:  // WARL, hard-wired to 0
    case kCsrTinfo:   // read-only information; writes are ignored
      return true;
    case kCsrTcontrol:
      tcontrol_ = v & (kTcontrolMte | kTcontrolMpte);
      update_checks();
      return true;
    default:
      if (csr - kCsrPmpcfg0 < kPmpEntries / 4) {
        const unsigned e = (csr - kCsrPmpcfg0) * 4;
        for (unsigned i = 0; i < 4; ++i) {
          if ((pmpcfg_[e + i] & kPmpL) != 0) continue;  // locked until reset
          pmpcfg_[e + i] = legal_pmpcfg(static_cast<std::uint8_t>(v >> (8 * i)));
        }
        update_checks();
        return true;
      }
      if (csr - kCsrPmpaddr0 < kPmpEntries) {
        const unsigned i = csr - kCsrPmpaddr0;
        // Locked entries, and the top of a locked TOR entry above, ignore writes.
        const bool locked =
            (pmpcfg_[i] & kPmpL) != 0 || (i + 1 < kPmpEntries && (pmpcfg_[i + 1] & kPmpL) != 0 &&
                                          pmp_mode(pmpcfg_[i + 1]) == kPmpTor);
        if (!locked) pmpaddr_[i] = v;
        return true;
      }
      return false;
  }
}

bool Hart::debug_write_csr(std::uint32_t csr, std::uint32_t v) {
  std::uint32_t old = 0;
  if (csr >= 4096 || (csr >> 10) == 3 || !read_csr(csr, old)) return false;
  if (!write_csr(csr, v)) return false;
  // write_csr absorbs the retirement of the CSR instruction that wrote minstret; none retires
  // here.
  if (csr == kCsrMinstret || csr == kCsrMinstreth) ++minstret_offset_;
  return true;
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

bool Hart::resolve_misaligned(std::uint32_t addr, unsigned size,
                              std::array<std::uint8_t*, 4>& bytes, std::uint32_t& extra,
                              std::uint32_t& bad) {
  extra = 0;
  for (unsigned i = 0; i < size; ++i) {
    const std::uint32_t b = addr + i;
    const Region* r = bus_.find(b);
    std::uint8_t* mem = r != nullptr ? r->device->host_memory() : nullptr;
    if (mem == nullptr) {
      bad = b;
      return false;
    }
    bytes[i] = mem + (b - r->base);
    if (i == 0 || (b & 3) == 0) extra += r->latency_cycles;  // one access per word touched
  }
  return true;
}

bool Hart::load_slow(std::uint32_t addr, unsigned size, std::uint32_t& value, std::uint32_t& extra,
                     std::uint32_t& cause, std::uint32_t& tval) {
  tval = addr;
  // Priority (privileged spec, synchronous exceptions): address breakpoint, then misaligned,
  // then access fault.
  if (data_triggers_ && trigger_match(kMcLoad, addr, size)) {
    cause = kCauseBreakpoint;
    return false;
  }
  const bool misaligned = (addr & (size - 1)) != 0;
  if (misaligned && cfg_.misaligned_trap) {
    cause = kCauseMisalignedLoad;
    return false;
  }
  cause = kCauseLoadAccess;
  if (pmp_active_ && !pmp_allows(addr, size, kPmpR)) return false;
  if (!misaligned) return load(addr, size, value, extra);
  std::array<std::uint8_t*, 4> bytes{};
  if (!resolve_misaligned(addr, size, bytes, extra, tval)) return false;
  value = 0;
  for (unsigned i = 0; i < size; ++i) value |= std::uint32_t{*bytes[i]} << (8 * i);
  return true;
}

bool Hart::store_slow(std::uint32_t addr, unsigned size, std::uint32_t value, std::uint32_t& extra,
                      std::uint32_t& cause, std::uint32_t& tval) {
  tval = addr;
  if (data_triggers_ && trigger_match(kMcStore, addr, size)) {
    cause = kCauseBreakpoint;
    return false;
  }
  const bool misaligned = (addr & (size - 1)) != 0;
  if (misaligned && cfg_.misaligned_trap) {
    cause = kCauseMisalignedStore;
    return false;
  }
  cause = kCauseStoreAccess;
  if (pmp_active_ && !pmp_allows(addr, size, kPmpW)) return false;
  if (!misaligned) return store(addr, size, value, extra);
  // Every byte is resolved before any is written: a faulting store changes nothing.
  std::array<std::uint8_t*, 4> bytes{};
  if (!resolve_misaligned(addr, size, bytes, extra, tval)) return false;
  for (unsigned i = 0; i < size; ++i) *bytes[i] = static_cast<std::uint8_t>(value >> (8 * i));
  return true;
}

bool Hart::fetch_slow(std::uint32_t addr, std::uint32_t& insn) {
  if (pmp_active_ && !pmp_allows(addr, 4, kPmpX)) return false;
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
  for (;;) {
    // The fast loop has no per-instruction checks; arming or disarming an execute trigger makes
    // the running loop return (loop_switch_) so the right one continues at the same pc.
    loop_switch_ = false;
    const StopReason r = breakpoints_.empty() && !single_step && !exec_triggers_
                             ? run_loop<false>(until_cycle, false)
                             : run_loop<true>(until_cycle, single_step);
    if (!loop_switch_ || single_step) return r;
  }
}

template <bool kDebug>
StopReason Hart::run_loop(std::uint64_t until_cycle, bool single_step) {
  std::uint32_t* const x = x_.data();
  bool first = true;
  while (cycle_ < until_cycle || (kDebug && single_step && first)) {
    // Slow checks: interrupts, stop requests. Armed by irq_check_cycle_ so the common case is
    // a single compare.
    if (cycle_ >= irq_check_cycle_) {
      if (loop_switch_ && !single_step) return StopReason::kBudget;  // run() switches loops
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
    if constexpr (kDebug) {
      // Execute triggers fire before the instruction (and before its fetch can fault).
      if (exec_triggers_ && trigger_match(kMcExecute, pc, 4)) {
        if (!trap(kCauseBreakpoint, pc, "breakpoint (execute trigger)")) return StopReason::kFault;
        continue;
      }
    }
    std::uint32_t insn;
    if (pc - ram_base_ < fetch_size_) {  // aligned, and RAM sizes are multiples of 4
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
        std::uint32_t v;
        std::uint32_t extra;
        // Fast path: aligned, in RAM, outside the HTIF hole, nothing armed (data_size_).
        if ((addr & (size - 1)) == 0 && addr - ram_base_ < data_size_ &&
            addr - hole_lo_ >= hole_size_) {
          v = ld_le(ram_ + (addr - ram_base_), size);
          extra = ram_latency_;
        } else {
          std::uint32_t cause, tval;
          if (!load_slow(addr, size, v, extra, cause, tval)) {
            if (!fault_.empty()) return StopReason::kFault;
            if (!trap(cause, tval,
                      cause == kCauseBreakpoint ? "breakpoint (load trigger)" : nullptr))
              return StopReason::kFault;
            continue;
          }
        }
        if (f3 == 0)
          v = static_cast<std::uint32_t>(static_cast<std::int32_t>(v << 24) >> 24);  // LB
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
        std::uint32_t extra;
        if ((addr & (size - 1)) == 0 && addr - ram_base_ < data_size_ &&
            addr - hole_lo_ >= hole_size_) {
          st_le(ram_ + (addr - ram_base_), size, b);
          extra = ram_latency_;
        } else {
          std::uint32_t cause, tval;
          if (!store_slow(addr, size, b, extra, cause, tval)) {
            if (!fault_.empty()) return StopReason::kFault;
            if (!trap(cause, tval,
                      cause == kCauseBreakpoint ? "breakpoint (store trigger)" : nullptr))
              return StopReason::kFault;
            continue;
          }
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
            if (f7 != 0) {
              illegal = true;
            } else {
              x[rd] = a << sh;
            }
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
            if (f7 == 0) {
              x[rd] = a >> sh;
            } else if (f7 == 0x20) {
              x[rd] = static_cast<std::uint32_t>(static_cast<std::int32_t>(a) >> sh);
            } else {
              illegal = true;
            }
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
          if (f3 == 0) {
            x[rd] = a - b;
          } else if (f3 == 5) {
            x[rd] = static_cast<std::uint32_t>(static_cast<std::int32_t>(a) >> (b & 31));
          } else {
            illegal = true;
          }
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
            if (tcontrol_ != 0) {  // Sdtrig: mte <- mpte
              tcontrol_ = (tcontrol_ & kTcontrolMpte) != 0 ? (tcontrol_ | kTcontrolMte)
                                                           : (tcontrol_ & ~kTcontrolMte);
              update_checks();
            }
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
