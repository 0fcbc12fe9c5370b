// Trace parsing (model/hbm/trace.h) against tools/fuzz/corpus/trace_dramsys/ and
// trace_ramulator/, built by tools/fuzz/make_corpus.py from the DRAMSys StlPlayer and Ramulator
// LoadStoreTrace line formats. regress_*: time stamps that replayed for minutes, hours or forever
// before cycles were bounded; the CLI case checks that `mxemu hbm` reports them with exit 2.
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "model/common/error.h"
#include "model/hbm/config.h"
#include "model/hbm/controller.h"
#include "model/hbm/trace.h"

using namespace mxemu;
using namespace mxemu::hbm;

namespace {

constexpr std::uint64_t kCapacity = std::uint64_t{1} << 36;  // 64 GiB, as mx1
constexpr std::uint32_t kAccess = 32;

std::string path(const std::string& file) {
  const bool stl = file.size() > 4 && file.substr(file.size() - 4) == ".stl";
  return std::string("tools/fuzz/corpus/") + (stl ? "trace_dramsys/" : "trace_ramulator/") + file;
}

std::vector<TraceEntry> parse(const std::string& file) {
  return load_trace_file(path(file), kCapacity, kAccess);
}

std::string error(const std::string& file) {
  try {
    parse(file);
  } catch (const Error& e) {
    CHECK(e.code() == ExitCode::kBadInput);
    return e.what();
  }
  FAIL("no error for " << file);
  return "";
}

}  // namespace

TEST_CASE("trace: DRAMSys lines parse to cycles, commands, addresses and data", "[hbm][trace]") {
  const auto t = parse("valid_example.stl");
  REQUIRE(t.size() == 3);
  CHECK(t[0].cycle == 0);
  CHECK_FALSE(t[0].is_write);
  CHECK(t[1].is_write);
  CHECK(t[1].address == 0x20);
  CHECK(t[1].data == std::vector<std::uint8_t>{1, 2, 3, 4, 5, 6, 7, 8});
  CHECK(t[2].cycle == 10);
  CHECK(t[2].address == 0x40000);
  CHECK(t[2].line == 3);
  const auto c = parse("valid_comments_crlf.stl");
  REQUIRE(c.size() == 2);
  CHECK(c[0].line == 2);
  CHECK(c[1].cycle == 6);
  CHECK(c[1].address == 0x1020);
  const auto h = parse("valid_hex_cycles.stl");
  REQUIRE(h.size() == 2);
  CHECK(h[1].cycle == 0x20);
  CHECK(h[1].data == std::vector<std::uint8_t>{0xde, 0xad, 0xbe, 0xef});
  CHECK(parse("valid_full_access.stl")[0].data.size() == 32);
  const auto limit = parse("valid_limit.stl");  // exactly the bound
  REQUIRE(limit.size() == 1);
  CHECK(limit[0].cycle == kMaxTraceCycle);
  CHECK(kMaxTraceCycle == 1073741824);
}

TEST_CASE("trace: Ramulator lines parse to untimed loads and stores", "[hbm][trace]") {
  const auto t = parse("valid_ld_st.trace");
  REQUIRE(t.size() == 3);
  CHECK(t[1].is_write);
  CHECK(t[1].address == 0x40);
  CHECK(t[2].address == 0x1000);
  CHECK(t[2].line == 5);
  for (const TraceEntry& e : t) CHECK(e.cycle == 0);
  const auto d = parse("valid_decimal.trace");
  REQUIRE(d.size() == 2);
  CHECK(d[0].address == 4096);
  CHECK(d[1].address == 8192);
  CHECK(parse("valid_strided.trace").size() == 32);
}

TEST_CASE("trace: cycles beyond the bound are refused, naming it", "[hbm][trace][regress]") {
  CHECK_THAT(error("regress_cycle_1e11.stl"),
             Catch::Contains("line 2: cycle 100000000000 is beyond the limit of 1073741824 "
                             "cycles (2^30, so that replay ends in bounded time)"));
  CHECK_THAT(error("regress_cycle_u64max.stl"),
             Catch::Contains("line 1: cycle 18446744073709551615 is beyond the limit"));
  CHECK_THAT(error("near_cycle_2p64.stl"), Catch::Contains("line 1: malformed cycle"));
}

