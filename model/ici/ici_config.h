// Configuration of the inter-chip interconnect (DESIGN §6): the ICI ports and links, the optical
// circuit switch, and the faults a run injects. Defaults: TPU v5p-like links (100 GB/s per
// direction), a few hundred ns per hop, OCS reprogramming in 10 ms (NOTES.md, "Optical
// interconnect"). Every number is a config field ([ici], [ocs], [[pod.fault]], [[pod.ocs]]).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mxemu::ici {

using Ps = std::uint64_t;  // picoseconds (SystemC's resolution)

struct IciConfig {
  std::uint32_t ports = 6;              // ICI ports per chip: x+, x-, y+, y-, z+, z-
  std::uint32_t bandwidth_gbps = 100;   // GB/s per link per direction
  std::uint32_t serdes_ns = 50;         // SerDes latency per hop (both ends)
  std::uint32_t fec_ns = 100;           // FEC decode per hop
  std::uint32_t fibre_m = 3;            // fibre of a link inside a cube
  std::uint32_t ocs_fibre_m = 30;       // fibre of a link through the OCS (to the switch and back)
  std::uint32_t fibre_ps_per_m = 5000;  // ~5 ns/m in glass
  std::uint32_t router_ns = 20;         // a packet's pass through a chip's router
  std::uint32_t header_bytes = 32;      // on the wire per packet (routing, sequence, CRC-32)
  std::uint32_t max_payload_bytes = 4096;
  // Receive buffer per link and virtual channel; 0: the bandwidth-delay product of the link
  // (rounded up to whole maximal packets), which keeps a link busy while credits come back.
  std::uint32_t buffer_bytes = 0;
  std::uint64_t ejection_bytes = 8u << 20;  // per chip: data that arrived before its RECV
  std::uint32_t engine_setup_cycles = 32;   // an ICI descriptor's start-up (address generation)
  double bit_error_rate = 0.0;              // per bit on the wire, data packets
  std::uint64_t seed = 1;                   // bit errors: one seeded generator per link
  std::uint32_t retry_timeout_ns = 2000;    // go-back-N: resend when the oldest packet is unACKed

  // One hop's latency in ps (first bit out to first bit in), inside a cube or through the OCS.
  Ps hop_ps(bool through_ocs) const {
    return Ps{serdes_ns} * 1000 + Ps{fec_ns} * 1000 +
           Ps{through_ocs ? ocs_fibre_m : fibre_m} * fibre_ps_per_m;
  }
  // Serialisation of `bytes` on the wire, in ps (bandwidth in GB/s = bytes per ns).
  Ps wire_ps(std::uint64_t bytes) const {
    return (bytes * 1000 + bandwidth_gbps - 1) / bandwidth_gbps;
  }

