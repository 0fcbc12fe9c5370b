// Pieces of the engine harnesses (desc_mxu, desc_ici): an engine with its execute() reachable,
// and an HBM backend of a given capacity (what resolve() checks) whose reads give zeros, writes
// are dropped and requests take no time. The engines' own checks are under test, not the memory
// behind them. And the rigs of a harness renewed, with a SystemC context of their own, every
// batch of inputs.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "model/chip/chip_state.h"
#include "model/chip/engine.h"
#include "model/sim/sc_context.h"

namespace mxemu::fuzz {

// Engine E with its execute() reachable (it is protected: the dispatch thread calls it).
template <typename E>
class Exposed : public E {
 public:
  using E::E;
  using Timing = typename E::Timing;
  Timing run(const chip::Desc& d, std::uint64_t now) { return this->execute(d, now); }
  static constexpr std::uint64_t async() { return E::kAsync; }
};

class ZeroHbm : public chip::HbmBackend {
 public:
  explicit ZeroHbm(std::uint64_t capacity) : capacity_(capacity) {}
  std::uint64_t capacity_bytes() const override { return capacity_; }
  void read(std::uint64_t /*addr*/, std::span<std::uint8_t> out) override {
    std::fill(out.begin(), out.end(), 0);
  }
  void write(std::uint64_t /*addr*/, std::span<const std::uint8_t> /*in*/) override {}
  std::uint64_t time_requests(std::span<const std::uint64_t> /*addrs*/, std::uint32_t /*bytes*/,
                              bool /*is_write*/, std::uint64_t start_cycle) override {
    return start_cycle;
  }
  std::uint64_t bytes_read() const override { return 0; }
  std::uint64_t bytes_written() const override { return 0; }

 private:
  std::uint64_t capacity_;
};

// The rigs (chips, pods) a harness runs its inputs on, with the SystemC context they were
// elaborated in, made anew every kInputs inputs. Each input builds and destroys engine modules
// during elaboration, and SystemC keeps the process objects of destroyed modules with its
// context (6-8 KB an input): without renewal a campaign reached libFuzzer's 2 GiB RSS limit after
// 200,000-300,000 inputs. Deleting the context frees them (the rigs go first: their ChipState
// holds events of that context). Modules of one context need names of their own (SystemC renames
// a name taken again, W505, with a suffix that grows by the input): name() gives one per input.
template <typename Rigs>
class Renewed {
 public:
  static constexpr std::uint64_t kInputs = 512;

  // The rigs for the next input.
  Rigs& next() {
    if (!rigs_ || used_ == kInputs) {
      rigs_.reset();
      ctx_.reset();
      ctx_ = std::make_unique<sim::OwnScContext>();
      rigs_ = std::make_unique<Rigs>();
      used_ = 0;
    }
    ++used_;
    return *rigs_;
  }
  // A module name not used before in the current context.
  std::string name(const char* base) const { return base + std::to_string(used_); }

 private:
  std::unique_ptr<sim::OwnScContext> ctx_;  // declared first: destroyed after the rigs
  std::unique_ptr<Rigs> rigs_;
  std::uint64_t used_ = 0;
};

}  // namespace mxemu::fuzz
