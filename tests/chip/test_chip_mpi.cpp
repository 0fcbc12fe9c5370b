// Distributed pods (docs/DISTRIBUTED.md): `mpirun -np N mxemu run --pod ...` on this host. An
// 8-chip ring and a 16-chip 2-D torus all-reduce on 1, 2 and 4 ranks: outputs, cycles and
// statistics identical to the single-process run (host-only keys aside), and the sums exact
// (the inputs are small integers, so any order of additions gives the integer sum). A rank that
// aborts ends the job with a non-zero status naming it; bad partitions and a missing MPI plugin
// are refused with their cause. The pod demo (`mxemu run`) on 2 ranks prints what one process does.
#include <fmt/format.h>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <unistd.h>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>

#include "model/common/npy.h"
#include "tests/core/subprocess.h"

using namespace mxemu;

namespace {

struct Result {
  int rc;
  std::string out, err;
  double seconds;
};

Result run(std::vector<std::string> argv, int ranks) {
  if (ranks > 0) {
    std::vector<std::string> mpi = {MXEMU_MPIRUN, "--oversubscribe", "-np", std::to_string(ranks)};
    argv.insert(argv.begin(), mpi.begin(), mpi.end());
  }
  const auto t0 = std::chrono::steady_clock::now();
  test::Child c(argv);
  const int rc = c.finish(240);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return {rc, c.out(), c.err(), s};
}

std::string dir() {
  const auto d = std::filesystem::temp_directory_path() / ("mxemu_mpi_" + std::to_string(getpid()));
  std::filesystem::create_directories(d);
  return d.string();
}

// What differs between runs only because the host differs: wall time, threads, ranks.
nlohmann::json strip_host(const nlohmann::json& j) {
  if (j.is_object()) {
    nlohmann::json o = nlohmann::json::object();
    for (const auto& [k, v] : j.items()) {
      if (k == "host_seconds" || k == "host_mips" || k == "threads" || k == "ranks") continue;
      o[k] = strip_host(v);
    }
    return o;
  }
  if (j.is_array()) {
    nlohmann::json a = nlohmann::json::array();
    for (const auto& v : j) a.push_back(strip_host(v));
    return a;
  }
  return j;
}

nlohmann::json read_json(const std::string& path) {
  std::ifstream f(path);
  return nlohmann::json::parse(f);
}

struct Pod {
  std::string name;
  std::vector<std::string> shape_args;  // --chips 8 / --pod 4x4x1 --topology torus
  std::uint32_t chips;
  std::string config;              // "" or a TOML file
  std::vector<std::string> extra;  // for the runs under mpirun
};

// Writes integer-valued FP32 inputs, one per chip; returns the exact element-wise sum.
std::vector<float> write_inputs(const std::string& d, std::uint32_t chips, std::size_t elements) {
  std::mt19937_64 rng(chips);
  std::vector<float> sum(elements, 0.0F);
  for (std::uint32_t c = 0; c < chips; ++c) {
    std::vector<float> x(elements);
    for (std::size_t i = 0; i < elements; ++i) {
      x[i] = static_cast<float>(static_cast<int>(rng() % 2001) - 1000);
      sum[i] += x[i];  // |sum| < 2^24: exact in FP32
    }
    NpyArray a;
    a.dtype = NpyDtype::kF32;
    a.shape = {elements};
    a.data.resize(elements * 4);
    std::memcpy(a.data.data(), x.data(), a.data.size());
    write_npy(d + "/x_" + std::to_string(c) + ".npy", a);
  }
  return sum;
}

std::vector<std::string> job(const Pod& p, const std::string& d, const std::string& tag, bool mpi) {
  std::vector<std::string> a = {test::mxemu_binary(), "run", "--kernel", "collective"};
  a.insert(a.end(), p.shape_args.begin(), p.shape_args.end());
  if (!p.config.empty()) a.insert(a.end(), {"--config", p.config});
  a.insert(a.end(), {"--in", "X=" + d + "/x_{chip}.npy", "--scalar", "op=0", "--out",
                     "Y=" + d + "/y_" + tag + "_{chip}.npy", "--stats", d + "/s_" + tag + ".json",
                     "--quiet"});
  if (mpi) a.insert(a.end(), p.extra.begin(), p.extra.end());
  return a;
}

// Returns the one-process run's statistics.
nlohmann::json check_pod(const Pod& p, const std::vector<int>& rank_counts) {
  const std::string d = dir();
  const std::vector<float> sum = write_inputs(d, p.chips, 8192);
  const Result one = run(job(p, d, "one", false), 0);
  INFO(p.name << ": " << one.err);
  REQUIRE(one.rc == 0);
  nlohmann::json want = strip_host(read_json(d + "/s_one.json"));
  std::vector<NpyArray> y_one;
  for (std::uint32_t c = 0; c < p.chips; ++c) {
    y_one.push_back(read_npy(d + "/y_one_" + std::to_string(c) + ".npy"));
    const std::vector<float> y = y_one.back().as_f32();
    bool exact = y.size() == sum.size();
    for (std::size_t i = 0; exact && i < y.size(); ++i) exact = y[i] == sum[i];
    INFO("chip " << c);
    CHECK(exact);
  }
  for (const int n : rank_counts) {
    const std::string tag = "np" + std::to_string(n);
    const Result r = run(job(p, d, tag, true), n);
    INFO(p.name << ", " << n << " ranks: " << r.err);
    REQUIRE(r.rc == 0);
    const nlohmann::json got = read_json(fmt::format("{}/s_{}.json", d, tag));
    if (n > 1) {
      CHECK(got["pod"]["ranks"]["count"] == n);
      CHECK(r.err.find("mxemu: error") == std::string::npos);
    }
    const bool same_stats = strip_host(got) == want;  // not CHECK(a == b): a huge message
    CHECK(same_stats);
    if (!same_stats) {
      for (const auto& [k, v] : want["pod"].items()) {
        INFO("pod." << k);
        CHECK(strip_host(got)["pod"][k] == v);
      }
    }
    for (std::uint32_t c = 0; c < p.chips; ++c) {
      const NpyArray y = read_npy(fmt::format("{}/y_{}_{}.npy", d, tag, c));
      INFO("chip " << c);
      CHECK((y.data == y_one[c].data && y.shape == y_one[c].shape));
    }
  }
  std::filesystem::remove_all(d);
  return want;
}

}  // namespace

