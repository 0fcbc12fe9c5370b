// The pod's interconnect: the topology's links as lanes between the chips' routers, the optical
// circuit switch that can move them (spares, and reprogramming at given times: [[pod.ocs]]), the
// routes, and the faults of a run (links that fail at a given time; their traffic is routed
// around). Owned by the simulation ("pod.ici").
#pragma once

#include <systemc>

#include <array>
#include <deque>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "model/ici/channel.h"
#include "model/ici/ici_config.h"
#include "model/ici/router.h"
#include "model/ici/topology.h"

namespace mxemu::ici {

// Something the interconnect did that the stats and timeline show.
struct FabricEvent {
  Ps at = 0;
  std::string what;
};

// Which process runs each chip (a distributed pod, docs/DISTRIBUTED.md): rank_of[physical
// chip], and this process's rank. Empty: every chip is here.
struct FabricOwnership {
  std::vector<std::uint32_t> rank_of;
  std::uint32_t me = 0;
};

class Fabric : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(Fabric);
  // routers: one per chip (physical index, spares included). Faults are checked here (a link
  // fault must name a wired port; a chip in the pod), and so are the OCS programs (each applied
  // in time order to a copy of the wiring: docs/ICI.md "Reprogramming the OCS").
  // What the pod does when a chip fails or a spare takes its place (the simulation).
  struct ChipEvents {
    // A (physical) chip failed; `replaced`: a spare will take its place after the OCS's time.
    std::function<void(std::uint32_t chip, bool replaced)> failed;
    std::function<void(std::uint32_t logical, std::uint32_t spare)> replaced;
  };
  using Ownership = FabricOwnership;
  Fabric(const sc_core::sc_module_name& name, const IciConfig& cfg, Topology topology,
         std::vector<Router*> routers, std::vector<FaultSpec> faults,
         std::vector<OcsProgram> ocs = {}, ChipEvents events = {}, Ownership own = {});

  const Topology& topology() const { return topo_; }
  const RouteView& routes() const { return view_; }
  // The receive buffer of a link per virtual channel: [ici] buffer_bytes, or the bandwidth-delay
  // product rounded up to whole maximal packets.
  std::uint64_t credits(const LinkSpec& l) const;
  Ps latency(const LinkSpec& l) const { return cfg_.hop_ps(l.through_ocs); }
  const std::vector<FabricEvent>& events() const { return events_; }
  bool link_alive(std::size_t link) const { return alive_[link]; }
  // Reprograms the OCS now (from a SystemC thread; returns when the new circuits are up, after
  // [ocs] reconfig_ns): the program's circuits in logical chips. `index` names it in events and
  // errors. Throws bad input when the program does not fit the wiring now.
  void reprogram(const OcsProgram& program, std::size_t index);
  std::uint32_t epoch() const { return epoch_; }
  // The physical chip that stands for logical chip `c` (a spare after a replacement).
  std::uint32_t physical(std::uint32_t c) const { return (*view_.physical)[c]; }

  // The shortest latency of any link (~0: no links): the lookahead of a distributed pod's
  // windows. Any link counts, not only those between ranks, so the windows do not depend on
  // the partition (and a spare's rewired links are covered).
  Ps min_latency() const;
  // The end of a window: what this process's lanes to chips of other ranks carry, one record
  // per rank (out.size() = ranks), and taking in what other ranks sent (at `now`, the window's
  // end: every arrival in it lies later).
  void take_outgoing(std::vector<std::vector<std::uint8_t>>& out);
  void deliver_incoming(const std::vector<std::uint8_t>& in, Ps now);
  // The end of a distributed run: the ports of this rank's chips (statistics, busy spans) and
  // every lane's lost flights, for rank 0, which absorbs the others' into its copies.
  std::vector<std::uint8_t> encode_port_records() const;
  void absorb_port_records(const std::vector<std::uint8_t>& in);

  // Per link: both directions' bytes, packets, utilisation, retries, credit stalls.
  nlohmann::json stats_json(Ps end) const;
  // Trace events: a process "ICI links" with a track per link direction.
  void timeline_events(nlohmann::json& events, std::uint32_t pid) const;

 private:
  void wire(std::size_t link);
  void recompute_routes();
  void event_thread();  // the faults and OCS programs, in time order
  // The program's circuits on `t` (physical chips, through `physical`).
  std::vector<Circuit> circuits_of(const OcsProgram& p, const Topology& t,
                                   const std::vector<std::uint32_t>& physical) const;
  // Applies the programs to a copy of the wiring; returns the longest route seen.
  std::uint32_t check_programs(std::uint32_t healthy_diameter) const;
  // One direction of a link: the statistics of the wirings of its sending port that were it.
  PortStats link_stats(std::size_t link, Endpoint from) const;
  void fail_link(std::size_t link, Ps now);
  void fail_chip(std::uint32_t logical, Ps now);
  void replace_chip(std::uint32_t logical, std::uint32_t failed, std::uint32_t spare);
  void broadcast_epoch(std::uint32_t state);
  bool mine(std::uint32_t chip) const {
    return own_.rank_of.empty() || own_.rank_of[chip] == own_.me;
  }

  const IciConfig& cfg_;
  Topology topo_;
  std::vector<Router*> routers_;
  std::vector<FaultSpec> faults_;
  std::vector<OcsProgram> ocs_;
  std::deque<std::array<Lane, 2>> lanes_;  // per link: [a -> b, b -> a] (stable: links are added)
  std::vector<Ps> wired_at_, removed_at_;  // per link; removed_at_ ~0: still wired
  // Per physical chip and port, the links attached to it, in order (its wirings).
  std::vector<std::array<std::vector<std::size_t>, kMaxPorts>> port_links_;
  std::size_t initial_links_;  // links of the topology; those after them an OCS program set up
  std::vector<bool> alive_;
  std::vector<bool> chip_alive_;
  RouteView view_;
  std::uint32_t vcs_ = 1;
  std::vector<FabricEvent> events_;
  ChipEvents chip_events_;
  Ownership own_;
  std::uint32_t epoch_ = 0;
  std::uint32_t next_spare_;
  std::uint32_t failed_pending_ = 0;  // chips failed and not yet replaced
};

}  // namespace mxemu::ici
