// `mxemu hbm` end to end: the built binary ($MXEMU_BUILD_DIR/mxemu) replays traces, writes JSON
// statistics, and refuses bad input with exit code 2 and a message naming the cause.
#include <catch2/catch.hpp>

#include <unistd.h>
#include <nlohmann/json.hpp>

#include <sys/wait.h>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>

namespace fs = std::filesystem;

namespace {

struct Run {
  int code = -1;
  std::string out, err;
};

class Dir {
 public:
  Dir() : path_(fs::temp_directory_path() / ("mxemu_hbm_cli_" + std::to_string(::getpid()))) {
    fs::create_directories(path_);
  }
  ~Dir() { fs::remove_all(path_); }
  std::string file(const std::string& name, const std::string& text) const {
    const fs::path p = path_ / name;
    std::ofstream(p) << text;
    return p.string();
  }
  std::string path(const std::string& name) const { return (path_ / name).string(); }

 private:
  fs::path path_;
};

std::string slurp(const std::string& p) {
  std::ifstream f(p);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

Run mxemu(const Dir& d, const std::string& args) {
  const char* build = std::getenv("MXEMU_BUILD_DIR");  // NOLINT(concurrency-mt-unsafe): 1 thread
  REQUIRE(build != nullptr);
  const std::string cmd = std::string(build) + "/mxemu hbm " + args + " >" + d.path("out.txt") +
                          " 2>" + d.path("err.txt");
  const int status = std::system(cmd.c_str());  // NOLINT(concurrency-mt-unsafe): one thread
  Run r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = slurp(d.path("out.txt"));
  r.err = slurp(d.path("err.txt"));
  return r;
}

}  // namespace

TEST_CASE("mxemu hbm replays a DRAMSys trace and writes JSON statistics") {
  Dir d;
  std::string text;
  char line[64];
  for (int i = 0; i < 4096; ++i) {
    std::snprintf(line, sizeof line, "0:\tread\t0x%x\n", i * 32);
    text += line;
  }
  const std::string trace = d.file("seq.stl", text);
  const Run r = mxemu(d, "--trace " + trace + " --stats " + d.path("s.json"));
  INFO(r.err);
  REQUIRE(r.code == 0);
  REQUIRE(r.out.find("bandwidth") != std::string::npos);
  const nlohmann::json j = nlohmann::json::parse(slurp(d.path("s.json")));
  REQUIRE(j["requests"] == 4096);
  REQUIRE(j["reads"] == 4096);
  REQUIRE(j["bandwidth_gbps"].get<double>() > 0);
  REQUIRE(j["p99_latency_ns"].get<double>() >= j["avg_latency_ns"].get<double>() * 0.5);
  REQUIRE(j["channels"].size() > 0);
  REQUIRE(j["row_hit_rate"].get<double>() >= 0);
  // Split by direction (model/hbm/stats.h): all reads here.
  REQUIRE(j["read"]["requests"] == 4096);
  REQUIRE(j["write"]["requests"] == 0);
  REQUIRE(j["read"]["bandwidth_gbps"] == j["bandwidth_gbps"]);
  REQUIRE(j["read"]["latency_ns"]["p50"].get<double>() <= j["p99_latency_ns"].get<double>());
  std::uint64_t binned = 0;
  for (const auto& b : j["read"]["latency_histogram"]) binned += b["count"].get<std::uint64_t>();
  REQUIRE(binned == 4096);
  for (const char* k : {"refresh", "drain", "turnaround"}) {
    REQUIRE(j["time_share"][k].get<double>() >= 0);
    REQUIRE(j["time_share"][k].get<double>() <= 1);
  }
  REQUIRE(r.out.find("time in refresh") != std::string::npos);
  REQUIRE(r.out.find("read       4096 requests") != std::string::npos);
}

TEST_CASE("mxemu hbm runs every preset's config file") {
  Dir d;
  const std::string trace = d.file("mix.trace", "LD 0x0\nST 0x40\nLD 0x1000\nST 0x2000\n");
  for (const auto& [file, timing] :
       {std::pair{"hbm2", "HBM2_2000Mbps"}, std::pair{"hbm2e", "HBM2E_3200Mbps"},
        std::pair{"hbm3", "HBM3_6400Mbps"}, std::pair{"hbm3e", "HBM3E_9600Mbps"},
        std::pair{"envelope_hbm2", "HBM2_2000Mbps"}, std::pair{"envelope_hbm3", "HBM3_6400Mbps"}}) {
    const Run r = mxemu(d, "--trace " + trace + " --config testbench/configs/hbm/" + file +
                               ".toml --stats " + d.path("s.json"));
    INFO(file << "\n" << r.err);
    REQUIRE(r.code == 0);
    REQUIRE(r.out.find(timing) != std::string::npos);
    const nlohmann::json j = nlohmann::json::parse(slurp(d.path("s.json")));
    REQUIRE(j["write"]["requests"] == 2);
  }
}

TEST_CASE("mxemu hbm replays a Ramulator trace with the example config") {
  Dir d;
  const std::string trace = d.file("ls.trace", "LD 0x0\nST 0x40\n# comment\n\nLD 0x1000\n");
  const Run r = mxemu(d, "--trace " + trace + " --config testbench/configs/hbm/hbm2e.toml");
  INFO(r.err);
  REQUIRE(r.code == 0);
  REQUIRE(r.out.find("HBM2E_3200Mbps") != std::string::npos);
  REQUIRE(r.out.find("3 (2 reads, 1 writes") != std::string::npos);
  const Run ex = mxemu(d, "--trace testbench/configs/hbm/example.stl");
  REQUIRE(ex.code == 0);
}

TEST_CASE("mxemu hbm: bad input exits 2 with the cause named") {
  Dir d;
  auto bad = [&](const std::string& args, const std::string& expected) {
    const Run r = mxemu(d, args);
    INFO(args << "\nstderr: " << r.err);
    REQUIRE(r.code == 2);
    REQUIRE(r.err.find("mxemu: error: ") != std::string::npos);
    REQUIRE(r.err.find(expected) != std::string::npos);
  };
  const std::string malformed =
      d.file("bad.stl", "0:\tread\t0x0\n1:\tread\t0x20\n2:\tfetch\t0x40\n");
  bad("--trace " + malformed, "line 3: command must be read or write");
  const std::string badaddr = d.file("addr.stl", "0:\tread\t0xzz\n");
  bad("--trace " + badaddr, "line 1: malformed address");
  const std::string beyond = d.file("beyond.trace", "LD 0x0\nLD 0x1000000000\n");
  bad("--trace " + beyond, "line 2: address 0x1000000000 is beyond the capacity");
  const std::string back = d.file("back.stl", "5:\tread\t0x0\n4:\tread\t0x20\n");
  bad("--trace " + back, "line 2: time goes backwards");
  const std::string mixed = d.file("mixed.stl", "0:\tread\t0x0\nLD 0x20\n");
  bad("--trace " + mixed, "line 2: DRAMSys and Ramulator lines are mixed");
  const std::string ok = d.file("ok.stl", "0:\tread\t0x0\n");
  bad("--trace " + d.path("missing.stl"), "cannot open");
  bad("--trace " + ok + " --config " + d.file("std.toml", "[hbm]\nstandard = \"HBM9\"\n"),
      "[hbm] standard = 'HBM9' is not a known standard");
  bad("--trace " + ok + " --config " + d.file("trc.toml", "[hbm]\n[hbm.timing]\nnRC = 50\n"),
      "tRC >= tRAS + tRP");
  bad("--trace " + ok + " --config " + d.file("syn.toml", "[hbm\nx = 1\n"), "line 1");
  bad("--trace " + ok + " --config " + d.file("val.toml", "[hbm]\nqueue_depth = \"deep\"\n"),
      "[hbm] queue_depth must be an integer");
  // Option errors are CLI11's (printed by main without the prefix), still exit 2.
  const Run none = mxemu(d, "");
  REQUIRE(none.code == 2);
  REQUIRE(none.err.find("--trace is required") != std::string::npos);
}
