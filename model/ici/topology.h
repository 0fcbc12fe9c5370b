// Pod topologies (DESIGN §6) as plain C++: which port of which chip is wired to which, built
// from cubes whose internal links are direct and whose face (and wrap-around) links go through
// the optical circuit switch; spare chips; and routing over whatever links are alive.
//
// Ports: 0 x+, 1 x-, 2 y+, 3 y-, 4 z+, 5 z-. Chip i sits at x = i mod X, y = (i / X) mod Y,
// z = i / (X Y). A chip's + port in a dimension is wired to its neighbour's - port.
//   ring     [N, 1, 1], x wraps around
//   mesh     no wrap-around links
//   torus    every dimension of size > 2 wraps (size 2: the two links join the same pair)
//   twisted  [k, k, 2k]: the z wrap-around link of (x, y, 2k-1) goes to ((x + k/2) mod k,
//            (y + k/2) mod k, 0) (the TPU v4 twisted torus family; shorter diameter)
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mxemu::ici {

enum class TopologyKind : std::uint8_t { kRing, kMesh, kTorus, kTwisted };
const char* topology_name(TopologyKind k);

inline constexpr std::uint32_t kMaxPorts = 6;
const char* port_name(std::uint32_t port);  // "x+", "x-", ...

struct Endpoint {
  std::uint32_t chip = 0;
  std::uint32_t port = 0;
  bool operator==(const Endpoint&) const = default;
};

struct LinkSpec {
  Endpoint a, b;             // a's port is the + side (or the lower chip for a wrap of size 2)
  bool through_ocs = false;  // crosses a cube face or wraps around: an OCS circuit
};

std::optional<TopologyKind> topology_from_name(std::string_view name);

// A circuit the OCS is to set up (physical chips): a to b, or (no b) a's link taken down and
// its port left unwired.
struct Circuit {
  Endpoint a;
  std::optional<Endpoint> b;
};

// What a reprogramming of the OCS does to the wiring: the links it takes down (indices into
// links()) and those it sets up once the switch has moved.
struct OcsPlan {
  std::vector<std::size_t> removed;
  std::vector<LinkSpec> added;
};

class Topology {
 public:
  // Throws bad input naming the problem: a shape that is not the topology's (ring: [N,1,1];
  // twisted: [k,k,2k] with k even), a dimension that is neither at most the cube's nor a
  // multiple of it (a ring may have any length: its last cube is partial), too few ports for
  // the dimensions used.
  Topology(TopologyKind kind, const std::vector<std::uint32_t>& shape,
           const std::vector<std::uint32_t>& cube, std::uint32_t ports, std::uint32_t spares);

  TopologyKind kind() const { return kind_; }
  std::uint32_t active_chips() const { return active_; }  // chips of the shape
  std::uint32_t chips() const { return active_ + spares_; }
  const std::array<std::uint32_t, 3>& shape() const { return shape_; }
  std::array<std::uint32_t, 3> coords(std::uint32_t chip) const;
  const std::vector<LinkSpec>& links() const { return links_; }
  // The link at an endpoint (index into links()), if its port is wired.
  std::optional<std::size_t> link_at(Endpoint e) const;
  Endpoint other_end(std::size_t link, Endpoint e) const;

  // Rewires every link of `failed` to the same port of `spare` (chip-level sparing through the
  // OCS); returns the indices of the links that moved.
  std::vector<std::size_t> replace_chip(std::uint32_t failed, std::uint32_t spare);

  // Reprogramming the OCS (docs/ICI.md "Reprogramming the OCS"). An OCS port is one that is
  // unwired or whose link goes through the switch; links inside a cube are direct and stay.
  // The circuits that turn this wiring's OCS links into those of `kind` on the same shape, cubes
  // and ports (`physical`: logical chip -> physical chip). Throws bad input when the shape is
  // not that topology's, or when `kind` would differ in a direct link.
  std::vector<Circuit> circuits_to(TopologyKind kind,
                                   const std::vector<std::uint32_t>& physical) const;
  // Checks circuits against the wiring now and returns what they do. Throws bad input naming
  // the problem: a chip or port that does not exist, a port named twice, a port whose link is
  // direct, a circuit between two ports of one chip.
  OcsPlan plan_ocs(const std::vector<Circuit>& circuits) const;
  // Unwires the ports of the plan's removed links (the links stay in links(), unwired).
  void take_down(const OcsPlan& plan);
  // Wires the plan's new links (through the OCS); returns their indices.
  std::vector<std::size_t> set_up(const OcsPlan& plan);
  bool wired(std::size_t link) const;

 private:
  void add_link(Endpoint a, Endpoint b, bool through_ocs);

  TopologyKind kind_;
  std::array<std::uint32_t, 3> shape_{1, 1, 1};
  std::array<std::uint32_t, 3> cube_{4, 4, 4};
  std::uint32_t active_ = 1, spares_ = 0, ports_ = 6;
  std::vector<LinkSpec> links_;
  std::vector<std::array<std::int64_t, kMaxPorts>> port_link_;  // per chip, -1: unwired
};

// Shortest-path routes over the live links (dead links and chips excluded), the next hop chosen
// by the lowest port number among the shortest (so a healthy torus routes dimension by
// dimension: x, then y, then z). Deadlock freedom: a packet on its h-th hop uses virtual
// channel h, so channel dependencies only go from lower to higher channels (no cycle), on any
// topology; `vcs()` is the longest route + 1.
class Routes {
 public:
  Routes(const Topology& t, const std::vector<bool>& link_alive,
         const std::vector<bool>& chip_alive);
  // The port of `from` on the way to `to` (nullopt: unreachable, or from == to).
  std::optional<std::uint32_t> next_port(std::uint32_t from, std::uint32_t to) const;
  std::uint32_t hops(std::uint32_t from, std::uint32_t to) const;  // ~0u: unreachable
  std::uint32_t vcs() const { return vcs_; }
  std::uint32_t diameter() const { return diameter_; }

 private:
  std::uint32_t n_;
  std::vector<std::uint32_t> dist_;  // [to * n + from]
  std::vector<std::uint8_t> port_;   // [to * n + from], 255: none
  std::uint32_t vcs_ = 1, diameter_ = 0;
};

}  // namespace mxemu::ici
