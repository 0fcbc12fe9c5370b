// Reprogramming the optical circuit switch during a run ([[pod.ocs]], docs/ICI.md
// "Reprogramming the OCS"): a 2x2x4 torus turned into a twisted torus in the middle of all-to-all
// traffic stays exact, both wirings carry traffic, the events and link records say what moved and
// when, two runs are identical; programs that do not fit the wiring are refused at the start.
#include <fmt/core.h>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <random>

#include "model/common/error.h"
#include "model/ici/topology.h"
#include "tests/chip/chip_test_util.h"

using namespace mxemu;

namespace {

struct AllToAll {
  sim::PodJob job;
  std::vector<std::vector<std::uint8_t>> x;
  std::size_t block = 0;
};

AllToAll all_to_all(const sim::SimConfig& cfg, std::size_t block) {
  AllToAll a;
  a.block = block;
  const std::uint32_t n = cfg.pod.chips();
  a.x.resize(n);
  std::mt19937_64 rng(n + block);
  a.job.config = cfg;
  a.job.max_cycles = 100'000'000;
  a.job.record_timeline = true;
  a.job.programs.resize(n);
  for (std::uint32_t i = 0; i < n; ++i) {
    a.x[i].resize(n * block);
    for (auto& b : a.x[i]) b = static_cast<std::uint8_t>(rng());
    sim::ChipProgram& p = a.job.programs[i];
    p.firmware_name = "ici_all2all";
    p.firmware_elf = test::test_firmware("chip_ici_all2all");
    p.inputs.emplace_back("X", make_u8({n * block}, a.x[i]));
    p.outputs.emplace_back("Y", make_u8({n * block}, std::vector<std::uint8_t>(n * block)));
    p.read_back = {"Y"};
  }
  return a;
}

void require_exact(const AllToAll& a, const sim::PodResult& r) {
  const auto n = static_cast<std::uint32_t>(a.x.size());
  for (std::uint32_t i = 0; i < n; ++i) {
    INFO("chip " << i << ": " << r.chips[i].end.message);
    REQUIRE(r.chips[i].end.kind == chip::ChipEnd::Kind::kExit);
    REQUIRE(r.chips[i].exit_code == 0);
    const auto& y = r.chips[i].outputs.at("Y").data;
    for (std::uint32_t from = 0; from < n; ++from) {  // Y[from] = X_from[i]
      REQUIRE(std::equal(y.begin() + from * a.block, y.begin() + (from + 1) * a.block,
                         a.x[from].begin() + i * a.block));
    }
  }
}

std::uint64_t payload(const nlohmann::json& link) {
  std::uint64_t p = 0;
  for (const auto& d : link["directions"]) p += d["payload_bytes"].get<std::uint64_t>();
  return p;
}

// The statistics without host-side figures (they differ from run to run).
nlohmann::json without_host(nlohmann::json s) {
  s["pod"].erase("host_seconds");
  for (auto& c : s["chips"]) {
    c.erase("host_seconds");
    if (c.contains("core")) c["core"].erase("host_mips");
  }
  return s;
}

}  // namespace

