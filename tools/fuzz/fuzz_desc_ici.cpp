// libFuzzer harness of the ICI engine's descriptors (ICI_SEND, ICI_RECV, ICI_SIGNAL: the
// collectives of firmware/ are built from these): the real chip::IciEngine over a real
// ici::Router, whose decode and checks live in their SystemC shells, driven outside the
// simulation kernel. sc_start never runs, so an engine and its router are built (elaboration) and
// destroyed per input, and what the engine injects stays in the router's queue, where the
// harness counts it.
//
// Input: one byte (bits 0-1: which pod; bit 2: force the opcodes so the fields behind them are
// reached), then up to kMaxDescs descriptors of 16 words, executed in order on chip 0. Pods:
// one chip; a healthy ring of 4; a ring of 4 whose chip 2 has lost every link (unreachable). A
// descriptor whose word 15 has bit 0 set is preceded by the packets a well-behaved peer would
// have sent for it (message of word 14 bytes, at most kMaxPackets of them, through deliver()):
// early data waits for its RECV, a size mismatch is a fault.
//
// Properties beyond "no crash, no hang, no absurd allocation": every refusal is a
// chip::EngineError with a fault code and a message, never another exception; an accepted
// descriptor completes asynchronously with its next dispatch no earlier than now; an accepted
// SEND injects ceil(BYTES / max_payload_bytes) packets and a SIGNAL one, a RECV none; a fault
// raised from deliver() names its cause.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "model/chip/chip_state.h"
#include "model/chip/engine_error.h"
#include "model/chip/ici_engine.h"
#include "model/chip/regs.h"
#include "model/hbm/config.h"
#include "model/ici/ici_config.h"
#include "model/ici/router.h"
#include "model/ici/topology.h"
#include "tools/fuzz/engine_harness.h"
#include "tools/fuzz/fuzz_check.h"

