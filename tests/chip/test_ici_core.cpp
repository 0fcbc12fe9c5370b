// The interconnect's plain-C++ core: topologies against closed forms (link counts, which links
// go through the OCS, diameters), routes (dimension order on a healthy torus, around a failed
// link), reprogramming the OCS (a torus turned twisted and back, a ring cut into two, refusals)
// against closed forms and a breadth-first search written here, and the link layer's go-back-N
// and credits driven packet by packet.
#include <catch2/catch.hpp>

#include <deque>
#include <set>

#include "model/common/error.h"
#include "model/ici/link.h"
#include "model/ici/topology.h"

using namespace mxemu;
using namespace mxemu::ici;

namespace {
std::vector<bool> all(std::size_t n) {
  std::vector<bool> v(n, true);  // not return {n, true}: that is a list of two bools
  return v;
}
std::uint32_t diameter(const Topology& t) {
  return Routes(t, all(t.links().size()), all(t.chips())).diameter();
}
std::size_t ocs_links(const Topology& t) {
  std::size_t n = 0;
  for (const LinkSpec& l : t.links()) n += l.through_ocs ? 1 : 0;
  return n;
}
}  // namespace

TEST_CASE("topologies: links, OCS circuits and diameters in closed form", "[chip][ici]") {
  const std::vector<std::uint32_t> cube{4, 4, 4};
  for (const std::uint32_t n : {2u, 3u, 4u, 5u, 8u, 16u}) {
    const Topology ring(TopologyKind::kRing, {n, 1, 1}, cube, 6, 0);
    INFO("ring " << n);
    CHECK(ring.links().size() == n);  // each chip's x+ link
    CHECK(diameter(ring) == n / 2);
  }
  // A 3D torus X x Y x Z: 3 X Y Z links (dimensions of size > 2), diameter sum of floor(d/2);
  // through the OCS: the wrap-arounds and the links across cube faces.
  const Topology t444(TopologyKind::kTorus, {4, 4, 4}, cube, 6, 0);
  CHECK(t444.links().size() == 3 * 64);
  CHECK(diameter(t444) == 6);
  CHECK(ocs_links(t444) == 3 * 16);  // one cube: only its wrap-arounds
  const Topology t844(TopologyKind::kTorus, {8, 4, 4}, cube, 6, 0);
  CHECK(t844.links().size() == 3 * 128);
  CHECK(diameter(t844) == 4 + 2 + 2);
  CHECK(ocs_links(t844) == 2 * 16 + 2 * 16 + 2 * 16);  // x: wrap + cube face; y, z: wraps
  const Topology mesh(TopologyKind::kMesh, {4, 4, 1}, cube, 6, 0);
  CHECK(mesh.links().size() == 2 * 3 * 4);
  CHECK(diameter(mesh) == 6);
  // The twisted k x k x 2k torus is shorter than the plain one (4x4x8: 2 + 2 + 4 = 8).
  const Topology plain(TopologyKind::kTorus, {4, 4, 8}, cube, 6, 0);
  const Topology twisted(TopologyKind::kTwisted, {4, 4, 8}, cube, 6, 0);
  CHECK(diameter(plain) == 8);
  CHECK(diameter(twisted) == 6);  // a BFS by hand (docs/ICI.md): the twist saves two hops
  CHECK(twisted.links().size() == plain.links().size());
  // Every port is wired at most once, and both ends agree.
  for (const Topology* t : {&t444, &t844, &twisted}) {
    std::set<std::pair<std::uint32_t, std::uint32_t>> ends;
    for (std::size_t i = 0; i < t->links().size(); ++i) {
      const LinkSpec& l = t->links()[i];
      CHECK(ends.insert({l.a.chip, l.a.port}).second);
      CHECK(ends.insert({l.b.chip, l.b.port}).second);
      CHECK(*t->link_at(l.a) == i);
      CHECK(t->other_end(i, l.a) == l.b);
      CHECK(l.a.port % 2 == 0);  // a + port to a - port
      CHECK(l.b.port == l.a.port + 1);
    }
  }
}

