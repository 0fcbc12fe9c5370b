// A TLM-2.0 AT initiator that plays a trace into a target: each request is sent with BEGIN_REQ at
// its time stamp, but not before the previous one got END_REQ (as fast as accepted), and every
// BEGIN_RESP is answered with TLM_COMPLETED. Used by the tests and the benchmark to drive
// HbmTarget exactly as `replay` drives HbmCore.
#pragma once

#include <tlm_utils/simple_initiator_socket.h>
#include <systemc>
#include <tlm>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "model/hbm/trace.h"

namespace mxemu::hbm {

class AtPlayer : public sc_core::sc_module {
 public:
  tlm_utils::simple_initiator_socket<AtPlayer> socket;

  AtPlayer(const sc_core::sc_module_name& name, std::vector<TraceEntry> trace,
           const sc_core::sc_time& tck, std::uint32_t access_bytes)
      : sc_core::sc_module(name),
        socket("socket"),
        trace_(std::move(trace)),
        tck_(tck),
        payloads_(trace_.size()),
        data_(trace_.size() * access_bytes),
        done_cycles_(trace_.size(), 0),
        access_bytes_(access_bytes) {
    socket.register_nb_transport_bw(this, &AtPlayer::nb_transport_bw);
    SC_HAS_PROCESS(AtPlayer);
    SC_THREAD(run);
  }

  // Completion cycle of each request (time of its BEGIN_RESP / tck), in trace order.
  const std::vector<std::uint64_t>& done_cycles() const { return done_cycles_; }
  std::uint64_t responses() const { return responses_; }

 private:
  void run() {
    for (std::size_t i = 0; i < trace_.size(); ++i) {
      const TraceEntry& e = trace_[i];
      const sc_core::sc_time stamp = tck_ * static_cast<double>(e.cycle);
      if (stamp > sc_core::sc_time_stamp()) wait(stamp - sc_core::sc_time_stamp());
      tlm::tlm_generic_payload& p = payloads_[i];
      const std::uint64_t base = e.address / access_bytes_ * access_bytes_;
      p.set_command(e.is_write ? tlm::TLM_WRITE_COMMAND : tlm::TLM_READ_COMMAND);
      p.set_address(base);
      std::uint8_t* d = &data_[i * access_bytes_];
      if (!e.data.empty()) std::copy(e.data.begin(), e.data.end(), d + (e.address - base));
      p.set_data_ptr(d);
      p.set_data_length(access_bytes_);
      p.set_streaming_width(access_bytes_);
      p.set_byte_enable_ptr(nullptr);
      p.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
      tlm::tlm_phase phase = tlm::BEGIN_REQ;
      sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
      const tlm::tlm_sync_enum r = socket->nb_transport_fw(p, phase, delay);
      if (r == tlm::TLM_UPDATED && phase == tlm::END_REQ) {
        wait(delay);
      } else if (r == tlm::TLM_ACCEPTED) {
        wait(end_req_);
      } else {
        SC_REPORT_ERROR("AtPlayer", "request refused");
      }
    }
  }

  tlm::tlm_sync_enum nb_transport_bw(tlm::tlm_generic_payload& p, tlm::tlm_phase& phase,
                                     sc_core::sc_time& delay) {
    if (phase == tlm::END_REQ) {
      end_req_.notify(delay);
      return tlm::TLM_ACCEPTED;
    }
    if (phase == tlm::BEGIN_RESP) {
      const auto i = static_cast<std::size_t>(&p - payloads_.data());
      done_cycles_[i] = (sc_core::sc_time_stamp() + delay).value() / tck_.value();
      ++responses_;
      return tlm::TLM_COMPLETED;
    }
    return tlm::TLM_ACCEPTED;
  }

  std::vector<TraceEntry> trace_;
  sc_core::sc_time tck_;
  std::vector<tlm::tlm_generic_payload> payloads_;
  std::vector<std::uint8_t> data_;
  std::vector<std::uint64_t> done_cycles_;
  std::uint32_t access_bytes_;
  std::uint64_t responses_ = 0;
  sc_core::sc_event end_req_;
};

}  // namespace mxemu::hbm
