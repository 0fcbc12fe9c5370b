// The model's waveforms ([waves] file, --vcd / --fst; docs/SIM.md "Waveforms"): the VCD of small
// runs, parsed here, checked against closed forms (MXU fold timing of docs/TIMING.md, the gemm
// firmware's semaphore set-up, HBM tRCD; ICI credits, link states and retries of docs/ICI.md),
// scopes of two chips, the trace window, FST read back through fstapi, determinism, bad input,
// and that waveforms change no result, cycle or statistic.
#include <fstapi.h>

#include <fmt/format.h>
#include <unistd.h>
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

#include "model/chip/regs.h"
#include "model/common/error.h"
#include "model/common/npy.h"
#include "model/hbm/config.h"
#include "model/ici/ici_config.h"
#include "model/ici/topology.h"
#include "testbench/mxemu/bundled.h"
#include "tests/chip/chip_test_util.h"
#include "tests/core/subprocess.h"

using namespace mxemu;

namespace {

std::string tmp(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          ("mxemu_waves_" + std::to_string(getpid()) + "_" + name))
      .string();
}

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// A VCD as written by model/waves: scopes, vars, the initial dump at the first time stamp, then
// value changes. Values by full dotted name ("pod.chip0.mxu0.busy").
struct Vcd {
  std::map<std::string, std::string> id_of;  // name -> id
  std::map<std::string, std::vector<std::pair<std::uint64_t, std::uint64_t>>> changes;  // id
  std::string timescale, comment;
  std::vector<std::uint64_t> stamps;

  explicit Vcd(const std::string& path) {
    std::ifstream f(path);
    REQUIRE(f);
    std::vector<std::string> scope;
    std::string tok;
    std::uint64_t now = 0;
    while (f >> tok) {
      if (tok == "$scope") {
        std::string kind, name, end;
        f >> kind >> name >> end;
        scope.push_back(name);
      } else if (tok == "$upscope") {
        f >> tok;
        scope.pop_back();
      } else if (tok == "$var") {
        std::string kind, width, id, name, rest;
        f >> kind >> width >> id >> name;
        while (f >> rest && rest != "$end") {
        }
        std::string full;
        for (const auto& s : scope) full += s + ".";
        id_of[full + name] = id;
      } else if (tok == "$timescale") {
        f >> timescale >> tok;
      } else if (tok == "$comment") {
        while (f >> tok && tok != "$end") comment += tok + " ";
      } else if (tok[0] == '#') {
        now = std::stoull(tok.substr(1));
        stamps.push_back(now);
      } else if (tok[0] == 'b') {
        std::string id;
        f >> id;
        changes[id].emplace_back(now, std::stoull(tok.substr(1), nullptr, 2));
      } else if (tok[0] == '0' || tok[0] == '1') {
        changes[tok.substr(1)].emplace_back(now, tok[0] == '1' ? 1 : 0);
      }
    }
  }
  bool has(const std::string& name) const { return id_of.count(name) != 0; }
  const std::vector<std::pair<std::uint64_t, std::uint64_t>>& of(const std::string& name) const {
    INFO(name);
    REQUIRE(has(name));
    return changes.at(id_of.at(name));
  }
  std::uint64_t at(const std::string& name, std::uint64_t t) const {
    std::uint64_t v = 0;
    for (const auto& [time, value] : of(name)) {
      if (time > t) break;
      v = value;
    }
    return v;
  }
  // Times at which `name` changes to `value`.
  std::vector<std::uint64_t> edges(const std::string& name, std::uint64_t value) const {
    std::vector<std::uint64_t> e;
    const auto& c = of(name);
    for (std::size_t i = 1; i < c.size(); ++i) {
      if (c[i].second == value) e.push_back(c[i].first);
    }
    return e;
  }
};

sim::GemmJob gemm(std::size_t m, std::size_t k, std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  return test::random_gemm(rng, m, k, n, 0);
}

