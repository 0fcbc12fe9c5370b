// Functional contents of HBM: sparse and page-granular, so a 64 GiB memory costs only the pages
// written. Unwritten bytes read as zero. Plain C++, independent of timing.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <unordered_map>

namespace mxemu::hbm {

class Storage {
 public:
  static constexpr std::uint64_t kPageBytes = 4096;

  explicit Storage(std::uint64_t capacity_bytes) : capacity_(capacity_bytes) {}

  std::uint64_t capacity_bytes() const { return capacity_; }
  bool contains(std::uint64_t addr, std::uint64_t len) const {
    return addr < capacity_ && len <= capacity_ - addr;
  }
  // Both throw mxemu::Error (bad input) when [addr, addr + size) leaves the capacity.
  void read(std::uint64_t addr, std::span<std::uint8_t> out) const;
  void write(std::uint64_t addr, std::span<const std::uint8_t> in);
  std::size_t pages_allocated() const { return pages_.size(); }

 private:
  using Page = std::array<std::uint8_t, kPageBytes>;
  std::uint64_t capacity_;
  std::unordered_map<std::uint64_t, std::unique_ptr<Page>> pages_;
};

}  // namespace mxemu::hbm
