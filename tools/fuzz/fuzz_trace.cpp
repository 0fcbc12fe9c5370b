// libFuzzer harness of the HBM trace parser (model/hbm/trace.h), built twice: fuzz_trace_dramsys
// (seeds: DRAMSys StlPlayer lines) and fuzz_trace_ramulator (seeds: Ramulator LoadStoreTrace
// lines); the parser is one function that tells the formats apart line by line. Properties
// beyond "no crash, no hang": every refusal is mxemu::Error(kBadInput); every entry returned
// obeys the documented bounds (address < capacity, cycle <= kMaxTraceCycle, cycles
// non-decreasing, data only on writes, within one access, line numbers increasing); the entries
// written back out in canonical form parse to the same entries; parsing against a smaller
// capacity either refuses the trace or gives the same entries.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "model/common/error.h"
#include "model/hbm/trace.h"
#include "tools/fuzz/fuzz_check.h"

namespace {

using mxemu::hbm::TraceEntry;

constexpr std::uint64_t kCapacity = std::uint64_t{1} << 36;  // mx1: 64 GiB
constexpr std::uint64_t kSmallCapacity = std::uint64_t{1} << 20;
constexpr std::uint32_t kAccess = 32;

bool parse(const std::string& text, std::uint64_t capacity, std::vector<TraceEntry>& out) {
  std::istringstream in(text);
  try {
    out = mxemu::hbm::parse_trace(in, "fuzz", capacity, kAccess);
  } catch (const mxemu::Error& e) {
    FUZZ_CHECK(e.code() == mxemu::ExitCode::kBadInput);
    return false;
  }
  return true;
}

bool same(const std::vector<TraceEntry>& a, const std::vector<TraceEntry>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].cycle != b[i].cycle || a[i].address != b[i].address ||
        a[i].is_write != b[i].is_write || a[i].data != b[i].data)
      return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  std::vector<TraceEntry> t;
  if (!parse(text, kCapacity, t)) return 0;
  FUZZ_CHECK(t.size() <= mxemu::hbm::kMaxTraceRequests);
  bool untimed = true;
  for (std::size_t i = 0; i < t.size(); ++i) {
    const TraceEntry& e = t[i];
    FUZZ_CHECK(e.address < kCapacity);
    FUZZ_CHECK(e.cycle <= mxemu::hbm::kMaxTraceCycle);
    FUZZ_CHECK(e.data.size() <= kAccess);
    FUZZ_CHECK(e.data.empty() || e.is_write);
    FUZZ_CHECK(e.address % kAccess + e.data.size() <= kAccess);
    FUZZ_CHECK(e.line >= 1);
    if (i > 0) {
      FUZZ_CHECK(e.cycle >= t[i - 1].cycle);
      FUZZ_CHECK(e.line > t[i - 1].line);
    }
    if (e.cycle != 0 || !e.data.empty()) untimed = false;
  }
  // Canonical DRAMSys form; an untimed trace without data also as Ramulator lines.
  std::string stl, ls;
  for (const TraceEntry& e : t) {
    stl += fmt::format("{}:\t{}\t0x{:x}", e.cycle, e.is_write ? "write" : "read", e.address);
    if (!e.data.empty()) {
      stl += "\t0x";
      for (const std::uint8_t b : e.data) stl += fmt::format("{:02x}", b);
    }
    stl += '\n';
    ls += fmt::format("{} 0x{:x}\n", e.is_write ? "ST" : "LD", e.address);
  }
  std::vector<TraceEntry> back;
  FUZZ_CHECK(parse(stl, kCapacity, back));
  FUZZ_CHECK(same(back, t));
  if (untimed) {
    FUZZ_CHECK(parse(ls, kCapacity, back));
    FUZZ_CHECK(same(back, t));
  }
  std::vector<TraceEntry> small;
  if (parse(text, kSmallCapacity, small)) FUZZ_CHECK(same(small, t));
  return 0;
}
