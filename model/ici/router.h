// A chip's ICI router (SystemC shell over link.h): its ports (a LinkTx toward each neighbour, a
// LinkRx from it), an input buffer per port and virtual channel, and the chip's own traffic
// (injected by the ICI engine, delivered to it). One SC_THREAD moves packets: it takes what has
// arrived on the input lanes, ACKs, NACKs and returns credits, delivers packets for this chip,
// and forwards the rest on the port the routes give, one packet per free output port at a time,
// round-robin over the waiting inputs. Routing is the fabric's (shortest paths over live links,
// virtual channel = hop number: deadlock-free on any topology).
#pragma once

#include <systemc>

#include <array>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "model/ici/channel.h"
#include "model/ici/ici_config.h"
#include "model/ici/link.h"
#include "model/ici/topology.h"

namespace mxemu::ici {

// Where packets addressed to this chip go (the ICI engine).
class RouterSink {
 public:
  virtual ~RouterSink() = default;
  // True when the packet was taken (written, buffered or counted); false: not now (it stays in
  // its input buffer, holding that buffer's credits).
  virtual bool deliver(const Packet& p) = 0;
};

// The routes a router follows, and the chip each logical index is on (spares change it).
struct RouteView {
  std::shared_ptr<const Routes> routes;
  std::shared_ptr<const std::vector<std::uint32_t>> physical;  // logical chip -> physical chip
};

struct PortStats {
  LinkStats tx;
  std::uint64_t forwarded = 0;  // packets of other chips passed on through this port
  std::uint64_t lost = 0;       // flights the lane lost (dark)
};

// A busy interval of an output port (timeline: one slice per burst of back-to-back packets).
struct BusySpan {
  Ps start = 0, end = 0;
  std::uint64_t packets = 0, bytes = 0;
};

// A port's link as the waveforms show it (set_record_links; docs/SIM.md "Waveforms"): up, down
// (failed, or its peer chip failed with no spare left), dark (its circuit is being moved by the
// OCS to a spare; up again when rewired).
enum class LinkState : std::uint8_t { kDown = 0, kUp = 1, kDark = 2 };
struct CreditSample {
  Ps at = 0;
  std::uint32_t vc = 0;
  std::uint64_t credits = 0;  // the sender's credits on `vc` after the change
  bool traffic = false;       // a send or a returned credit (false: the link's wiring)
};
struct LinkLog {
  std::vector<std::pair<Ps, LinkState>> state;
  std::vector<CreditSample> credits;
  std::vector<Ps> resends;  // each go-back-N retransmission's start on the wire
};

class Router : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(Router);
  Router(const sc_core::sc_module_name& name, const IciConfig& cfg, std::uint32_t chip);

  // Wiring (the fabric, before the run or when the OCS moves a link): port `port` sends on `out`
  // and receives on `in`; credits: the receiver's buffer per virtual channel.
  void attach(std::uint32_t port, Lane* out, Lane* in, Ps latency, std::uint64_t credits,
              std::uint32_t vcs, std::uint64_t seed, std::uint32_t peer_chip);
  // The link at `port` died: what it had sent but not had acknowledged, and what waited for it,
  // goes back into the router to be routed another way.
  void link_failed(std::uint32_t port);
  void set_routes(const RouteView& r);
  void set_sink(RouterSink* sink) { sink_ = sink; }
  void set_halted(bool h);  // a failed chip's router moves nothing more
  // A new epoch: packets of older epochs still waiting in this router are dropped (their buffer
  // credits returned), and on_epoch runs (the ICI engine aborts what it had pending).
  void set_epoch(std::uint32_t epoch, std::uint32_t state);
  void set_on_epoch(std::function<void(std::uint32_t epoch, std::uint32_t state)> fn) {
    on_epoch_ = std::move(fn);
  }
  // Forgets the link at `port` (its peer failed); attach() wires it again.
  void detach(std::uint32_t port);
  void set_record_timeline(bool on) { record_ = on; }
  // A distributed pod: this router stands for a chip another rank runs. Nothing ever arrives
  // at it here, so it keeps no input buffers (a ring of 512 chips has 514 virtual channels).
  void set_remote() { remote_ = true; }
  // Keep each port's link state, credit and resend changes (the waveforms; off: no cost).
  void set_record_links(bool on) { record_links_ = on; }
  const LinkLog& link_log(std::uint32_t port) const { return ports_.at(port).log; }
  // The fabric says what a port's link is now (recorded only with set_record_links).
  void note_link_state(std::uint32_t port, LinkState s);
  void kick() { kick_.notify(sc_core::SC_ZERO_TIME); }

