// libFuzzer harness of the MXU engine's descriptors (MXU_LOAD_W, MXU_MATMUL): the real
// chip::MxuEngine, whose decode and checks live in its SystemC shell, driven outside the
// simulation kernel (execute() waits for nothing; sc_start never runs, so engines are built and
// destroyed during elaboration, one per input).
//
// Input: one byte (bit 0: which chip; bit 1: force the opcodes so the fields behind them are
// reached), then up to kMaxDescs descriptors of 16 words, executed in order on one engine (a
// MATMUL uses the tile of the LOAD_W before it). Chips: the default mx1 (128x128 arrays, 32 MiB
// VMEM, 4 MiB ACC) and a small 8x8 one in cycle-accurate mode (every fold replayed on the stepped
// array and compared with the closed form).
//
// Properties beyond "no crash, no hang, no absurd allocation" (libFuzzer's -timeout and
// -malloc_limit_mb/-rss_limit_mb): every refusal is a chip::EngineError with a fault code and a
// message, never another exception; an accepted descriptor's timing is ordered (now <= next
// dispatch <= completion); the stepped array never disagrees with the closed form.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <utility>

#include "model/chip/chip_state.h"
#include "model/chip/engine_error.h"
#include "model/chip/mxu_engine.h"
#include "model/chip/regs.h"
#include "tools/fuzz/engine_harness.h"
#include "tools/fuzz/fuzz_check.h"

namespace {

using namespace mxemu;

constexpr std::size_t kMaxDescs = 8;
// Work budgets per MATMUL (multiply-adds of one fold over the whole array), see below: the
// default chip's closed form, the small chip's stepped array (every PE every cycle).
constexpr std::uint64_t kMaxMacs = std::uint64_t{1} << 17;
constexpr std::uint64_t kMaxSteppedMacs = std::uint64_t{1} << 14;

using Mxu = fuzz::Exposed<chip::MxuEngine>;

struct Rig {
  chip::ChipConfig cfg;
  // No HBM behind these chips: the MXU reads VMEM only (resolve() needs a capacity).
  fuzz::ZeroHbm hbm{std::uint64_t{1} << 34};
  chip::ChipState state;
  explicit Rig(chip::ChipConfig c) : cfg(std::move(c)), state(cfg, chip::ChipIdentity{}, hbm) {}
};

chip::ChipConfig small_chip() {
  chip::ChipConfig c;
  c.mxu.count = 2;
  c.mxu.rows = 8;
  c.mxu.cols = 8;
  c.mxu.acc_bytes = 4096;
  c.mxu.cycle_accurate = true;
  c.vmem.bytes = 64u << 10;
  return c;
}

// Both chips, renewed with their SystemC context every batch of inputs.
struct Rigs {
  Rig big{chip::ChipConfig{}};
  Rig small{small_chip()};
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const bool small = (data[0] & 1) != 0;
  const bool force = (data[0] & 2) != 0;
  static fuzz::Renewed<Rigs> rigs;
  Rigs& both = rigs.next();
  Rig& r = small ? both.small : both.big;
  // A fresh engine per input (no tile staged): inputs are independent. Still elaboration time
  // (sc_start never runs), so modules may be made and destroyed; the last MXU of the chip, whose
  // accumulators are the last ACC space.
  const std::string name = rigs.name("mxu");
  Mxu mxu(name.c_str(), r.state, r.cfg.mxu.count - 1);
  const std::span<const std::uint8_t> body(data + 1, size - 1);
  constexpr std::size_t kDescBytes = sizeof(chip::Desc);
  const std::size_t n = std::min(kMaxDescs, (body.size() + kDescBytes - 1) / kDescBytes);
  std::uint64_t now = 0;
  for (std::size_t i = 0; i < n; ++i) {
    chip::Desc d{};
    const std::size_t off = i * kDescBytes;
    std::memcpy(d.data(), body.data() + off, std::min(kDescBytes, body.size() - off));
    if (force) {
      // Bit 8 of word 0 (the header's WAIT_SEM, which execute() does not read) picks the opcode.
      const std::uint32_t op =
          (d[0] & 0x100u) == 0 ? chip::regs::kOpMxuLoadW : chip::regs::kOpMxuMatmul;
      chip::regs::hdr::kOpcode.set(d.data(), op);
    }
    if (chip::regs::hdr::kOpcode.get(d.data()) == 0) continue;  // NOP: the dispatcher's, not here
    // A legal MATMUL of many rows is legitimately slow (the fold computes the whole array: M x R x
    // C multiply-adds, 1.7e10 for M = 2^20 on mx1), not a hang: inputs above a work budget are
    // not run (2^17 multiply-adds: M <= 8 on mx1; 2^20 ran 8 inputs a second; 2^14 on the small
    // chip, M <= 256, whose folds are stepped cycle by cycle). The model's refusal of M beyond
    // the accumulators is still reached through the small chip (its 4 KiB ACC: M <= 128).
    if (chip::regs::hdr::kOpcode.get(d.data()) == chip::regs::kOpMxuMatmul) {
      const std::uint64_t macs =
          std::uint64_t{chip::regs::mxu_matmul::kM.get(d.data())} * r.cfg.mxu.rows * r.cfg.mxu.cols;
      if (macs > (small ? kMaxSteppedMacs : kMaxMacs)) continue;
    }
    try {
      const Mxu::Timing t = mxu.run(d, now);
      FUZZ_CHECK(t.dispatch_next >= now);
      FUZZ_CHECK(t.complete != Mxu::async());
      FUZZ_CHECK(t.complete >= t.dispatch_next);
      now = t.dispatch_next;
    } catch (const chip::EngineError& e) {
      FUZZ_CHECK(e.code != chip::regs::Fault::kNone);
      FUZZ_CHECK(!e.message.empty());
      // The closed form and the stepped array (cycle-accurate chip) must agree on every fold.
      FUZZ_CHECK(e.message.rfind("internal:", 0) != 0);
    }
  }
  return 0;
}