  template <typename V>
  void visit(V& v) {
    v.table("ici", "Inter-chip interconnect ports and links (docs/ICI.md)", [&] {
      v.field("ports", ports, 1, 6, "ICI ports per chip (x+, x-, y+, y-, z+, z-)");
      v.field("bandwidth_gbps", bandwidth_gbps, 1, 10'000, "GB/s per link per direction");
      v.field("serdes_ns", serdes_ns, 0, 100'000, "SerDes latency per hop");
      v.field("fec_ns", fec_ns, 0, 100'000, "FEC decode latency per hop");
      v.field("fibre_m", fibre_m, 0, 10'000, "fibre length of a link inside a cube (m)");
      v.field("ocs_fibre_m", ocs_fibre_m, 0, 10'000, "fibre length of a link through the OCS (m)");
      v.field("fibre_ps_per_m", fibre_ps_per_m, 1, 100'000, "propagation in fibre (ps per m)");
      v.field("router_ns", router_ns, 0, 100'000, "a packet's pass through a router");
      v.field("header_bytes", header_bytes, 8, 256, "wire bytes of a packet's header and CRC");
      v.field("max_payload_bytes", max_payload_bytes, 64, 65536, "payload bytes per packet");
      v.field("buffer_bytes", buffer_bytes, 0, 1u << 26,
              "receive buffer per link and virtual channel (0: bandwidth-delay product)");
      v.field("ejection_bytes", ejection_bytes, 0, std::uint64_t{1} << 32,
              "per chip: arrived data waiting for its RECV");
      v.field("engine_setup_cycles", engine_setup_cycles, 0, 1u << 20,
              "start-up of an ICI descriptor");
      v.field("bit_error_rate", bit_error_rate, 0.0, 1e-3, "per bit, on data packets");
      v.field("seed", seed, 0, ~std::uint64_t{0} >> 1, "seed of the bit-error generators");
      v.field("retry_timeout_ns", retry_timeout_ns, 10, 100'000'000,
              "go-back-N resend timeout for an unacknowledged packet");
      v.check(buffer_bytes == 0 || buffer_bytes >= max_payload_bytes + header_bytes, "buffer_bytes",
              "must hold at least one packet (max_payload_bytes + header_bytes)");
    });
    v.table("ocs", "Optical circuit switch", [&] {
      v.field("reconfig_ns", ocs_reconfig_ns, 0, 10'000'000'000ull,
              "reprogramming time (links it moves are dark meanwhile)");
    });
  }
  std::uint64_t ocs_reconfig_ns = 10'000'000;  // 10 ms (3D MEMS mirrors)
};

// A fault a run injects at a given time.
struct FaultSpec {
  enum class Kind : std::uint8_t { kLink, kChip };
  Kind kind = Kind::kLink;
  std::uint32_t chip = 0;
  std::uint32_t port = 0;  // kLink: the port of `chip` whose link fails (both directions)
  std::uint64_t at_ns = 0;

  template <typename V>
  void visit(V& v) {
    v.choice("kind", kind, {{"link", Kind::kLink}, {"chip", Kind::kChip}},
             "what fails: a link (chip, port) or a whole chip");
    v.field("chip", chip, 0, 1u << 20, "the chip");
    v.field("port", port, 0, 5, "the failing link's port on that chip (0 x+ ... 5 z-)");
    v.field("at_ns", at_ns, 0, 1'000'000'000'000ull, "when (simulated ns)");
  }
};

// One circuit of an OCS program: port a[1] of chip a[0] to port b[1] of chip b[0] (logical
// chips); without b, a's link is taken down and its port left unwired.
struct OcsCircuit {
  std::vector<std::uint32_t> a, b;

  template <typename V>
  void visit(V& v) {
    v.field("a", a, 2, 2, 0, 1u << 20, "[chip, port] of one end (port 0 x+ ... 5 z-)");
    v.field("b", b, 0, 2, 0, 1u << 20, "[chip, port] of the other end; absent: a is disconnected");
    v.check(a.size() == 2, "a", "is required: [chip, port]");
    v.check(b.empty() || b.size() == 2, "b", "takes [chip, port]");
    v.check(a.size() != 2 || a[1] < 6, "a", "names a port beyond 5 (z-)");
    v.check(b.size() != 2 || b[1] < 6, "b", "names a port beyond 5 (z-)");
  }
};

// A reprogramming of the optical circuit switch at a given time (docs/ICI.md "Reprogramming the
// OCS"): either to another topology's circuits (same shape and cubes: only circuits through the
// OCS differ) or to the circuits listed.
struct OcsProgram {
  std::uint64_t at_ns = 0;
  std::string topology;  // "", or ring / mesh / torus / twisted
  std::vector<OcsCircuit> circuits;

  template <typename V>
  void visit(V& v) {
    v.field("at_ns", at_ns, 0, 1'000'000'000'000ull,
            "when the switch starts moving (simulated ns)");
    v.field("topology", topology,
            "rewire to this topology's OCS circuits (ring, mesh, torus, twisted)");
    v.items("circuits", circuits, 4096, "A circuit the program sets up (or takes down)");
    v.check(topology.empty() != circuits.empty(), "topology",
            "give either topology or circuits (exactly one of them)");
    v.check(topology.empty() || topology == "ring" || topology == "mesh" || topology == "torus" ||
                topology == "twisted",
            "topology", "= \"" + topology + "\" is not ring, mesh, torus or twisted");
  }
};

}  // namespace mxemu::ici
