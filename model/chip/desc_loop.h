// The LOOP descriptor's functional core (docs/CHIP.md "LOOP"), plain C++ without SystemC:
// decoding and checking its header, and generating the descriptors of its iterations from a
// body. model/chip's Engine is the SystemC shell around it (when the body arrives, timing).
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "model/chip/engine_error.h"
#include "model/chip/regs.h"

namespace mxemu::chip {

using Desc = std::array<std::uint32_t, regs::kDescWords>;  // as in chip_state.h

struct LoopInc {
  std::uint32_t desc = 0, word = 0, period = 0;  // period 0 or 1: every iteration
  bool wide = false;
  std::uint32_t delta = 0;  // signed, two's complement
};

// A LOOP header, checked: COUNT x BODY descriptors and the enabled increments.
struct LoopSpec {
  std::uint64_t count = 0;
  std::uint32_t body = 0;
  std::vector<LoopInc> incs;
};

// Throws EngineError (kBadField, "LOOP: ...") for a header the sequencer refuses.
inline LoopSpec decode_loop(const Desc& d) {
  namespace lp = regs::loop;
  const auto bad = [](const std::string& why) {
    return EngineError{regs::Fault::kBadField, "LOOP: " + why};
  };
  if (regs::hdr::kWaitEn.get(d.data()) != 0 || regs::hdr::kSignalEn.get(d.data()) != 0) {
    throw bad(
        "a LOOP cannot wait or signal (its body's descriptors can, or a NOP before or after it)");
  }
  LoopSpec s;
  s.count = lp::kCount.get(d.data());
  s.body = lp::kBody.get(d.data());
  if (s.count == 0) throw bad("COUNT is 0 (a loop runs at least once)");
  if (s.body == 0 || s.body > regs::kLoopBodyMax) {
    throw bad(fmt::format("BODY {} is not 1 to {} descriptors", s.body, regs::kLoopBodyMax));
  }
  for (std::uint32_t i = 0; i < regs::kLoopIncs; ++i) {
    const std::uint32_t w = lp::kIncEn.word + 2 * i;  // increment i: words 3 + 2i, 4 + 2i
    const auto field = [&](const regs::Field& f) {
      return regs::Field{w, f.lsb, f.width}.get(d.data());
    };
    if (field(lp::kIncEn) == 0) continue;
    const LoopInc c{field(lp::kIncDesc), field(lp::kIncWord), field(lp::kIncPeriod),
                    field(lp::kIncWide) != 0, d[w + 1]};
    if (c.desc >= s.body) {
      throw bad(fmt::format("increment {} applies to body descriptor {}, but BODY is {}", i, c.desc,
                            s.body));
    }
    if (c.wide && (c.word == 0 || c.word + 1 >= regs::kDescWords)) {
      throw bad(fmt::format("increment {}: a WIDE increment needs WORD 1 to {}, not {}", i,
                            regs::kDescWords - 2, c.word));
    }
    s.incs.push_back(c);
  }
  return s;
}

// The sequencer of one LOOP: its body (spec.body descriptors) and where it is.
class LoopSequencer {
 public:
  LoopSequencer(LoopSpec spec, std::vector<Desc> body)
      : spec_(std::move(spec)), body_(std::move(body)) {}

  // Descriptors still to generate.
  std::uint64_t remaining() const { return (spec_.count - iter_) * body_.size() - next_; }
  std::uint64_t count() const { return spec_.count; }
  std::uint64_t iteration() const { return iter_; }  // of the next descriptor
  const Desc& next_template() const { return body_[next_]; }

  // The next descriptor (remaining() > 0); advances.
  Desc generate() {
    Desc d = body_[next_];
    for (const LoopInc& c : spec_.incs) {
      if (c.desc != next_) continue;
      const std::uint64_t steps = iter_ / std::max<std::uint32_t>(c.period, 1);
      if (c.wide) {
        const auto delta = static_cast<std::uint64_t>(
            static_cast<std::int64_t>(static_cast<std::int32_t>(c.delta)));
        const std::uint64_t v =
            ((std::uint64_t{d[c.word + 1]} << 32) | d[c.word]) + steps * delta;  // mod 2^64
        d[c.word] = static_cast<std::uint32_t>(v);
        d[c.word + 1] = static_cast<std::uint32_t>(v >> 32);
      } else {
        d[c.word] = static_cast<std::uint32_t>(d[c.word] + steps * c.delta);  // mod 2^32
      }
    }
    if (++next_ == body_.size()) {
      next_ = 0;
      ++iter_;
    }
    return d;
  }

 private:
  LoopSpec spec_;
  std::vector<Desc> body_;
  std::uint64_t iter_ = 0;
  std::uint32_t next_ = 0;
};

}  // namespace mxemu::chip
