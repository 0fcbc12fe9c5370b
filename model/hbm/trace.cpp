#include "model/hbm/trace.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <istream>
#include <sstream>

#include <fmt/format.h>

#include "model/common/error.h"

namespace mxemu::hbm {

namespace {

bool parse_number(std::string_view s, std::uint64_t* out) {
  int base = 10;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    s.remove_prefix(2);
    base = 16;
  }
  if (s.empty()) return false;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out, base);
  return ec == std::errc() && p == s.data() + s.size();
}

bool parse_hex_bytes(std::string_view s, std::vector<std::uint8_t>* out) {
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) s.remove_prefix(2);
  if (s.empty() || s.size() % 2 != 0) return false;
  for (std::size_t i = 0; i < s.size(); i += 2) {
    std::uint8_t b = 0;
    const auto [p, ec] = std::from_chars(s.data() + i, s.data() + i + 2, b, 16);
    if (ec != std::errc() || p != s.data() + i + 2) return false;
    out->push_back(b);
  }
  return true;
}

std::vector<std::string_view> split(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r')) ++i;
    std::size_t j = i;
    while (j < s.size() && s[j] != ' ' && s[j] != '\t' && s[j] != '\r') ++j;
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

// Reads one line (without its '\n') of at most `max` bytes; a longer line stops after max + 1
// bytes, which the caller refuses. False at the end of the input.
bool read_line(std::istream& in, std::string& line, std::size_t max) {
  line.clear();
  std::streambuf* sb = in.rdbuf();
  if (sb == nullptr) return false;
  bool any = false;
  for (;;) {
    const int c = sb->sbumpc();
    if (c == std::char_traits<char>::eof()) return any;
    any = true;
    if (c == '\n') return true;
    line.push_back(static_cast<char>(c));
    if (line.size() > max) return true;
  }
}

// The line as it may appear in a message: bytes outside printable ASCII as \xNN, at most 80.
std::string printable(std::string_view line) {
  std::string out;
  for (const char ch : line.substr(0, 80)) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x20 && c < 0x7f) {
      out.push_back(ch);
    } else if (ch == '\t') {
      out += "\\t";
    } else {
      out += fmt::format("\\x{:02x}", c);
    }
  }
  if (line.size() > 80) out += "...";
  return out;
}

}  // namespace