TEST_CASE("routes: dimension order on a healthy torus, around a failed link", "[chip][ici]") {
  const Topology t(TopologyKind::kTorus, {4, 4, 4}, {4, 4, 4}, 6, 0);
  const Routes r(t, all(t.links().size()), all(t.chips()));
  // From (0,0,0) to (1,2,3): x first (x+), then y (y+, a tie at distance 2 goes +), then z
  // (z-: 3 is one step back around).
  std::uint32_t at = 0;
  std::vector<std::uint32_t> ports;
  const std::uint32_t dst = 1 + 4 * (2 + 4 * 3);
  while (at != dst) {
    const auto p = r.next_port(at, dst);
    REQUIRE(p);
    ports.push_back(*p);
    at = t.other_end(*t.link_at(Endpoint{at, *p}), Endpoint{at, *p}).chip;
  }
  CHECK(ports == std::vector<std::uint32_t>{0, 2, 2, 5});
  CHECK(r.hops(0, dst) == 4);
  CHECK(r.vcs() == 7);
  // A ring of 4 whose 0 -> 1 link has failed: 0 reaches 1 the long way.
  const Topology ring(TopologyKind::kRing, {4, 1, 1}, {4, 4, 4}, 6, 0);
  std::vector<bool> alive = all(ring.links().size());
  alive[*ring.link_at(Endpoint{0, 0})] = false;
  const Routes around(ring, alive, all(4));
  CHECK(around.next_port(0, 1) == 1u);  // x-
  CHECK(around.hops(0, 1) == 3);
  // Cut the ring twice: chip 0 cannot reach 2.
  alive[*ring.link_at(Endpoint{2, 0})] = false;
  const Routes cut(ring, alive, all(4));
  CHECK_FALSE(cut.next_port(0, 2));
  CHECK(cut.hops(0, 2) == ~0u);
}

namespace {

// Hop counts by a breadth-first search over an adjacency list the test builds from a formula.
std::vector<std::vector<std::uint32_t>> bfs_all(
    const std::vector<std::vector<std::uint32_t>>& adj) {
  const auto n = static_cast<std::uint32_t>(adj.size());
  std::vector<std::vector<std::uint32_t>> d(n, std::vector<std::uint32_t>(n, ~0u));
  for (std::uint32_t s = 0; s < n; ++s) {
    std::deque<std::uint32_t> q{s};
    d[s][s] = 0;
    while (!q.empty()) {
      const std::uint32_t u = q.front();
      q.pop_front();
      for (const std::uint32_t v : adj[u]) {
        if (d[s][v] == ~0u) {
          d[s][v] = d[s][u] + 1;
          q.push_back(v);
        }
      }
    }
  }
  return d;
}

void apply(Topology& t, const std::vector<Circuit>& circuits, std::size_t& removed,
           std::size_t& added) {
  const OcsPlan plan = t.plan_ocs(circuits);
  removed = plan.removed.size();
  t.take_down(plan);
  added = t.set_up(plan).size();
}

std::vector<std::uint32_t> identity(std::uint32_t n) {
  std::vector<std::uint32_t> v(n);
  for (std::uint32_t i = 0; i < n; ++i) v[i] = i;
  return v;
}

std::string refusal(const Topology& t, const std::vector<Circuit>& circuits) {
  try {
    (void)t.plan_ocs(circuits);
  } catch (const Error& e) {
    CHECK(e.code() == ExitCode::kBadInput);
    return e.what();
  }
  return "accepted";
}

}  // namespace

