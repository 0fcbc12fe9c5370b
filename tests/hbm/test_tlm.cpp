// The SystemC shell: the AT path gives exactly the cycles of HbmCore driven directly, b_transport
// the closed-form latency, transport_dbg and AT data movement read back, bad accesses get TLM
// error responses, and random reads and writes of random sizes and alignments agree with a
// shadow memory (nothing lost, nothing corrupted).
#include <catch2/catch.hpp>

#include <systemc>
#include <tlm>

#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <vector>

#include "model/hbm/at_player.h"
#include "model/hbm/controller.h"
#include "model/hbm/target.h"
#include "model/hbm/trace.h"

using namespace mxemu::hbm;

namespace {

struct FreshContext {  // NOTES.md: a fresh sc_simcontext per test case; declared first
  ~FreshContext() {
    // NOLINTNEXTLINE(bugprone-unhandled-exception-at-new): out of memory ends the test run
    sc_core::sc_curr_simcontext = new sc_core::sc_simcontext();
    sc_core::sc_default_global_context = sc_core::sc_curr_simcontext;
  }
};

HbmConfig small() {
  HbmConfig c;
  c.org.stacks = 1;
  c.org.channels_per_stack = 2;
  return c;
}

}  // namespace

TEST_CASE("AT path completes every request at the cycle HbmCore gives") {
  FreshContext guard;
  const HbmConfig cfg = small();
  std::mt19937_64 rng(5);
  std::vector<TraceEntry> trace(3000);
  Cycle t = 0;
  for (std::size_t i = 0; i < trace.size(); ++i) {
    if (i % 100 == 0) t += 500;  // bursts with idle gaps, otherwise as fast as accepted
    trace[i].cycle = t;
    trace[i].address = (rng() % 4 == 0 ? i * 32 : (rng() % (1u << 26)) * 32);
    trace[i].is_write = rng() % 3 == 0;
  }
  // Direct: the same front end as `replay`, completions kept.
  HbmCore core(cfg);
  core.keep_completions(true);
  Cycle accepted = 0;
  for (std::size_t i = 0; i < trace.size(); ++i) {
    accepted =
        core.submit({i, trace[i].address, trace[i].is_write, std::max(trace[i].cycle, accepted)});
  }
  core.drain();
  std::map<std::uint64_t, Cycle> direct;
  for (const Completion& c : core.pop_completions(~Cycle{0})) direct[c.id] = c.done;

  HbmTarget target("hbm", cfg);
  AtPlayer player("player", trace, target.clock_period(), cfg.org.access_bytes);
  player.socket.bind(target.socket);
  sc_core::sc_start();
  REQUIRE(player.responses() == trace.size());
  for (std::size_t i = 0; i < trace.size(); ++i) {
    INFO("request " << i);
    REQUIRE(player.done_cycles()[i] == direct.at(i));
  }
  REQUIRE(target.outstanding() == 0);
}

namespace {
struct Initiator : sc_core::sc_module {
  tlm_utils::simple_initiator_socket<Initiator> socket{"socket"};
  explicit Initiator(const sc_core::sc_module_name& n) : sc_core::sc_module(n) {}
};
}  // namespace

TEST_CASE("b_transport gives the closed-form latency; transport_dbg and data read back") {
  FreshContext guard;
  HbmConfig cfg = small();
  cfg.refresh = RefreshPolicy::kNone;
  HbmTarget target("hbm", cfg);
  Initiator init("init");
  init.socket.bind(target.socket);
  const TimingSet& t = cfg.timing;
  const sc_core::sc_time tck = target.clock_period();
  REQUIRE(tck == sc_core::sc_time(625, sc_core::SC_PS));

  // Preload through transport_dbg, read back through b_transport (a 64-byte read = 2 pieces on
  // two pseudo-channels: both ready after tRCD + CL + BL).
  std::vector<std::uint8_t> data(64), back(64, 0);
  for (int i = 0; i < 64; ++i) data[i] = static_cast<std::uint8_t>(i * 3 + 1);
  tlm::tlm_generic_payload p;
  p.set_command(tlm::TLM_WRITE_COMMAND);
  p.set_address(0x1000);
  p.set_data_ptr(data.data());
  p.set_data_length(64);
  p.set_streaming_width(64);
  REQUIRE(init.socket->transport_dbg(p) == 64);
  p.set_command(tlm::TLM_READ_COMMAND);
  p.set_data_ptr(back.data());
  sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
  init.socket->b_transport(p, delay);
  REQUIRE(p.get_response_status() == tlm::TLM_OK_RESPONSE);
  REQUIRE(back == data);
  REQUIRE(delay == tck * static_cast<double>(t.nRCDRD + t.nCL + t.nBL));
  // A second read of the same data, issued at the end of the first: two row hits (tCCD_S apart
  // at most; both pieces hit their open rows) -> CL + BL after arrival.
  sc_core::sc_time d2 = delay;
  init.socket->b_transport(p, d2);
  REQUIRE(d2 - delay == tck * static_cast<double>(t.nCL + t.nBL));
  // The direct storage API sees the same bytes.
  std::vector<std::uint8_t> direct(64);
  target.storage().read(0x1000, direct);
  REQUIRE(direct == data);

  // Out of range and byte enables are refused.
  p.set_address(target.core().address_map().capacity_bytes() - 32);
  delay = sc_core::SC_ZERO_TIME;
  init.socket->b_transport(p, delay);
  REQUIRE(p.get_response_status() == tlm::TLM_ADDRESS_ERROR_RESPONSE);
  REQUIRE(init.socket->transport_dbg(p) == 0);
  p.set_address(0);
  std::uint8_t be[4] = {0xFF, 0, 0xFF, 0};
  p.set_byte_enable_ptr(be);
  p.set_byte_enable_length(4);
  init.socket->b_transport(p, delay);
  REQUIRE(p.get_response_status() == tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE);
}

