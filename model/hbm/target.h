// The SystemC shell of the HBM controller: one TLM-2.0 target socket in front of HbmCore.
//  - nb_transport (AT, 4-phase): BEGIN_REQ is answered with END_REQ (TLM_UPDATED, delay = the
//    cycle the controller queue accepted the last 32-byte piece); BEGIN_RESP goes back on the
//    backward path when every piece has completed; the initiator answers END_RESP (or
//    TLM_COMPLETED). One response is outstanding at a time (TLM response exclusion rule).
//  - b_transport (fast mode): the same timing engine, run at once for this transaction; the
//    delay is increased by its latency. Do not mix with nb_transport in one run.
//  - transport_dbg: reads and writes storage without timing (loading, inspection).
// A request received at simulated time T arrives at the first HBM clock edge at or after T (so an
// initiator that sends at END_REQ gets the same cycles as HbmCore driven directly). Data moves
// at BEGIN_REQ (reads see every write accepted before them). Out-of-range accesses get
// TLM_ADDRESS_ERROR_RESPONSE, byte enables TLM_BYTE_ENABLE_ERROR_RESPONSE, completed at once.
#pragma once

#include <tlm_utils/simple_target_socket.h>
#include <systemc>
#include <tlm>

#include <cstdint>
#include <deque>
#include <unordered_map>

#include "model/hbm/config.h"
#include "model/hbm/controller.h"

namespace mxemu::hbm {

class HbmTarget : public sc_core::sc_module {
 public:
  tlm_utils::simple_target_socket<HbmTarget> socket;

  HbmTarget(const sc_core::sc_module_name& name, const HbmConfig& config);

  HbmCore& core() { return core_; }
  Storage& storage() { return core_.storage(); }  // direct preload / inspection
  sc_core::sc_time clock_period() const { return tck_; }
  // Number of transactions accepted and not yet answered.
  std::size_t outstanding() const { return txns_.size(); }

 private:
  struct Txn {
    tlm::tlm_generic_payload* trans = nullptr;
    std::uint32_t remaining = 0;
    Cycle done = 0;
    bool blocking = false;
  };

  tlm::tlm_sync_enum nb_transport_fw(tlm::tlm_generic_payload& trans, tlm::tlm_phase& phase,
                                     sc_core::sc_time& delay);
  void b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay);
  unsigned int transport_dbg(tlm::tlm_generic_payload& trans);

  // Checks and performs the data movement; false (status set) when the transaction is refused.
  bool access_storage(tlm::tlm_generic_payload& trans);
  // Submits the 32-byte pieces of `trans` arriving at `arrival`; returns the last accept cycle.
  Cycle submit_pieces(tlm::tlm_generic_payload& trans, Cycle arrival, bool blocking);
  void deliver(const std::vector<Completion>& done);
  void send_responses();
  void wake();
  void schedule_wake();
  // First clock edge at or after t.
  Cycle cycle_of(const sc_core::sc_time& t) const {
    return (t.value() + tck_.value() - 1) / tck_.value();
  }
  sc_core::sc_time time_of(Cycle c) const { return tck_ * static_cast<double>(c); }

  HbmCore core_;
  sc_core::sc_time tck_;
  sc_core::sc_event wake_ev_;
  std::uint64_t next_piece_ = 0, next_txn_ = 0;
  std::unordered_map<std::uint64_t, std::uint64_t> piece_txn_;
  std::unordered_map<std::uint64_t, Txn> txns_;
  std::deque<std::uint64_t> ready_;  // transactions waiting for BEGIN_RESP
  bool response_busy_ = false;       // BEGIN_RESP sent, END_RESP not yet received
};

}  // namespace mxemu::hbm