sim::ChipJob with_waves(sim::ChipJob job, const std::string& file, std::uint64_t start = 0,
                        std::uint64_t end = 0) {
  sim::SimConfig cfg = sim::load_sim_config("");
  cfg.chip.waves.file = file;
  cfg.chip.waves.start = start;
  cfg.chip.waves.end = end;
  job.config = cfg;
  return job;
}

// Statistics without the host's timings.
nlohmann::json model_stats(nlohmann::json s) {
  s.erase("host_seconds");
  s["core"].erase("host_mips");
  return s;
}

}  // namespace

TEST_CASE("MXU folds, queues and HBM commands in the VCD follow the closed forms",
          "[chip][waves]") {
  constexpr std::uint64_t R = 128, C = 128;  // mx1
  // Two folds of m >= 2R + C - 3 rows (docs/TIMING.md "back to back"): loads hidden.
  const std::size_t m = 512, k = 256, n = 128;
  const sim::GemmJob g = gemm(m, k, n, 3);
  const std::string path = tmp("folds.vcd");
  const sim::ChipJobResult r =
      test::run_job(with_waves(sim::make_gemm_job(g, test::test_firmware("chip_mxu_folds")), path));
  REQUIRE(r.exit_code == 0);
  test::require_bit_exact(r.outputs.at("C"), g);
  const Vcd v(path);
  CHECK(v.timescale == "1ns");
  CHECK(v.comment.find("one chip cycle") != std::string::npos);
  const std::string mx = "pod.chip0.mxu0.";

  // The firmware queues NOP (waits on GO), then LOAD_W, MATMUL per fold; releases GO at G.
  const auto stall_ends = v.edges(mx + "stall", 0);
  REQUIRE(stall_ends.size() == 1);
  const std::uint64_t G = stall_ends[0];
  CHECK(v.at(mx + "stall", G - 1) == 1);  // semaphore
  // Queue depth counts the pushes: one more at each change before G, 2 x folds at the most.
  std::uint64_t depth = 0;
  for (const auto& [t, d] : v.of(mx + "queue")) {
    if (t >= G) break;
    if (t == 0 && d == 0) continue;
    CHECK(d == depth + 1);
    depth = d;
  }
  CHECK(depth == 2 * (k / R));
  // At G the dispatcher takes LOAD_W, MATMUL and the next LOAD_W, which holds it until the
  // staging is free (G + K_used): the last MATMUL waits in the queue until then.
  CHECK(v.at(mx + "queue", G) == 1);
  CHECK(v.at(mx + "queue", G + R) == 0);
  // Fold 0 loads at G, streams at G + R; fold 1 streams right behind it (T_1 = T_0 + m).
  // The two loads use the weight port back to back: one span of 2R cycles.
  CHECK(v.edges(mx + "wload", 1) == std::vector<std::uint64_t>{G});
  CHECK(v.edges(mx + "wload", 0) == std::vector<std::uint64_t>{G + 2 * R});
  CHECK(v.edges(mx + "stream", 1) == std::vector<std::uint64_t>{G + R});
  CHECK(v.edges(mx + "stream", 0) == std::vector<std::uint64_t>{G + R + 2 * m});
  CHECK(v.at(mx + "k_used", G + R) == R);
  CHECK(v.at(mx + "n_used", G + R) == n);
  CHECK(v.at(mx + "bank0", G) == 1);      // loading
  CHECK(v.at(mx + "bank0", G + R) == 3);  // read by fold 0
  CHECK(v.at(mx + "bank1", G + R) == 1);  // fold 1 loading
  CHECK(v.at(mx + "bank1", G + R + m) == 3);
  // The engine is busy until the last output of the last fold has left:
  // F folds take R + F*m + R*L + C - 1 cycles from the first load (L = 1).
  const auto busy_falls = v.edges(mx + "busy", 0);
  REQUIRE(!busy_falls.empty());
  CHECK(busy_falls.front() == G + R + 2 * m + R + C - 1);
  CHECK(v.at(mx + "busy", G) == 1);
  // The descriptor last taken: NOP #0, then LOAD_W #1, MATMUL #2, ...
  CHECK(v.at(mx + "seq", G + R + 2 * m) == 2 * (k / R));
  CHECK(v.at(mx + "op", G + R + 2 * m) == chip::regs::kOpMxuMatmul);
  CHECK(v.at(mx + "op", G) == chip::regs::kOpMxuLoadW);

  // HBM: every RD on a bank comes at least tRCD after the ACT that opened its row (chip cycles
  // are floors of HBM times, so one chip cycle of slack), and every RD/WR has an ACT before it.
  const hbm::HbmConfig hc;
  const std::uint64_t period_ps = 1000, tck = hc.timing.tck_ps;
  std::size_t banks = 0, reads = 0;
  for (const auto& [name, id] : v.id_of) {
    if (name.find(".hbm.pch") == std::string::npos || name.ends_with(".queue")) continue;
    ++banks;
    std::optional<std::uint64_t> open;
    for (const auto& [t, cmd] : v.changes.at(id)) {
      if (cmd == 1) open = t;
      if (cmd == 4) open.reset();
      if (cmd == 2 || cmd == 3) {
        INFO(name << " at " << t);
        REQUIRE(open.has_value());
        const std::uint64_t rcd = cmd == 2 ? hc.timing.nRCDRD : hc.timing.nRCDWR;
        CHECK((t - *open + 1) * period_ps > rcd * tck);
        reads += cmd == 2 ? 1 : 0;
      }
    }
  }
  CHECK(banks > 0);
  CHECK(reads > 0);
  // Queue occupancy per pseudo-channel: bounded by the queues, empty at the end.
  for (const auto& [name, id] : v.id_of) {
    if (name.find(".hbm.pch") == std::string::npos || !name.ends_with(".queue")) continue;
    for (const auto& [t, q] : v.changes.at(id)) {
      CHECK(q <= hc.read_queue_depth + hc.write_queue_depth);
    }
    CHECK(v.changes.at(id).back().second == 0);
  }
  // The core's pc moves (decoupled mode: sampled at its syncs, i.e. at every MMIO access).
  CHECK(v.at("pod.chip0.core.pc", G) != 0);
  CHECK(v.of("pod.chip0.core.pc").size() > 2 * (k / R) + 2);
  std::filesystem::remove(path);
}