TEST_CASE("a torus reprogrammed into a twisted torus mid all-to-all stays exact",
          "[chip][ici][ocs]") {
  sim::SimConfig cfg;
  cfg.pod.shape = {2, 2, 4};
  cfg.pod.topology = ici::TopologyKind::kTorus;
  AllToAll a = all_to_all(cfg, 64u << 10);
  const sim::PodResult plain = test::run_pod(a.job);
  require_exact(a, plain);
  // 1 GHz: cycles are ns. The switch starts moving a quarter of the way and is done half-way.
  const auto end_ns = plain.stats["pod"]["total_cycles"].get<std::uint64_t>();
  REQUIRE(end_ns > 4000);
  const std::uint64_t quarter = end_ns / 4;
  ici::OcsProgram prog;
  prog.at_ns = quarter;
  prog.topology = "twisted";
  a.job.config->pod.ocs = {prog};
  a.job.config->ici.ocs_reconfig_ns = quarter;
  const sim::PodResult r = test::run_pod(a.job);
  require_exact(a, r);

  const nlohmann::json& ici = r.stats["pod"]["ici"];
  std::vector<std::string> events;
  for (const auto& e : ici["events"]) events.push_back(e["event"].get<std::string>());
  REQUIRE(events.size() == 2);
  CHECK(events[0] == fmt::format("OCS: program 0 (to a twisted): 4 links down, 4 circuits moving "
                                 "for {} ns",
                                 quarter));
  CHECK(events[1] == "OCS: program 0: 4 circuits up");
  CHECK(ici["events"][0]["at_ns"].get<double>() == static_cast<double>(quarter));
  CHECK(ici["events"][1]["at_ns"].get<double>() == static_cast<double>(2 * quarter));
  // The 4 z wrap-arounds (x, y, 3) z+ -> (x, y, 0) z- went down and carried traffic before; the 4
  // new circuits (x, y, 3) z+ -> (1 - x, 1 - y, 0) z- carried traffic after.
  std::size_t removed = 0, added = 0;
  for (const auto& l : ici["links"]) {
    const std::string from = l["directions"][0]["from"], to = l["directions"][0]["to"];
    if (l.contains("removed_at_ns")) {
      ++removed;
      CHECK_FALSE(l["alive"].get<bool>());
      CHECK(payload(l) > 0);
      CHECK(from.substr(from.find('.')) == ".z+");
    }
    if (l.contains("wired_at_ns")) {
      ++added;
      INFO(from << " -> " << to);
      CHECK(l["alive"].get<bool>());
      CHECK(l["through_ocs"].get<bool>());
      CHECK(payload(l) > 0);
      const std::uint32_t c = std::stoul(from.substr(4));
      const std::uint32_t x = c % 2, y = c / 2 % 2;
      CHECK(c / 4 == 3);
      CHECK(to == fmt::format("chip{}.z-", (1 - x) + 2 * (1 - y)));
    }
  }
  CHECK(removed == 4);
  CHECK(added == 4);
  CHECK(ici["links"].size() == plain.stats["pod"]["ici"]["links"].size() + 4);
  CHECK_THAT(r.timeline_json, Catch::Contains("OCS: program 0 (to a twisted)"));
  // Deterministic: the same run again is identical, statistics and timeline.
  const sim::PodResult again = test::run_pod(a.job);
  CHECK(without_host(again.stats) == without_host(r.stats));
  CHECK(again.timeline_json == r.timeline_json);
}

TEST_CASE("a link taken down by the OCS and set up again: traffic goes round meanwhile",
          "[chip][ici][ocs]") {
  // A ring of 8 over two cubes: the circuit 7 x+ -> 0 x- is programmed anew (down, dark for the
  // reconfiguration, up again) while every chip sends to every other.
  sim::SimConfig cfg;
  cfg.pod.shape = {8, 1, 1};
  cfg.pod.topology = ici::TopologyKind::kRing;
  AllToAll a = all_to_all(cfg, 32u << 10);
  const sim::PodResult plain = test::run_pod(a.job);
  require_exact(a, plain);
  const auto end_ns = plain.stats["pod"]["total_cycles"].get<std::uint64_t>();
  const std::uint64_t third = end_ns / 3;
  ici::OcsProgram prog;
  prog.at_ns = third;
  prog.circuits = {ici::OcsCircuit{{7, 0}, {0, 1}}};
  a.job.config->pod.ocs = {prog};
  a.job.config->ici.ocs_reconfig_ns = third;
  const sim::PodResult r = test::run_pod(a.job);
  require_exact(a, r);
  const nlohmann::json& links = r.stats["pod"]["ici"]["links"];
  REQUIRE(links.size() == 9);
  CHECK(links[7]["removed_at_ns"].get<double>() == static_cast<double>(third));
  CHECK(links[8]["wired_at_ns"].get<double>() == static_cast<double>(2 * third));
  CHECK(links[8]["directions"][0]["from"] == "chip7.x+");
  CHECK(links[8]["directions"][0]["to"] == "chip0.x-");
  CHECK(payload(links[7]) > 0);
  CHECK(payload(links[8]) > 0);
  // While 7-0 was dark, traffic between the ring's ends went the long way: the run is longer.
  CHECK(r.stats["pod"]["total_cycles"].get<std::uint64_t>() > end_ns);
}

