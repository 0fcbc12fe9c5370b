#include "model/ici/fabric.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "model/common/bytes.h"
#include "model/common/error.h"

namespace mxemu::ici {

Fabric::Fabric(const sc_core::sc_module_name& name, const IciConfig& cfg, Topology topology,
               std::vector<Router*> routers, std::vector<FaultSpec> faults,
               std::vector<OcsProgram> ocs, ChipEvents events, Ownership own)
    : sc_core::sc_module(name),
      cfg_(cfg),
      topo_(std::move(topology)),
      routers_(std::move(routers)),
      faults_(std::move(faults)),
      ocs_(std::move(ocs)),
      lanes_(topo_.links().size()),
      wired_at_(topo_.links().size(), 0),
      removed_at_(topo_.links().size(), ~Ps{0}),
      port_links_(topo_.chips()),
      initial_links_(topo_.links().size()),
      alive_(topo_.links().size(), true),
      chip_alive_(topo_.chips(), true),
      chip_events_(std::move(events)),
      own_(std::move(own)),
      next_spare_(topo_.active_chips()) {
  for (std::uint32_t c = topo_.active_chips(); c < topo_.chips(); ++c) chip_alive_[c] = false;
  for (const FaultSpec& f : faults_) {
    if (f.chip >= topo_.active_chips()) {
      throw_bad_input("[[pod.fault]] names chip {}, but the pod has {} chips (0..{})", f.chip,
                      topo_.active_chips(), topo_.active_chips() - 1);
    }
    if (f.kind == FaultSpec::Kind::kLink && !topo_.link_at(Endpoint{f.chip, f.port})) {
      throw_bad_input("[[pod.fault]] names port {} of chip {}, which has no link",
                      port_name(f.port), f.chip);
    }
  }
  std::stable_sort(faults_.begin(), faults_.end(),
                   [](const FaultSpec& a, const FaultSpec& b) { return a.at_ns < b.at_ns; });
  // Room for routes that grow when links fail: twice the longest healthy route (of the wiring
  // at the start, and of each OCS program's wiring while it moves and after), plus one.
  const Routes healthy(topo_, alive_, chip_alive_);
  vcs_ = 2 * check_programs(healthy.diameter()) + 2;
  std::vector<std::uint32_t> ident(topo_.chips());
  for (std::uint32_t i = 0; i < ident.size(); ++i) ident[i] = i;
  view_.physical = std::make_shared<const std::vector<std::uint32_t>>(std::move(ident));
  for (std::size_t l = 0; l < topo_.links().size(); ++l) wire(l);
  recompute_routes();
  if (!faults_.empty() || !ocs_.empty()) SC_THREAD(event_thread);
}

std::uint64_t Fabric::credits(const LinkSpec& l) const {
  if (cfg_.buffer_bytes != 0) return cfg_.buffer_bytes;
  // A sender may have a round trip's worth of bytes outstanding: its packet's serialisation,
  // the way there, the receiver's router pass, the credit's way back.
  const std::uint64_t max_wire = cfg_.header_bytes + cfg_.max_payload_bytes;
  const Ps rtt = 2 * latency(l) + cfg_.wire_ps(max_wire) + Ps{cfg_.router_ns} * 1000;
  const std::uint64_t bdp = (rtt * cfg_.bandwidth_gbps + 999) / 1000;  // bytes
  return std::max<std::uint64_t>(2, (bdp + max_wire - 1) / max_wire + 1) * max_wire;
}

void Fabric::wire(std::size_t link) {
  const LinkSpec& l = topo_.links()[link];
  const std::uint64_t credits_per_vc = credits(l);
  const Ps lat = latency(l);
  const auto seed = [&](const Endpoint& e) {
    return cfg_.seed * 0x9E3779B97F4A7C15ull + e.chip * 16 + e.port + 1;
  };
  port_links_[l.a.chip][l.a.port].push_back(link);
  port_links_[l.b.chip][l.b.port].push_back(link);
  routers_[l.a.chip]->attach(l.a.port, &lanes_[link][0], &lanes_[link][1], lat, credits_per_vc,
                             vcs_, seed(l.a), l.b.chip);
  routers_[l.b.chip]->attach(l.b.port, &lanes_[link][1], &lanes_[link][0], lat, credits_per_vc,
                             vcs_, seed(l.b), l.a.chip);
  // A lane from a chip of this process to one of another is sent on at each window's end.
  lanes_[link][0].set_remote(mine(l.a.chip) && !mine(l.b.chip));
  lanes_[link][1].set_remote(mine(l.b.chip) && !mine(l.a.chip));
}

Ps Fabric::min_latency() const {
  Ps m = ~Ps{0};
  for (const LinkSpec& l : topo_.links()) m = std::min(m, latency(l));
  if (!ocs_.empty()) m = std::min(m, cfg_.hop_ps(true));  // the circuits programs set up
  return m;
}

namespace {

void put_packet(ByteWriter& w, const Packet& p) {
  w.put(static_cast<std::uint8_t>(p.kind));
  w.put(p.src_chip);
  w.put(p.dst_chip);
  w.put(p.tag);
  w.put(p.msg_id);
  w.put(p.offset);
  w.put(p.msg_bytes);
  w.put(p.hops);
  w.put(p.epoch);
  w.put(p.seq);
  w.put(p.crc);
  w.put_bytes(p.payload);
}

Packet get_packet(ByteReader& r) {
  Packet p;
  p.kind = static_cast<Packet::Kind>(r.get<std::uint8_t>());
  p.src_chip = r.get<std::uint32_t>();
  p.dst_chip = r.get<std::uint32_t>();
  p.tag = r.get<std::uint32_t>();
  p.msg_id = r.get<std::uint64_t>();
  p.offset = r.get<std::uint64_t>();
  p.msg_bytes = r.get<std::uint64_t>();
  p.hops = r.get<std::uint32_t>();
  p.epoch = r.get<std::uint32_t>();
  p.seq = r.get<std::uint64_t>();
  p.crc = r.get<std::uint32_t>();
  p.payload = r.get_bytes();
  return p;
}

}  // namespace

void Fabric::take_outgoing(std::vector<std::vector<std::uint8_t>>& out) {
  std::vector<ByteWriter> w(out.size());
  for (std::size_t link = 0; link < lanes_.size(); ++link) {
    for (std::uint32_t dir = 0; dir < 2; ++dir) {
      Lane& lane = lanes_[link][dir];
      if (!lane.remote() || !lane.has_outgoing()) continue;
      const LinkSpec& l = topo_.links()[link];
      const std::uint32_t to = own_.rank_of[dir == 0 ? l.b.chip : l.a.chip];
      ByteWriter& wr = w.at(to);
      wr.put(static_cast<std::uint64_t>(link));
      wr.put(dir);
      const std::vector<Flight> flights = lane.take_outgoing_flights();
      wr.put(static_cast<std::uint64_t>(flights.size()));
      for (const Flight& f : flights) {
        wr.put(f.arrival);
        wr.put(static_cast<std::uint8_t>(f.corrupted ? 1 : 0));
        put_packet(wr, *f.packet);
      }
      const std::vector<Control> controls = lane.take_outgoing_controls();
      wr.put(static_cast<std::uint64_t>(controls.size()));
      for (const Control& c : controls) {
        wr.put(static_cast<std::uint8_t>(c.kind));
        wr.put(c.seq);
        wr.put(c.vc);
        wr.put(c.bytes);
        wr.put(c.arrival);
      }
    }
  }
  for (std::size_t r = 0; r < out.size(); ++r) out[r] = std::move(w[r].bytes());
}

void Fabric::deliver_incoming(const std::vector<std::uint8_t>& in, Ps now) {
  ByteReader r(in);
  while (!r.done()) {
    const auto link = r.get<std::uint64_t>();
    const auto dir = r.get<std::uint32_t>();
    if (link >= lanes_.size() || dir > 1) {
      throw Error(ExitCode::kInternal, fmt::format("another rank sent lane {}.{}", link, dir));
    }
    Lane& lane = lanes_[link][dir];
    const auto flights = r.get<std::uint64_t>();
    for (std::uint64_t i = 0; i < flights; ++i) {
      Flight f;
      f.arrival = r.get<Ps>();
      f.corrupted = r.get<std::uint8_t>() != 0;
      f.packet = std::make_shared<const Packet>(get_packet(r));
      lane.push(std::move(f), now);
    }
    const auto controls = r.get<std::uint64_t>();
    for (std::uint64_t i = 0; i < controls; ++i) {
      Control c;
      c.kind = static_cast<Control::Kind>(r.get<std::uint8_t>());
      c.seq = r.get<std::uint64_t>();
      c.vc = r.get<std::uint32_t>();
      c.bytes = r.get<std::uint64_t>();
      c.arrival = r.get<Ps>();
      lane.push(c, now);
    }
  }
}

std::vector<std::uint8_t> Fabric::encode_port_records() const {
  ByteWriter w;
  for (std::uint32_t c = 0; c < routers_.size(); ++c) {
    if (!mine(c)) continue;
    for (std::uint32_t p = 0; p < kMaxPorts; ++p) {
      const PortStats s = routers_[c]->port_stats(p);
      w.put(c);
      w.put(p);
      w.put(s.tx);  // plain integers (LinkStats is trivially copyable)
      w.put(s.forwarded);
      const std::vector<BusySpan>& spans = routers_[c]->spans(p);
      w.put(static_cast<std::uint64_t>(spans.size()));
      for (const BusySpan& b : spans) w.put(b);
      const std::vector<PortStats> wirings = routers_[c]->wirings(p);
      w.put(static_cast<std::uint64_t>(wirings.size()));
      for (const PortStats& x : wirings) {
        w.put(x.tx);
        w.put(x.forwarded);
      }
    }
  }
  w.put(~std::uint32_t{0});  // the lanes' lost flights follow
  for (const auto& pair : lanes_) {
    w.put(pair[0].lost());
    w.put(pair[1].lost());
  }
  return std::move(w.bytes());
}

void Fabric::absorb_port_records(const std::vector<std::uint8_t>& in) {
  ByteReader r(in);
  for (;;) {
    const auto c = r.get<std::uint32_t>();
    if (c == ~std::uint32_t{0}) break;
    const auto p = r.get<std::uint32_t>();
    if (c >= routers_.size() || p >= kMaxPorts) {
      throw Error(ExitCode::kInternal, fmt::format("another rank sent port {}.{}", c, p));
    }
    PortStats s;
    s.tx = r.get<LinkStats>();
    s.forwarded = r.get<std::uint64_t>();
    std::vector<BusySpan> spans(r.get<std::uint64_t>());
    for (BusySpan& b : spans) b = r.get<BusySpan>();
    std::vector<PortStats> wirings(r.get<std::uint64_t>());
    for (PortStats& x : wirings) {
      x.tx = r.get<LinkStats>();
      x.forwarded = r.get<std::uint64_t>();
    }
    routers_[c]->absorb(p, s, std::move(spans), std::move(wirings));
  }
  for (auto& pair : lanes_) {
    pair[0].add_lost(r.get<std::uint64_t>());
    pair[1].add_lost(r.get<std::uint64_t>());
  }
}

void Fabric::recompute_routes() {
  view_.routes = std::make_shared<const Routes>(topo_, alive_, chip_alive_);
  for (Router* r : routers_) r->set_routes(view_);
}

void Fabric::fail_link(std::size_t link, Ps now) {
  if (!alive_[link]) return;
  alive_[link] = false;
  lanes_[link][0].set_dark(true);
  lanes_[link][1].set_dark(true);
  const LinkSpec& l = topo_.links()[link];
  events_.push_back(
      FabricEvent{now, fmt::format("link chip{}.{} - chip{}.{} failed", l.a.chip,
                                   port_name(l.a.port), l.b.chip, port_name(l.b.port))});
  recompute_routes();
  routers_[l.a.chip]->link_failed(l.a.port);
  routers_[l.b.chip]->link_failed(l.b.port);
}

void Fabric::broadcast_epoch(std::uint32_t state) {
  for (std::uint32_t c = 0; c < routers_.size(); ++c) {
    if (chip_alive_[c]) routers_[c]->set_epoch(epoch_, state);
  }
}

void Fabric::fail_chip(std::uint32_t logical, Ps now) {
  const std::uint32_t failed = physical(logical);
  if (!chip_alive_[failed]) return;
  chip_alive_[failed] = false;
  routers_[failed]->set_halted(true);
  std::vector<Endpoint> peers;  // the waveforms: links dark while the OCS moves them
  for (std::uint32_t p = 0; p < kMaxPorts; ++p) {
    const auto l = topo_.link_at(Endpoint{failed, p});
    if (!l || !alive_[*l]) continue;
    alive_[*l] = false;
    lanes_[*l][0].set_dark(true);
    lanes_[*l][1].set_dark(true);
    const Endpoint peer = topo_.other_end(*l, Endpoint{failed, p});
    routers_[peer.chip]->detach(peer.port);
    routers_[failed]->note_link_state(p, LinkState::kDown);
    peers.push_back(peer);
  }
  events_.push_back(FabricEvent{now, fmt::format("chip {} failed", logical)});
  ++failed_pending_;
  recompute_routes();
  const bool spare_left = next_spare_ < topo_.chips();
  if (spare_left) {
    for (const Endpoint& e : peers) routers_[e.chip]->note_link_state(e.port, LinkState::kDark);
  }
  if (chip_events_.failed) chip_events_.failed(failed, spare_left);
  // Degraded: the survivors know a rewiring is coming (1), or that none will (2: no spare).
  broadcast_epoch(spare_left ? 1 : 2);
  if (!spare_left) {
    events_.push_back(FabricEvent{now, fmt::format("no spare chip left for chip {}", logical)});
    return;
  }
  const std::uint32_t spare = next_spare_++;
  // The OCS moves the failed chip's circuits to the spare; meanwhile they are dark.
  sc_core::wait(
      sc_core::sc_time(static_cast<double>(cfg_.ocs_reconfig_ns) * 1000.0, sc_core::SC_PS));
  replace_chip(logical, failed, spare);
}

void Fabric::replace_chip(std::uint32_t logical, std::uint32_t failed, std::uint32_t spare) {
  const std::vector<std::size_t> moved = topo_.replace_chip(failed, spare);
  for (const std::size_t l : moved) {
    lanes_[l][0].set_dark(false);
    lanes_[l][1].set_dark(false);
    alive_[l] = true;
    wire(l);
  }
  auto phys = std::make_shared<std::vector<std::uint32_t>>(*view_.physical);
  (*phys)[logical] = spare;
  view_.physical = std::move(phys);
  chip_alive_[spare] = true;
  --failed_pending_;
  ++epoch_;
  events_.push_back(FabricEvent{
      now_ps(), fmt::format("OCS: spare chip {} replaces chip {} ({} links moved); epoch {}", spare,
                            logical, moved.size(), epoch_)});
  recompute_routes();
  if (chip_events_.replaced) chip_events_.replaced(logical, spare);
  broadcast_epoch(failed_pending_ > 0 ? 1 : 0);
}

namespace {

// The programs' indices by time (the config's order among equal times).
std::vector<std::size_t> time_order(const std::vector<OcsProgram>& ocs) {
  std::vector<std::size_t> order(ocs.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return ocs[a].at_ns < ocs[b].at_ns; });
  return order;
}

// Connected components of the wired links (a representative chip per chip).
std::vector<std::uint32_t> components(const Topology& t) {
  std::vector<std::uint32_t> parent(t.chips());
  for (std::uint32_t c = 0; c < parent.size(); ++c) parent[c] = c;
  const auto find = [&](std::uint32_t c) {
    while (parent[c] != c) c = parent[c] = parent[parent[c]];
    return c;
  };
  for (std::size_t l = 0; l < t.links().size(); ++l) {
    if (!t.wired(l)) continue;
    parent[find(t.links()[l].a.chip)] = find(t.links()[l].b.chip);
  }
  for (std::uint32_t c = 0; c < parent.size(); ++c) parent[c] = find(c);
  return parent;
}

std::uint64_t port_key(Endpoint e) {
  return std::uint64_t{e.chip} * kMaxPorts + e.port;
}

}  // namespace

