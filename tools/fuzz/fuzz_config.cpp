// libFuzzer harness of the configuration reader (model/sim/sim_config.h: the chip's tables,
// [core], [hbm], [ici], [ocs], [pod] and [[pod.fault]], parsed once by toml++ and checked by the
// typed visitors). Properties beyond "no crash, no hang": every refusal is a bad-input error
// naming the source; an accepted config dumps to TOML (mxemu config --dump) that parses again
// to the same dump (the effective values round-trip).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "model/common/error.h"
#include "model/sim/sim_config.h"
#include "tools/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace mxemu;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  sim::SimConfig cfg;
  try {
    cfg = sim::parse_sim_config(text, "fuzz.toml");
  } catch (const Error& e) {
    FUZZ_CHECK(e.code() == ExitCode::kBadInput);
    FUZZ_CHECK(std::string_view(e.what()).find("fuzz.toml") != std::string_view::npos);
    return 0;
  }
  const std::string dump = sim::dump_sim_config(cfg);
  sim::SimConfig again;
  try {
    again = sim::parse_sim_config(dump, "dump.toml");
  } catch (const Error& e) {
    std::fprintf(stderr, "the dump does not parse: %s\n%s\n", e.what(), dump.c_str());
    FUZZ_CHECK(false);
  }
  again.source = cfg.source;  // the dump's header names the file it came from
  FUZZ_CHECK(sim::dump_sim_config(again) == dump);
  return 0;
}
