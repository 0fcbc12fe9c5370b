// Trace replay: DRAMSys StlPlayer lines (`<cycle>:\t<read|write>\t0x<addr>[\t0x<data>]`, cycles of
// the HBM clock) and Ramulator LoadStoreTrace lines (`LD 0x<addr>` / `ST 0x<addr>`, no time).
// Requests enter in file order, each no earlier than its time stamp and no earlier than the
// previous one was accepted, so all-zero (or absent) time stamps replay as fast as accepted.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/hbm/controller.h"

namespace mxemu::hbm {

struct TraceEntry {
  Cycle cycle = 0;
  std::uint64_t address = 0;
  bool is_write = false;
  std::vector<std::uint8_t> data;  // optional write data (DRAMSys)
  std::size_t line = 0;
};

// Bounds of a trace, each refused with a message naming it, so that parsing takes memory in
// proportion to the file and replay ends in bounded time:
// - time stamps at most kMaxTraceCycle = 2^30 HBM cycles (0.67 s of HBM3 time at tCK 0.625 ns,
//   far beyond the microseconds to milliseconds of DRAMSys traces). Replay costs time in
//   proportion to the cycles it crosses in every pseudo-channel a request reaches (refresh).
//   Measured on a loaded 2-core Debian 12 machine: 128 requests at cycle 2^30, one per
//   pseudo-channel of mx1 (the worst case), replay in 22 s, one request in 0.2 s; before the
//   bound one request at 10^11 took 16 s (128 of them: about an hour) and one at 2^64 - 1 would
//   have taken over a century (these two extrapolated from the measured rate).
// - at most kMaxTraceRequests requests (2^24; about 1 GiB of parsed entries);
// - lines of at most kMaxTraceLineBytes bytes (a write line with 32 data bytes is under 100).
inline constexpr Cycle kMaxTraceCycle = Cycle{1} << 30;
inline constexpr std::size_t kMaxTraceRequests = std::size_t{1} << 24;
inline constexpr std::size_t kMaxTraceLineBytes = 4096;

// `max_requests` lowers the request bound (tests).
std::vector<TraceEntry> parse_trace(std::istream& in, const std::string& name,
                                    std::uint64_t capacity_bytes, std::uint32_t access_bytes,
                                    std::size_t max_requests = kMaxTraceRequests);
std::vector<TraceEntry> load_trace_file(const std::string& path, std::uint64_t capacity_bytes,
                                        std::uint32_t access_bytes);

struct ChannelReport {
  std::uint32_t channel = 0;
  std::uint64_t reads = 0, writes = 0;
  double bandwidth_gbps = 0, row_hit_rate = 0, avg_latency_ns = 0;
};

struct ReplayReport {
  std::string timing;
  std::uint64_t requests = 0, reads = 0, writes = 0, bytes = 0, refreshes = 0, activates = 0;
  Cycle cycles = 0;  // first arrival to last completion
  double tck_ns = 0, time_ns = 0;
  double bandwidth_gbps = 0, peak_gbps = 0, efficiency = 0;  // GB/s = 1e9 bytes/s
  double avg_latency_ns = 0, p99_latency_ns = 0, row_hit_rate = 0;
  std::vector<ChannelReport> channels;  // channels that served requests
};

// Submits every entry (write data goes to storage), drains, and reports.
ReplayReport replay(HbmCore& core, std::span<const TraceEntry> trace);
ReplayReport summarize(const HbmCore& core);
nlohmann::json to_json(const ReplayReport& r);
std::string to_text(const ReplayReport& r);

}  // namespace mxemu::hbm
