// The chip's HBM: model/hbm's plain-C++ controller core (JEDEC timing, FR-FCFS, refresh, sparse
// storage) driven directly by the DMA engine in chip cycles. The DMA issues its request stream
// paced at its own bandwidth; the controller's per-pseudo-channel queues push back through the
// accept cycle of each request.
#pragma once

#include "model/chip/chip_state.h"
#include "model/hbm/config.h"
#include "model/hbm/controller.h"

namespace mxemu::chip {

class ChipHbm : public HbmBackend {
 public:
  ChipHbm(const hbm::HbmConfig& cfg, std::uint64_t chip_clock_hz,
          std::uint32_t dma_bytes_per_cycle);
  std::uint64_t capacity_bytes() const override;
  void read(std::uint64_t addr, std::span<std::uint8_t> out) override;
  void write(std::uint64_t addr, std::span<const std::uint8_t> in) override;
  std::uint64_t time_requests(std::span<const std::uint64_t> addrs, std::uint32_t bytes,
                              bool is_write, std::uint64_t start_cycle,
                              std::uint32_t max_outstanding) override;
  std::uint64_t bytes_read() const override { return bytes_read_; }
  std::uint64_t bytes_written() const override { return bytes_written_; }
  hbm::HbmCore& core() { return core_; }
  const hbm::HbmCore& core() const { return core_; }
  double peak_bytes_per_chip_cycle() const;

 private:
  hbm::Cycle to_hbm(std::uint64_t chip_cycle) const;
  std::uint64_t to_chip(hbm::Cycle hbm_cycle) const;

  hbm::HbmCore core_;
  std::uint64_t chip_period_ps_;
  std::uint64_t tck_ps_;
  std::uint32_t dma_bytes_per_cycle_;
  std::uint64_t next_id_ = 0;
  std::uint64_t bytes_read_ = 0, bytes_written_ = 0;
};

}  // namespace mxemu::chip
