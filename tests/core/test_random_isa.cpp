// Random instruction streams on the plain-C++ control core (core::Machine::run_plain with a cycle
// budget): random 32-bit words mixed with random valid RV32IM / Zicsr / privileged encodings (CSR
// numbers drawn mostly from the implemented ones) and CSR set-ups that arm triggers, lock PMP
// entries and enable interrupts, placed in core RAM, run from random register state, half of them
// with a trap handler installed. Every run must end in a defined way: an exit through tohost, a
// fault whose message names the cause, pc and cycle, an HTIF error, a wfi that only the chip could
// wake, or the cycle budget; no exception escapes run_plain, and a rerun of the same stream gives
// the same result (no dependence on uninitialised state).
//
// Streams: MXEMU_RANDOM_ISA_STREAMS (default 10^4, a few seconds in a Release build; set 1000000
// for the long run), first seed MXEMU_RANDOM_ISA_SEED (default 1). A failure names the stream's
// seed: rerun with MXEMU_RANDOM_ISA_SEED=<seed> MXEMU_RANDOM_ISA_STREAMS=1.
#include <catch2/catch.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "model/common/error.h"
#include "model/core/machine.h"

using namespace mxemu;

namespace {

constexpr std::uint32_t kRamBytes = 16 * 1024;  // small: a fresh machine per stream stays cheap
constexpr std::uint32_t kHandler = MXEMU_RAM_BASE + 0x3000;
constexpr std::uint32_t kTohost = MXEMU_RAM_BASE + 0x3f00;
constexpr std::uint32_t kFromhost = MXEMU_RAM_BASE + 0x3f40;
constexpr std::uint64_t kBudgetCycles = 4000;
constexpr unsigned kMaxStreamWords = 200;

std::uint64_t env_u64(const char* name, std::uint64_t fallback) {
  // The test is single-threaded, so nothing can change the environment while it is read.
  const char* v = std::getenv(name);  // NOLINT(concurrency-mt-unsafe)
  return v != nullptr && *v != '\0' ? std::strtoull(v, nullptr, 0) : fallback;
}

// Encoders (unprivileged specification, "Base Instruction Formats").
constexpr std::uint32_t enc_r(std::uint32_t op, unsigned rd, unsigned f3, unsigned rs1,
                              unsigned rs2, unsigned f7) {
  return (f7 << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | op;
}
constexpr std::uint32_t enc_i(std::uint32_t op, unsigned rd, unsigned f3, unsigned rs1,
                              std::uint32_t imm12) {
  return ((imm12 & 0xfff) << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | op;
}
constexpr std::uint32_t enc_s(unsigned f3, unsigned rs1, unsigned rs2, std::uint32_t imm12) {
  return (((imm12 >> 5) & 0x7f) << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) |
         ((imm12 & 31) << 7) | 0x23;
}
constexpr std::uint32_t enc_b(unsigned f3, unsigned rs1, unsigned rs2, std::uint32_t imm13) {
  return (((imm13 >> 12) & 1) << 31) | (((imm13 >> 5) & 0x3f) << 25) | (rs2 << 20) | (rs1 << 15) |
         (f3 << 12) | (((imm13 >> 1) & 0xf) << 8) | (((imm13 >> 11) & 1) << 7) | 0x63;
}
constexpr std::uint32_t enc_j(unsigned rd, std::uint32_t imm21) {
  return (((imm21 >> 20) & 1) << 31) | (((imm21 >> 1) & 0x3ff) << 21) |
         (((imm21 >> 11) & 1) << 20) | (((imm21 >> 12) & 0xff) << 12) | (rd << 7) | 0x6f;
}
constexpr std::uint32_t enc_u(std::uint32_t op, unsigned rd, std::uint32_t upper20) {
  return (upper20 << 12) | (rd << 7) | op;
}

// CSRs the hart implements (docs/CORE.md), so random CSR instructions mostly reach real state.
constexpr std::array<std::uint32_t, 27> kCsrs = {0x300, 0x301, 0x304, 0x305, 0x340, 0x341, 0x342,
                                                 0x343, 0x344, 0xB00, 0xB02, 0xB80, 0xB82, 0xC00,
                                                 0xC01, 0xC02, 0xF14, 0x7A0, 0x7A1, 0x7A2, 0x7A3,
                                                 0x7A4, 0x7A5, 0x3A0, 0x3A3, 0x3B0, 0x3BF};

class StreamGen {
 public:
  explicit StreamGen(std::uint64_t seed) : rng_(seed) {}

  std::uint32_t u32() { return static_cast<std::uint32_t>(rng_()); }
  std::uint32_t below(std::uint32_t n) { return static_cast<std::uint32_t>(rng_() % n); }
  unsigned reg() { return below(32); }

  // A register value that points somewhere interesting about half the time.
  std::uint32_t reg_value() {
    switch (below(10)) {
      case 0:
      case 1:
        return MXEMU_RAM_BASE + below(kRamBytes + 16);  // RAM (any alignment), or just past it
      case 2:
        return MXEMU_TIMER_BASE +
               std::array<std::uint32_t, 6>{0, 4, 0x4000, 0x4004, 0xbff8, 0xbffc}[below(6)];
      case 3:
        return MXEMU_CONSOLE_BASE + below(8);
      case 4:
        return MXEMU_SYSREG_BASE + below(0x20);
      case 5:
        return MXEMU_LAUNCH_BASE + below(MXEMU_LAUNCH_SIZE + 8);
      case 6:
        return kTohost - 4 + below(0x50);  // the HTIF words and their neighbours
      case 7:
        return std::array<std::uint32_t, 6>{0, 1, ~0u, 0x80000000u, 0x7fffffffu, 2}[below(6)];
      case 8:
        return static_cast<std::uint32_t>(static_cast<std::int32_t>(below(33)) - 16);
      default:
        return u32();
    }
  }

  std::uint32_t imm12() { return below(4) == 0 ? u32() & 0xfff : below(16) - 8; }

  // Appends one item to `code`: usually one instruction word(); sometimes a CSR set-up (a value
  // built with LUI + ADDI, then CSRRW) that random words would almost never produce: armed
  // triggers, tcontrol.mte, PMP entries (some locked), enabled and pending interrupts.
  // `stream_words` is the length of the stream, for triggers on its own instructions. Every
  // random number is drawn into a named local first, in statement order: the order in which a
  // compiler evaluates function arguments is unspecified, and a seed must give the same stream
  // in every build.
  void emit(std::vector<std::uint32_t>& code, unsigned stream_words) {
    if (below(10) != 0) {
      code.push_back(word());
      return;
    }
    const unsigned rd = 1 + below(31);
    const unsigned rv = 1 + below(31);
    const unsigned item = below(10);
    const std::uint32_t a = below(1u << 16);
    const std::uint32_t b = u32();
    const std::uint32_t c = u32();
    std::uint32_t csr = 0, v = 0;
    switch (item) {
      case 0: {  // tdata1: mcontrol, m (mostly), execute/store/load, a supported match
        static constexpr std::array<std::uint32_t, 5> kMatch = {0, 2, 3, 4, 5};
        csr = 0x7A1;
        v = 0x20000000u | ((a & 3) != 0 ? 0x40u : 0u) | ((a >> 2) & 7) | kMatch[(a >> 5) % 5] << 7;
        break;
      }
      case 1:  // tdata2: an instruction of the stream, or any RAM byte
        csr = 0x7A2;
        v = MXEMU_RAM_BASE + ((a & 1) == 0 ? 4 * ((a >> 1) % (stream_words + 8)) : b % kRamBytes);
        break;
      case 2:
        csr = 0x7A5;  // tcontrol.mte
        v = (a & 3) != 0 ? 0x8 : 0x88;
        break;
      case 3:
        csr = 0x7A0;  // tselect
        v = a % 5;
        break;
      case 4:  // pmpcfg0..3: random entries, a quarter of them locked
        csr = 0x3A0 + a % 4;
        for (unsigned i = 0; i < 4; ++i)
          v |= ((((c >> (8 * i)) & 3) == 0 ? 0x80u : 0u) | ((b >> (8 * i)) & 0x1f)) << (8 * i);
        break;
      case 5:  // pmpaddr0..15: a RAM address with a random NAPOT size
        csr = 0x3B0 + a % 16;
        v = ((MXEMU_RAM_BASE + b % kRamBytes) >> 2) | ((1u << ((a >> 4) % 14)) - 1);
        break;
      case 6:
        csr = 0x304;  // mie: MSIE, MTIE, MEIE
        v = std::array<std::uint32_t, 4>{0x8, 0x80, 0x880, 0x888}[a % 4];
        break;
      case 7:
        csr = 0x300;  // mstatus.MIE
        v = 0x8;
        break;
      case 8:  // msip = 1 (a software interrupt pends)
        code.push_back(enc_u(0x37, rd, MXEMU_TIMER_BASE >> 12));
        code.push_back(enc_i(0x13, rv, 0, 0, 1));
        code.push_back(enc_s(2, rd, rv, 0));
        return;
      default:  // mtimecmp = a small value (the timer interrupt pends now or soon)
        code.push_back(enc_u(0x37, rd, (MXEMU_TIMER_BASE + 0x4000) >> 12));
        code.push_back(enc_s(2, rd, 0, 4));
        code.push_back(enc_i(0x13, rv, 0, 0, a % 2048));
        code.push_back(enc_s(2, rd, rv, 0));
        return;
    }
    code.push_back(enc_u(0x37, rd, ((v + 0x800) >> 12) & 0xfffff));
    code.push_back(enc_i(0x13, rd, 0, rd, v & 0xfff));
    code.push_back(enc_i(0x73, 0, 1, rd, csr));
  }

  // One instruction word: a third raw random, the rest well-formed encodings of every class.
  // The fields are drawn first, in order (see emit); `p` picks the sub-choices.
  std::uint32_t word() {
    const unsigned kind = below(24);
    const unsigned rd = reg();
    const unsigned rs1 = reg();
    const unsigned rs2 = reg();
    const std::uint32_t p = below(1u << 16);
    const std::uint32_t raw = u32();
    const std::uint32_t imm = imm12();
    switch (kind) {
      case 0:
      case 1:
      case 2:
      case 3:
      case 4:
      case 5:
      case 6:
      case 7:
        return raw;
      case 8: {  // OP and M
        static constexpr std::array<unsigned, 3> kF7 = {0, 0x20, 1};
        return enc_r(0x33, rd, p % 8, rs1, rs2, kF7[(p >> 3) % 3]);
      }
      case 9:
      case 10: {  // OP-IMM (shifts with a legal or illegal funct7)
        const unsigned f3 = p % 8;
        const std::uint32_t shift = (((p >> 3) & 1) != 0 ? 0x400 : 0) | ((p >> 4) % 32);
        return enc_i(0x13, rd, f3, rs1, f3 == 1 || f3 == 5 ? shift : imm);
      }
      case 11:  // LUI / AUIPC
        return enc_u((p & 1) != 0 ? 0x37 : 0x17, rd, raw & 0xfffff);
      case 12:  // JAL, mostly within the stream, sometimes to a half-word
        return enc_j(rd, (p % 64) * 4 - 128 + (((p >> 6) % 8) == 0 ? 2 : 0));
      case 13:
        return enc_i(0x67, rd, 0, rs1, imm);  // JALR
      case 14:
      case 15: {  // BRANCH (funct3 2 and 3 are illegal)
        static constexpr std::array<unsigned, 6> kF3 = {0, 1, 4, 5, 6, 7};
        return enc_b(kF3[p % 6], rs1, rs2, ((p >> 3) % 48) * 4 - 96);
      }
      case 16:
      case 17:
      case 18: {  // LOAD (lb lh lw lbu lhu), any alignment
        static constexpr std::array<unsigned, 5> kF3 = {0, 1, 2, 4, 5};
        return enc_i(0x03, rd, kF3[p % 5], rs1, imm);
      }
      case 19:
      case 20:
        return enc_s(p % 3, rs1, rs2, imm);  // STORE (sb sh sw)
      case 21:
        return (p & 1) != 0 ? 0x0ff0000f : 0x0000100f;  // FENCE, FENCE.I
      case 22: {                                        // ECALL, EBREAK, MRET, WFI
        static constexpr std::array<std::uint32_t, 4> kSys = {0x00000073, 0x00100073, 0x30200073,
                                                              0x10500073};
        return kSys[p % 4];
      }
      default: {  // CSR instructions, on implemented CSRs mostly
        static constexpr std::array<unsigned, 6> kF3 = {1, 2, 3, 5, 6, 7};
        const std::uint32_t csr =
            ((p >> 8) % 8) == 0 ? raw & 0xfff : kCsrs[(p >> 11) % kCsrs.size()];
        return enc_i(0x73, rd, kF3[p % 6], rs1, csr);
      }
    }
  }

 private:
  std::mt19937_64 rng_;
};

// What one stream did, for the determinism check.
struct Trace {
  core::StopReason reason;
  std::uint64_t cycles, instret;
  std::uint32_t pc;
  std::array<std::uint32_t, 32> x;
  std::string fault;
  bool operator==(const Trace&) const = default;
};

struct Run {
  Trace trace;
  std::string problem;  // empty: the run ended in a defined way
};

bool names_pc_and_cycle(const std::string& msg) {
  return (msg.find("pc 0x") != std::string::npos || msg.find("mtvec 0x") != std::string::npos) &&
         msg.find("cycle ") != std::string::npos;
}

Run run_stream(std::uint64_t seed) {
  StreamGen g(seed);
  const bool handler = g.below(2) == 0;
  std::vector<std::uint32_t> code;
  if (handler) {  // x31 = kHandler; mtvec = x31 (direct)
    code.push_back(enc_u(0x37, 31, kHandler >> 12));
    code.push_back(enc_i(0x73, 0, 1, 31, 0x305));
  }
  const unsigned n = 1 + g.below(kMaxStreamWords);
  while (code.size() < n) g.emit(code, n);
  if (g.below(2) == 0) {  // an exit (tohost = 1) after the stream, for the runs that get there
    code.push_back(enc_u(0x37, 31, (kTohost + 0x800) >> 12));
    code.push_back(enc_i(0x13, 31, 0, 31, kTohost & 0xfff));
    code.push_back(enc_i(0x13, 30, 0, 0, 1));
    code.push_back(enc_s(2, 31, 0, 4));
    code.push_back(enc_s(2, 31, 30, 0));
  }
  // The handler skips the trapping instruction: mepc += 4 (x31 is its scratch register).
  const std::vector<std::uint32_t> handler_code = {enc_i(0x73, 31, 2, 0, 0x341),
                                                   enc_i(0x13, 31, 0, 31, 4),
                                                   enc_i(0x73, 0, 1, 31, 0x341), 0x30200073};

  core::ElfImage img;
  img.entry = MXEMU_RAM_BASE;
  img.tohost = kTohost;
  img.fromhost = kFromhost;
  auto segment = [](std::uint32_t addr, const std::vector<std::uint32_t>& words) {
    core::ElfImage::Segment s;
    s.paddr = addr;
    s.memsz = static_cast<std::uint32_t>(words.size() * 4);
    for (const std::uint32_t w : words)
      for (unsigned i = 0; i < 4; ++i) s.data.push_back(static_cast<std::uint8_t>(w >> (8 * i)));
    return s;
  };
  img.segments.push_back(segment(MXEMU_RAM_BASE, code));
  img.segments.push_back(segment(kHandler, handler_code));
  std::array<std::uint32_t, 32> regs{};
  for (unsigned i = 1; i < 32; ++i) regs[i] = g.reg_value();

  core::CoreConfig cfg;
  cfg.ram_size_bytes = kRamBytes;
  cfg.misaligned_trap = g.below(4) == 0;
  core::Machine m(cfg);
  m.load(img, "random stream");
  for (unsigned i = 1; i < 32; ++i) m.hart().set_reg(i, regs[i]);

  Run out;
  core::RunResult r;
  try {
    r = m.run_plain(kBudgetCycles);
  } catch (const std::exception& e) {
    out.problem = std::string("run_plain threw: ") + e.what();
    return out;
  }
  const core::Hart& h = m.hart();
  out.trace = Trace{r.reason, r.cycles, r.instret, h.pc(), {}, h.fault()};
  for (unsigned i = 0; i < 32; ++i) out.trace.x[i] = h.reg(i);

  if (h.reg(0) != 0) out.problem = "x0 is not 0";
  if (r.instret > r.cycles) out.problem = "more instructions retired than cycles";
  switch (r.reason) {
    case core::StopReason::kExit:
    case core::StopReason::kWfi:
      break;
    case core::StopReason::kBudget:
      if (r.cycles < kBudgetCycles) out.problem = "budget stop before the budget";
      break;
    case core::StopReason::kFault:
      if (!names_pc_and_cycle(h.fault())) out.problem = "fault message '" + h.fault() + "'";
      break;
    case core::StopReason::kStopRequest:
      if (m.htif_error().empty()) out.problem = "stop request without an HTIF error";
      break;
    default:
      out.problem = "unexpected stop reason";
  }
  // What the user would see: an exit code, or an mxemu::Error naming pc and cycle.
  try {
    const int code = m.finish(r.reason, kBudgetCycles);
    if (r.reason != core::StopReason::kExit || code != h.exit_code())
      out.problem = "finish() returned an exit code for a run that did not exit";
  } catch (const Error& e) {
    if (r.reason == core::StopReason::kExit) out.problem = "finish() threw for an exit";
    if (!names_pc_and_cycle(e.what())) out.problem = std::string("message '") + e.what() + "'";
  } catch (const std::exception& e) {
    out.problem = std::string("finish() threw a non-mxemu exception: ") + e.what();
  }
  return out;
}

}  // namespace

TEST_CASE("random instruction streams end in a defined way", "[core][random]") {
  const std::uint64_t streams = env_u64("MXEMU_RANDOM_ISA_STREAMS", 10'000);
  const std::uint64_t seed0 = env_u64("MXEMU_RANDOM_ISA_SEED", 1);
  std::array<std::uint64_t, 7> by_reason{};  // indexed by StopReason
  std::uint64_t failures = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (std::uint64_t i = 0; i < streams; ++i) {
    const std::uint64_t seed = seed0 + i;
    const Run run = run_stream(seed);
    std::string problem = run.problem;
    // Every 64th stream runs twice: same stream, same result.
    if (problem.empty() && i % 64 == 0 && !(run_stream(seed).trace == run.trace))
      problem = "a rerun gave a different result";
    if (!problem.empty()) {
      ++failures;
      if (failures <= 10) FAIL_CHECK("stream seed " << seed << ": " << problem);
      continue;
    }
    ++by_reason.at(static_cast<std::size_t>(run.trace.reason));
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  WARN(streams << " random streams in " << s << " s: exit " << by_reason[3] << ", fault "
               << by_reason[4] << ", budget " << by_reason[0] << ", wfi " << by_reason[5]
               << ", htif error " << by_reason[6]);
  CHECK(failures == 0);
  // The generator reaches each way of ending (it would not if the streams were degenerate).
  if (streams >= 1000) {
    CHECK(by_reason[static_cast<std::size_t>(core::StopReason::kExit)] > 0);
    CHECK(by_reason[static_cast<std::size_t>(core::StopReason::kFault)] > 0);
    CHECK(by_reason[static_cast<std::size_t>(core::StopReason::kBudget)] > 0);
  }
}
