// The interconnect on pods: messages between chips (one hop and several), their bytes exact,
// their times against the link's closed form; bit errors retried; failed links routed around;
// bad messages refused.
#include <fmt/core.h>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <random>

#include "model/chip/regs.h"
#include "model/common/error.h"
#include "model/ici/topology.h"
#include "tests/chip/chip_test_util.h"

using namespace mxemu;
using Ps = ici::Ps;

namespace {

std::vector<sim::ChipProgram> ring_programs(std::uint32_t chips, std::size_t bytes,
                                            std::uint32_t hops, std::uint64_t seed,
                                            std::vector<std::vector<std::uint8_t>>& inputs) {
  std::mt19937_64 rng(seed);
  std::vector<sim::ChipProgram> progs(chips);
  inputs.assign(chips, {});
  for (std::uint32_t i = 0; i < chips; ++i) {
    inputs[i].resize(bytes);
    for (auto& b : inputs[i]) b = static_cast<std::uint8_t>(rng());
    sim::ChipProgram& p = progs[i];
    p.firmware_name = "ici_ring";
    p.firmware_elf = test::test_firmware("chip_ici_ring");
    p.inputs.emplace_back("X", make_u8({bytes}, inputs[i]));
    p.outputs.emplace_back("Y", make_u8({bytes}, std::vector<std::uint8_t>(bytes)));
    p.read_back = {"Y"};
    p.scalars = {{"hops", hops}};
  }
  return progs;
}

sim::PodResult run_ring(const sim::SimConfig& cfg, std::size_t bytes, std::uint32_t hops,
                        std::vector<std::vector<std::uint8_t>>& inputs) {
  sim::PodJob job;
  job.config = cfg;
  job.max_cycles = 50'000'000;
  job.programs = ring_programs(cfg.pod.chips(), bytes, hops, bytes + hops, inputs);
  return test::run_pod(job);
}

void require_rotated(const sim::PodResult& r, std::uint32_t hops,
                     const std::vector<std::vector<std::uint8_t>>& inputs) {
  const auto n = static_cast<std::uint32_t>(inputs.size());
  for (std::uint32_t i = 0; i < n; ++i) {
    INFO("chip " << i << ": " << r.chips[i].end.message);
    REQUIRE(r.chips[i].end.kind == chip::ChipEnd::Kind::kExit);
    REQUIRE(r.chips[i].exit_code == 0);
    CHECK(r.chips[i].outputs.at("Y").data == inputs[(i + n - hops % n) % n]);
  }
}

sim::SimConfig pod(std::vector<std::uint32_t> shape, ici::TopologyKind kind) {
  sim::SimConfig c;
  c.pod.shape = std::move(shape);
  c.pod.topology = kind;
  return c;
}

}  // namespace