std::vector<Circuit> Fabric::circuits_of(const OcsProgram& p, const Topology& t,
                                         const std::vector<std::uint32_t>& physical) const {
  if (!p.topology.empty()) {
    const auto kind = topology_from_name(p.topology);
    if (!kind) {
      throw_bad_input("topology \"{}\" is not ring, mesh, torus or twisted", p.topology);
    }
    return t.circuits_to(*kind, physical);
  }
  const std::uint32_t n = t.active_chips();
  const auto end = [&](const std::vector<std::uint32_t>& v) {
    if (v.size() != 2) throw_bad_input("a circuit's end is [chip, port]");
    if (v[0] >= n) {
      throw_bad_input("a circuit names chip {}, but the pod has {} chips (0..{})", v[0], n, n - 1);
    }
    if (v[1] >= kMaxPorts) throw_bad_input("a circuit names port {} (ports are 0..5)", v[1]);
    return Endpoint{physical.at(v[0]), v[1]};
  };
  std::vector<Circuit> out;
  for (const OcsCircuit& c : p.circuits) {
    Circuit x{end(c.a), std::nullopt};
    if (!c.b.empty()) x.b = end(c.b);
    out.push_back(x);
  }
  return out;
}

std::uint32_t Fabric::check_programs(std::uint32_t longest) const {
  if (ocs_.empty()) return longest;
  Topology t = topo_;
  std::vector<std::uint32_t> ident(t.chips());
  for (std::uint32_t c = 0; c < ident.size(); ++c) ident[c] = c;
  const auto diameter = [&](const Topology& w) {
    return Routes(w, std::vector<bool>(w.links().size(), true), chip_alive_).diameter();
  };
  for (const std::size_t i : time_order(ocs_)) {
    const OcsProgram& p = ocs_[i];
    try {
      const OcsPlan plan = t.plan_ocs(circuits_of(p, t, ident));
      const std::vector<std::uint32_t> before = components(t);
      t.take_down(plan);
      const std::vector<std::uint32_t> during = components(t);
      longest = std::max(longest, diameter(t));
      t.set_up(plan);
      const std::vector<std::uint32_t> after = components(t);
      longest = std::max(longest, diameter(t));
      // Chips joined before and after the program stay joined while the switch moves (their
      // traffic is routed around the dark circuits; an ICI SEND to a chip it cannot reach is
      // an engine fault).
      std::map<std::pair<std::uint32_t, std::uint32_t>, std::uint32_t> seen;
      for (std::uint32_t c = 0; c < t.active_chips(); ++c) {
        const auto [it, fresh] = seen.emplace(std::pair{before[c], after[c]}, c);
        if (!fresh && during[it->second] != during[c]) {
          throw_bad_input(
              "chips {} and {} are joined before and after it, but not while its circuits are "
              "dark: program it in steps that keep another way between them",
              it->second, c);
        }
      }
    } catch (const Error& e) {
      if (e.code() != ExitCode::kBadInput) throw;
      throw_bad_input("[[pod.ocs]] {} (at_ns = {}): {}", i, p.at_ns, e.what());
    }
  }
  return longest;
}

