#include "model/chip/hbm_backend.h"

#include <algorithm>

namespace mxemu::chip {

ChipHbm::ChipHbm(const hbm::HbmConfig& cfg, std::uint64_t chip_clock_hz,
                 std::uint32_t dma_bytes_per_cycle)
    : core_(cfg),
      chip_period_ps_(1'000'000'000'000ull / chip_clock_hz),
      tck_ps_(cfg.timing.tck_ps),
      dma_bytes_per_cycle_(dma_bytes_per_cycle) {}

std::uint64_t ChipHbm::capacity_bytes() const {
  return core_.address_map().capacity_bytes();
}

void ChipHbm::read(std::uint64_t addr, std::span<std::uint8_t> out) {
  core_.storage().read(addr, out);
}

void ChipHbm::write(std::uint64_t addr, std::span<const std::uint8_t> in) {
  core_.storage().write(addr, in);
}

hbm::Cycle ChipHbm::to_hbm(std::uint64_t chip_cycle) const {
  return (chip_cycle * chip_period_ps_ + tck_ps_ - 1) / tck_ps_;
}

std::uint64_t ChipHbm::to_chip(hbm::Cycle hbm_cycle) const {
  return (hbm_cycle * tck_ps_ + chip_period_ps_ - 1) / chip_period_ps_;
}

double ChipHbm::peak_bytes_per_chip_cycle() const {
  return core_.peak_bytes_per_cycle() * static_cast<double>(chip_period_ps_) /
         static_cast<double>(tck_ps_);
}

std::uint64_t ChipHbm::time_requests(std::span<const std::uint64_t> addrs, std::uint32_t bytes,
                                     bool is_write, std::uint64_t start_cycle,
                                     std::uint32_t /*max_outstanding*/) {
  if (addrs.empty()) return start_cycle;
  const std::uint32_t access = core_.config().org.access_bytes;
  // The DMA's HBM side moves dma_bytes_per_cycle per chip cycle: pace arrivals at that rate.
  const hbm::Cycle t0 = to_hbm(start_cycle);
  const double accesses_per_hbm_cycle = static_cast<double>(dma_bytes_per_cycle_) / access *
                                        static_cast<double>(tck_ps_) /
                                        static_cast<double>(chip_period_ps_);
  hbm::Cycle prev_accept = t0;
  std::uint64_t n = 0;
  for (const std::uint64_t a : addrs) {
    for (std::uint64_t off = 0; off < bytes; off += access, ++n) {
      const auto paced =
          t0 + static_cast<hbm::Cycle>(static_cast<double>(n) / accesses_per_hbm_cycle);
      hbm::Request r;
      r.id = next_id_++;
      r.address = a + off;
      r.is_write = is_write;
      r.arrival = std::max(paced, prev_accept);
      prev_accept = core_.submit(r);
    }
  }
  (is_write ? bytes_written_ : bytes_read_) += addrs.size() * std::uint64_t{bytes};
  return std::max(start_cycle, to_chip(core_.drain()));
}

}  // namespace mxemu::chip