TEST_CASE("messages go around a ring exactly, one hop and several", "[chip][ici]") {
  std::vector<std::vector<std::uint8_t>> in;
  for (const std::uint32_t hops : {1u, 2u, 3u}) {
    INFO("hops " << hops);
    const sim::PodResult r = run_ring(pod({8, 1, 1}, ici::TopologyKind::kRing), 10'000, hops, in);
    require_rotated(r, hops, in);
    // Every byte crossed `hops` links: the links carried 8 x hops x 10000 payload bytes.
    std::uint64_t payload = 0;
    for (const auto& l : r.stats["pod"]["ici"]["links"]) {
      for (const auto& d : l["directions"]) payload += d["payload_bytes"].get<std::uint64_t>();
    }
    CHECK(payload == 8ull * hops * 10'000);
  }
}

TEST_CASE("messages cross 2D and 3D tori and the twisted torus", "[chip][ici]") {
  std::vector<std::vector<std::uint8_t>> in;
  for (const auto& [shape, kind] :
       {std::pair{std::vector<std::uint32_t>{4, 4, 1}, ici::TopologyKind::kTorus},
        std::pair{std::vector<std::uint32_t>{2, 2, 2}, ici::TopologyKind::kTorus},
        std::pair{std::vector<std::uint32_t>{4, 2, 1}, ici::TopologyKind::kMesh},
        std::pair{std::vector<std::uint32_t>{2, 2, 4}, ici::TopologyKind::kTwisted}}) {
    INFO(ici::topology_name(kind) << " " << shape[0] << "x" << shape[1] << "x" << shape[2]);
    const sim::PodResult r = run_ring(pod(shape, kind), 5000, 5, in);
    require_rotated(r, 5, in);
  }
}

namespace {

// Chip `src` sends `bytes` to chip `dst` (firmware chip_ici_p2p); every chip gets its tensors.
sim::PodJob p2p_job(const sim::SimConfig& cfg, std::size_t bytes, std::uint32_t src,
                    std::uint32_t dst, std::vector<std::uint8_t>& data) {
  std::mt19937_64 rng(bytes);
  data.resize(bytes);
  for (auto& b : data) b = static_cast<std::uint8_t>(rng());
  sim::ChipProgram p;
  p.firmware_name = "ici_p2p";
  p.firmware_elf = test::test_firmware("chip_ici_p2p");
  p.inputs.emplace_back("X", make_u8({bytes}, data));
  p.outputs.emplace_back("Y", make_u8({bytes}, std::vector<std::uint8_t>(bytes)));
  p.scalars = {{"src", src}, {"dst", dst}};
  sim::PodJob job;
  job.config = cfg;
  job.max_cycles = 50'000'000;
  job.record_timeline = true;
  std::vector<sim::ChipProgram> progs(cfg.pod.chips(), p);
  progs[dst].read_back = {"Y"};
  job.programs = progs;
  return job;
}

struct Slice {
  std::uint64_t start = 0, end = 0;
};
// The first slice named `name` of chip `pid`'s ICI track in a pod timeline.
Slice slice(const std::string& timeline, int pid, const std::string& name) {
  const auto t = nlohmann::json::parse(timeline);
  for (const auto& e : t["traceEvents"]) {
    if (e["ph"] == "X" && e["pid"] == pid && e["args"]["queue"] == chip::regs::kQueueIci &&
        e["args"]["op"] == name) {
      return {e["args"]["start_cycle"].get<std::uint64_t>(),
              e["args"]["end_cycle"].get<std::uint64_t>()};
    }
  }
  FAIL("no " << name << " on chip " << pid);
  return {};
}

}  // namespace

TEST_CASE("a message takes the link's closed-form time", "[chip][ici][timing]") {
  // One hop (chips 0 -> 1 of a ring of 2) and three hops (0 -> 3 of a ring of 8): the last
  // packet leaves after the start-up and every packet's serialisation, crosses each link's
  // latency and each router's pass, and lands in the cycle it arrives in.
  for (const auto& [chips, dst] : {std::pair{2u, 1u}, std::pair{8u, 3u}}) {
    for (const std::size_t bytes : {1ul, 4096ul, 4097ul, 100'000ul, 1ul << 20}) {
      INFO(chips << " chips, to " << dst << ", " << bytes << " bytes");
      sim::SimConfig cfg = pod({chips, 1, 1}, ici::TopologyKind::kRing);
      std::vector<std::uint8_t> data;
      const sim::PodResult r = test::run_pod(p2p_job(cfg, bytes, 0, dst, data));
      REQUIRE(r.chips[dst].end.kind == chip::ChipEnd::Kind::kExit);
      REQUIRE(r.chips[dst].outputs.at("Y").data == data);
      const ici::IciConfig& c = cfg.ici;
      const std::uint64_t payload = c.max_payload_bytes, packets = (bytes + payload - 1) / payload;
      const std::uint64_t last = bytes - (packets - 1) * payload;
      const auto wire = [&](std::uint64_t b) {
        return (b * 1000 + c.bandwidth_gbps - 1) / c.bandwidth_gbps;
      };
      // Store and forward: packets stream back to back on the first link; on each later link
      // the last one leaves one router pass and one serialisation of the largest packet after
      // it left the link before (the largest paces the pipeline).
      const std::uint64_t hop_ps =
          Ps(c.serdes_ns + c.fec_ns) * 1000 + Ps(c.fibre_m) * c.fibre_ps_per_m;
      const std::uint64_t first_link =
          (packets - 1) * wire(c.header_bytes + payload) + wire(c.header_bytes + last);
      const std::uint64_t largest = packets > 1 ? payload : last;
      const std::uint64_t later =
          (dst - 1) * (std::uint64_t{c.router_ns} * 1000 + wire(c.header_bytes + largest));
      const Slice send = slice(r.timeline_json, 0, "ICI_SEND");
      const Slice recv = slice(r.timeline_json, static_cast<int>(dst), "ICI_RECV");
      const std::uint64_t t0_ps = (send.start + c.engine_setup_cycles) * 1000;
      const std::uint64_t arrive_ps =
          t0_ps + first_link + later + dst * hop_ps + std::uint64_t{c.router_ns} * 1000;
      CHECK(recv.end == arrive_ps / 1000);
    }
  }
}

TEST_CASE("bit errors are caught by the CRC and retried: results stay exact", "[chip][ici][ber]") {
  sim::SimConfig cfg = pod({2, 1, 1}, ici::TopologyKind::kRing);
  cfg.ici.bit_error_rate = 1e-6;
  const std::size_t bytes = 4u << 20;  // 1024 packets of 4096 bytes
  std::vector<std::uint8_t> data;
  const sim::PodResult r = test::run_pod(p2p_job(cfg, bytes, 0, 1, data));
  REQUIRE(r.chips[1].end.kind == chip::ChipEnd::Kind::kExit);
  CHECK(r.chips[1].outputs.at("Y").data == data);
  const auto& dir = r.stats["pod"]["ici"]["links"][0]["directions"][0];  // chip0 x+ -> chip1
  const auto packets = dir["packets"].get<double>();
  const auto corrupted = dir["corrupted"].get<double>();
  const auto resent = dir["retransmissions"].get<double>();
  CHECK(packets == 1024);  // first transmissions: the message's packets
  // A packet of w bytes takes an error with p = 1 - (1 - BER)^(8 w); every transmission is a
  // trial: corrupted ~ Binomial(packets + resent, p), within 5 sigma.
  const double w = cfg.ici.header_bytes + cfg.ici.max_payload_bytes;
  const double p = -std::expm1(8 * w * std::log1p(-cfg.ici.bit_error_rate));
  const double trials = packets + resent;
  CHECK(std::abs(corrupted - trials * p) < 5 * std::sqrt(trials * p * (1 - p)));
  // Go-back-N: an error the receiver sees (a NACK, or a timeout when the resend itself is hit)
  // makes the sender resend the bad packet and every packet it put on the wire before the NACK
  // came back: k = ceil((w/B + 2 L) / (w/B)) packets (fewer at the message's end). Errors that
  // hit packets the receiver drops anyway (inside an earlier error's window) cost nothing more:
  // recoveries ~ corrupted x (1 - k p).
  const double ser = w / cfg.ici.bandwidth_gbps;  // ns
  const double lat = static_cast<double>(cfg.ici.hop_ps(false)) / 1000.0;
  const double k = std::ceil((ser + 2 * lat) / ser);
  const double recoveries = dir["nacks"].get<double>() + dir["timeouts"].get<double>();
  CHECK(recoveries <= corrupted);
  CHECK(recoveries >= corrupted * (1 - 2 * k * p));
  // A timeout resends the whole window: at most the link's credits' worth of packets.
  const double window =
      std::floor(r.stats["pod"]["ici"]["links"][0]["credits_per_vc"].get<double>() / w);
  CHECK(resent <= dir["nacks"].get<double>() * k + dir["timeouts"].get<double>() * window);
  CHECK(resent >= recoveries * k * 0.85);
  WARN("BER 1e-6: nacks " << dir["nacks"] << " timeouts " << dir["timeouts"] << ", " << corrupted
                          << " corrupted of " << trials << " transmissions (p = " << p << "), "
                          << resent << " resent, k = " << k);
}

TEST_CASE("a link that fails mid-message is routed around; the result stays exact",
          "[chip][ici][faults]") {
  // Chip 0 sends 4 MiB to chip 1 of a ring of 4; at 10 us (a quarter of the way) the direct link
  // dies: what it had not acknowledged goes back to chip 0's router and the rest of the message
  // goes the long way round (0 -> 3 -> 2 -> 1).
  sim::SimConfig cfg = pod({4, 1, 1}, ici::TopologyKind::kRing);
  ici::FaultSpec f;
  f.kind = ici::FaultSpec::Kind::kLink;
  f.chip = 0;
  f.port = 0;  // x+: chip 0 -> chip 1
  f.at_ns = 10'000;
  cfg.pod.faults = {f};
  std::vector<std::uint8_t> data;
  const sim::PodResult r = test::run_pod(p2p_job(cfg, 4u << 20, 0, 1, data));
  REQUIRE(r.chips[1].end.kind == chip::ChipEnd::Kind::kExit);
  CHECK(r.chips[1].outputs.at("Y").data == data);
  const auto& ici = r.stats["pod"]["ici"];
  REQUIRE(ici["events"].size() == 1);
  CHECK_THAT(ici["events"][0]["event"].get<std::string>(),
             Catch::Contains("link chip0.x+ - chip1.x- failed"));
  CHECK(ici["events"][0]["at_ns"].get<double>() == 10'000.0);
  // The first link carried part of it, the long way the rest, transit chips forwarded it.
  std::uint64_t direct = 0, forwarded = 0;
  for (const auto& l : ici["links"]) {
    for (const auto& d : l["directions"]) {
      if (d["from"] == "chip0.x+") direct = d["payload_bytes"].get<std::uint64_t>();
      forwarded += d["forwarded"].get<std::uint64_t>();
    }
    if (l["directions"][0]["from"] == "chip0.x+") CHECK_FALSE(l["alive"].get<bool>());
  }
  CHECK(direct > 0);
  CHECK(direct < (4u << 20));
  CHECK(forwarded > 0);
  // Timeline: the failure is an instant event on the links' process.
  CHECK_THAT(r.timeline_json, Catch::Contains("failed"));
}

TEST_CASE("all-to-all traffic completes on every topology (no routing deadlock)",
          "[chip][ici][deadlock]") {
  for (const auto& [shape, kind] :
       {std::pair{std::vector<std::uint32_t>{8, 1, 1}, ici::TopologyKind::kRing},
        std::pair{std::vector<std::uint32_t>{4, 4, 1}, ici::TopologyKind::kTorus},
        std::pair{std::vector<std::uint32_t>{4, 4, 1}, ici::TopologyKind::kMesh},
        std::pair{std::vector<std::uint32_t>{4, 4, 4}, ici::TopologyKind::kTorus},
        std::pair{std::vector<std::uint32_t>{2, 2, 4}, ici::TopologyKind::kTwisted}}) {
    sim::SimConfig cfg = pod(shape, kind);
    const std::uint32_t n = cfg.pod.chips();
    INFO(ici::topology_name(kind) << " " << n << " chips");
    // Small receive buffers and messages of several packets: the network is kept full.
    cfg.ici.buffer_bytes = 2 * (cfg.ici.header_bytes + cfg.ici.max_payload_bytes);
    const std::size_t block = 3 * cfg.ici.max_payload_bytes + 100;
    std::vector<sim::ChipProgram> progs(n);
    std::vector<std::vector<std::uint8_t>> x(n);
    std::mt19937_64 rng(n);
    for (std::uint32_t i = 0; i < n; ++i) {
      x[i].resize(n * block);
      for (auto& b : x[i]) b = static_cast<std::uint8_t>(rng());
      progs[i].firmware_name = "ici_all2all";
      progs[i].firmware_elf = test::test_firmware("chip_ici_all2all");
      progs[i].inputs.emplace_back("X", make_u8({n * block}, x[i]));
      progs[i].outputs.emplace_back("Y",
                                    make_u8({n * block}, std::vector<std::uint8_t>(n * block)));
      progs[i].read_back = {"Y"};
    }
    sim::PodJob job;
    job.config = cfg;
    job.max_cycles = 100'000'000;
    job.programs = progs;
    const sim::PodResult r = test::run_pod(job);
    for (std::uint32_t i = 0; i < n; ++i) {
      INFO("chip " << i << ": " << r.chips[i].end.message);
      REQUIRE(r.chips[i].end.kind == chip::ChipEnd::Kind::kExit);
      const auto& y = r.chips[i].outputs.at("Y").data;
      for (std::uint32_t from = 0; from < n; ++from) {  // Y[from] = X_from[i]
        REQUIRE(std::equal(y.begin() + from * block, y.begin() + (from + 1) * block,
                           x[from].begin() + i * block));
      }
    }
  }
}

TEST_CASE("a send nothing receives is a deadlock naming chips, ports and credits",
          "[chip][ici][deadlock]") {
  // Chip 0 sends 16 MiB to chip 1, which waits for a message from chip 0 with another tag: the
  // data fills chip 1's ejection buffer, then the link's credits, and both chips stop moving.
  sim::SimConfig cfg = pod({2, 1, 1}, ici::TopologyKind::kRing);
  cfg.chip.watchdog_cycles = 20'000;
  cfg.pod.on_failure = sim::OnFailure::kContinue;
  cfg.ici.ejection_bytes = 1u << 20;
  std::vector<std::uint8_t> data;
  sim::PodJob job = p2p_job(cfg, 16u << 20, 0, 1, data);
  for (auto& p : job.programs) p.scalars.emplace_back("recv_tag", 2);
  const sim::PodResult r = test::run_pod(job);
  for (std::uint32_t i = 0; i < 2; ++i) {
    INFO("chip " << i);
    CHECK(r.chips[i].end.kind == chip::ChipEnd::Kind::kDeadlock);
  }
  const std::string& m0 = r.chips[0].end.message;
  const std::string& m1 = r.chips[1].end.message;
  INFO(m0 << "\n" << m1);
  CHECK_THAT(m0, Catch::Contains("ICI has 1 descriptor(s) pending"));
  CHECK_THAT(m0, Catch::Contains("port x+ (to chip 1)"));
  CHECK_THAT(m0, Catch::Contains("0 bytes of credit on VC0"));
  CHECK_THAT(m0, Catch::Contains("wait to leave (next: to chip 1, tag 1)"));
  CHECK_THAT(m1, Catch::Contains("ICI_RECV #0 waits for message 0 with tag 2 from chip 0"));
  CHECK_THAT(m1, Catch::Contains("1048576 bytes arrived without a matching ICI_RECV"));
}

TEST_CASE("bad interconnect input is refused with the cause named", "[chip][ici][faults]") {
  CHECK_THAT(test::pod_config_error("[pod]\nshape = [4, 2, 1]\ntopology = \"ring\"\n"),
             Catch::Contains("a ring is one dimension: pod shape 4x2x1 must be N x 1 x 1"));
  CHECK_THAT(test::pod_config_error("[pod]\nshape = [4, 4, 4]\ntopology = \"twisted\"\n"),
             Catch::Contains("a twisted torus is k x k x 2k"));
  CHECK_THAT(test::pod_config_error("[pod]\nshape = [6, 4, 1]\n"),
             Catch::Contains("pod shape 6x4x1 is not made of 4x4x4 cubes"));
  CHECK_THAT(test::pod_config_error("[pod]\nshape = [4, 4, 4]\n[ici]\nports = 4\n"),
             Catch::Contains("a 3-dimensional pod needs 6 ICI ports per chip"));
  CHECK_THAT(
      test::pod_config_error("[pod]\nshape = [4, 1, 1]\n[[pod.fault]]\nchip = 9\nport = 0\n"),
      Catch::Contains("[[pod.fault]] names chip 9, but the pod has 4 chips"));
  CHECK_THAT(
      test::pod_config_error("[pod]\nshape = [4, 1, 1]\n[[pod.fault]]\nchip = 1\nport = 3\n"),
      Catch::Contains("names port y- of chip 1, which has no link"));

  // A message to a chip that is not there, and a receive whose size is not the message's.
  std::vector<std::uint8_t> data;
  sim::SimConfig cfg = pod({2, 1, 1}, ici::TopologyKind::kRing);
  sim::PodJob job = p2p_job(cfg, 1000, 0, 1, data);
  for (auto& p : job.programs) p.scalars = {{"src", 0}, {"dst", 5}};
  sim::PodResult r = test::run_pod(job);
  CHECK(r.chips[0].end.kind == chip::ChipEnd::Kind::kFault);
  CHECK_THAT(r.chips[0].end.message,
             Catch::Contains("ICI_SEND names chip 5, but the pod has 2 chips (0..1)"));
  // A message above the 256 MiB one descriptor may carry (its packets copy it at dispatch).
  job = p2p_job(cfg, 1000, 0, 1, data);
  for (auto& p : job.programs) p.scalars = {{"src", 0}, {"dst", 1}, {"send_bytes", (1u << 28) + 1}};
  r = test::run_pod(job);
  CHECK(r.chips[0].end.kind == chip::ChipEnd::Kind::kFault);
  CHECK_THAT(r.chips[0].end.message,
             Catch::Contains("ICI_SEND: BYTES = 268435457 is above the 268435456 bytes (256 MiB) "
                             "one message may carry"));
  job = p2p_job(cfg, 1000, 0, 1, data);
  job.programs[1].outputs[0].second = make_u8({999}, std::vector<std::uint8_t>(999));
  r = test::run_pod(job);
  CHECK(r.chips[1].end.kind == chip::ChipEnd::Kind::kFault);
  CHECK_THAT(r.chips[1].end.message,
             Catch::Contains("ICI_RECV of 999 bytes from chip 0 (tag 1) matched a message of "
                             "1000 bytes"));
}

TEST_CASE("a chip that fails mid-collective is replaced by a spare; the collective restarts",
          "[chip][ici][faults]") {
  // A ring of 8 and one spare; chip 3 fails 5 us into an all-gather of 256 KiB per chip. The OCS
  // moves chip 3's links to the spare in its reconfiguration time (10 ms); every survivor's
  // pending messages are aborted at the new epoch, the spare starts chip 3's program, and all
  // start over: the result is exact on every chip, the spare's included.
  sim::SimConfig cfg = pod({8, 1, 1}, ici::TopologyKind::kRing);
  cfg.pod.spares = 1;
  ici::FaultSpec f;
  f.kind = ici::FaultSpec::Kind::kChip;
  f.chip = 3;
  f.at_ns = 5'000;
  cfg.pod.faults = {f};
  const std::uint32_t n = 8;
  const std::size_t bytes = 256u << 10;
  std::vector<std::vector<std::uint8_t>> x(n);
  std::vector<std::uint8_t> all;
  std::mt19937_64 rng(3);
  std::vector<sim::ChipProgram> progs(n);
  for (std::uint32_t i = 0; i < n; ++i) {
    x[i].resize(bytes);
    for (auto& b : x[i]) b = static_cast<std::uint8_t>(rng());
    all.insert(all.end(), x[i].begin(), x[i].end());
    progs[i].firmware_name = "ici_gather_restart";
    progs[i].firmware_elf = test::test_firmware("chip_ici_gather_restart");
    progs[i].inputs.emplace_back("X", make_u8({bytes}, x[i]));
    progs[i].outputs.emplace_back("Y", make_u8({n * bytes}, std::vector<std::uint8_t>(n * bytes)));
    progs[i].read_back = {"Y"};
  }
  sim::PodJob job;
  job.config = cfg;
  job.max_cycles = 1'000'000'000;
  job.programs = progs;
  job.record_timeline = true;
  const sim::PodResult r = test::run_pod(job);
  std::string ends;
  for (std::uint32_t i = 0; i < n; ++i) ends += r.chips[i].end.message + "\n";
  INFO(ends);
  CHECK_FALSE(r.first_failure);
  for (std::uint32_t i = 0; i < n; ++i) {
    INFO("chip " << i << ": " << r.chips[i].end.message);
    REQUIRE(r.chips[i].end.kind == chip::ChipEnd::Kind::kExit);
    CHECK(r.chips[i].exit_code == (i == 3 ? 0 : 1));  // survivors started twice, the spare once
    CHECK(r.chips[i].outputs.at("Y").data == all);
  }
  // Logical chip 3 ran on the spare (physical chip 8), after the OCS's 10 ms.
  CHECK(r.chips[3].stats["sc_name"] == "pod.chip8");
  CHECK(r.chips[3].stats["chip_index"] == 3);
  const auto& rep = r.stats["pod"]["replacements"];
  REQUIRE(rep.size() == 1);
  CHECK(rep[0]["chip"] == 3);
  CHECK(rep[0]["spare_chip"] == 8);
  CHECK(rep[0]["failed_at_cycle"].get<std::uint64_t>() == 5'000);
  const auto& events = r.stats["pod"]["ici"]["events"];
  REQUIRE(events.size() == 2);
  CHECK(events[0]["event"] == "chip 3 failed");
  CHECK(events[0]["at_ns"].get<double>() == 5'000.0);
  CHECK_THAT(events[1]["event"].get<std::string>(),
             Catch::Contains("OCS: spare chip 8 replaces chip 3 (2 links moved); epoch 1"));
  CHECK(events[1]["at_ns"].get<double>() == 5'000.0 + 1e7);
  CHECK(r.chips[0].stats["engines"]["ICI"]["epoch"] == 1);
  CHECK(r.chips[0].stats["engines"]["ICI"]["aborted"].get<std::uint64_t>() > 0);
  CHECK(r.chips[0].total_cycles > 10'000'000);
  CHECK_THAT(r.timeline_json, Catch::Contains("replaces chip 3"));
}
