#include "model/ici/topology.h"

#include <fmt/format.h>

#include <algorithm>
#include <deque>
#include <set>

#include "model/common/error.h"

namespace mxemu::ici {

const char* topology_name(TopologyKind k) {
  switch (k) {
    case TopologyKind::kRing:
      return "ring";
    case TopologyKind::kMesh:
      return "mesh";
    case TopologyKind::kTorus:
      return "torus";
    case TopologyKind::kTwisted:
      return "twisted";
  }
  return "?";
}

std::optional<TopologyKind> topology_from_name(std::string_view name) {
  for (const TopologyKind k :
       {TopologyKind::kRing, TopologyKind::kMesh, TopologyKind::kTorus, TopologyKind::kTwisted}) {
    if (name == topology_name(k)) return k;
  }
  return std::nullopt;
}

const char* port_name(std::uint32_t port) {
  static constexpr const char* kNames[kMaxPorts] = {"x+", "x-", "y+", "y-", "z+", "z-"};
  return port < kMaxPorts ? kNames[port] : "?";
}

Topology::Topology(TopologyKind kind, const std::vector<std::uint32_t>& shape,
                   const std::vector<std::uint32_t>& cube, std::uint32_t ports,
                   std::uint32_t spares)
    : kind_(kind), spares_(spares), ports_(ports) {
  for (std::size_t d = 0; d < 3; ++d) {
    shape_[d] = d < shape.size() ? shape[d] : 1;
    cube_[d] = d < cube.size() ? cube[d] : 1;
    if (shape_[d] == 0 || cube_[d] == 0) throw_bad_input("pod shape and cube must be positive");
  }
  const auto [X, Y, Z] = shape_;
  const std::string shape_text = fmt::format("{}x{}x{}", X, Y, Z);
  if (kind == TopologyKind::kRing && (Y != 1 || Z != 1)) {
    throw_bad_input("a ring is one dimension: pod shape {} must be N x 1 x 1", shape_text);
  }
  if (kind == TopologyKind::kTwisted && !(X == Y && Z == 2 * X && X % 2 == 0)) {
    throw_bad_input("a twisted torus is k x k x 2k with k even (e.g. 4x4x8): pod shape {} is not",
                    shape_text);
  }
  for (std::size_t d = 0; d < 3; ++d) {
    // A ring may have any length: its last cube is partial.
    if (kind != TopologyKind::kRing && shape_[d] > cube_[d] && shape_[d] % cube_[d] != 0) {
      throw_bad_input(
          "pod shape {} is not made of {}x{}x{} cubes: {} chips along {} is neither at most {} "
          "nor a multiple of it",
          shape_text, cube_[0], cube_[1], cube_[2], shape_[d], "xyz"[d], cube_[d]);
    }
  }
  std::uint32_t dims_used = 0;
  for (const std::uint32_t s : shape_) dims_used += s > 1 ? 1 : 0;
  if (2 * dims_used > ports_) {
    throw_bad_input("a {}-dimensional pod needs {} ICI ports per chip; [ici] ports = {}", dims_used,
                    2 * dims_used, ports_);
  }
  active_ = X * Y * Z;
  port_link_.assign(chips(), {});
  for (auto& p : port_link_) p.fill(-1);

  const auto index = [X = X, Y = Y](std::uint32_t x, std::uint32_t y, std::uint32_t z) {
    return x + X * (y + Y * z);
  };
  const auto cube_of = [&](std::uint32_t c, std::size_t d) {
    return coords(c)[d] / std::min(cube_[d], shape_[d]);
  };
  const bool wraps = kind != TopologyKind::kMesh;
  for (std::uint32_t c = 0; c < active_; ++c) {
    const auto xyz = coords(c);
    for (std::size_t d = 0; d < 3; ++d) {
      const std::uint32_t n = shape_[d];
      if (n == 1) continue;
      const bool wrap = xyz[d] + 1 == n;
      if (wrap && !wraps) continue;
      std::array<std::uint32_t, 3> nb = xyz;
      nb[d] = (xyz[d] + 1) % n;
      if (wrap && kind == TopologyKind::kTwisted && d == 2) {
        nb[0] = (xyz[0] + X / 2) % X;
        nb[1] = (xyz[1] + Y / 2) % Y;
      }
      const std::uint32_t other = index(nb[0], nb[1], nb[2]);
      // Size 2 without a twist: the + link of the upper chip is the wrap-around to the lower.
      const bool ocs = wrap || cube_of(c, d) != cube_of(other, d);
      add_link(Endpoint{c, static_cast<std::uint32_t>(2 * d)},
               Endpoint{other, static_cast<std::uint32_t>(2 * d + 1)}, ocs);
    }
  }
}

std::array<std::uint32_t, 3> Topology::coords(std::uint32_t chip) const {
  const auto [X, Y, Z] = shape_;
  if (chip >= active_) return {0, 0, 0};  // a spare has no place until it replaces a chip
  return {chip % X, chip / X % Y, chip / (X * Y)};
}

void Topology::add_link(Endpoint a, Endpoint b, bool through_ocs) {
  port_link_[a.chip][a.port] = static_cast<std::int64_t>(links_.size());
  port_link_[b.chip][b.port] = static_cast<std::int64_t>(links_.size());
  links_.push_back(LinkSpec{a, b, through_ocs});
}

std::optional<std::size_t> Topology::link_at(Endpoint e) const {
  if (e.chip >= port_link_.size() || e.port >= kMaxPorts) return std::nullopt;
  const std::int64_t l = port_link_[e.chip][e.port];
  if (l < 0) return std::nullopt;
  return static_cast<std::size_t>(l);
}

Endpoint Topology::other_end(std::size_t link, Endpoint e) const {
  const LinkSpec& l = links_.at(link);
  return l.a == e ? l.b : l.a;
}

std::vector<std::size_t> Topology::replace_chip(std::uint32_t failed, std::uint32_t spare) {
  std::vector<std::size_t> moved;
  for (std::uint32_t p = 0; p < kMaxPorts; ++p) {
    const std::int64_t l = port_link_[failed][p];
    if (l < 0) continue;
    LinkSpec& s = links_[static_cast<std::size_t>(l)];
    if (s.a.chip == failed) s.a.chip = spare;
    if (s.b.chip == failed) s.b.chip = spare;
    s.through_ocs = true;  // the spare is reached through the switch
    port_link_[spare][p] = l;
    port_link_[failed][p] = -1;
    moved.push_back(static_cast<std::size_t>(l));
  }
  return moved;
}

bool Topology::wired(std::size_t link) const {
  const LinkSpec& l = links_.at(link);
  return port_link_[l.a.chip][l.a.port] == static_cast<std::int64_t>(link) &&
         port_link_[l.b.chip][l.b.port] == static_cast<std::int64_t>(link);
}

std::vector<Circuit> Topology::circuits_to(TopologyKind kind,
                                           const std::vector<std::uint32_t>& physical) const {
  const Topology target(kind, {shape_.begin(), shape_.end()}, {cube_.begin(), cube_.end()}, ports_,
                        0);
  const auto phys = [&](Endpoint e) { return Endpoint{physical.at(e.chip), e.port}; };
  const auto key = [](Endpoint a, Endpoint b) {
    const auto k = [](Endpoint e) { return std::uint64_t{e.chip} * kMaxPorts + e.port; };
    return std::minmax(k(a), k(b));
  };
  std::set<std::pair<std::uint64_t, std::uint64_t>> wanted;  // the target's links, physical
  std::vector<Circuit> out;
  std::set<std::uint64_t> named;
  for (const LinkSpec& t : target.links()) {
    const Endpoint a = phys(t.a), b = phys(t.b);
    wanted.insert(key(a, b));
    const auto now = link_at(a);
    const bool same = now && wired(*now) && other_end(*now, a) == b;
    if (!t.through_ocs && !same) {
      throw_bad_input(
          "a {} wires chip {} {} to chip {} {} inside a cube, a direct link the OCS cannot change",
          topology_name(kind), t.a.chip, port_name(t.a.port), t.b.chip, port_name(t.b.port));
    }
    if (same) continue;
    out.push_back(Circuit{a, b});
    named.insert(std::uint64_t{a.chip} * kMaxPorts + a.port);
    named.insert(std::uint64_t{b.chip} * kMaxPorts + b.port);
  }
  for (std::size_t l = 0; l < links_.size(); ++l) {
    const LinkSpec& s = links_[l];
    if (!wired(l) || wanted.count(key(s.a, s.b)) != 0) continue;
    if (!s.through_ocs) {
      throw_bad_input(
          "a {} has no link chip {} {} - chip {} {}, a direct link the OCS cannot change",
          topology_name(kind), s.a.chip, port_name(s.a.port), s.b.chip, port_name(s.b.port));
    }
    const bool covered = named.count(std::uint64_t{s.a.chip} * kMaxPorts + s.a.port) != 0 ||
                         named.count(std::uint64_t{s.b.chip} * kMaxPorts + s.b.port) != 0;
    if (!covered) out.push_back(Circuit{s.a, std::nullopt});  // taken down, not replaced
  }
  return out;
}

OcsPlan Topology::plan_ocs(const std::vector<Circuit>& circuits) const {
  OcsPlan plan;
  std::set<std::uint64_t> seen;
  std::set<std::size_t> removed;
  const auto check = [&](Endpoint e) {
    if (e.chip >= chips()) {
      throw_bad_input("an OCS circuit names chip {}, but the pod has {} chips", e.chip, chips());
    }
    if (e.port >= ports_) {
      throw_bad_input("an OCS circuit names port {} of chip {}, but chips have {} ICI ports",
                      port_name(e.port), e.chip, ports_);
    }
    if (!seen.insert(std::uint64_t{e.chip} * kMaxPorts + e.port).second) {
      throw_bad_input("an OCS program names chip {} port {} twice", e.chip, port_name(e.port));
    }
    const auto l = link_at(e);
    if (!l) return;
    if (!links_[*l].through_ocs) {
      const Endpoint o = other_end(*l, e);
      throw_bad_input(
          "chip {} port {} is wired to chip {} {} inside its cube (a direct link); the OCS "
          "switches only ports whose links go through it",
          e.chip, port_name(e.port), o.chip, port_name(o.port));
    }
    if (removed.insert(*l).second) plan.removed.push_back(*l);
  };
  for (const Circuit& c : circuits) {
    check(c.a);
    if (!c.b) continue;
    check(*c.b);
    if (c.b->chip == c.a.chip) {
      throw_bad_input("an OCS circuit joins two ports of chip {} ({} and {})", c.a.chip,
                      port_name(c.a.port), port_name(c.b->port));
    }
    plan.added.push_back(LinkSpec{c.a, *c.b, true});
  }
  return plan;
}

void Topology::take_down(const OcsPlan& plan) {
  for (const std::size_t l : plan.removed) {
    const LinkSpec& s = links_.at(l);
    for (const Endpoint& e : {s.a, s.b}) {
      if (port_link_[e.chip][e.port] == static_cast<std::int64_t>(l))
        port_link_[e.chip][e.port] = -1;
    }
  }
}

std::vector<std::size_t> Topology::set_up(const OcsPlan& plan) {
  std::vector<std::size_t> added;
  for (const LinkSpec& s : plan.added) {
    added.push_back(links_.size());
    add_link(s.a, s.b, true);
  }
  return added;
}

Routes::Routes(const Topology& t, const std::vector<bool>& link_alive,
               const std::vector<bool>& chip_alive)
    : n_(t.chips()), dist_(std::size_t{n_} * n_, ~0u), port_(std::size_t{n_} * n_, 255) {
  for (std::uint32_t to = 0; to < n_; ++to) {
    if (!chip_alive[to]) continue;
    std::uint32_t* dist = &dist_[std::size_t{to} * n_];
    std::uint8_t* port = &port_[std::size_t{to} * n_];
    dist[to] = 0;
    std::deque<std::uint32_t> q{to};
    while (!q.empty()) {
      const std::uint32_t u = q.front();
      q.pop_front();
      for (std::uint32_t p = 0; p < kMaxPorts; ++p) {
        const auto l = t.link_at(Endpoint{u, p});
        if (!l || !link_alive[*l]) continue;
        const Endpoint v = t.other_end(*l, Endpoint{u, p});
        if (!chip_alive[v.chip] || dist[v.chip] != ~0u) continue;
        dist[v.chip] = dist[u] + 1;
        q.push_back(v.chip);
      }
    }
    for (std::uint32_t from = 0; from < n_; ++from) {
      if (from == to || dist[from] == ~0u) continue;
      diameter_ = std::max(diameter_, dist[from]);
      for (std::uint32_t p = 0; p < kMaxPorts; ++p) {  // lowest port on a shortest path
        const auto l = t.link_at(Endpoint{from, p});
        if (!l || !link_alive[*l]) continue;
        const Endpoint v = t.other_end(*l, Endpoint{from, p});
        if (chip_alive[v.chip] && dist[v.chip] + 1 == dist[from]) {
          port[from] = static_cast<std::uint8_t>(p);
          break;
        }
      }
    }
  }
  vcs_ = diameter_ + 1;
}

std::optional<std::uint32_t> Routes::next_port(std::uint32_t from, std::uint32_t to) const {
  if (from >= n_ || to >= n_) return std::nullopt;
  const std::uint8_t p = port_[std::size_t{to} * n_ + from];
  if (p == 255) return std::nullopt;
  return p;
}

std::uint32_t Routes::hops(std::uint32_t from, std::uint32_t to) const {
  if (from >= n_ || to >= n_) return ~0u;
  return dist_[std::size_t{to} * n_ + from];
}

}  // namespace mxemu::ici