void Fabric::reprogram(const OcsProgram& program, std::size_t index) {
  const OcsPlan plan = topo_.plan_ocs(circuits_of(program, topo_, *view_.physical));
  const Ps start = now_ps();
  std::set<std::uint64_t> moving;  // ports that get a new circuit: dark while the switch moves
  for (const LinkSpec& l : plan.added) {
    moving.insert(port_key(l.a));
    moving.insert(port_key(l.b));
  }
  std::vector<std::size_t> were_alive;
  for (const std::size_t l : plan.removed) {
    if (alive_[l]) were_alive.push_back(l);
    alive_[l] = false;
    lanes_[l][0].set_dark(true);
    lanes_[l][1].set_dark(true);
    removed_at_[l] = start;
  }
  topo_.take_down(plan);
  const std::string what =
      program.topology.empty() ? "circuits" : fmt::format("to a {}", program.topology);
  events_.push_back(FabricEvent{
      start, fmt::format("OCS: program {} ({}): {} link{} down, {} circuit{} moving for {} ns",
                         index, what, plan.removed.size(), plan.removed.size() == 1 ? "" : "s",
                         plan.added.size(), plan.added.size() == 1 ? "" : "s",
                         plan.added.empty() ? 0 : cfg_.ocs_reconfig_ns)});
  recompute_routes();
  for (const std::size_t l : were_alive) {
    const LinkSpec& s = topo_.links()[l];
    for (const Endpoint& e : {s.a, s.b}) {
      routers_[e.chip]->link_failed(e.port);
      if (moving.count(port_key(e)) != 0)
        routers_[e.chip]->note_link_state(e.port, LinkState::kDark);
    }
  }
  if (plan.added.empty()) return;
  sc_core::wait(
      sc_core::sc_time(static_cast<double>(cfg_.ocs_reconfig_ns) * 1000.0, sc_core::SC_PS));
  const std::vector<std::size_t> added = topo_.set_up(plan);
  for (const std::size_t l : added) {
    lanes_.emplace_back();
    alive_.push_back(true);
    wired_at_.push_back(now_ps());
    removed_at_.push_back(~Ps{0});
    wire(l);
  }
  recompute_routes();
  events_.push_back(FabricEvent{now_ps(), fmt::format("OCS: program {}: {} circuit{} up", index,
                                                      added.size(), added.size() == 1 ? "" : "s")});
}