  // The chip's own packets, in order, each no earlier than `ready` (ps). on_sent runs when the
  // packet has left this chip (its first transmission, or its delivery when addressed to it).
  void inject(Packet p, std::function<void()> on_sent = {}, Ps ready = 0);
  std::size_t injection_queue() const { return local_.size(); }
  // Whether the routes reach logical chip `dst` from here (this chip included).
  bool reachable(std::uint32_t dst) const;

  std::uint32_t chip() const { return chip_; }
  bool wired(std::uint32_t port) const { return ports_[port].out != nullptr; }
  std::uint32_t peer(std::uint32_t port) const { return ports_[port].peer; }
  PortStats port_stats(std::uint32_t port) const;
  // A distributed pod's rank 0: the port's statistics and busy spans as the rank that runs this
  // chip recorded them (port_stats and spans report these from now on; `lost` stays the lane's).
  void absorb(std::uint32_t port, const PortStats& s, std::vector<BusySpan> spans,
              std::vector<PortStats> wirings);
  // Each wiring of the port (attach), first to last, with its own statistics (an OCS that
  // moves the port's link starts a new one; `lost` is left 0: it is the lanes').
  std::vector<PortStats> wirings(std::uint32_t port) const;
  const std::vector<BusySpan>& spans(std::uint32_t port) const { return ports_[port].spans; }
  std::uint64_t credits(std::uint32_t port, std::uint32_t vc) const;
  // Packets held in this router (input buffers and its own queue): for deadlock reports.
  std::uint64_t held_packets() const;
  std::string describe_stall() const;  // "" when nothing waits

 private:
  struct Entry {
    Packet packet;
    Ps ready = 0;  // after the router's pass
    std::function<void()> on_sent;
  };
  struct Port {
    Lane* out = nullptr;
    Lane* in = nullptr;
    std::unique_ptr<LinkTx> tx;
    LinkRx rx;
    std::uint32_t peer = 0;
    std::vector<std::deque<Entry>> buf;  // per virtual channel
    std::uint64_t forwarded = 0;
    std::vector<BusySpan> spans;
    std::optional<Ps> stall_since;
    std::vector<PortStats> history;    // of earlier wirings of this port
    std::uint64_t forwarded_base = 0;  // `forwarded` when the current wiring began
    LinkLog log;                       // with record_links_ only
    std::optional<PortStats> absorbed;
    std::vector<PortStats> absorbed_wirings;
  };

  void thread();
  void step(Ps now);
  Ps next_wake(Ps now) const;
  bool try_deliver(std::deque<Entry>& q, std::optional<std::uint32_t> in_port, std::uint32_t vc,
                   Ps now);
  std::optional<std::uint32_t> out_port(const Packet& p) const;
  void return_credit(std::uint32_t in_port, std::uint32_t vc, const Packet& p, Ps now);
  void note_span(Port& port, Ps start, Ps end, std::uint64_t bytes);
  void note_credits(Port& port, std::uint32_t vc, Ps now);

  const IciConfig& cfg_;
  std::uint32_t chip_;
  std::array<Port, kMaxPorts> ports_;
  std::deque<Entry> local_;  // the chip's own packets (and rerouted ones), in order
  RouteView routes_;
  RouterSink* sink_ = nullptr;
  std::uint32_t rr_ = 0;  // round-robin start among the sources
  bool halted_ = false;
  std::uint32_t epoch_ = 0;
  std::function<void(std::uint32_t, std::uint32_t)> on_epoch_;
  bool record_ = false;
  bool record_links_ = false;
  bool remote_ = false;
  sc_core::sc_event kick_;
};

Ps now_ps();

}  // namespace mxemu::ici
