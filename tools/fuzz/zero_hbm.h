// An HBM backend for the engine harnesses: a given capacity (what resolve() checks), reads give
// zeros, writes are dropped, requests take no time. The engines' own checks are under test, not
// the memory behind them.
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>

#include "model/chip/chip_state.h"

namespace mxemu::fuzz {

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