void Fabric::event_thread() {
  // Faults and OCS programs in time order (faults first among equal times), one after the other.
  const std::vector<std::size_t> programs = time_order(ocs_);
  std::size_t fi = 0, oi = 0;
  while (fi < faults_.size() || oi < programs.size()) {
    const bool fault = oi == programs.size() ||
                       (fi < faults_.size() && faults_[fi].at_ns <= ocs_[programs[oi]].at_ns);
    const Ps at = (fault ? faults_[fi].at_ns : ocs_[programs[oi]].at_ns) * 1000;
    const Ps now = now_ps();
    if (at > now) sc_core::wait(sc_core::sc_time(static_cast<double>(at - now), sc_core::SC_PS));
    if (!fault) {
      const std::size_t i = programs[oi++];
      try {
        reprogram(ocs_[i], i);
      } catch (const Error& e) {  // checked at the start; a spare's wiring can still refuse it
        if (e.code() != ExitCode::kBadInput) throw;
        events_.push_back(
            FabricEvent{now_ps(), fmt::format("OCS: program {} refused: {}", i, e.what())});
      }
      continue;
    }
    const FaultSpec& f = faults_[fi++];
    if (f.kind == FaultSpec::Kind::kLink) {
      fail_link(*topo_.link_at(Endpoint{physical(f.chip), f.port}), now_ps());
    } else {
      fail_chip(f.chip, now_ps());
    }
  }
}

