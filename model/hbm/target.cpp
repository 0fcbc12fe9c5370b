#include "model/hbm/target.h"

#include <algorithm>

namespace mxemu::hbm {

using sc_core::sc_time;

HbmTarget::HbmTarget(const sc_core::sc_module_name& name, const HbmConfig& config)
    : sc_core::sc_module(name),
      socket("socket"),
      core_(config),
      tck_(static_cast<double>(config.timing.tck_ps), sc_core::SC_PS) {
  core_.keep_completions(true);
  socket.register_nb_transport_fw(this, &HbmTarget::nb_transport_fw);
  socket.register_b_transport(this, &HbmTarget::b_transport);
  socket.register_transport_dbg(this, &HbmTarget::transport_dbg);
  SC_HAS_PROCESS(HbmTarget);
  SC_METHOD(wake);
  sensitive << wake_ev_;
  dont_initialize();
}

bool HbmTarget::access_storage(tlm::tlm_generic_payload& trans) {
  const std::uint64_t addr = trans.get_address();
  const unsigned len = trans.get_data_length();
  if (trans.get_byte_enable_ptr() != nullptr) {
    trans.set_response_status(tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE);
    return false;
  }
  if (len == 0 || !core_.storage().contains(addr, len) || trans.get_streaming_width() < len) {
    trans.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
    return false;
  }
  if (trans.is_read()) {
    core_.storage().read(addr, {trans.get_data_ptr(), len});
  } else if (trans.is_write()) {
    core_.storage().write(addr, {trans.get_data_ptr(), len});
  } else {
    trans.set_response_status(tlm::TLM_COMMAND_ERROR_RESPONSE);
    return false;
  }
  trans.set_response_status(tlm::TLM_OK_RESPONSE);
  return true;
}

Cycle HbmTarget::submit_pieces(tlm::tlm_generic_payload& trans, Cycle arrival, bool blocking) {
  const std::uint64_t ab = core_.config().org.access_bytes;
  const std::uint64_t first = trans.get_address() / ab;
  const std::uint64_t last = (trans.get_address() + trans.get_data_length() - 1) / ab;
  const std::uint64_t id = next_txn_++;
  Txn& t = txns_[id];
  t.trans = &trans;
  t.remaining = static_cast<std::uint32_t>(last - first + 1);
  t.blocking = blocking;
  Cycle accepted = arrival;
  for (std::uint64_t p = first; p <= last; ++p) {
    const std::uint64_t piece = next_piece_++;
    piece_txn_[piece] = id;
    accepted = core_.submit(Request{piece, p * ab, trans.is_write(), accepted});
  }
  return accepted;
}

void HbmTarget::deliver(const std::vector<Completion>& done) {
  for (const Completion& c : done) {
    const auto it = piece_txn_.find(c.id);
    const std::uint64_t id = it->second;
    piece_txn_.erase(it);
    Txn& t = txns_.at(id);
    t.done = std::max(t.done, c.done);
    if (--t.remaining == 0 && !t.blocking) ready_.push_back(id);
  }
}

tlm::tlm_sync_enum HbmTarget::nb_transport_fw(tlm::tlm_generic_payload& trans,
                                              tlm::tlm_phase& phase, sc_time& delay) {
  if (phase == tlm::END_RESP) {
    response_busy_ = false;
    send_responses();
    return tlm::TLM_COMPLETED;
  }
  if (phase != tlm::BEGIN_REQ) return tlm::TLM_ACCEPTED;  // nothing else is expected
  if (!access_storage(trans)) return tlm::TLM_COMPLETED;
  const sc_time& now = sc_core::sc_time_stamp();  // no wait() below: time stands still
  const Cycle arrival = cycle_of(now + delay);
  if (trans.has_mm()) trans.acquire();
  const Cycle accepted = submit_pieces(trans, arrival, false);
  phase = tlm::END_REQ;
  delay = time_of(accepted) - now;
  schedule_wake();
  return tlm::TLM_UPDATED;
}

void HbmTarget::b_transport(tlm::tlm_generic_payload& trans, sc_time& delay) {
  if (!access_storage(trans)) return;
  const sc_time start = sc_core::sc_time_stamp() + delay;
  const Cycle arrival = cycle_of(start);
  const std::uint64_t id = next_txn_;
  submit_pieces(trans, arrival, true);
  while (txns_.at(id).remaining > 0) {
    const std::optional<Cycle> d = core_.next_decision();
    const std::optional<Cycle> c = core_.next_completion();
    if (c && (!d || *c <= *d)) {
      deliver(core_.pop_completions(*c));
    } else {
      core_.advance(*d + 1);
    }
  }
  delay += time_of(txns_.at(id).done) - start;
  txns_.erase(id);
}

unsigned int HbmTarget::transport_dbg(tlm::tlm_generic_payload& trans) {
  const std::uint64_t addr = trans.get_address();
  const unsigned len = trans.get_data_length();
  if (!core_.storage().contains(addr, len)) return 0;
  if (trans.is_read()) {
    core_.storage().read(addr, {trans.get_data_ptr(), len});
  } else if (trans.is_write()) {
    core_.storage().write(addr, {trans.get_data_ptr(), len});
  } else {
    return 0;
  }
  trans.set_response_status(tlm::TLM_OK_RESPONSE);
  return len;
}

void HbmTarget::send_responses() {
  while (!response_busy_ && !ready_.empty()) {
    const std::uint64_t id = ready_.front();
    ready_.pop_front();
    tlm::tlm_generic_payload* trans = txns_.at(id).trans;
    txns_.erase(id);
    tlm::tlm_phase phase = tlm::BEGIN_RESP;
    sc_time delay = sc_core::SC_ZERO_TIME;
    const tlm::tlm_sync_enum r = socket->nb_transport_bw(*trans, phase, delay);
    if (r == tlm::TLM_ACCEPTED) response_busy_ = true;  // END_RESP comes on the forward path
    if (trans->has_mm()) trans->release();
  }
}

// At cycle c: commit the commands before c (a request arriving at c, in any order within this
// time step, is still seen by the commands at c), then answer the completions due by c.
void HbmTarget::wake() {
  const Cycle now = cycle_of(sc_core::sc_time_stamp());
  core_.advance(now);
  deliver(core_.pop_completions(now));
  send_responses();
  schedule_wake();
}

void HbmTarget::schedule_wake() {
  std::optional<Cycle> next = core_.next_completion();
  if (const std::optional<Cycle> d = core_.next_decision(); d && (!next || *d + 1 < *next)) {
    next = *d + 1;
  }
  if (!next) return;
  const sc_time& now = sc_core::sc_time_stamp();  // no wait() below: time stands still
  const sc_time at = std::max(time_of(*next), now);
  wake_ev_.notify(at - now);
}

}  // namespace mxemu::hbm
