// On-chip memories and the descriptor address spaces (tools/regmap: VMEM, ACC of each MXU, HBM).
// Plain C++: byte arrays with bounds checks, and the VMEM bank-conflict cost model.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <new>
#include <span>
#include <string>
#include <vector>

#include "model/chip/chip_config.h"

namespace mxemu::chip {

enum class SpaceKind : std::uint8_t { kVmem, kAcc, kHbm };

// A descriptor address resolved to a space and an offset inside it.
struct SpaceAddr {
  SpaceKind kind = SpaceKind::kVmem;
  std::uint32_t index = 0;  // MXU index for kAcc
  std::uint64_t offset = 0;
};
std::string describe(const SpaceAddr& a);  // "VMEM+0x100", "ACC1+0x40", "HBM+0x1000"

// The banked scratchpad. Word w of the address space lives in bank w % banks.
class Scratchpad {
 public:
  // The bytes come from calloc: the operating system's zero pages, so host memory is used only
  // for the part of the scratchpad a run touches (an idle chip costs little).
  explicit Scratchpad(const VmemConfig& cfg)
      : cfg_(cfg), bytes_(static_cast<std::uint8_t*>(std::calloc(cfg.bytes, 1))), size_(cfg.bytes) {
    if (!bytes_) throw std::bad_alloc();
  }
  std::uint64_t size() const { return size_; }
  std::uint8_t* data() { return bytes_.get(); }
  const std::uint8_t* data() const { return bytes_.get(); }

  // Cycles to serve one access touching the given byte ranges (each [offset, offset+len)) in the
  // same cycle: the largest number of distinct words any single bank must deliver (>= 1).
  std::uint32_t access_cycles(std::span<const std::uint64_t> offsets, std::uint32_t len) const;

 private:
  struct Free {
    void operator()(std::uint8_t* p) const { std::free(p); }
  };
  VmemConfig cfg_;
  std::unique_ptr<std::uint8_t[], Free> bytes_;
  std::uint64_t size_;
};

}  // namespace mxemu::chip
