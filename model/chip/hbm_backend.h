// The chip's HBM: model/hbm's controller behind its TLM-2.0 target socket (HbmTarget). The DMA
// reaches it in one of two ways that give identical cycles (tests/chip, chip_timing):
// - TLM-2.0 AT (default, [dma] hbm_tlm = true): 4-phase nb_transport transactions over an
//   initiator socket bound to the target, in SystemC time;
// - direct ([dma] hbm_tlm = false): the same request stream straight into the target's HbmCore.
// Either way the DMA issues requests paced at its own bandwidth, and the controller's queues
// push back through each request's accept cycle (END_REQ).
#pragma once

#include <tlm_utils/simple_initiator_socket.h>
#include <systemc>
#include <tlm>

#include <deque>
#include <functional>
#include <memory>

#include "model/chip/chip_state.h"
#include "model/common/clock.h"
#include "model/hbm/config.h"
#include "model/hbm/controller.h"
#include "model/hbm/target.h"

namespace mxemu::chip {

class ChipHbm : public sc_core::sc_module, public HbmBackend {
 public:
  tlm_utils::simple_initiator_socket<ChipHbm> socket;

  ChipHbm(const sc_core::sc_module_name& name, const hbm::HbmConfig& cfg, Clock chip_clock,
          std::uint32_t dma_bytes_per_cycle, bool use_tlm);
  std::uint64_t capacity_bytes() const override;
  void read(std::uint64_t addr, std::span<std::uint8_t> out) override;
  void write(std::uint64_t addr, std::span<const std::uint8_t> in) override;
  std::uint64_t time_requests(std::span<const std::uint64_t> addrs, std::uint32_t bytes,
                              bool is_write, std::uint64_t start_cycle) override;
  std::uint64_t bytes_read() const override { return bytes_read_; }
  std::uint64_t bytes_written() const override { return bytes_written_; }
  hbm::HbmCore& core() { return target_.core(); }
  const hbm::HbmCore& core() const { return const_cast<hbm::HbmTarget&>(target_).core(); }
  bool uses_tlm() const { return use_tlm_; }
  // Called with each access's address and accept cycle (HBM cycles): the waveforms' queue
  // occupancy (chip_waves.h). None by default.
  void set_on_accept(std::function<void(std::uint64_t, hbm::Cycle)> f) {
    on_accept_ = std::move(f);
  }

 private:
  hbm::Cycle to_hbm(std::uint64_t chip_cycle) const;
  std::uint64_t to_chip(hbm::Cycle hbm_cycle) const;
  // One access: issues it (directly or as a BEGIN_REQ) at `arrival`; returns its accept cycle.
  hbm::Cycle issue(std::uint64_t address, bool is_write, hbm::Cycle arrival);
  tlm::tlm_sync_enum nb_transport_bw(tlm::tlm_generic_payload& p, tlm::tlm_phase& phase,
                                     sc_core::sc_time& delay);

  hbm::HbmTarget target_;
  std::uint64_t chip_period_ps_;
  std::uint64_t tck_ps_;
  std::uint32_t access_bytes_;
  std::uint32_t dma_bytes_per_cycle_;
  bool use_tlm_;
  std::uint64_t next_id_ = 0;
  std::uint64_t bytes_read_ = 0, bytes_written_ = 0;
  // TLM path: a payload and its data buffer per access in flight, reused once its response has
  // come (host memory bounded by the accesses outstanding, not by a DMA's size), and the
  // responses seen.
  struct Slot : tlm::tlm_generic_payload {
    std::size_t index = 0;
    std::vector<std::uint8_t> data;
  };
  std::deque<Slot> slots_;  // deque: grows without moving the payloads in flight
  std::vector<std::size_t> free_slots_;
  std::uint64_t responses_ = 0;
  hbm::Cycle last_done_ = 0;
  sc_core::sc_event response_event_;
  std::function<void(std::uint64_t, hbm::Cycle)> on_accept_;
};

}  // namespace mxemu::chip