TEST_CASE("AT writes then reads move data through storage") {
  FreshContext guard;
  const HbmConfig cfg = small();
  std::vector<TraceEntry> trace;
  for (std::uint64_t i = 0; i < 8; ++i) {
    TraceEntry w;
    w.address = 0x4000 + i * 32;
    w.is_write = true;
    w.data = {static_cast<std::uint8_t>(i), 0xAB};
    trace.push_back(w);
  }
  HbmTarget target("hbm", cfg);
  AtPlayer player("player", trace, target.clock_period(), cfg.org.access_bytes);
  player.socket.bind(target.socket);
  sc_core::sc_start();
  REQUIRE(player.responses() == 8);
  for (std::uint64_t i = 0; i < 8; ++i) {
    std::vector<std::uint8_t> b(2);
    target.storage().read(0x4000 + i * 32, b);
    REQUIRE(b[0] == i);
    REQUIRE(b[1] == 0xAB);
  }
}

namespace {

// Random reads and writes of 1..300 bytes at any byte address of a 64 KiB window, sent with
// BEGIN_REQ as soon as the previous one got END_REQ. Every write updates the shadow when it is
// sent; every read records the shadow's bytes then (data moves at BEGIN_REQ) and is compared with
// what the target returned when BEGIN_RESP arrives.
struct RandomInitiator : sc_core::sc_module {
  tlm_utils::simple_initiator_socket<RandomInitiator> socket{"socket"};
  static constexpr std::uint64_t kBase = 0x10000, kWindow = 0x10000;

  RandomInitiator(const sc_core::sc_module_name& n, std::size_t count)
      : sc_core::sc_module(n), count_(count), shadow(kWindow, 0) {
    socket.register_nb_transport_bw(this, &RandomInitiator::nb_transport_bw);
    SC_HAS_PROCESS(RandomInitiator);
    SC_THREAD(run);
  }

  struct Txn {
    tlm::tlm_generic_payload p;
    std::vector<std::uint8_t> data, expect;
  };

  void run() {
    std::mt19937_64 rng(17);
    for (std::size_t i = 0; i < count_; ++i) {
      auto t = std::make_unique<Txn>();
      const std::uint64_t len = 1 + rng() % 300;
      const std::uint64_t off = rng() % (kWindow - len);
      const bool write = rng() % 2 == 0;
      t->data.resize(len);
      if (write) {
        for (auto& b : t->data) b = static_cast<std::uint8_t>(rng());
        std::memcpy(&shadow[off], t->data.data(), len);
        ++writes;
      } else {
        t->expect.assign(shadow.begin() + static_cast<std::ptrdiff_t>(off),
                         shadow.begin() + static_cast<std::ptrdiff_t>(off + len));
      }
      tlm::tlm_generic_payload& p = t->p;
      p.set_command(write ? tlm::TLM_WRITE_COMMAND : tlm::TLM_READ_COMMAND);
      p.set_address(kBase + off);
      p.set_data_ptr(t->data.data());
      p.set_data_length(static_cast<unsigned>(len));
      p.set_streaming_width(static_cast<unsigned>(len));
      p.set_byte_enable_ptr(nullptr);
      p.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
      txns_.push_back(std::move(t));
      tlm::tlm_phase phase = tlm::BEGIN_REQ;
      sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
      if (socket->nb_transport_fw(p, phase, delay) != tlm::TLM_UPDATED || phase != tlm::END_REQ) {
        ++refused;
        continue;
      }
      wait(delay + sc_core::sc_time(rng() % 4 == 0 ? 50 : 0, sc_core::SC_NS));
    }
  }

  tlm::tlm_sync_enum nb_transport_bw(tlm::tlm_generic_payload& p, tlm::tlm_phase& phase,
                                     sc_core::sc_time& /*delay*/) {
    if (phase != tlm::BEGIN_RESP) return tlm::TLM_ACCEPTED;
    ++responses;
    for (const auto& t : txns_) {
      if (&t->p != &p) continue;
      if (!p.is_response_ok()) ++errors;
      if (p.is_read() && t->data != t->expect) ++corrupted;
    }
    return tlm::TLM_COMPLETED;
  }

  std::size_t count_;
  std::vector<std::unique_ptr<Txn>> txns_;
  std::vector<std::uint8_t> shadow;
  std::size_t responses = 0, writes = 0, refused = 0, errors = 0, corrupted = 0;
};

}  // namespace

TEST_CASE("Random reads and writes of random sizes agree with a shadow memory") {
  FreshContext guard;
  HbmConfig cfg = small();
  cfg.read_queue_depth = cfg.write_queue_depth = 8;  // queues fill: drains and front-end waits
  HbmTarget target("hbm", cfg);
  RandomInitiator init("init", 3000);
  init.socket.bind(target.socket);
  sc_core::sc_start();
  REQUIRE(init.refused == 0);
  REQUIRE(init.responses == 3000);  // nothing lost
  REQUIRE(init.errors == 0);
  REQUIRE(init.corrupted == 0);  // every read saw every write sent before it
  REQUIRE(init.writes > 1000);
  REQUIRE(target.outstanding() == 0);
  std::vector<std::uint8_t> back(RandomInitiator::kWindow);
  target.storage().read(RandomInitiator::kBase, back);
  REQUIRE(back == init.shadow);
  REQUIRE(target.core().pending() == 0);
  REQUIRE(target.core().stats().writes > 0);
}