TEST_CASE("OCS reprogramming: a 4x4x8 torus becomes twisted and back", "[chip][ici][ocs]") {
  const std::vector<std::uint32_t> cube{4, 4, 4};
  Topology t(TopologyKind::kTorus, {4, 4, 8}, cube, 6, 0);
  const std::size_t links_before = t.links().size();
  std::size_t removed = 0, added = 0;
  apply(t, t.circuits_to(TopologyKind::kTwisted, identity(128)), removed, added);
  // Only the 16 z wrap-arounds move: (x, y, 7) z+ now goes to ((x + 2) % 4, (y + 2) % 4, 0) z-.
  CHECK(removed == 16);
  CHECK(added == 16);
  const auto at = [](std::uint32_t x, std::uint32_t y, std::uint32_t z) {
    return x + 4 * (y + 4 * z);
  };
  for (std::uint32_t x = 0; x < 4; ++x) {
    for (std::uint32_t y = 0; y < 4; ++y) {
      const auto l = t.link_at(Endpoint{at(x, y, 7), 4});
      REQUIRE(l);
      CHECK(t.links()[*l].through_ocs);
      CHECK(t.other_end(*l, Endpoint{at(x, y, 7), 4}) ==
            Endpoint{at((x + 2) % 4, (y + 2) % 4, 0), 5});
    }
  }
  std::size_t wired = 0;
  for (std::size_t l = 0; l < t.links().size(); ++l) wired += t.wired(l) ? 1 : 0;
  CHECK(wired == links_before);  // 3 x 128 links, as before
  // Routes against a breadth-first search over the twisted torus built from its formula.
  std::vector<std::vector<std::uint32_t>> adj(128);
  for (std::uint32_t z = 0; z < 8; ++z) {
    for (std::uint32_t y = 0; y < 4; ++y) {
      for (std::uint32_t x = 0; x < 4; ++x) {
        const std::uint32_t c = at(x, y, z);
        const std::uint32_t zn = z == 7 ? at((x + 2) % 4, (y + 2) % 4, 0) : at(x, y, z + 1);
        for (const std::uint32_t o : {at((x + 1) % 4, y, z), at(x, (y + 1) % 4, z), zn}) {
          adj[c].push_back(o);
          adj[o].push_back(c);
        }
      }
    }
  }
  const auto d = bfs_all(adj);
  const Routes r(t, all(t.links().size()), all(t.chips()));
  std::uint32_t longest = 0;
  for (std::uint32_t a = 0; a < 128; ++a) {
    for (std::uint32_t b = 0; b < 128; ++b) {
      REQUIRE(r.hops(a, b) == d[a][b]);
      longest = std::max(longest, d[a][b]);
    }
  }
  CHECK(r.diameter() == longest);
  CHECK(longest == 6);  // docs/ICI.md: 6 instead of the torus's 8
  // And back: the same links as a torus built as one.
  apply(t, t.circuits_to(TopologyKind::kTorus, identity(128)), removed, added);
  CHECK(removed == 16);
  CHECK(added == 16);
  CHECK(diameter(t) == 8);
  const Topology fresh(TopologyKind::kTorus, {4, 4, 8}, cube, 6, 0);
  for (const LinkSpec& l : fresh.links()) {
    const auto now = t.link_at(l.a);
    REQUIRE(now);
    CHECK(t.other_end(*now, l.a) == l.b);
  }
  // Nothing to do when the wiring already is that topology.
  CHECK(t.circuits_to(TopologyKind::kTorus, identity(128)).empty());
}

TEST_CASE("OCS reprogramming: a ring of two cubes cut into two rings, and refusals",
          "[chip][ici][ocs]") {
  // Ring of 8 over two 4-chip cubes: 3-4 and 7-0 go through the OCS. Circuits 3 x+ -> 0 x- and
  // 7 x+ -> 4 x- make two rings of 4.
  Topology t(TopologyKind::kRing, {8, 1, 1}, {4, 4, 4}, 6, 0);
  std::size_t removed = 0, added = 0;
  apply(t, {Circuit{Endpoint{3, 0}, Endpoint{0, 1}}, Circuit{Endpoint{7, 0}, Endpoint{4, 1}}},
        removed, added);
  CHECK(removed == 2);
  CHECK(added == 2);
  const Routes r(t, all(t.links().size()), all(t.chips()));
  for (std::uint32_t a = 0; a < 8; ++a) {
    for (std::uint32_t b = 0; b < 8; ++b) {
      const std::uint32_t steps = (b % 4 + 4 - a % 4) % 4;  // forward, on a ring of 4
      INFO(a << " -> " << b);
      CHECK(r.hops(a, b) == (a / 4 != b / 4 ? ~0u : std::min(steps, 4 - steps)));
    }
  }
  // A circuit with one end takes a link down and leaves its ports unwired.
  apply(t, {Circuit{Endpoint{3, 0}, std::nullopt}}, removed, added);
  CHECK(removed == 1);
  CHECK(added == 0);
  CHECK_FALSE(t.link_at(Endpoint{3, 0}));
  CHECK_FALSE(t.link_at(Endpoint{0, 1}));

  const Topology ring(TopologyKind::kRing, {8, 1, 1}, {4, 4, 4}, 6, 0);
  CHECK_THAT(refusal(ring, {Circuit{Endpoint{0, 0}, Endpoint{5, 1}}}),
             Catch::Contains("chip 0 port x+ is wired to chip 1 x- inside its cube (a direct "
                             "link)"));
  CHECK_THAT(refusal(ring, {Circuit{Endpoint{3, 0}, Endpoint{0, 1}},
                            Circuit{Endpoint{7, 0}, Endpoint{3, 0}}}),
             Catch::Contains("names chip 3 port x+ twice"));
  CHECK_THAT(refusal(ring, {Circuit{Endpoint{3, 0}, Endpoint{3, 2}}}),
             Catch::Contains("joins two ports of chip 3 (x+ and y+)"));
  CHECK_THAT(refusal(ring, {Circuit{Endpoint{9, 0}, std::nullopt}}),
             Catch::Contains("names chip 9, but the pod has 8 chips"));
  const Topology four_ports(TopologyKind::kRing, {8, 1, 1}, {4, 4, 4}, 4, 0);
  CHECK_THAT(refusal(four_ports, {Circuit{Endpoint{3, 0}, Endpoint{0, 4}}}),
             Catch::Contains("names port z+ of chip 0, but chips have 4 ICI ports"));
  const Topology t444(TopologyKind::kTorus, {4, 4, 4}, {4, 4, 4}, 6, 0);
  try {
    (void)t444.circuits_to(TopologyKind::kTwisted, identity(64));
    FAIL("a twisted 4x4x4 was accepted");
  } catch (const Error& e) {
    CHECK_THAT(e.what(), Catch::Contains("k x k x 2k"));
  }
  // A mesh inside one cube has only direct links: a torus would need wrap-arounds, which go
  // through the OCS (allowed: unwired ports face the switch), so that works; the reverse too.
  Topology mesh(TopologyKind::kMesh, {4, 4, 1}, {4, 4, 4}, 6, 0);
  apply(mesh, mesh.circuits_to(TopologyKind::kTorus, identity(16)), removed, added);
  CHECK(removed == 0);
  CHECK(added == 8);
  CHECK(diameter(mesh) == 4);
}

