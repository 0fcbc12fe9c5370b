#include "model/chip/hbm_backend.h"

#include <algorithm>

#include <fmt/format.h>

#include "model/common/error.h"

namespace mxemu::chip {

ChipHbm::ChipHbm(const sc_core::sc_module_name& name, const hbm::HbmConfig& cfg, Clock chip_clock,
                 std::uint32_t dma_bytes_per_cycle, bool use_tlm)
    : sc_core::sc_module(name),
      socket("socket"),
      target_("ctrl", cfg),
      chip_period_ps_(chip_clock.period_ps),
      tck_ps_(cfg.timing.tck_ps),
      access_bytes_(cfg.org.access_bytes),
      dma_bytes_per_cycle_(dma_bytes_per_cycle),
      use_tlm_(use_tlm) {
  socket.register_nb_transport_bw(this, &ChipHbm::nb_transport_bw);
  socket.bind(target_.socket);
}

std::uint64_t ChipHbm::capacity_bytes() const {
  return core().address_map().capacity_bytes();
}

void ChipHbm::read(std::uint64_t addr, std::span<std::uint8_t> out) {
  target_.storage().read(addr, out);
}

void ChipHbm::write(std::uint64_t addr, std::span<const std::uint8_t> in) {
  target_.storage().write(addr, in);
}

// Both conversions round down: a chip cycle's start falls in the HBM cycle it lands in (as the
// target's own cycle_of does), and a completion is seen in the chip cycle it lands in... rounded
// up below so the DMA never finishes before the data is there.
hbm::Cycle ChipHbm::to_hbm(std::uint64_t chip_cycle) const {
  return chip_cycle * chip_period_ps_ / tck_ps_;
}

std::uint64_t ChipHbm::to_chip(hbm::Cycle hbm_cycle) const {
  return (hbm_cycle * tck_ps_ + chip_period_ps_ - 1) / chip_period_ps_;
}

hbm::Cycle ChipHbm::issue(std::uint64_t address, bool is_write, hbm::Cycle arrival) {
  if (!use_tlm_) {
    hbm::Request r;
    r.id = next_id_++;
    r.address = address;
    r.is_write = is_write;
    r.arrival = arrival;
    return core().submit(r);
  }
  const sc_core::sc_time tck(static_cast<double>(tck_ps_), sc_core::SC_PS);
  const sc_core::sc_time at = tck * static_cast<double>(arrival);
  if (at > sc_core::sc_time_stamp()) sc_core::wait(at - sc_core::sc_time_stamp());
  if (free_slots_.empty()) {
    free_slots_.push_back(slots_.size());
    Slot& s = slots_.emplace_back();
    s.index = slots_.size() - 1;
    s.data.resize(access_bytes_);
  }
  Slot& p = slots_[free_slots_.back()];
  free_slots_.pop_back();
  std::uint8_t* d = p.data.data();
  // The functional copy already happened; a write carries the bytes now in storage.
  if (is_write) target_.storage().read(address, {d, access_bytes_});
  p.set_command(is_write ? tlm::TLM_WRITE_COMMAND : tlm::TLM_READ_COMMAND);
  p.set_address(address);
  p.set_data_ptr(d);
  p.set_data_length(access_bytes_);
  p.set_streaming_width(access_bytes_);
  p.set_byte_enable_ptr(nullptr);
  p.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
  tlm::tlm_phase phase = tlm::BEGIN_REQ;
  sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
  const tlm::tlm_sync_enum s = socket->nb_transport_fw(p, phase, delay);
  if (s != tlm::TLM_UPDATED || phase != tlm::END_REQ || p.is_response_error()) {
    throw EngineError{regs::Fault::kBadAddress, fmt::format("HBM refused an access at 0x{:x} ({})",
                                                            address, p.get_response_string())};
  }
  return (sc_core::sc_time_stamp() + delay).value() / tck.value();
}

tlm::tlm_sync_enum ChipHbm::nb_transport_bw(tlm::tlm_generic_payload& p, tlm::tlm_phase& phase,
                                            sc_core::sc_time& delay) {
  if (phase == tlm::BEGIN_RESP) {
    // Only this initiator's slots travel on its socket; the transaction ends here (COMPLETED).
    free_slots_.push_back(static_cast<Slot&>(p).index);
    const sc_core::sc_time tck(static_cast<double>(tck_ps_), sc_core::SC_PS);
    last_done_ =
        std::max<hbm::Cycle>(last_done_, (sc_core::sc_time_stamp() + delay).value() / tck.value());
    ++responses_;
    response_event_.notify(delay);
    return tlm::TLM_COMPLETED;
  }
  return tlm::TLM_ACCEPTED;
}

std::uint64_t ChipHbm::time_requests(std::span<const std::uint64_t> addrs, std::uint32_t bytes,
                                     bool is_write, std::uint64_t start_cycle) {
  if (addrs.empty()) return start_cycle;
  // The DMA's HBM side moves dma_bytes_per_cycle per chip cycle: pace arrivals at that rate.
  const hbm::Cycle t0 = to_hbm(start_cycle);
  const double accesses_per_hbm_cycle = static_cast<double>(dma_bytes_per_cycle_) / access_bytes_ *
                                        static_cast<double>(tck_ps_) /
                                        static_cast<double>(chip_period_ps_);
  hbm::Cycle prev_accept = t0;
  std::uint64_t n = 0;
  const std::uint64_t responses0 = responses_;
  last_done_ = 0;
  for (const std::uint64_t a : addrs) {
    for (std::uint64_t off = 0; off < bytes; off += access_bytes_, ++n) {
      const auto paced =
          t0 + static_cast<hbm::Cycle>(static_cast<double>(n) / accesses_per_hbm_cycle);
      prev_accept = issue(a + off, is_write, std::max(paced, prev_accept));
      if (on_accept_) on_accept_(a + off, prev_accept);
    }
  }
  (is_write ? bytes_written_ : bytes_read_) += addrs.size() * std::uint64_t{bytes};
  hbm::Cycle done = 0;
  if (use_tlm_) {
    while (responses_ - responses0 < n) sc_core::wait(response_event_);
    done = last_done_;
    // Back onto the chip's clock: the engine continues at the start of a chip cycle.
    const sc_core::sc_time end =
        sc_core::sc_time(static_cast<double>(chip_period_ps_), sc_core::SC_PS) *
        static_cast<double>(to_chip(done));
    if (end > sc_core::sc_time_stamp()) sc_core::wait(end - sc_core::sc_time_stamp());
  } else {
    done = core().drain();
  }
  return std::max(start_cycle, to_chip(done));
}

}  // namespace mxemu::chip
