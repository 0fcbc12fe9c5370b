// Pieces of the engine harnesses (desc_mxu, desc_ici): an engine with its execute() reachable,
// and an HBM backend of a given capacity (what resolve() checks) whose reads give zeros, writes
// are dropped and requests take no time. The engines' own checks are under test, not the memory
// behind them.
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>

#include "model/chip/chip_state.h"
#include "model/chip/engine.h"

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

}  // namespace mxemu::fuzz