namespace {

using namespace mxemu;

constexpr std::size_t kMaxDescs = 8;
constexpr std::uint64_t kMaxPackets = 4;
// Work budget per SEND (bytes its packets copy at dispatch), and the engine's limit on a message
// (model/chip/ici_engine.cpp: above it a SEND is refused before anything is copied).
constexpr std::uint64_t kMaxSendBytes = std::uint64_t{1} << 20;
constexpr std::uint64_t kMessageLimit = std::uint64_t{256} << 20;

using Ici = fuzz::Exposed<chip::IciEngine>;

struct Pod {
  chip::ChipConfig cfg;
  ici::IciConfig ici;
  // HBM of the default geometry, reading zeros (the engine copies a SEND's bytes at dispatch).
  fuzz::ZeroHbm hbm{hbm::HbmConfig{}.org.capacity_bytes()};
  std::unique_ptr<chip::ChipState> state;
  ici::RouteView routes;
  // chips: 1 or a ring of 4; isolated: a chip whose links are all dead (none when > chips).
  Pod(std::uint32_t chips, std::uint32_t isolated) {
    chip::ChipIdentity id;
    id.num_chips = chips;
    id.pod_shape = {chips, 1, 1};
    state = std::make_unique<chip::ChipState>(cfg, id, hbm);
    const ici::Topology topo(ici::TopologyKind::kRing, {chips, 1, 1}, {4, 4, 4}, ici.ports, 0);
    std::vector<bool> alive(topo.links().size(), true);
    for (std::size_t i = 0; i < alive.size(); ++i) {
      const ici::LinkSpec& l = topo.links()[i];
      if (l.a.chip == isolated || l.b.chip == isolated) alive[i] = false;
    }
    routes.routes =
        std::make_shared<const ici::Routes>(topo, alive, std::vector<bool>(topo.chips(), true));
    std::vector<std::uint32_t> phys(chips);
    for (std::uint32_t c = 0; c < chips; ++c) phys[c] = c;
    routes.physical = std::make_shared<const std::vector<std::uint32_t>>(std::move(phys));
  }
};

// The three pods, renewed with their SystemC context every batch of inputs.
struct Pods {
  Pod single{1, ~0u};
  Pod ring{4, ~0u};
  Pod broken{4, 2};
  Pod& operator[](std::uint32_t which) {
    switch (which) {
      case 0:
        return single;
      case 1:
        return ring;
      default:
        return broken;
    }
  }
};

std::uint64_t ceil_div(std::uint64_t a, std::uint64_t b) {
  return (a + b - 1) / b;
}

// The first packets (at most kMaxPackets) of message `msg` of `bytes` bytes that chip `peer`
// sends chip 0 with `tag`, as its engine would cut them, handed to deliver().
void deliver_message(Ici& eng, const Pod& p, std::uint32_t peer, std::uint32_t tag,
                     std::uint64_t msg, std::uint64_t bytes) {
  const std::uint64_t chunk = p.ici.max_payload_bytes;
  std::uint64_t sent = 0;
  for (std::uint64_t off = 0; off < bytes && sent < kMaxPackets; off += chunk, ++sent) {
    ici::Packet pk;
    pk.src_chip = peer;
    pk.dst_chip = 0;
    pk.tag = tag;
    pk.msg_id = msg;
    pk.offset = off;
    pk.msg_bytes = bytes;
    pk.payload.assign(std::min(chunk, bytes - off), 0x5A);
    eng.deliver(pk);  // false: back-pressure (the packet would wait in its link)
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  static fuzz::Renewed<Pods> pods;
  Pod& p = pods.next()[data[0] & 3];
  const bool force = (data[0] & 4) != 0;
  p.state->fault.reset();
  p.state->sems.fill(0);
  const std::string n_router = pods.name("router"), n_ici = pods.name("ici");
  ici::Router router(n_router.c_str(), p.ici, 0);
  router.set_routes(p.routes);
  Ici eng(n_ici.c_str(), *p.state, router, p.ici);

  const std::span<const std::uint8_t> body(data + 1, size - 1);
  constexpr std::size_t kDescBytes = sizeof(chip::Desc);
  const std::size_t n = std::min(kMaxDescs, (body.size() + kDescBytes - 1) / kDescBytes);
  std::uint64_t now = 0;
  for (std::size_t i = 0; i < n; ++i) {
    chip::Desc d{};
    const std::size_t off = i * kDescBytes;
    std::memcpy(d.data(), body.data() + off, std::min(kDescBytes, body.size() - off));
    namespace r = chip::regs;
    if (force) {
      // Bits 8-9 of word 0 (the header's WAIT_SEM, which execute() does not read) pick it.
      static constexpr std::array<std::uint32_t, 4> kOps{r::kOpIciSend, r::kOpIciRecv,
                                                         r::kOpIciSignal, r::kOpIciRecv};
      r::hdr::kOpcode.set(d.data(), kOps[(d[0] >> 8) & 3]);
    }
    const std::uint32_t opcode = r::hdr::kOpcode.get(d.data());
    if (opcode == 0) continue;  // NOP: the dispatcher's, never execute()'s
    // A legal SEND of many bytes is legitimately slow (its packets copy it at dispatch, up to
    // 256 MiB), not a hang: SENDs above the work budget are not run, except those above the
    // engine's limit, whose refusal is under test.
    if (opcode == r::kOpIciSend) {
      const std::uint64_t bytes = r::ici_send::kBytes.get(d.data());
      if (bytes > kMaxSendBytes && bytes <= kMessageLimit) continue;
    }
    const std::uint32_t peer = r::ici_send::kPeer.get(d.data());
    if ((d[15] & 1) != 0 && peer < p.state->id.num_chips) {
      deliver_message(eng, p, peer, r::ici_send::kTag.get(d.data()), (d[15] >> 1) & 3, d[14]);
    }
    const std::size_t queued = router.injection_queue();
    try {
      const Ici::Timing t = eng.run(d, now);
      FUZZ_CHECK(t.dispatch_next >= now);
      FUZZ_CHECK(t.complete == Ici::async());
      const std::size_t injected = router.injection_queue() - queued;
      if (opcode == r::kOpIciSend) {
        FUZZ_CHECK(injected ==
                   ceil_div(r::ici_send::kBytes.get(d.data()), p.ici.max_payload_bytes));
      } else if (opcode == r::kOpIciSignal) {
        FUZZ_CHECK(injected == 1);
      } else {
        FUZZ_CHECK(opcode == r::kOpIciRecv && injected == 0);
      }
      now = t.dispatch_next;
    } catch (const chip::EngineError& e) {
      FUZZ_CHECK(e.code != r::Fault::kNone);
      FUZZ_CHECK(!e.message.empty());
    }
    if (p.state->fault) {  // raised by deliver(): a message that contradicts its RECV
      FUZZ_CHECK(p.state->fault->code != r::Fault::kNone && !p.state->fault->message.empty());
    }
  }
  return 0;
}
