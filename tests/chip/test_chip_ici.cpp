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