TEST_CASE(
    "waveforms change no output, cycle or statistic; files are deterministic; FST reads "
    "back as the VCD",
    "[chip][waves]") {
  const sim::GemmJob g = gemm(200, 256, 300, 5);
  const sim::ChipJob plain = sim::make_gemm_job(g, bundled::elf("gemm"));
  const sim::ChipJobResult r0 = test::run_job(plain);
  const std::string a = tmp("a.vcd"), b = tmp("b.vcd"), f = tmp("c.fst");
  const sim::ChipJobResult r1 = test::run_job(with_waves(plain, a));
  CHECK(r1.total_cycles == r0.total_cycles);
  CHECK(r1.outputs.at("C").data == r0.outputs.at("C").data);
  CHECK(model_stats(r1.stats) == model_stats(r0.stats));
  const sim::ChipJobResult r2 = test::run_job(with_waves(plain, b));
  CHECK(slurp(a) == slurp(b));

  // The gemm firmware's set-up (firmware/kernels/gemm/gemm.c): ACCFREE(0) (semaphore 12) = 2,
  // AFREE (24) = 2 x the MXUs; then the engines take and signal them one at a time.
  const Vcd v(a);
  const auto& sem12 = v.of("pod.chip0.sem.sem12");
  REQUIRE(sem12.size() >= 2);
  CHECK(sem12[1].second == 2);
  const auto& sem24 = v.of("pod.chip0.sem.sem24");
  REQUIRE(sem24.size() >= 2);
  CHECK(sem24[1].second == 4);
  // ... before the DMA moves anything.
  CHECK(sem24[1].first < v.edges("pod.chip0.dma.busy", 1).at(0));

  // FST of the same run: every signal's changes equal the VCD's.
  const sim::ChipJobResult r3 = test::run_job(with_waves(plain, f));
  CHECK(r3.total_cycles == r0.total_cycles);
  const std::string bytes = slurp(f);
  REQUIRE(bytes.size() > 64);
  void* ctx = fstReaderOpen(f.c_str());
  REQUIRE(ctx != nullptr);
  std::map<fstHandle, std::string> names;
  std::vector<std::string> scope;
  while (const fstHier* h = fstReaderIterateHier(ctx)) {
    if (h->htyp == FST_HT_SCOPE) {
      scope.emplace_back(h->u.scope.name);
    } else if (h->htyp == FST_HT_UPSCOPE) {
      scope.pop_back();
    } else if (h->htyp == FST_HT_VAR) {
      std::string full;
      for (const auto& s : scope) full += s + ".";
      std::string nm(h->u.var.name);
      if (const auto sp = nm.find(' '); sp != std::string::npos) nm = nm.substr(0, sp);
      names[h->u.var.handle] = full + nm;
    }
  }
  CHECK(names.size() == v.id_of.size());
  struct Got {
    std::map<std::string, std::vector<std::pair<std::uint64_t, std::uint64_t>>> ch;
    std::map<fstHandle, std::string>* names;
  } got{{}, &names};
  fstReaderSetFacProcessMaskAll(ctx);
  fstReaderIterBlocks(
      ctx,
      [](void* user, uint64_t time, fstHandle h, const unsigned char* value) {
        auto* g = static_cast<Got*>(user);
        g->ch[(*g->names)[h]].emplace_back(
            time, std::stoull(reinterpret_cast<const char*>(value), nullptr, 2));
      },
      &got, nullptr);
  fstReaderClose(ctx);
  std::size_t compared = 0;
  for (const auto& [name, id] : v.id_of) {
    INFO(name);
    CHECK(got.ch[name] == v.changes.at(id));
    ++compared;
  }
  CHECK(compared > 100);
  for (const auto& p : {a, b, f}) std::filesystem::remove(p);
}

