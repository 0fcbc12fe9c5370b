// The ICI engine (queue 2): messages between chips over the interconnect (model/ici).
// ICI_SEND cuts a VMEM/ACC/HBM region into packets (max_payload_bytes each) addressed to a peer
// and hands them to the chip's router; it completes when the last one has left the chip.
// ICI_RECV posts a receive: the next message with that tag from that peer lands in its region,
// packet by packet, and the descriptor completes when every byte is there. Messages match per
// (peer, tag) in order; data that arrives before its RECV waits in an ejection buffer
// ([ici] ejection_bytes) and, when that is full, in the links (credits stop the sender).
// ICI_SIGNAL adds 1 to a semaphore of the peer. Completions depend on other chips, so SEND and
// RECV complete asynchronously (Engine::kAsync) and still retire in queue order.
#pragma once

#include <map>
#include <set>
#include <tuple>
#include <vector>

#include "model/chip/engine.h"
#include "model/ici/ici_config.h"
#include "model/ici/router.h"

namespace mxemu::chip {

class IciEngine : public Engine, public ici::RouterSink {
 public:
  IciEngine(const sc_core::sc_module_name& name, ChipState& state, ici::Router& router,
            const ici::IciConfig& cfg);

  bool deliver(const ici::Packet& p) override;
  std::uint64_t progress() const override { return Engine::progress() + moved_; }
  bool busy() const override;
  std::string waiting_on() const override;
  std::uint64_t early_bytes() const { return early_bytes_; }

 protected:
  Timing execute(const Desc& d, std::uint64_t now) override;
  std::string op_name(std::uint32_t opcode) const override;
  std::string slice_name(const Desc& d) const override;
  void extra_stats(nlohmann::json& j) const override;

 private:
  using Key = std::tuple<std::uint32_t, std::uint32_t, std::uint64_t>;  // peer, tag, message
  struct Recv {
    std::uint64_t seq = 0;  // the RECV descriptor
    SpaceAddr dst;
    std::uint64_t bytes = 0;
    std::uint64_t got = 0;
    std::set<std::uint64_t> offsets;  // packets already written (a rerouted resend may repeat)
  };
  void land(Recv& r, const ici::Packet& p);
  // The interconnect's epoch changed (a chip was replaced): every message still pending is
  // aborted (its descriptor completes; firmware sees the new ICI_EPOCH and starts over), older
  // packets are dropped, and message numbering starts again.
  void on_epoch(std::uint32_t epoch, std::uint32_t state);
  void finish_if_complete(const Key& k);

  ici::Router& router_;
  const ici::IciConfig& cfg_;
  std::map<std::pair<std::uint32_t, std::uint32_t>, std::uint64_t> next_send_, next_recv_;
  std::map<Key, Recv> posted_;
  std::map<Key, std::vector<ici::Packet>> early_;  // arrived before their RECV
  std::uint64_t early_bytes_ = 0;
  std::uint64_t moved_ = 0;  // packets sent and delivered (watchdog progress)
  std::uint64_t bytes_sent_ = 0, bytes_received_ = 0, messages_sent_ = 0, messages_received_ = 0;
  std::uint64_t signals_sent_ = 0, signals_received_ = 0;
  std::uint64_t sends_in_flight_ = 0;
  std::set<std::uint64_t> pending_sends_;  // SEND / SIGNAL descriptors not yet complete
  std::uint32_t epoch_ = 0;
  std::uint64_t aborted_ = 0, dropped_stale_ = 0, discarded_ = 0, held_ = 0;
};

}  // namespace mxemu::chip