std::vector<TraceEntry> parse_trace(std::istream& in, const std::string& name,
                                    std::uint64_t capacity_bytes, std::uint32_t access_bytes,
                                    std::size_t max_requests) {
  if (access_bytes == 0) throw Error(ExitCode::kInternal, "parse_trace: access_bytes is 0");
  std::vector<TraceEntry> out;
  enum class Format { kUnknown, kDramSys, kRamulator } format = Format::kUnknown;
  std::string line;
  std::size_t n = 0;
  Cycle last = 0;
  while (read_line(in, line, kMaxTraceLineBytes)) {
    ++n;
    auto bad = [&](const std::string& why) {
      throw_bad_input("trace {} line {}: {}: '{}'", name, n, why, printable(line));
    };
    if (line.size() > kMaxTraceLineBytes)
      bad(fmt::format("line longer than the limit of {} bytes", kMaxTraceLineBytes));
    std::string_view s(line);
    if (const auto hash = s.find('#'); hash != std::string_view::npos) s = s.substr(0, hash);
    auto tok = split(s);
    if (tok.empty()) continue;
    if (out.size() >= max_requests)
      bad(fmt::format("more than the limit of {} requests", max_requests));
    TraceEntry e;
    e.line = n;
    Format f = Format::kUnknown;
    std::size_t at = 0;
    if (tok[0] == "LD" || tok[0] == "ST") {
      f = Format::kRamulator;
      if (tok.size() != 2) bad("expected 'LD 0x<addr>' or 'ST 0x<addr>'");
      e.is_write = tok[0] == "ST";
      at = 1;
    } else {
      f = Format::kDramSys;
      std::string_view c = tok[0];
      if (c.empty() || c.back() != ':') bad("expected '<cycle>:' or LD/ST");
      c.remove_suffix(1);
      std::uint64_t cycle = 0;
      if (!parse_number(c, &cycle)) bad("malformed cycle");
      if (cycle > kMaxTraceCycle) {
        bad(fmt::format(
            "cycle {} is beyond the limit of {} cycles (2^30, so that replay ends in bounded "
            "time)",
            cycle, kMaxTraceCycle));
      }
      if (tok.size() < 3 || tok.size() > 4) bad("expected '<cycle>:\\t<read|write>\\t0x<addr>'");
      if (tok[1] == "read") {
        e.is_write = false;
      } else if (tok[1] == "write") {
        e.is_write = true;
      } else {
        bad("command must be read or write");
      }
      if (cycle < last) bad(fmt::format("time goes backwards (previous cycle {})", last));
      last = e.cycle = cycle;
      at = 2;
      if (tok.size() == 4) {
        if (!e.is_write) bad("only writes carry data");
        if (!parse_hex_bytes(tok[3], &e.data)) bad("malformed data");
        if (e.data.size() > access_bytes)
          bad(fmt::format("data longer than {} bytes", access_bytes));
      }
    }
    if (format != Format::kUnknown && f != format) bad("DRAMSys and Ramulator lines are mixed");
    format = f;
    if (!parse_number(tok[at], &e.address)) bad("malformed address");
    if (e.address >= capacity_bytes) {
      bad(fmt::format("address 0x{:x} is beyond the capacity of 0x{:x} bytes", e.address,
                      capacity_bytes));
    }
    if (!e.data.empty() && e.address % access_bytes + e.data.size() > access_bytes) {
      bad("data crosses an access boundary");
    }
    out.push_back(std::move(e));
  }
  if (in.bad()) throw_bad_input("trace {}: read error after line {}", name, n);
  return out;
}

std::vector<TraceEntry> load_trace_file(const std::string& path, std::uint64_t capacity_bytes,
                                        std::uint32_t access_bytes) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw_bad_input("trace {}: is a directory", path);
  std::ifstream f(path, std::ios::binary);
  if (!f) throw_bad_input("trace {}: cannot open", path);
  return parse_trace(f, path, capacity_bytes, access_bytes);
}

ReplayReport replay(HbmCore& core, std::span<const TraceEntry> trace) {
  Cycle accepted = 0;
  std::uint64_t id = 0;
  for (const TraceEntry& e : trace) {
    if (!e.data.empty()) core.storage().write(e.address, e.data);
    accepted = core.submit(Request{id++, e.address, e.is_write, std::max(e.cycle, accepted)});
  }
  core.drain();
  return summarize(core);
}

