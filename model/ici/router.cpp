#include "model/ici/router.h"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>

namespace mxemu::ici {

Ps now_ps() {
  return static_cast<Ps>(sc_core::sc_time_stamp().value() /
                         sc_core::sc_time(1, sc_core::SC_PS).value());
}

namespace {
sc_core::sc_time ps_time(Ps ps) {
  return {static_cast<double>(ps), sc_core::SC_PS};
}
}  // namespace

Router::Router(const sc_core::sc_module_name& name, const IciConfig& cfg, std::uint32_t chip)
    : sc_core::sc_module(name), cfg_(cfg), chip_(chip) {
  SC_THREAD(thread);
}

void Router::attach(std::uint32_t port, Lane* out, Lane* in, Ps latency, std::uint64_t credits,
                    std::uint32_t vcs, std::uint64_t seed, std::uint32_t peer_chip) {
  Port& p = ports_.at(port);
  p.out = out;
  p.in = in;
  p.peer = peer_chip;
  if (p.tx) {  // a rewired link keeps its past in the stats
    // What still waits in this port's input buffers came over the old link and holds none of
    // the new one's credits: it is routed on from the router's own queue (ahead, in order).
    std::deque<Entry> left;
    for (auto& q : p.buf) {
      std::move(q.begin(), q.end(), std::back_inserter(left));
      q.clear();
    }
    local_.insert(local_.begin(), std::make_move_iterator(left.begin()),
                  std::make_move_iterator(left.end()));
    PortStats h;
    h.tx = p.tx->stats();
    h.forwarded = p.forwarded - p.forwarded_base;
    p.history.push_back(h);
  }
  p.forwarded_base = p.forwarded;
  p.tx = std::make_unique<LinkTx>(cfg_, latency, credits, vcs, seed);
  p.rx = LinkRx{};
  if (!remote_ && p.buf.size() < vcs) p.buf.resize(vcs);
  if (in != nullptr) in->set_receiver(&kick_);
  if (record_links_) {
    const Ps now = now_ps();
    p.log.state.emplace_back(now, LinkState::kUp);
    for (std::uint32_t vc = 0; vc < vcs; ++vc) {
      p.log.credits.push_back(CreditSample{now, vc, p.tx->credits(vc), false});
    }
  }
  kick();
}

void Router::note_link_state(std::uint32_t port, LinkState s) {
  if (record_links_) ports_.at(port).log.state.emplace_back(now_ps(), s);
}

void Router::note_credits(Port& port, std::uint32_t vc, Ps now) {
  if (record_links_) port.log.credits.push_back(CreditSample{now, vc, port.tx->credits(vc), true});
}

void Router::link_failed(std::uint32_t port) {
  Port& p = ports_.at(port);
  // Whatever waited in this port's input buffers stays and is routed anew; the packets the port
  // had sent without an ACK may be lost: they go back to the front of the router's own queue
  // (the destination drops any it already has).
  std::deque<Entry> back;
  if (p.tx) {
    for (const auto& sp : p.tx->take_unacked()) {
      Entry e;
      e.packet = *sp;
      e.ready = now_ps();
      back.push_back(std::move(e));
    }
  }
  local_.insert(local_.begin(), std::make_move_iterator(back.begin()),
                std::make_move_iterator(back.end()));  // ahead of the rest, in order
  note_link_state(port, LinkState::kDown);
  p.out = nullptr;
  p.in = nullptr;
  kick();
}

void Router::set_epoch(std::uint32_t epoch, std::uint32_t state) {
  if (epoch != epoch_) {
    epoch_ = epoch;
    const Ps now = now_ps();
    const auto stale = [&](const Entry& e) { return e.packet.epoch < epoch_; };
    std::erase_if(local_, stale);
    for (std::uint32_t pi = 0; pi < kMaxPorts; ++pi) {
      for (std::uint32_t vc = 0; vc < ports_[pi].buf.size(); ++vc) {
        auto& q = ports_[pi].buf[vc];
        for (const Entry& e : q) {
          if (stale(e)) return_credit(pi, vc, e.packet, now);
        }
        std::erase_if(q, stale);
      }
    }
  }
  if (on_epoch_) on_epoch_(epoch, state);
  kick();
}

void Router::detach(std::uint32_t port) {
  Port& p = ports_.at(port);
  note_link_state(port, LinkState::kDown);
  p.out = nullptr;
  p.in = nullptr;
  kick();
}

void Router::set_routes(const RouteView& r) {
  routes_ = r;
  kick();
}

void Router::set_halted(bool h) {
  halted_ = h;
  kick();
}

void Router::inject(Packet p, std::function<void()> on_sent, Ps ready) {
  Entry e;
  e.packet = std::move(p);
  e.packet.hops = 0;
  e.ready = std::max(ready, now_ps());
  e.on_sent = std::move(on_sent);
  local_.push_back(std::move(e));
  kick();
}

bool Router::reachable(std::uint32_t dst) const {
  if (!routes_.physical || dst >= routes_.physical->size()) return false;
  const std::uint32_t phys = (*routes_.physical)[dst];
  return phys == chip_ || routes_.routes->next_port(chip_, phys).has_value();
}

std::optional<std::uint32_t> Router::out_port(const Packet& p) const {
  if (!routes_.routes) return std::nullopt;
  const std::uint32_t dst = (*routes_.physical)[p.dst_chip];
  return routes_.routes->next_port(chip_, dst);
}

void Router::return_credit(std::uint32_t in_port, std::uint32_t vc, const Packet& p, Ps now) {
  Port& port = ports_[in_port];
  if (port.out == nullptr) return;  // the link is gone: nobody waits for these credits
  Control c{Control::Kind::kCredit, 0, vc, cfg_.header_bytes + p.payload.size(),
            now + port.tx->latency()};
  port.out->push(c, now);
}

bool Router::try_deliver(std::deque<Entry>& q, std::optional<std::uint32_t> in_port,
                         std::uint32_t vc, Ps now) {
  if (q.empty() || q.front().ready > now) return false;
  Entry& e = q.front();
  if (!routes_.physical || (*routes_.physical)[e.packet.dst_chip] != chip_) return false;
  if (sink_ == nullptr || !sink_->deliver(e.packet)) return false;
  if (in_port) return_credit(*in_port, vc, e.packet, now);
  if (e.on_sent) e.on_sent();
  q.pop_front();
  return true;
}

void Router::note_span(Port& port, Ps start, Ps end, std::uint64_t bytes) {
  if (!record_) return;
  if (!port.spans.empty() && port.spans.back().end == start) {
    port.spans.back().end = end;
    ++port.spans.back().packets;
    port.spans.back().bytes += bytes;
  } else {
    port.spans.push_back(BusySpan{start, end, 1, bytes});
  }
}

void Router::step(Ps now) {
  // 1. Arrivals: control messages for our senders, flights for our receivers.
  for (std::uint32_t pi = 0; pi < kMaxPorts; ++pi) {
    Port& p = ports_[pi];
    if (p.in == nullptr) continue;
    while (p.in->control_ready(now)) {
      const Control c = p.in->pop_control();
      p.tx->on_control(c);
      if (c.kind == Control::Kind::kCredit) note_credits(p, c.vc, now);
    }
    while (p.in->flight_ready(now)) {
      const Flight f = p.in->pop_flight();
      LinkRx::Result r = p.rx.receive(f, now);
      for (Control& c : r.reply) {
        c.arrival = now + p.tx->latency();
        if (p.out != nullptr) p.out->push(c, now);
      }
      if (!r.accept) continue;
      Entry e;
      e.packet = *f.packet;
      const std::uint32_t vc = e.packet.hops;
      ++e.packet.hops;
      e.ready = now + Ps{cfg_.router_ns} * 1000;
      if (vc >= p.buf.size()) p.buf.resize(vc + 1);
      p.buf[vc].push_back(std::move(e));
    }
  }
  if (halted_) return;
  // 2. Timeouts of unacknowledged packets.
  for (Port& p : ports_) {
    if (p.tx && p.out != nullptr && !p.out->dark() && p.tx->timeout_at() <= now) {
      p.tx->on_timeout(now);
    }
  }
  // 3. Deliveries to this chip.
  while (try_deliver(local_, std::nullopt, 0, now)) {
  }
  for (std::uint32_t pi = 0; pi < kMaxPorts; ++pi) {
    for (std::uint32_t vc = 0; vc < ports_[pi].buf.size(); ++vc) {
      while (try_deliver(ports_[pi].buf[vc], pi, vc, now)) {
      }
    }
  }
  // 4. Transmissions: each free output port sends one packet (a resend first).
  struct Source {
    std::deque<Entry>* q;
    std::optional<std::uint32_t> in_port;
    std::uint32_t vc;
  };
  std::vector<Source> sources{{&local_, std::nullopt, 0}};
  for (std::uint32_t pi = 0; pi < kMaxPorts; ++pi) {
    for (std::uint32_t vc = 0; vc < ports_[pi].buf.size(); ++vc) {
      sources.push_back({&ports_[pi].buf[vc], pi, vc});
    }
  }
  for (std::uint32_t po = 0; po < kMaxPorts; ++po) {
    Port& out = ports_[po];
    if (out.out == nullptr || out.out->dark() || out.tx->free_at() > now) continue;
    if (out.tx->resend_pending()) {
      const Flight f = out.tx->resend(now);
      if (record_links_) out.log.resends.push_back(now);  // the port was free: it starts now
      note_span(out,
                f.arrival - out.tx->latency() -
                    cfg_.wire_ps(cfg_.header_bytes + f.packet->payload.size()),
                f.arrival - out.tx->latency(), f.packet->payload.size());
      out.out->push(f, now);
      continue;
    }
    bool starved_of_credits = false;
    for (std::size_t k = 0; k < sources.size(); ++k) {
      Source& s = sources[(rr_ + k) % sources.size()];
      if (s.q->empty()) continue;
      // A transit buffer sends its head only (one queue per input port and virtual channel).
      // The chip's own packets queue per output port in effect (virtual output queues): the
      // first ready packet for this port goes, so a message to one neighbour does not hold up
      // one to another; packets to one chip share a port and keep their order.
      auto it = s.q->begin();
      for (; it != s.q->end(); ++it) {
        if (it->ready > now) {
          it = s.q->end();
          break;
        }
        if ((*routes_.physical)[it->packet.dst_chip] == chip_) {
          if (s.in_port) break;
          continue;
        }
        const auto route = out_port(it->packet);
        if ((route && *route == po) || s.in_port) break;
      }
      if (it == s.q->end()) continue;
      Entry& e = *it;
      if ((*routes_.physical)[e.packet.dst_chip] == chip_) continue;
      const auto route = out_port(e.packet);
      if (!route || *route != po) continue;
      const std::uint64_t wire = cfg_.header_bytes + e.packet.payload.size();
      if (e.packet.hops >= out.tx->vcs() || !out.tx->has_credits(e.packet.hops, wire)) {
        starved_of_credits = true;
        continue;
      }
      Entry taken = std::move(e);
      s.q->erase(it);
      if (s.in_port) {
        return_credit(*s.in_port, s.vc, taken.packet, now);
        ++out.forwarded;
      }
      const std::uint32_t sent_vc = taken.packet.hops;
      const Flight f = out.tx->send(std::move(taken.packet), now);
      note_credits(out, sent_vc, now);
      const Ps end = f.arrival - out.tx->latency();
      note_span(out, end - cfg_.wire_ps(wire), end, f.packet->payload.size());
      out.out->push(f, now);
      if (taken.on_sent) taken.on_sent();
      rr_ = static_cast<std::uint32_t>((rr_ + k + 1) % sources.size());
      starved_of_credits = false;
      if (out.stall_since) {
        out.tx->note_credit_stall(now - *out.stall_since);
        out.stall_since.reset();
      }
      break;
    }
    if (starved_of_credits && !out.stall_since) out.stall_since = now;
  }
}

Ps Router::next_wake(Ps now) const {
  Ps t = ~Ps{0};
  const auto at = [&](Ps x) {
    if (x > now) t = std::min(t, x);
  };
  bool queued = !local_.empty();
  if (queued) at(local_.front().ready);
  for (const Port& p : ports_) {
    if (p.in != nullptr) at(p.in->next_arrival());
    for (const auto& q : p.buf) {
      if (q.empty()) continue;
      queued = true;
      at(q.front().ready);
    }
    if (p.tx && p.out != nullptr && !p.out->dark()) {
      at(p.tx->timeout_at());
      if (p.tx->resend_pending()) at(p.tx->free_at());
    }
  }
  // Packets waiting for a busy output port go when it frees (credits come as arrivals).
  if (queued) {
    for (const Port& p : ports_) {
      if (p.tx && p.out != nullptr) at(p.tx->free_at());
    }
  }
  return t;
}

void Router::thread() {
  for (;;) {
    const Ps now = now_ps();
    step(now);
    const Ps next = next_wake(now);
    if (next == ~Ps{0}) {
      sc_core::wait(kick_);
    } else {
      sc_core::wait(ps_time(next - now), kick_);
    }
  }
}

void Router::absorb(std::uint32_t port, const PortStats& s, std::vector<BusySpan> spans,
                    std::vector<PortStats> wirings) {
  Port& p = ports_.at(port);
  p.absorbed = s;
  p.spans = std::move(spans);
  p.absorbed_wirings = std::move(wirings);
}

std::vector<PortStats> Router::wirings(std::uint32_t port) const {
  const Port& p = ports_.at(port);
  if (p.absorbed) return p.absorbed_wirings;
  std::vector<PortStats> w = p.history;
  if (p.tx) {
    PortStats now;
    now.tx = p.tx->stats();
    now.forwarded = p.forwarded - p.forwarded_base;
    w.push_back(now);
  }
  return w;
}

PortStats Router::port_stats(std::uint32_t port) const {
  PortStats s;
  const Port& p = ports_.at(port);
  if (p.absorbed) {
    s = *p.absorbed;
    s.lost = p.out != nullptr ? p.out->lost() : 0;
    return s;
  }
  if (p.tx) s.tx = p.tx->stats();
  for (const PortStats& h : p.history) s.tx += h.tx;
  s.forwarded = p.forwarded;
  if (p.out != nullptr) s.lost = p.out->lost();
  return s;
}

std::uint64_t Router::credits(std::uint32_t port, std::uint32_t vc) const {
  const Port& p = ports_.at(port);
  return p.tx ? p.tx->credits(vc) : 0;
}

std::uint64_t Router::held_packets() const {
  std::uint64_t n = local_.size();
  for (const Port& p : ports_) {
    for (const auto& q : p.buf) n += q.size();
  }
  return n;
}

std::string Router::describe_stall() const {
  std::string s;
  for (std::uint32_t pi = 0; pi < kMaxPorts; ++pi) {
    const Port& p = ports_[pi];
    std::uint64_t held = 0;
    for (const auto& q : p.buf) held += q.size();
    const bool starved =
        p.tx && p.tx->credits(0) < cfg_.header_bytes + std::uint64_t{cfg_.max_payload_bytes};
    if (p.out == nullptr || (held == 0 && p.tx->idle() && !starved)) continue;
    s += fmt::format(
        "; port {} (to chip {}): {} packet(s) held from it, {} unacknowledged, "
        "{} bytes of credit on VC0",
        port_name(pi), p.peer, held, p.tx ? p.tx->in_flight() : 0, p.tx ? p.tx->credits(0) : 0);
  }
  if (!local_.empty()) {
    const Packet& h = local_.front().packet;
    s += fmt::format("; {} packet(s) of its own wait to leave (next: to chip {}, tag {})",
                     local_.size(), h.dst_chip, h.tag);
  }
  return s;
}

}  // namespace mxemu::ici