TEST_CASE("go-back-N: an error is NACKed and everything after it is resent in order",
          "[chip][ici]") {
  IciConfig cfg;
  const Ps lat = 100'000;
  const std::uint64_t wire = cfg.header_bytes + 100;
  LinkTx tx(cfg, lat, 100 * wire, 2, 1);
  LinkRx rx;
  const auto packet = [](std::uint64_t i) {
    Packet p;
    p.offset = i;
    p.payload.assign(100, static_cast<std::uint8_t>(i));
    return p;
  };
  std::vector<Flight> wire_flights;
  for (std::uint64_t i = 0; i < 5; ++i) {
    REQUIRE(tx.has_credits(0, wire));
    wire_flights.push_back(tx.send(packet(i), tx.free_at()));
  }
  CHECK(tx.credits(0) == 95 * wire);
  // Serialisation back to back, latency on top.
  CHECK(wire_flights[4].arrival == 5 * cfg.wire_ps(wire) + lat);
  // Corrupt packet 2 on the way (a real bit flip: the CRC catches it).
  auto bad = std::make_shared<Packet>(*wire_flights[2].packet);
  bad->payload[7] ^= 0x10;
  wire_flights[2].packet = bad;
  std::vector<std::uint64_t> accepted;
  std::vector<Control> back;
  for (const Flight& f : wire_flights) {
    const LinkRx::Result res = rx.receive(f, f.arrival);
    if (res.accept) accepted.push_back(f.packet->seq);
    back.insert(back.end(), res.reply.begin(), res.reply.end());
  }
  CHECK(accepted == std::vector<std::uint64_t>{0, 1});  // 3 and 4 dropped: out of order
  REQUIRE(back.size() == 3);                            // ACK 0, ACK 1, NACK 2 (once)
  CHECK(back[2].kind == Control::Kind::kNack);
  CHECK(back[2].seq == 2);
  for (const Control& c : back) tx.on_control(c);
  CHECK(tx.in_flight() == 3);
  REQUIRE(tx.resend_pending());
  for (std::uint64_t want = 2; want < 5; ++want) {
    const Flight f = tx.resend(tx.free_at());
    CHECK(f.packet->seq == want);
    const LinkRx::Result res = rx.receive(f, f.arrival);
    CHECK(res.accept);
    for (const Control& c : res.reply) tx.on_control(c);
  }
  CHECK(tx.idle());  // every packet acknowledged
  CHECK_FALSE(tx.resend_pending());
  CHECK(tx.stats().retransmissions == 3);
  CHECK(tx.stats().packets == 5);
  // Credits come back only when the receiver frees its buffer.
  tx.on_control(Control{Control::Kind::kCredit, 0, 0, 5 * wire, 0});
  CHECK(tx.credits(0) == 100 * wire);
  // A lost packet (dark link): the timeout resends the oldest unacknowledged one.
  const Flight lost = tx.send(packet(9), tx.free_at());
  CHECK(tx.timeout_at() ==
        lost.arrival - lat - cfg.wire_ps(wire) + Ps{cfg.retry_timeout_ns} * 1000);
  tx.on_timeout(tx.timeout_at());
  REQUIRE(tx.resend_pending());
  CHECK(tx.resend(tx.free_at()).packet->seq == lost.packet->seq);
  CHECK(tx.stats().timeouts == 1);
}