ReplayReport summarize(const HbmCore& core) {
  const HbmStats& s = core.stats();
  const HbmConfig& c = core.config();
  ReplayReport r;
  r.timing = c.timing.name;
  r.reads = s.reads;
  r.writes = s.writes;
  r.requests = s.reads + s.writes;
  r.bytes = r.requests * c.org.access_bytes;
  r.refreshes = s.refreshes;
  r.activates = s.activates;
  r.tck_ns = c.timing.tck_ps / 1000.0;
  r.cycles = r.requests ? s.last_done - s.first_arrival : 0;
  r.time_ns = static_cast<double>(r.cycles) * r.tck_ns;
  r.peak_gbps = core.peak_bytes_per_cycle() / r.tck_ns;
  if (r.cycles) r.bandwidth_gbps = static_cast<double>(r.bytes) / r.time_ns;
  r.efficiency = r.peak_gbps > 0 ? r.bandwidth_gbps / r.peak_gbps : 0;
  if (r.requests) {
    std::vector<std::uint32_t> lat = s.latencies_cycles;
    double sum = 0;
    for (std::uint32_t l : lat) sum += l;
    r.avg_latency_ns = sum / static_cast<double>(lat.size()) * r.tck_ns;
    const std::size_t k =
        static_cast<std::size_t>(std::ceil(0.99 * static_cast<double>(lat.size()))) - 1;
    std::nth_element(lat.begin(), lat.begin() + static_cast<std::ptrdiff_t>(k), lat.end());
    r.p99_latency_ns = lat[k] * r.tck_ns;
    r.row_hit_rate = static_cast<double>(s.row_hits) / static_cast<double>(r.requests);
  }
  for (std::size_t ch = 0; ch < s.channels.size(); ++ch) {
    const ChannelStats& cs = s.channels[ch];
    const std::uint64_t n = cs.reads + cs.writes;
    if (n == 0) continue;
    ChannelReport cr;
    cr.channel = static_cast<std::uint32_t>(ch);
    cr.reads = cs.reads;
    cr.writes = cs.writes;
    cr.bandwidth_gbps = r.time_ns > 0 ? static_cast<double>(n * c.org.access_bytes) / r.time_ns : 0;
    cr.row_hit_rate = static_cast<double>(cs.row_hits) / static_cast<double>(n);
    cr.avg_latency_ns =
        static_cast<double>(cs.latency_sum_cycles) / static_cast<double>(n) * r.tck_ns;
    r.channels.push_back(cr);
  }
  return r;
}

nlohmann::json to_json(const ReplayReport& r) {
  nlohmann::json j;
  j["timing"] = r.timing;
  j["requests"] = r.requests;
  j["reads"] = r.reads;
  j["writes"] = r.writes;
  j["bytes"] = r.bytes;
  j["cycles"] = r.cycles;
  j["tck_ns"] = r.tck_ns;
  j["time_ns"] = r.time_ns;
  j["bandwidth_gbps"] = r.bandwidth_gbps;
  j["peak_gbps"] = r.peak_gbps;
  j["efficiency"] = r.efficiency;
  j["avg_latency_ns"] = r.avg_latency_ns;
  j["p99_latency_ns"] = r.p99_latency_ns;
  j["row_hit_rate"] = r.row_hit_rate;
  j["activates"] = r.activates;
  j["refreshes"] = r.refreshes;
  nlohmann::json chans = nlohmann::json::array();
  for (const ChannelReport& c : r.channels) {
    chans.push_back({{"channel", c.channel},
                     {"reads", c.reads},
                     {"writes", c.writes},
                     {"bandwidth_gbps", c.bandwidth_gbps},
                     {"row_hit_rate", c.row_hit_rate},
                     {"avg_latency_ns", c.avg_latency_ns}});
  }
  j["channels"] = chans;
  return j;
}

std::string to_text(const ReplayReport& r) {
  std::string s = fmt::format(
      "timing        {}\n"
      "requests      {} ({} reads, {} writes, {} bytes)\n"
      "time          {:.1f} ns ({} cycles of {:.3f} ns)\n"
      "bandwidth     {:.1f} GB/s of {:.1f} GB/s peak ({:.1f} %)\n"
      "latency       avg {:.1f} ns, p99 {:.1f} ns\n"
      "row hits      {:.1f} %\n"
      "activates     {}, refreshes {}\n",
      r.timing, r.requests, r.reads, r.writes, r.bytes, r.time_ns, r.cycles, r.tck_ns,
      r.bandwidth_gbps, r.peak_gbps, 100 * r.efficiency, r.avg_latency_ns, r.p99_latency_ns,
      100 * r.row_hit_rate, r.activates, r.refreshes);
  s += "channel  reads  writes  GB/s  row-hit%  avg-latency-ns\n";
  for (const ChannelReport& c : r.channels) {
    s += fmt::format("{:7}  {:5}  {:6}  {:5.1f}  {:8.1f}  {:14.1f}\n", c.channel, c.reads, c.writes,
                     c.bandwidth_gbps, 100 * c.row_hit_rate, c.avg_latency_ns);
  }
  return s;
}

}  // namespace mxemu::hbm