TEST_CASE("two chips get their own scopes; the window keeps only its cycles", "[chip][waves]") {
  const sim::GemmJob g = gemm(64, 128, 128, 9);
  sim::PodJob pj;
  pj.programs.push_back(sim::make_gemm_job(g, test::test_firmware("chip_mxu_folds")));
  pj.chips = 2;
  const std::string full = tmp("pod.vcd"), part = tmp("pod_window.vcd");
  sim::SimConfig cfg = sim::load_sim_config("");
  cfg.chip.waves.file = full;
  pj.config = cfg;
  const sim::PodResult r = test::run_pod(pj);
  REQUIRE(r.chips.size() == 2);
  const Vcd v(full);
  CHECK(v.has("pod.chip0.mxu0.busy"));
  CHECK(v.has("pod.chip1.mxu0.busy"));
  CHECK(v.has("pod.chip1.sem.sem0"));
  CHECK(v.has("pod.chip1.core.pc"));
  const std::uint64_t G = v.edges("pod.chip1.mxu0.stall", 0).at(0);

  const std::uint64_t start = G + 50, end = G + 300;
  cfg.chip.waves = {part, start, end};
  pj.config = cfg;
  const sim::PodResult rw = test::run_pod(pj);
  CHECK(rw.chips[1].total_cycles == r.chips[1].total_cycles);
  const Vcd w(part);
  REQUIRE(!w.stamps.empty());
  CHECK(w.stamps.front() == start);
  for (const std::uint64_t t : w.stamps) {
    CHECK(t >= start);
    CHECK(t <= end);
  }
  CHECK(w.id_of.size() == v.id_of.size());
  // Each signal's value at START is the full run's, and its changes inside are the full run's.
  for (const auto& [name, id] : w.id_of) {
    INFO(name);
    CHECK(w.at(name, start) == v.at(name, start));
    std::vector<std::pair<std::uint64_t, std::uint64_t>> in_full, in_window;
    for (const auto& c : v.of(name)) {
      if (c.first > start && c.first < end) in_full.push_back(c);
    }
    for (const auto& c : w.of(name)) {
      if (c.first > start) in_window.push_back(c);
    }
    CHECK(in_window == in_full);
  }
  std::filesystem::remove(full);
  std::filesystem::remove(part);
}