PortStats Fabric::link_stats(std::size_t link, Endpoint from) const {
  PortStats s;
  const std::vector<PortStats> w = routers_[from.chip]->wirings(from.port);
  const std::vector<std::size_t>& mine = port_links_[from.chip][from.port];
  for (std::size_t k = 0; k < std::min(w.size(), mine.size()); ++k) {
    if (mine[k] != link) continue;
    s.tx += w[k].tx;
    s.forwarded += w[k].forwarded;
  }
  return s;
}

nlohmann::json Fabric::stats_json(Ps end) const {
  nlohmann::json links = nlohmann::json::array();
  for (std::size_t i = 0; i < topo_.links().size(); ++i) {
    const LinkSpec& l = topo_.links()[i];
    nlohmann::json dirs = nlohmann::json::array();
    for (std::uint32_t dir = 0; dir < 2; ++dir) {
      const Endpoint from = dir == 0 ? l.a : l.b, to = dir == 0 ? l.b : l.a;
      PortStats s = link_stats(i, from);
      s.lost = lanes_[i][dir].lost();
      dirs.push_back(
          {{"from", fmt::format("chip{}.{}", from.chip, port_name(from.port))},
           {"to", fmt::format("chip{}.{}", to.chip, port_name(to.port))},
           {"packets", s.tx.packets},
           {"payload_bytes", s.tx.payload_bytes},
           {"wire_bytes", s.tx.wire_bytes},
           {"utilization",
            end == 0 ? 0.0 : static_cast<double>(s.tx.busy_ps) / static_cast<double>(end)},
           {"retransmissions", s.tx.retransmissions},
           {"corrupted", s.tx.corrupted},
           {"nacks", s.tx.nacks},
           {"timeouts", s.tx.timeouts},
           {"credit_stall_ns", s.tx.credit_stall_ps / 1000},
           {"forwarded", s.forwarded},
           {"lost", s.lost}});
    }
    nlohmann::json entry = {{"link", i},
                            {"through_ocs", l.through_ocs},
                            {"alive", static_cast<bool>(alive_[i])},
                            {"latency_ns", static_cast<double>(latency(l)) / 1000.0},
                            {"credits_per_vc", credits(l)},
                            {"directions", dirs}};
    if (i >= initial_links_) entry["wired_at_ns"] = static_cast<double>(wired_at_[i]) / 1000.0;
    if (removed_at_[i] != ~Ps{0}) {
      entry["removed_at_ns"] = static_cast<double>(removed_at_[i]) / 1000.0;
    }
    links.push_back(std::move(entry));
  }
  nlohmann::json ev = nlohmann::json::array();
  for (const FabricEvent& e : events_) {
    ev.push_back({{"at_ns", static_cast<double>(e.at) / 1000.0}, {"event", e.what}});
  }
  return {{"topology", topology_name(topo_.kind())},
          {"shape", topo_.shape()},
          {"virtual_channels", vcs_},
          {"diameter", view_.routes ? view_.routes->diameter() : 0},
          {"links", links},
          {"events", ev}};
}

