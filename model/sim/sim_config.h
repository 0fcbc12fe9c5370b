// The whole configuration of a simulation, read from one TOML file (parsed once) by the one
// config reader: the chip's tables, [core], [hbm] and [pod]. Defaults are the structs'
// initialisers; `dump_sim_config` prints the effective configuration (what `mxemu config --dump`
// shows), which reads back to the same configuration.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "model/chip/chip_config.h"
#include "model/core/config.h"
#include "model/hbm/config.h"
#include "model/ici/ici_config.h"
#include "model/ici/topology.h"

namespace mxemu::sim {

// What the simulation does when one chip fails (fault, deadlock, cycle limit).
enum class OnFailure : std::uint8_t {
  kStop,      // stop every chip at once (the others are reported as stopped)
  kContinue,  // let the other chips run to their own end
};

// The pod: how many chips and their coordinates. Chip i sits at (x, y, z) with
// i = x + X * (y + Y * z) for shape [X, Y, Z].
struct PodConfig {
  std::vector<std::uint32_t> shape = {1, 1, 1};
  OnFailure on_failure = OnFailure::kStop;
  ici::TopologyKind topology = ici::TopologyKind::kTorus;
  std::vector<std::uint32_t> cube = {4, 4, 4};  // links inside a cube are direct, others: OCS
  std::uint32_t spares = 0;
  std::vector<ici::FaultSpec> faults;
  std::vector<ici::OcsProgram> ocs;  // reprogrammings of the optical circuit switch

  static constexpr std::uint32_t kMaxChips = 16384;
  std::uint32_t chips() const {
    std::uint64_t n = 1;
    for (const std::uint32_t d : shape) n *= d;
    return static_cast<std::uint32_t>(n);
  }

  template <typename V>
  void visit(V& v) {
    v.table("pod", "The pod: chips in one simulation", [&] {
      v.field("shape", shape, 1, 3, 1, kMaxChips, "chips along x, y and z");
      if constexpr (V::kReading) {
        while (shape.size() < 3) shape.push_back(1);
      }
      std::uint64_t n = 1;
      for (const std::uint32_t d : shape) n *= d;
      v.check(n <= kMaxChips, "shape",
              "gives " + std::to_string(n) + " chips; at most " + std::to_string(kMaxChips));
      v.choice("on_failure", on_failure,
               {{"stop", OnFailure::kStop}, {"continue", OnFailure::kContinue}},
               "when one chip fails: stop all, or let the others finish");
      v.choice("topology", topology,
               {{"torus", ici::TopologyKind::kTorus},
                {"ring", ici::TopologyKind::kRing},
                {"mesh", ici::TopologyKind::kMesh},
                {"twisted", ici::TopologyKind::kTwisted}},
               "how the chips' ICI ports are wired (docs/ICI.md)");
      v.field("cube", cube, 3, 3, 1, 64, "chips per cube along x, y, z (the OCS joins cubes)");
      v.field("spares", spares, 0, 1024, "spare chips beyond the shape");
      v.items("fault", faults, 1024, "A fault the run injects");
      v.items("ocs", ocs, 64, "A reprogramming of the optical circuit switch (docs/ICI.md)");
    });
  }
};

struct SimConfig {
  chip::ChipConfig chip;
  core::CoreConfig core;
  hbm::HbmConfig hbm;
  ici::IciConfig ici;
  PodConfig pod;
  std::string source = "defaults";  // the file it came from (for messages)

  template <typename V>
  void visit(V& v) {
    chip.visit(v);
    core.visit(v);
    hbm.visit(v);
    ici.visit(v);
    pod.visit(v);
  }
};

// "" gives the defaults (chip "mx1"). Errors name the file, the table and the key.
SimConfig load_sim_config(const std::string& path);
SimConfig parse_sim_config(std::string_view toml_text, const std::string& source);
std::string dump_sim_config(const SimConfig& config);

}  // namespace mxemu::sim