TEST_CASE("an 8-chip ring all-reduce on 1, 2 and 4 ranks is the one-process run", "[chip][mpi]") {
  check_pod(Pod{"ring 8", {"--chips", "8"}, 8, "", {}}, {1, 2, 4});
}

TEST_CASE(
    "a 16-chip 2-D torus all-reduce on 1, 2 and 4 ranks (slabs and a list) is the "
    "one-process run",
    "[chip][mpi]") {
  check_pod(
      Pod{"torus 4x4", {"--pod", "4x4x1", "--topology", "torus", "--scalar", "algo=2"}, 16, "", {}},
      {1, 2, 4});
  // Every rank's chips scattered over the torus: most links cross ranks.
  check_pod(Pod{"torus 4x4, list",
                {"--pod", "4x4x1", "--topology", "torus", "--scalar", "algo=2"},
                16,
                "",
                {"--partition", "0,5,10,15/1-4/6-9/11-14"}},
            {4});
}

TEST_CASE(
    "bit errors, a failing link and a chip replaced by a spare: 2 and 4 ranks are the "
    "one-process run",
    "[chip][mpi][faults]") {
  const std::string cfg = dir() + "_faults.toml";
  {
    std::ofstream f(cfg);
    f << "[ici]\nbit_error_rate = 1e-6\n"
         "[pod]\nshape = [8, 1, 1]\ntopology = \"ring\"\nspares = 1\n"
         "[[pod.fault]]\nkind = \"link\"\nchip = 1\nport = 0\nat_ns = 70000\n"
         "[[pod.fault]]\nkind = \"chip\"\nchip = 5\nat_ns = 72000\n";
  }
  check_pod(Pod{"ring 8 with faults", {}, 8, cfg, {}}, {2, 4});
  std::filesystem::remove(cfg);
}

TEST_CASE("the OCS reprogrammed mid-run: 2 and 4 ranks are the one-process run",
          "[chip][mpi][ocs]") {
  // The circuit 7 x+ -> 0 x- of a ring of 8 (two cubes) is taken down and set up again while the
  // all-reduce runs: its traffic goes the long way meanwhile, on every rank alike.
  const std::string cfg = dir() + "_ocs.toml";
  {
    std::ofstream f(cfg);
    f << "[ocs]\nreconfig_ns = 10000\n"
         "[pod]\nshape = [8, 1, 1]\ntopology = \"ring\"\n"
         "[[pod.ocs]]\nat_ns = 20000\ncircuits = [{ a = [7, 0], b = [0, 1] }]\n";
  }
  const nlohmann::json one = check_pod(Pod{"ring 8 with an OCS program", {}, 8, cfg, {}}, {2, 4});
  const auto& events = one["pod"]["ici"]["events"];
  REQUIRE(events.size() == 2);  // the program ran inside the collective
  CHECK(events[1]["at_ns"].get<double>() == 30000.0);
  CHECK(one["pod"]["ici"]["links"][8]["wired_at_ns"].get<double>() == 30000.0);
  std::filesystem::remove(cfg);
}