void Fabric::timeline_events(nlohmann::json& events, std::uint32_t pid) const {
  events.push_back(
      {{"ph", "M"}, {"name", "process_name"}, {"pid", pid}, {"args", {{"name", "ICI links"}}}});
  std::uint32_t tid = 0;
  for (std::size_t i = 0; i < topo_.links().size(); ++i) {
    const LinkSpec& l = topo_.links()[i];
    for (const auto& [from, to] : {std::pair{l.a, l.b}, std::pair{l.b, l.a}}) {
      events.push_back({{"ph", "M"},
                        {"name", "thread_name"},
                        {"pid", pid},
                        {"tid", tid},
                        {"args",
                         {{"name", fmt::format("chip{}.{} -> chip{}", from.chip,
                                               port_name(from.port), to.chip)}}}});
      for (const BusySpan& s : routers_[from.chip]->spans(from.port)) {
        if (s.start < wired_at_[i] || s.start >= removed_at_[i]) continue;  // another wiring's
        events.push_back({{"ph", "X"},
                          {"name", fmt::format("{} packets, {} B", s.packets, s.bytes)},
                          {"pid", pid},
                          {"tid", tid},
                          {"ts", static_cast<double>(s.start) / 1e6},
                          {"dur", static_cast<double>(s.end - s.start) / 1e6}});
      }
      ++tid;
    }
  }
  for (const FabricEvent& e : events_) {
    events.push_back({{"ph", "i"},
                      {"name", e.what},
                      {"pid", pid},
                      {"tid", 0},
                      {"s", "p"},
                      {"ts", static_cast<double>(e.at) / 1e6}});
  }
}

}  // namespace mxemu::ici