TEST_CASE("trace: near-valid lines name line and cause", "[hbm][trace]") {
  CHECK_THAT(error("near_backwards.stl"),
             Catch::Contains("line 2: time goes backwards (previous cycle 5)"));
  CHECK_THAT(error("near_fetch.stl"), Catch::Contains("line 2: command must be read or write"));
  CHECK_THAT(error("near_read_data.stl"), Catch::Contains("line 1: only writes carry data"));
  CHECK_THAT(error("near_cross.stl"), Catch::Contains("line 1: data crosses an access boundary"));
  CHECK_THAT(error("near_long_line.stl"),
             Catch::Contains("line 2: line longer than the limit of 4096 bytes"));
  // Bytes outside printable ASCII are shown escaped in the message.
  CHECK_THAT(error("near_binary.stl"),
             Catch::Contains("line 2: malformed cycle: '\\x00\\x01\\xff\\x7f:\\tread'"));
  CHECK_THAT(error("near_missing_addr.trace"),
             Catch::Contains("line 1: expected 'LD 0x<addr>' or 'ST 0x<addr>'"));
  CHECK_THAT(error("near_extra_field.trace"), Catch::Contains("line 1: expected 'LD 0x<addr>'"));
  CHECK_THAT(error("near_mixed.trace"),
             Catch::Contains("line 2: DRAMSys and Ramulator lines are mixed"));
  CHECK_THAT(error("near_beyond.trace"),
             Catch::Contains("line 2: address 0x1000000000 is beyond the capacity of "
                             "0x1000000000 bytes"));
  CHECK_THAT(error("near_long_line.trace"), Catch::Contains("line 1: line longer than the limit"));
  CHECK_THAT(error("near_addr_2p64.trace"), Catch::Contains("line 1: malformed address"));
  CHECK_THROWS_WITH(load_trace_file("tools/fuzz/corpus", kCapacity, kAccess),
                    Catch::Contains("is a directory"));
}

TEST_CASE("trace: at most a bounded number of requests", "[hbm][trace]") {
  CHECK(kMaxTraceRequests == 16777216);  // 2^24 (the default bound; a smaller one here)
  std::istringstream ok("LD 0\n# comment\nLD 0x20\n\nST 0x40\n");
  CHECK(parse_trace(ok, "t", kCapacity, kAccess, 3).size() == 3);
  std::istringstream more("LD 0\n# comment\nLD 0x20\n\nST 0x40\nLD 0x60\n");
  CHECK_THROWS_WITH(parse_trace(more, "t", kCapacity, kAccess, 3),
                    Catch::Contains("line 6: more than the limit of 3 requests"));
}

TEST_CASE("trace: a request at the last legal cycle replays in bounded time", "[hbm][trace]") {
  HbmCore core{HbmConfig{}};
  const auto t = parse("valid_limit.stl");
  const auto start = std::chrono::steady_clock::now();
  const ReplayReport r = replay(core, t);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CHECK(r.requests == 1);
  CHECK(r.refreshes > 0);  // it did cross 2^30 cycles of refresh
  CHECK(seconds < 30);     // about 0.3 s on a loaded 2-core machine; generous for sanitizers
}

TEST_CASE("trace: mxemu hbm reports a cycle beyond the bound with exit 2", "[hbm][trace][cli]") {
  const char* build = std::getenv("MXEMU_BUILD_DIR");  // NOLINT(concurrency-mt-unsafe): 1 thread
  REQUIRE(build != nullptr);
  const std::string err = std::string(build) + "/hbm_trace_cli_err.txt";
  const std::string cmd = std::string(build) + "/mxemu hbm --trace " +
                          path("regress_cycle_1e11.stl") + " >/dev/null 2>" + err;
  const int status = std::system(cmd.c_str());  // NOLINT(concurrency-mt-unsafe): one thread
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 2);
  std::ifstream f(err);
  const std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  CHECK_THAT(text, Catch::StartsWith("mxemu: error: trace tools/fuzz/corpus/trace_dramsys/"
                                     "regress_cycle_1e11.stl line 2: cycle 100000000000 is "
                                     "beyond the limit of 1073741824 cycles"));
}