TEST_CASE("bad waveform paths and windows are refused and leave no file", "[chip][waves]") {
  const sim::GemmJob g = gemm(16, 32, 16, 1);
  const sim::ChipJob job = sim::make_gemm_job(g, bundled::elf("gemm"));
  const std::string missing = tmp("no_such_dir") + "/w.vcd";
  try {
    test::run_job(with_waves(job, missing));
    FAIL("an unwritable waveform path was accepted");
  } catch (const Error& e) {
    CHECK(e.code() == ExitCode::kBadInput);
    CHECK(std::string(e.what()).find("cannot write") != std::string::npos);
  }
  CHECK(!std::filesystem::exists(missing));
  const std::string late = tmp("late.vcd");
  try {
    test::run_job(with_waves(job, late, 1'000'000'000, 0));
    FAIL("a window after the run was accepted");
  } catch (const Error& e) {
    CHECK(e.code() == ExitCode::kBadInput);
    CHECK(std::string(e.what()).find("after the run") != std::string::npos);
  }
  CHECK(!std::filesystem::exists(late));
  CHECK(!std::filesystem::exists(late + ".partial"));

  // Through the CLI: --vcd with --fst, a wrong extension, an empty window, and one that works.
  const std::string an = tmp("a.npy"), bn = tmp("b.npy"), cn = tmp("c.npy"), ok = tmp("ok.fst");
  write_npy(an, g.a);
  write_npy(bn, g.b);
  const auto cli = [&](std::vector<std::string> extra) {
    std::vector<std::string> argv = {
        test::mxemu_binary(), "gemm", "--a", an, "--b", bn, "--out", cn};
    argv.insert(argv.end(), extra.begin(), extra.end());
    test::Child c(argv);
    const int rc = c.finish(120);
    return std::make_pair(rc, c.err());
  };
  auto [rc1, err1] = cli({"--vcd", tmp("x.vcd"), "--fst", ok});
  CHECK(rc1 == 2);
  CHECK(err1.find("--vcd and --fst") != std::string::npos);
  auto [rc2, err2] = cli({"--vcd", tmp("x.txt")});
  CHECK(rc2 == 2);
  CHECK(err2.find("must end in .vcd") != std::string::npos);
  auto [rc3, err3] = cli({"--fst", ok, "--trace-window", "50:50"});
  CHECK(rc3 == 2);
  CHECK(err3.find("END must be above START") != std::string::npos);
  CHECK(!std::filesystem::exists(ok));
  auto [rc4, err4] = cli({"--fst", ok, "--trace-window", "100:"});
  CHECK(rc4 == 0);
  INFO(err4);
  CHECK(std::filesystem::exists(ok));
  for (const auto& p : {an, bn, cn, ok}) std::filesystem::remove(p);
}

namespace {

// Chip `src` of a ring of `chips` sends `bytes` to chip `dst` (firmware chip_ici_p2p, as in
// test chip_ici), with waveforms into `file`.
sim::PodJob ring_p2p(sim::SimConfig cfg, std::uint32_t chips, std::size_t bytes, std::uint32_t src,
                     std::uint32_t dst, const std::string& file, std::vector<std::uint8_t>& data) {
  cfg.pod.shape = {chips, 1, 1};
  cfg.pod.topology = ici::TopologyKind::kRing;
  cfg.chip.waves.file = file;
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
  std::vector<sim::ChipProgram> progs(chips, p);
  progs[dst].read_back = {"Y"};
  job.programs = progs;
  return job;
}

// docs/ICI.md "Credit-based flow control": credits = (ceil(RTT * B / w_max) + 1) packets of
// w_max wire bytes, RTT = 2L + w_max/B + router (ns; B in bytes per ns).
std::uint64_t doc_credits(const ici::IciConfig& c, bool through_ocs) {
  const double w = c.header_bytes + c.max_payload_bytes, b = c.bandwidth_gbps;
  const double l = c.serdes_ns + c.fec_ns +
                   (through_ocs ? c.ocs_fibre_m : c.fibre_m) * (c.fibre_ps_per_m / 1000.0);
  const double rtt = 2 * l + w / b + c.router_ns;
  return static_cast<std::uint64_t>((std::ceil(rtt * b / w) + 1) * w);
}

// Every credit signal of the file: starts at its link's credits `full(name)`, never above them
// (nor "negative": an unsigned wrap would be far above), and back at them at the end but for
// what is on its way: a credit returns the link's latency L after the receiver passed its packet
// on, so a run that ends as its last packets land may miss those delivered in the last L (packets
// land at least w_max/B apart: at most ceil(L B / w_max) + 1 of them). `dead(name)`: a port
// whose link failed (its credits stay where they were).
template <typename Full, typename Dead>
std::size_t check_credits(const Vcd& v, const ici::IciConfig& ic, Full full, Dead dead) {
  const std::uint64_t w = ic.header_bytes + ic.max_payload_bytes;
  std::size_t n = 0;
  for (const auto& [name, id] : v.id_of) {
    if (!name.ends_with("_credits")) continue;
    INFO(name);
    const std::uint64_t c = full(name);
    const auto& ch = v.changes.at(id);
    CHECK(ch.front().second == c);
    for (const auto& [t, val] : ch) CHECK(val <= c);
    if (!dead(name)) {
      const bool ocs = c > doc_credits(ic, false);
      const auto in_flight =
          (ic.hop_ps(ocs) * ic.bandwidth_gbps / 1000 + w - 1) / w + 1;  // packets
      CHECK(ch.back().second + in_flight * w >= c);
    }
    ++n;
  }
  return n;
}

}  // namespace

TEST_CASE("ICI ports show link state, credits and retries as docs/ICI.md gives them",
          "[chip][waves][ici]") {
  const sim::SimConfig base = sim::load_sim_config("");
  const ici::IciConfig& ic = base.ici;
  const std::uint64_t c_cube = doc_credits(ic, false), c_ocs = doc_credits(ic, true);
  CHECK(c_cube == 45'408);  // the figures docs/ICI.md states: 11 and 18 packets
  CHECK(c_ocs == 74'304);
  const std::uint64_t w_max = ic.header_bytes + ic.max_payload_bytes;
  const std::string ici0 = "pod.chip0.ici.", ici1 = "pod.chip1.ici.";
  const auto never = [](const std::string&) { return false; };

  SECTION("a clean message: credits leave and come back, links up, no retries") {
    // A ring of 4: chip 0 sends 256 KiB to chip 1 while chip 2 sends 1 MiB to chip 3 (its own
    // link), so the pod runs on well after chip 1 has its data and 0 -> 1's credits are back.
    const std::string path = tmp("ici.vcd");
    std::vector<std::uint8_t> data, other;
    sim::PodJob job = ring_p2p(base, 4, 256u << 10, 0, 1, path, data);
    const sim::PodJob job23 = ring_p2p(base, 4, 1u << 20, 2, 3, path, other);
    job.programs[2] = job23.programs[2];
    job.programs[3] = job23.programs[3];
    const sim::PodResult r = test::run_pod(job);
    REQUIRE(r.chips[1].end.kind == chip::ChipEnd::Kind::kExit);
    CHECK(r.chips[1].outputs.at("Y").data == data);
    CHECK(r.chips[3].outputs.at("Y").data == other);
    const std::uint64_t end = r.chips[3].total_cycles;
    CHECK(end > r.chips[1].total_cycles + 1000);
    const Vcd v(path);
    // Chip 0 -> 1 leaves on x+ (port 0, the lowest port of a shortest path), one hop: VC 0.
    const auto& cr = v.of(ici0 + "port0_vc0_credits");
    REQUIRE(cr.size() >= 3);
    CHECK(cr[0].second == c_cube);
    CHECK(cr[1].second == c_cube - w_max);  // the first (full) packet takes its wire size
    // The first credit comes back no earlier than one round trip after it left.
    std::optional<std::uint64_t> back;
    for (std::size_t i = 1; i + 1 < cr.size() && !back; ++i) {
      if (cr[i + 1].second > cr[i].second) back = cr[i + 1].first;
    }
    REQUIRE(back.has_value());
    CHECK(*back >= cr[1].first + (2 * ic.hop_ps(false) + ic.wire_ps(w_max)) / 1000);
    CHECK(check_credits(
              v, ic, [&](const std::string&) { return c_cube; }, never) >= 1);
    for (const std::string& s : {ici0 + "port0_link", ici1 + "port1_link"}) {
      INFO(s);
      CHECK(v.of(s).size() == 1);  // up from the start, never changes
      CHECK(v.at(s, 0) == 1);
    }
    CHECK(v.at(ici0 + "port0_retries", end) == 0);
    // Waveforms change nothing of the pod's run.
    sim::PodJob plain = job;
    plain.config->chip.waves.file.clear();
    const sim::PodResult r0 = test::run_pod(plain);
    for (std::size_t i = 0; i < 4; ++i) CHECK(r0.chips[i].total_cycles == r.chips[i].total_cycles);
    CHECK(r0.stats["pod"]["ici"] == r.stats["pod"]["ici"]);
    std::filesystem::remove(path);
  }

  SECTION("a [[pod.fault]] link shows down from its fault time; the detour's credits return") {
    sim::SimConfig cfg = base;
    ici::FaultSpec f;
    f.kind = ici::FaultSpec::Kind::kLink;
    f.chip = 0;
    f.port = 0;  // chip0.x+ - chip1.x-
    f.at_ns = 3'000;
    cfg.pod.faults = {f};
    const std::string path = tmp("ici_fault.vcd");
    std::vector<std::uint8_t> data;
    const sim::PodResult r = test::run_pod(ring_p2p(cfg, 4, 1u << 20, 0, 1, path, data));
    REQUIRE(r.chips[1].end.kind == chip::ChipEnd::Kind::kExit);
    CHECK(r.chips[1].outputs.at("Y").data == data);
    std::uint64_t end = 0;
    for (const auto& c : r.chips) end = std::max(end, c.total_cycles);
    const Vcd v(path);
    const std::uint64_t at = f.at_ns * 1000 / cfg.chip.clock().period_ps;  // its cycle
    for (const std::string& s : {ici0 + "port0_link", ici1 + "port1_link"}) {
      INFO(s);
      CHECK(v.at(s, at - 1) == 1);
      CHECK(v.at(s, at) == 0);
      CHECK(v.of(s).back().second == 0);  // stays down
      CHECK(v.edges(s, 0) == std::vector<std::uint64_t>{at});
    }
    for (const std::string& s : {ici0 + "port1_link", std::string("pod.chip3.ici.port0_link")}) {
      INFO(s);
      CHECK(v.of(s).size() == 1);
      CHECK(v.at(s, end) == 1);
    }
    // The ring's wrap-around link (chip3.x+ - chip0.x-) goes through the OCS.
    const auto full = [&](const std::string& n) {
      return n.starts_with(ici0 + "port1_") || n.starts_with("pod.chip3.ici.port0_") ? c_ocs
                                                                                     : c_cube;
    };
    const auto dead = [&](const std::string& n) {
      return n.starts_with(ici0 + "port0_") || n.starts_with(ici1 + "port1_");
    };
    CHECK(check_credits(v, ic, full, dead) >= 3);  // the detour: 0 -> 3 -> 2 -> 1
    CHECK(v.has(ici0 + "port1_vc0_credits"));
    CHECK(v.has("pod.chip3.ici.port1_vc1_credits"));
    CHECK(v.has("pod.chip2.ici.port1_vc2_credits"));
    // Nothing is sent on the dead link after its failure.
    const auto& dc = v.of(ici0 + "port0_vc0_credits");
    CHECK(dc.back().first <= at);
    std::filesystem::remove(path);
  }

  SECTION("a bit-error rate makes go-back-N resends appear, within the docs' bounds") {
    sim::SimConfig cfg = base;
    cfg.ici.bit_error_rate = 4e-6;  // p = 1 - (1 - BER)^(8 w) = 12 % per 4128-byte packet
    const std::string path = tmp("ici_ber.vcd");
    std::vector<std::uint8_t> data;
    const sim::PodResult r = test::run_pod(ring_p2p(cfg, 2, 1u << 20, 0, 1, path, data));
    REQUIRE(r.chips[1].end.kind == chip::ChipEnd::Kind::kExit);
    CHECK(r.chips[1].outputs.at("Y").data == data);
    const std::uint64_t end = std::max(r.chips[0].total_cycles, r.chips[1].total_cycles);
    const Vcd v(path);
    const auto& rt = v.of(ici0 + "port0_retries");
    // A running count: +1 per resend (one packet on the wire at a time: >= 41 ns apart).
    for (std::size_t i = 1; i < rt.size(); ++i) CHECK(rt[i].second == rt[i - 1].second + 1);
    const std::uint64_t resent = v.at(ici0 + "port0_retries", end);
    const auto& dir = r.stats["pod"]["ici"]["links"][0]["directions"][0];  // chip0.x+ -> chip1
    REQUIRE(dir["from"] == "chip0.x+");
    CHECK(resent == dir["retransmissions"].get<std::uint64_t>());
    CHECK(resent > 0);
    // A resend follows a NACK (a bad packet's last byte lands w/B + L after it left, the NACK
    // takes L back) or a 2 us timeout: never before one round trip after the first send.
    const auto& cr = v.of(ici0 + "port0_vc0_credits");
    REQUIRE(cr.size() >= 2);
    CHECK(rt.at(1).first >= cr[1].first + (2 * ic.hop_ps(false) + ic.wire_ps(w_max)) / 1000);
    // Each recovery resends at least the bad packet and at most k = ceil((w/B + 2L) / (w/B))
    // (a NACK) or the credits' window (a timeout).
    const double ser = static_cast<double>(w_max) / ic.bandwidth_gbps;
    const double k = std::ceil((ser + 2 * static_cast<double>(ic.hop_ps(false)) / 1000.0) / ser);
    const auto nacks = dir["nacks"].get<std::uint64_t>(),
               tos = dir["timeouts"].get<std::uint64_t>();
    CHECK(resent >= nacks + tos);
    const std::uint64_t window_packets = c_cube / w_max;  // whole packets in the credits' window
    CHECK(static_cast<double>(resent) <=
          static_cast<double>(nacks) * k + static_cast<double>(tos * window_packets));
    // Retried packets still take and return credits exactly once: back to full at the end.
    CHECK(check_credits(
              v, ic, [&](const std::string&) { return c_cube; }, never) >= 1);
    CHECK(v.at(ici0 + "port0_link", end) == 1);
    std::filesystem::remove(path);
  }
}
