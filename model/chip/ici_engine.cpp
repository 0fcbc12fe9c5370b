#include "model/chip/ici_engine.h"

#include <fmt/format.h>

#include <algorithm>

namespace mxemu::chip {

IciEngine::IciEngine(const sc_core::sc_module_name& name, ChipState& state, ici::Router& router,
                     const ici::IciConfig& cfg)
    : Engine(name, state, regs::kQueueIci, "ICI"), router_(router), cfg_(cfg) {
  router_.set_sink(this);
  router_.set_on_epoch([this](std::uint32_t e, std::uint32_t st) { on_epoch(e, st); });
}

void IciEngine::on_epoch(std::uint32_t epoch, std::uint32_t state) {
  state_.ici_state = state;
  if (epoch != epoch_) {
    epoch_ = epoch;
    state_.ici_epoch = epoch;
    if (state_.ici_ack_next_epoch) {  // a spare starting its program in this epoch
      state_.ici_epoch_ack = epoch;
      state_.ici_ack_next_epoch = false;
    }
    const std::uint64_t now = state_.now_cycle();
    for (const auto& [k, r] : posted_) {
      complete_async(r.seq, now);
      ++aborted_;
    }
    for (const std::uint64_t seq : pending_sends_) {
      complete_async(seq, now);
      ++aborted_;
    }
    posted_.clear();
    pending_sends_.clear();
    sends_in_flight_ = 0;
    early_.clear();
    early_bytes_ = 0;
    next_send_.clear();
    next_recv_.clear();
  }
  state_.notify_changed();
}

std::string IciEngine::op_name(std::uint32_t opcode) const {
  switch (opcode) {
    case regs::kOpIciSend:
      return "ICI_SEND";
    case regs::kOpIciRecv:
      return "ICI_RECV";
    case regs::kOpIciSignal:
      return "ICI_SIGNAL";
    default:
      return fmt::format("op{}", opcode);
  }
}

std::string IciEngine::slice_name(const Desc& d) const {
  const std::uint32_t opcode = regs::hdr::kOpcode.get(d.data());
  const std::uint32_t peer = regs::ici_send::kPeer.get(d.data());
  switch (opcode) {
    case regs::kOpIciSend:
      return fmt::format("ICI send {} to chip {}", size_label(regs::ici_send::kBytes.get(d.data())),
                         peer);
    case regs::kOpIciRecv:
      return fmt::format("ICI recv {} from chip {}",
                         size_label(regs::ici_send::kBytes.get(d.data())), peer);
    case regs::kOpIciSignal:
      return fmt::format("ICI signal sem {} of chip {}", regs::ici_signal::kSem.get(d.data()),
                         peer);
    default:
      return Engine::slice_name(d);
  }
}

bool IciEngine::busy() const {
  // Never by itself: a message waits for other chips. Its packets leaving and arriving are the
  // progress the deadlock watchdog sees instead (progress()).
  return false;
}

void IciEngine::extra_stats(nlohmann::json& j) const {
  j["bytes_sent"] = bytes_sent_;
  j["bytes_received"] = bytes_received_;
  j["messages_sent"] = messages_sent_;
  j["messages_received"] = messages_received_;
  j["signals_sent"] = signals_sent_;
  j["signals_received"] = signals_received_;
  j["early_bytes_max"] = early_bytes_;
  j["epoch"] = epoch_;
  j["aborted"] = aborted_;
  j["discarded"] = discarded_;
  j["held_for_rewire"] = held_;
  j["stale_packets_dropped"] = dropped_stale_;
}

Engine::Timing IciEngine::execute(const Desc& d, std::uint64_t now) {
  if (state_.ici_epoch_ack != epoch_) {
    // The pod was rewired and the firmware has not acknowledged the new epoch: a descriptor of
    // the interrupted plan (queued behind a semaphore, or pushed before the firmware noticed)
    // completes without being done, so nothing of it travels in the new epoch.
    ++discarded_;
    return Timing{now + 1, now + 1};
  }
  const std::uint32_t opcode = regs::hdr::kOpcode.get(d.data());
  const std::uint32_t peer = regs::ici_send::kPeer.get(d.data());
  const std::uint32_t chips = state_.id.num_chips;
  // False: the peer cannot be reached while the pod is being rewired around a failed chip
  // (ICI_STATE 1); the descriptor then waits for the new epoch, which aborts it.
  const auto check_peer = [&](const char* what) {
    if (peer >= chips) {
      throw EngineError{regs::Fault::kBadField,
                        fmt::format("{} names chip {}, but the pod has {} chip{} (0..{})", what,
                                    peer, chips, chips == 1 ? "" : "s", chips - 1)};
    }
    if (!router_.reachable(peer) && state_.ici_state == 1) return false;
    if (!router_.reachable(peer)) {
      throw EngineError{regs::Fault::kBadAddress,
                        fmt::format("{}: no route from chip {} to chip {} (failed links)", what,
                                    state_.id.index, peer)};
    }
    return true;
  };
  const auto wait_for_epoch = [&] {
    pending_sends_.insert(current_seq());  // completed (aborted) by on_epoch
    ++held_;
    return Timing{now + cfg_.engine_setup_cycles, kAsync};
  };
  const std::uint64_t start = now + cfg_.engine_setup_cycles;
  const ici::Ps ready = start * state_.clock().period_ps;  // packets leave after the start-up
  if (opcode == regs::kOpIciSignal) {
    if (!check_peer("ICI_SIGNAL")) return wait_for_epoch();
    const std::uint32_t sem = regs::ici_signal::kSem.get(d.data());
    if (sem >= regs::kNumSemaphores) {
      throw EngineError{regs::Fault::kBadField,
                        fmt::format("ICI_SIGNAL: semaphore {} does not exist", sem)};
    }
    ici::Packet p;
    p.kind = ici::Packet::Kind::kSignal;
    p.src_chip = state_.id.index;
    p.dst_chip = peer;
    p.tag = sem;
    p.epoch = epoch_;
    const std::uint64_t seq = current_seq();
    ++signals_sent_;
    pending_sends_.insert(seq);
    router_.inject(
        std::move(p),
        [this, seq] {
          ++moved_;
          if (pending_sends_.erase(seq) != 0) complete_async(seq, state_.now_cycle());
        },
        ready);
    return Timing{start, kAsync};
  }
  if (opcode != regs::kOpIciSend && opcode != regs::kOpIciRecv) {
    throw EngineError{regs::Fault::kBadOpcode, fmt::format("unknown ICI opcode {}", opcode)};
  }
  const bool send = opcode == regs::kOpIciSend;
  const char* what = send ? "ICI_SEND" : "ICI_RECV";
  if (!check_peer(what) && send) return wait_for_epoch();  // a RECV is posted: aborted alike
  namespace f = regs::ici_send;                            // RECV has the same layout
  const std::uint32_t tag = f::kTag.get(d.data());
  const std::uint64_t addr =
      (std::uint64_t{f::kAddrHi.get(d.data())} << 32) | f::kAddrLo.get(d.data());
  const std::uint64_t bytes = f::kBytes.get(d.data());
  if (bytes == 0) throw EngineError{regs::Fault::kBadField, fmt::format("{}: BYTES = 0", what)};
  // A SEND's packets carry copies of the whole message from dispatch on: bounded host memory.
  constexpr std::uint64_t kMaxMessageBytes = std::uint64_t{256} << 20;
  if (bytes > kMaxMessageBytes) {
    throw EngineError{regs::Fault::kBadField,
                      fmt::format("{}: BYTES = {} is above the {} bytes (256 MiB) one message may "
                                  "carry; split it into several",
                                  what, bytes, kMaxMessageBytes)};
  }
  const SpaceAddr at =
      state_.resolve(addr, bytes, send ? "ICI_SEND source" : "ICI_RECV destination");
  const std::uint64_t seq = current_seq();

  if (send) {
    const std::uint64_t msg = next_send_[{peer, tag}]++;
    const std::uint64_t chunk = cfg_.max_payload_bytes;
    ++messages_sent_;
    ++sends_in_flight_;
    pending_sends_.insert(seq);
    for (std::uint64_t off = 0; off < bytes; off += chunk) {
      ici::Packet p;
      p.src_chip = state_.id.index;
      p.dst_chip = peer;
      p.tag = tag;
      p.msg_id = msg;
      p.offset = off;
      p.msg_bytes = bytes;
      p.epoch = epoch_;
      p.payload.resize(std::min(chunk, bytes - off));
      SpaceAddr a = at;
      a.offset += off;
      state_.read_bytes(a, p.payload);
      const bool last = off + chunk >= bytes;
      router_.inject(
          std::move(p),
          [this, seq, last] {
            ++moved_;
            if (last && pending_sends_.erase(seq) != 0) {
              --sends_in_flight_;
              complete_async(seq, state_.now_cycle());
            }
          },
          ready);
    }
    bytes_sent_ += bytes;
    return Timing{start, kAsync};
  }

  const Key key{peer, tag, next_recv_[{peer, tag}]++};
  Recv r;
  r.seq = seq;
  r.dst = at;
  r.bytes = bytes;
  auto [it, inserted] = posted_.emplace(key, std::move(r));
  // What arrived before this RECV lands now.
  if (auto e = early_.find(key); e != early_.end()) {
    for (const ici::Packet& p : e->second) {
      early_bytes_ -= p.payload.size();
      if (p.msg_bytes != bytes) {
        throw EngineError{regs::Fault::kBadField,
                          fmt::format("ICI_RECV of {} bytes from chip {} (tag {}) matched a "
                                      "message of {} bytes",
                                      bytes, peer, tag, p.msg_bytes)};
      }
      land(it->second, p);
    }
    early_.erase(e);
  }
  ++messages_received_;
  finish_if_complete(key);
  return Timing{start, kAsync};
}

void IciEngine::land(Recv& r, const ici::Packet& p) {
  if (!r.offsets.insert(p.offset).second) return;  // a resend of what is here already
  SpaceAddr a = r.dst;
  a.offset += p.offset;
  state_.write_bytes(a, p.payload);
  r.got += p.payload.size();
  bytes_received_ += p.payload.size();
}

void IciEngine::finish_if_complete(const Key& k) {
  auto it = posted_.find(k);
  if (it == posted_.end() || it->second.got < it->second.bytes) return;
  complete_async(it->second.seq, state_.now_cycle());
  posted_.erase(it);
}

bool IciEngine::deliver(const ici::Packet& p) {
  if (state_.halted) return true;  // a chip that has ended swallows what still comes
  if (p.epoch < epoch_) {
    ++dropped_stale_;  // sent before the pod was rewired: its collective starts over
    return true;
  }
  ++moved_;
  if (p.kind == ici::Packet::Kind::kSignal) {
    ++state_.sems[p.tag];
    ++state_.sem_events;
    ++signals_received_;
    state_.notify_changed();
    return true;
  }
  const Key key{p.src_chip, p.tag, p.msg_id};
  if (auto it = posted_.find(key); it != posted_.end()) {
    if (p.msg_bytes != it->second.bytes) {
      raise(it->second.seq, regs::kOpIciRecv,
            EngineError{regs::Fault::kBadField,
                        fmt::format("ICI_RECV of {} bytes from chip {} (tag {}) matched a message "
                                    "of {} bytes",
                                    it->second.bytes, p.src_chip, p.tag, p.msg_bytes)});
      return true;
    }
    land(it->second, p);
    finish_if_complete(key);
    return true;
  }
  // Already completed (a duplicate after a reroute) or not yet posted.
  if (std::get<2>(key) < next_recv_[{p.src_chip, p.tag}]) return true;
  if (early_bytes_ + p.payload.size() > cfg_.ejection_bytes) {
    --moved_;
    return false;  // back-pressure: the packet waits in the link's buffer
  }
  auto& v = early_[key];
  for (const ici::Packet& q : v) {
    if (q.offset == p.offset) return true;  // duplicate
  }
  early_bytes_ += p.payload.size();
  v.push_back(p);
  return true;
}

std::string IciEngine::waiting_on() const {
  std::string s;
  for (const auto& [k, r] : posted_) {
    s +=
        fmt::format("{}ICI_RECV #{} waits for message {} with tag {} from chip {} ({} of {} bytes)",
                    s.empty() ? "" : "; ", r.seq, std::get<2>(k), std::get<1>(k), std::get<0>(k),
                    r.got, r.bytes);
  }
  if (early_bytes_ > 0) {
    s += fmt::format("{}{} bytes arrived without a matching ICI_RECV", s.empty() ? "" : "; ",
                     early_bytes_);
  }
  const std::string router = router_.describe_stall();
  if (!router.empty()) s += (s.empty() ? std::string("ICI") : std::string()) + router;
  return s;
}

}  // namespace mxemu::chip