TEST_CASE("OCS programs that do not fit the wiring are refused at the start",
          "[chip][ici][ocs][bad-input]") {
  const std::string ring8 = "[pod]\nshape = [8, 1, 1]\ntopology = \"ring\"\n";
  // Both circuits between the cubes dark at once: chips 0 and 4 are cut apart meanwhile.
  CHECK_THAT(test::pod_config_error(
                 ring8 + "[[pod.ocs]]\nat_ns = 100\n"
                         "circuits = [{ a = [3, 0], b = [4, 1] }, { a = [7, 0], b = [0, 1] }]\n"),
             Catch::Contains("[[pod.ocs]] 0 (at_ns = 100): chips 0 and 4 are joined before and "
                             "after it, but not while its circuits are dark"));
  // The second program in time order is checked on the wiring the first leaves.
  CHECK_THAT(test::pod_config_error(
                 ring8 + "[[pod.ocs]]\nat_ns = 900\ncircuits = [{ a = [0, 0], b = [2, 1] }]\n"
                         "[[pod.ocs]]\nat_ns = 100\ncircuits = [{ a = [3, 0] }]\n"),
             Catch::Contains("[[pod.ocs]] 0 (at_ns = 900): chip 0 port x+ is wired to chip 1 x- "
                             "inside its cube (a direct link)"));
  CHECK_THAT(test::pod_config_error(ring8 + "[[pod.ocs]]\ncircuits = [{ a = [8, 0] }]\n"),
             Catch::Contains("a circuit names chip 8, but the pod has 8 chips (0..7)"));
  CHECK_THAT(test::pod_config_error(ring8 + "[[pod.ocs]]\ncircuits = [{ a = [3, 6] }]\n"),
             Catch::Contains("names a port beyond 5 (z-)"));
  CHECK_THAT(test::pod_config_error(ring8 + "[[pod.ocs]]\ncircuits = [{ a = [3, 0], b = [4] }]\n"),
             Catch::Contains("takes [chip, port]"));
  CHECK_THAT(test::pod_config_error(ring8 + "[[pod.ocs]]\nat_ns = 5\n"),
             Catch::Contains("give either topology or circuits"));
  CHECK_THAT(test::pod_config_error(
                 ring8 + "[[pod.ocs]]\ntopology = \"torus\"\ncircuits = [{ a = [3, 0] }]\n"),
             Catch::Contains("give either topology or circuits"));
  CHECK_THAT(test::pod_config_error(ring8 + "[[pod.ocs]]\ntopology = \"hypercube\"\n"),
             Catch::Contains("\"hypercube\" is not ring, mesh, torus or twisted"));
  CHECK_THAT(
      test::pod_config_error("[pod]\nshape = [4, 4, 4]\n[[pod.ocs]]\ntopology = \"twisted\"\n"),
      Catch::Contains("[[pod.ocs]] 0 (at_ns = 0): a twisted torus is k x k x 2k"));
}

TEST_CASE("OCS programs survive the config dump", "[chip][ici][ocs]") {
  const sim::SimConfig cfg = sim::parse_sim_config(
      "[pod]\nshape = [8, 1, 1]\ntopology = \"ring\"\n"
      "[[pod.ocs]]\nat_ns = 100\ncircuits = [{ a = [3, 0], b = [0, 1] }, { a = [7, 0] }]\n"
      "[[pod.ocs]]\nat_ns = 200\ntopology = \"ring\"\n",
      "pod.toml");
  REQUIRE(cfg.pod.ocs.size() == 2);
  CHECK(cfg.pod.ocs[0].circuits.size() == 2);
  CHECK(cfg.pod.ocs[0].circuits[1].b.empty());
  const std::string dump = sim::dump_sim_config(cfg);
  const sim::SimConfig back = sim::parse_sim_config(dump, "pod.toml");
  REQUIRE(back.pod.ocs.size() == 2);
  CHECK(back.pod.ocs[0].at_ns == 100);
  CHECK(back.pod.ocs[0].circuits.size() == 2);
  CHECK(back.pod.ocs[0].circuits[0].a == std::vector<std::uint32_t>{3, 0});
  CHECK(back.pod.ocs[0].circuits[0].b == std::vector<std::uint32_t>{0, 1});
  CHECK(back.pod.ocs[0].circuits[1].b.empty());
  CHECK(back.pod.ocs[1].topology == "ring");
  CHECK(sim::dump_sim_config(back) == dump);
}
