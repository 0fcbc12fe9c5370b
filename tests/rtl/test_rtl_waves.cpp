// The co-simulation bench's waveforms: `mxemu-cosim --vcd FILE` and `--fst FILE` each pass and
// leave a dump that parses: the VCD's header declares the tile's ports and its value changes are
// time-ordered; the FST opens with GTKWave's reader (fstapi), declares the same signals and has
// value changes for out_valid_o. Bad options exit 2 with a clear message.
#include <fmt/core.h>
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include <sys/wait.h>
#include <unistd.h>

#include "fstapi.h"

namespace fs = std::filesystem;

namespace {

struct Run {
  int rc;
  std::string out;
};

Run run(const std::string& args) {
  const std::string cmd = std::string(MXEMU_COSIM_BIN) + " " + args + " 2>&1";
  Run r{-1, {}};
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  char buf[4096];
  while (std::fgets(buf, sizeof(buf), p)) r.out += buf;
  const int st = pclose(p);
  r.rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

fs::path temp_file(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / fmt::format("mxemu_waves_{}", ::getpid());
  fs::create_directories(dir);
  return dir / name;
}

}  // namespace

TEST_CASE("--vcd writes a VCD that parses", "[rtl][waves]") {
  const auto file = temp_file("tile.vcd");
  const auto r = run("--folds 3 --max-m 6 --vcd " + file.string());
  INFO(r.out);
  REQUIRE(r.rc == 0);
  CHECK(r.out.find("PASS") != std::string::npos);
  std::ifstream in(file);
  REQUIRE(in);
  std::map<std::string, std::string> ids;  // VCD identifier -> signal name
  std::string line;
  bool header_done = false;
  long long last_time = -1, changes = 0, valid_changes = 0;
  std::string valid_id;
  while (std::getline(in, line)) {
    if (!header_done) {
      if (line.rfind("$enddefinitions", 0) == 0) header_done = true;
      std::istringstream ss(line);
      std::string tok, type, width, id, name;
      ss >> tok;
      if (tok == "$var") {
        ss >> type >> width >> id >> name;
        ids[id] = name;
        if (name == "out_valid_o" && valid_id.empty()) valid_id = id;
      }
      continue;
    }
    if (line.empty()) continue;
    if (line[0] == '#') {
      const long long t = std::stoll(line.substr(1));
      CHECK(t > last_time);
      last_time = t;
    } else if (line[0] == 'b') {
      const auto sp = line.find(' ');
      REQUIRE(sp != std::string::npos);
      const std::string id = line.substr(sp + 1);
      REQUIRE(ids.count(id) == 1);
      ++changes;
      if (id == valid_id) ++valid_changes;
    } else if (line[0] == '0' || line[0] == '1') {
      REQUIRE(ids.count(line.substr(1)) == 1);
      ++changes;
    }
  }
  CHECK(header_done);
  for (const char* port : {"clk_i", "w_valid_i", "a_i", "psum_i", "out_o", "out_valid_o"}) {
    bool found = false;
    for (const auto& [id, name] : ids) found = found || name == port;
    INFO(port);
    CHECK(found);
  }
  CHECK(last_time > 40);
  CHECK(changes > 100);
  CHECK(valid_changes > 2);
  fs::remove_all(file.parent_path());
}

TEST_CASE("--fst writes an FST that GTKWave's reader opens", "[rtl][waves]") {
  const auto file = temp_file("tile.fst");
  const auto r = run("--folds 3 --max-m 6 --fst " + file.string());
  INFO(r.out);
  REQUIRE(r.rc == 0);
  CHECK(r.out.find("PASS") != std::string::npos);
  void* ctx = fstReaderOpen(file.c_str());
  REQUIRE(ctx != nullptr);
  CHECK(fstReaderGetVarCount(ctx) > 50);
  CHECK(fstReaderGetEndTime(ctx) > 40);
  // Find out_valid_o's handle in the hierarchy, then count its value changes.
  fstHandle valid = 0;
  while (const fstHier* h = fstReaderIterateHier(ctx)) {
    // FST names carry the bit range: "out_valid_o [7:0]".
    if (h->htyp == FST_HT_VAR && std::string(h->u.var.name).rfind("out_valid_o", 0) == 0 &&
        valid == 0) {
      valid = h->u.var.handle;
    }
  }
  REQUIRE(valid != 0);
  fstReaderClrFacProcessMaskAll(ctx);
  fstReaderSetFacProcessMask(ctx, valid);
  struct Count {
    long long n = 0;
  } count;
  fstReaderIterBlocks(
      ctx,
      [](void* user, uint64_t, fstHandle, const unsigned char*) { ++static_cast<Count*>(user)->n; },
      &count, nullptr);
  CHECK(count.n > 2);
  fstReaderClose(ctx);
  fs::remove_all(file.parent_path());
}

TEST_CASE("bad options exit 2 with a clear message", "[rtl][waves]") {
  auto r = run("--folds 0");
  CHECK(r.rc == 2);
  CHECK(r.out.find("mxemu: error: ") != std::string::npos);
  r = run("--no-such-option");
  CHECK(r.rc == 2);
  CHECK(r.out.find("mxemu: error: ") != std::string::npos);
  r = run("--vcd /nonexistent-dir/x.vcd");
  CHECK(r.rc == 2);
  CHECK(r.out.find("mxemu: error: cannot write waveform file /nonexistent-dir/x.vcd") !=
        std::string::npos);
  r = run("--vcd a.vcd --fst b.fst");
  CHECK(r.rc == 2);
  CHECK(r.out.find("give either --fst or --vcd") != std::string::npos);
}
