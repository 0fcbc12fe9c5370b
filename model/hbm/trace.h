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

// Parses a trace; throws mxemu::Error (bad input) naming `name` and the line number for a
// malformed line, time going backwards, mixed formats or an address at or beyond
// `capacity_bytes`.
std::vector<TraceEntry> parse_trace(std::istream& in, const std::string& name,
                                    std::uint64_t capacity_bytes, std::uint32_t access_bytes);
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