TEST_CASE("a rank that aborts ends every rank with a non-zero status naming it", "[chip][mpi]") {
  const std::string d = dir();
  write_inputs(d, 8, 8192);
  Pod p{"ring 8", {"--chips", "8"}, 8, "", {"--crash-rank", "1"}};
  const Result r = run(job(p, d, "crash", true), 2);
  INFO(r.err);
  CHECK(r.rc != 0);
  CHECK(r.err.find("rank 1: aborting") != std::string::npos);  // ours
  CHECK(r.err.find("rank 1") != std::string::npos);
  CHECK(r.seconds < 120);  // no rank waits for the dead one
  std::filesystem::remove_all(d);
}

TEST_CASE("distributed bad input: too many ranks, a cut chip, no cube each, no MPI plugin",
          "[chip][mpi][bad-input]") {
  const std::string d = dir();
  write_inputs(d, 16, 64);
  const auto refused = [&](std::vector<std::string> args, int ranks, const std::string& why) {
    std::vector<std::string> a = {test::mxemu_binary(), "run",  "--kernel",
                                  "collective",         "--in", "X=" + d + "/x_{chip}.npy",
                                  "--scalar",           "op=0", "--quiet"};
    a.insert(a.end(), args.begin(), args.end());
    const Result r = run(a, ranks);
    INFO(r.err);
    CHECK(r.rc == 2);
    CHECK(r.err.find(why) != std::string::npos);
  };
  refused({"--chips", "2"}, 3, "3 ranks for a pod of 2 chips: more ranks than chips");
  refused({"--chips", "8", "--partition", "0-3/3-7"}, 2,
          "chip 3 is given to rank 0 and to rank 1: a chip runs whole on one rank and cannot be "
          "cut");
  refused({"--chips", "8", "--partition", "0-2/4-7"}, 2, "chip 3 is on no rank");
  refused({"--chips", "8", "--partition", "0-9/4-7"}, 2, "names chip 9, but the pod has 8 chips");
  refused({"--pod", "4x4x1", "--partition", "cubes"}, 2,
          "2 ranks for a pod of 1 cube: more ranks than cubes");
  refused({"--chips", "8", "--partition", "slabs"}, 0,
          "--partition and --crash-rank need a run started by mpirun");
  // MPI not available at run time: the plugin cannot be loaded.
  setenv("MXEMU_MPI_PLUGIN", "/nonexistent/libmxemu_mpi.so", 1);  // NOLINT(concurrency-mt-unsafe)
  refused({"--chips", "8"}, 2, "MPI is not available: cannot load the MPI plugin");
  unsetenv("MXEMU_MPI_PLUGIN");  // NOLINT(concurrency-mt-unsafe)
  std::filesystem::remove_all(d);
}

TEST_CASE("the pod demo on 2 ranks reports what one process does", "[chip][mpi]") {
  // `mxemu run` with no job: GEMMs on a 2x2x2 pod, then an all-reduce of their results; every
  // line but the host time is the same, and the checks against the numerics library pass.
  const auto lines = [](const std::string& out) {
    std::vector<std::string> keep;
    std::size_t at = 0;
    while (at < out.size()) {
      const std::size_t nl = out.find('\n', at);
      const std::string line = out.substr(at, nl == std::string::npos ? nl : nl - at);
      if (line.rfind("collective:", 0) != 0 && line.find("host time") == std::string::npos) {
        keep.push_back(line);
      }
      if (nl == std::string::npos) break;
      at = nl + 1;
    }
    return keep;
  };
  const Result one = run({test::mxemu_binary(), "run"}, 0);
  const Result two = run({test::mxemu_binary(), "run"}, 2);
  INFO(one.err << two.err);
  REQUIRE(one.rc == 0);
  REQUIRE(two.rc == 0);
  CHECK(two.out.find("pod slabs over 2 ranks") != std::string::npos);
  CHECK(two.out.find("PASS") != std::string::npos);
  CHECK(lines(two.out) == lines(one.out));
}
