// Helpers for chip tests: random MXFP8 operands, running a job in a fresh SystemC context, and
// comparing a chip result against the numerics reference bit for bit.
#pragma once

#include <systemc>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "model/common/error.h"
#include "model/common/npy.h"
#include "model/numerics/gemm.h"
#include "model/numerics/mx.h"
#include "model/sim/runner.h"

namespace mxemu::test {

// The bytes of a test firmware ELF built into $MXEMU_BUILD_DIR/firmware (firmware/tests/chip).
inline std::vector<std::uint8_t> test_firmware(const std::string& name) {
  const char* d = std::getenv("MXEMU_BUILD_DIR");  // NOLINT(concurrency-mt-unsafe): read-only
  const std::string path = std::string(d != nullptr ? d : "build") + "/firmware/" + name + ".elf";
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("missing test firmware " + path + " (run through ctest)");
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Runs the job and installs a fresh SystemC context afterwards (even when it throws), so that
// the next test case can elaborate again (NOTES.md).
inline sim::ChipJobResult run_job(const sim::ChipJob& job) {
  struct Fresh {
    ~Fresh() {
      // NOLINTNEXTLINE(bugprone-unhandled-exception-at-new): out of memory ends the test run
      sc_core::sc_curr_simcontext = new sc_core::sc_simcontext();
      sc_core::sc_default_global_context = sc_core::sc_curr_simcontext;
    }
  } fresh;
  sc_core::sc_report_handler::set_actions("/OSCI/SystemC", sc_core::SC_INFO,
                                          sc_core::SC_DO_NOTHING);  // "Simulation stopped"
  return sim::run_chip_job(job);
}

// How a job ends, as text for bad-input checks: "exit N: <console>", or "error: <message>" when
// the runner refuses it (mxemu::Error).
inline std::string outcome(const sim::ChipJob& job) {
  try {
    const sim::ChipJobResult r = run_job(job);
    return "exit " + std::to_string(r.exit_code) + ": " + r.console;
  } catch (const Error& e) {
    return std::string("error: ") + e.what();
  }
}

// Replaces the job's input `name` by `a`.
inline void replace_input(sim::ChipJob& j, const std::string& name, const NpyArray& a) {
  for (auto& t : j.inputs) {
    if (t.first == name) t.second = a;
  }
}

// Runs a pod job the same way (fresh SystemC context afterwards).
inline sim::PodResult run_pod(const sim::PodJob& job) {
  struct Fresh {
    ~Fresh() {
      // NOLINTNEXTLINE(bugprone-unhandled-exception-at-new): out of memory ends the test run
      sc_core::sc_curr_simcontext = new sc_core::sc_simcontext();
      sc_core::sc_default_global_context = sc_core::sc_curr_simcontext;
    }
  } fresh;
  sc_core::sc_report_handler::set_actions("/OSCI/SystemC", sc_core::SC_INFO,
                                          sc_core::SC_DO_NOTHING);
  return sim::run_pod_job(job);
}

// The bad-input error a pod config gets when parsed and run (the identity firmware on every
// chip); "accepted: TEXT" when it runs, "not bad input: ..." for another error.
inline std::string pod_config_error(const std::string& text) {
  try {
    const sim::SimConfig cfg = sim::parse_sim_config(text, "pod.toml");
    sim::ChipProgram p;
    p.firmware_name = "identity";
    p.firmware_elf = test_firmware("chip_identity");
    sim::PodJob job;
    job.config = cfg;
    job.programs.assign(cfg.pod.chips(), p);
    run_pod(job);
  } catch (const Error& e) {
    if (e.code() != ExitCode::kBadInput) return std::string("not bad input: ") + e.what();
    return e.what();
  }
  return "accepted: " + text;
}

// Random FP8 codes: mostly finite values, with optional special codes mixed in.
inline std::vector<std::uint8_t> random_codes(std::mt19937_64& rng, std::size_t n, bool specials) {
  std::vector<std::uint8_t> v(n);
  for (auto& c : v) {
    c = static_cast<std::uint8_t>(rng());
    if (!specials) {
      // Avoid NaN/Inf codes of both formats: keep the exponent field below its maximum.
      if ((c & 0x78) == 0x78) c &= 0xB7;
    }
  }
  return v;
}

inline std::vector<std::uint8_t> random_scales(std::mt19937_64& rng, std::size_t n, bool extreme) {
  std::vector<std::uint8_t> v(n);
  for (auto& s : v) {
    s = extreme ? static_cast<std::uint8_t>(rng() % 256)
                : static_cast<std::uint8_t>(120 + rng() % 15);
  }
  return v;
}

// A random GEMM: A (m x k), B (k x n) codes and, with block > 0, scales per block along K.
inline sim::GemmJob random_gemm(std::mt19937_64& rng, std::size_t m, std::size_t k, std::size_t n,
                                int block, bool specials = false, bool extreme_scales = false) {
  sim::GemmJob g;
  g.a = make_u8({m, k}, random_codes(rng, m * k, specials));
  g.b = make_u8({k, n}, random_codes(rng, k * n, specials));
  if (block > 0) {
    const std::size_t kb = k / static_cast<std::size_t>(block);
    g.sa = make_u8({m, kb}, random_scales(rng, m * kb, extreme_scales));
    g.sb = make_u8({kb, n}, random_scales(rng, kb * n, extreme_scales));
    g.block = block;
  }
  return g;
}

// Writes a TOML config into the temporary directory; returns its path.
inline std::string temp_config(const std::string& name, const std::string& text) {
  std::string p = (std::filesystem::temp_directory_path() / name).string();
  std::ofstream(p) << text;
  return p;
}

// The reference result of a gemm job (the numerics library's exact definition).
inline std::vector<float> reference(const sim::GemmJob& g) {
  num::GemmProblem p;
  p.m = g.a.shape[0];
  p.k = g.a.shape[1];
  p.n = g.b.shape[1];
  p.fmt_a = *num::parse_format(g.fmt_a);
  p.fmt_b = *num::parse_format(g.fmt_b);
  p.a = g.a.data;
  p.b = g.b.data;
  if (g.sa) {
    p.scale_a = g.sa->data;
    p.scale_b = g.sb->data;
  }
  p.block = g.block;
  std::vector<float> c0;
  if (g.c0) {
    c0 = g.c0->as_f32();
    p.c_init = c0;
  }
  std::vector<float> c(p.m * p.n);
  num::gemm(p, c);
  return c;
}

// Requires `got` (the chip's C) to equal the reference result of `g` bit for bit.
inline void require_bit_exact(const NpyArray& got, const sim::GemmJob& g) {
  const std::vector<float> want = reference(g);
  const std::vector<float> c = got.as_f32();
  REQUIRE(c.size() == want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    INFO("C[" << i / g.b.shape[1] << "][" << i % g.b.shape[1] << "]");
    REQUIRE(num::f32_bits(c[i]) == num::f32_bits(want[i]));
  }
}

// A timeline (Perfetto trace-event JSON) whose slices nest properly: on each track (pid, tid)
// no two slices partly overlap (one ends before the next starts, or contains it), and every
// slice is named by its operation, not by a bare opcode. Returns the number of slices.
inline std::size_t require_well_nested(const std::string& timeline) {
  const auto j = nlohmann::json::parse(timeline);
  std::map<std::pair<std::int64_t, std::int64_t>, std::vector<std::pair<double, double>>> tracks;
  std::size_t n = 0;
  for (const auto& e : j["traceEvents"]) {
    if (e["ph"] != "X") continue;
    const std::string name = e["name"];
    INFO("slice " << e.dump());
    REQUIRE(name.find('_') == std::string::npos);  // not DMA_COPY, VPU_OP, MXU_MATMUL, ...
    // Chip slices carry their cycles (exact); others: ts and dur, whose sum rounds.
    const bool cycles = e.contains("args") && e["args"].contains("start_cycle");
    const double b = cycles ? e["args"]["start_cycle"].get<double>() : e["ts"].get<double>();
    const double end =
        cycles ? e["args"]["end_cycle"].get<double>() : b + e["dur"].get<double>() - 1e-9;
    tracks[{e["pid"].get<std::int64_t>(), e.value("tid", std::int64_t{0})}].emplace_back(b, end);
    ++n;
  }
  for (auto& [track, slices] : tracks) {
    std::sort(slices.begin(), slices.end());
    std::vector<double> open;  // ends of the enclosing slices
    for (const auto& [b, e] : slices) {
      while (!open.empty() && open.back() <= b) open.pop_back();
      INFO("track pid " << track.first << " tid " << track.second << ": slice [" << b << ", " << e
                        << "]");
      REQUIRE((open.empty() || e <= open.back()));
      open.push_back(e);
    }
  }
  return n;
}

// An MX-quantised matrix: E4M3/E5M2 codes and UE8M0 scales.
struct Mx {
  std::vector<std::uint8_t> codes, scales;
};

// rows x cols normal(0, sigma) values quantised along each row (num::mx_quantize, floor scales);
// with `transpose` the result is the cols x rows matrix with (cols / block) x rows scales (blocks
// along its rows: a GEMM's B operand with blocks along K).
inline Mx mx_normal(std::mt19937_64& rng, std::size_t rows, std::size_t cols, int block,
                    num::Fp8Format fmt, float sigma, bool transpose) {
  std::normal_distribution<float> d(0.0F, sigma);
  std::vector<float> v(rows * cols);
  for (auto& x : v) x = d(rng);
  const std::size_t nb = cols / static_cast<std::size_t>(block);
  Mx m{std::vector<std::uint8_t>(rows * cols), std::vector<std::uint8_t>(rows * nb)};
  num::mx_quantize(v, rows, cols, block, fmt, num::MxScaleMode::kFloor, m.codes, m.scales);
  if (!transpose) return m;
  Mx t{m.codes, m.scales};
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t c = 0; c < cols; ++c) t.codes[c * rows + r] = m.codes[r * cols + c];
    for (std::size_t b = 0; b < nb; ++b) t.scales[b * rows + r] = m.scales[r * nb + b];
  }
  return t;
}

}  // namespace mxemu::test
