#include "model/hbm/stats.h"

#include <vector>

namespace mxemu::hbm {

namespace {

nlohmann::json direction(const LatencyHistogram& h, std::uint64_t hits, std::uint64_t access_bytes,
                         double time_ns, double peak_gbps, double tck_ns) {
  nlohmann::json j;
  const std::uint64_t n = h.count();
  const double bw = time_ns > 0 ? static_cast<double>(n * access_bytes) / time_ns : 0.0;
  j["requests"] = n;
  j["bytes"] = n * access_bytes;
  j["bandwidth_gbps"] = bw;
  j["efficiency"] = peak_gbps > 0 ? bw / peak_gbps : 0.0;
  j["row_hit_rate"] = n == 0 ? 0.0 : static_cast<double>(hits) / static_cast<double>(n);
  j["latency_ns"] = {{"mean", h.mean() * tck_ns},
                     {"p50", static_cast<double>(h.percentile(0.50)) * tck_ns},
                     {"p99", static_cast<double>(h.percentile(0.99)) * tck_ns},
                     {"max", static_cast<double>(h.max()) * tck_ns}};
  nlohmann::json bins = nlohmann::json::array();
  for (const LatencyHistogram::Bin& b : h.log2_bins()) {
    bins.push_back({{"lo_ns", static_cast<double>(b.lo_cycles) * tck_ns},
                    {"hi_ns", static_cast<double>(b.hi_cycles) * tck_ns},
                    {"count", b.count}});
  }
  j["latency_histogram"] = bins;
  return j;
}

}  // namespace

nlohmann::json stats_json(const HbmCore& core) {
  const HbmStats& s = core.stats();
  const HbmConfig& c = core.config();
  const std::uint64_t ab = c.org.access_bytes;
  const std::uint64_t requests = s.reads + s.writes;
  const double tck_ns = c.timing.tck_ps / 1000.0;
  const Cycle cycles = requests ? s.last_done - s.first_arrival : 0;
  const double time_ns = static_cast<double>(cycles) * tck_ns;
  const double peak_gbps = core.peak_bytes_per_cycle() / tck_ns;
  const double bw = time_ns > 0 ? static_cast<double>(requests * ab) / time_ns : 0.0;
  LatencyHistogram all = s.read_latency;
  all.merge(s.write_latency);

  nlohmann::json j;
  j["timing"] = c.timing.name;
  j["requests"] = requests;
  j["reads"] = s.reads;
  j["writes"] = s.writes;
  j["bytes"] = requests * ab;
  j["cycles"] = cycles;
  j["tck_ns"] = tck_ns;
  j["time_ns"] = time_ns;
  j["bandwidth_gbps"] = bw;
  j["peak_gbps"] = peak_gbps;
  j["efficiency"] = peak_gbps > 0 ? bw / peak_gbps : 0.0;
  j["avg_latency_ns"] = all.mean() * tck_ns;
  j["p50_latency_ns"] = static_cast<double>(all.percentile(0.50)) * tck_ns;
  j["p99_latency_ns"] = static_cast<double>(all.percentile(0.99)) * tck_ns;
  j["row_hit_rate"] =
      requests == 0 ? 0.0 : static_cast<double>(s.row_hits) / static_cast<double>(requests);
  j["activates"] = s.activates;
  j["refreshes"] = s.refreshes;
  j["drains"] = s.drains;
  j["turnarounds"] = s.turnarounds;
  j["active_pseudo_channels"] = s.active_pcs;
  j["read"] = direction(s.read_latency, s.read_row_hits, ab, time_ns, peak_gbps, tck_ns);
  j["write"] = direction(s.write_latency, s.write_row_hits, ab, time_ns, peak_gbps, tck_ns);
  // Shares of the time of the pseudo-channels that worked (idle ones are not simulated).
  const double pc_cycles = static_cast<double>(cycles) * s.active_pcs;
  const double banks = c.org.banks_per_pc();
  j["time_share"] = {
      {"refresh",
       pc_cycles > 0 ? static_cast<double>(s.refresh_bank_cycles) / (pc_cycles * banks) : 0.0},
      {"drain", pc_cycles > 0 ? static_cast<double>(core.drain_cycles()) / pc_cycles : 0.0},
      {"turnaround", pc_cycles > 0 ? static_cast<double>(s.turnaround_cycles) / pc_cycles : 0.0}};
  nlohmann::json chans = nlohmann::json::array();
  for (std::size_t ch = 0; ch < s.channels.size(); ++ch) {
    const ChannelStats& cs = s.channels[ch];
    const std::uint64_t n = cs.reads + cs.writes;
    if (n == 0) continue;
    chans.push_back({{"channel", ch},
                     {"reads", cs.reads},
                     {"writes", cs.writes},
                     {"bandwidth_gbps", time_ns > 0 ? static_cast<double>(n * ab) / time_ns : 0.0},
                     {"row_hit_rate", static_cast<double>(cs.row_hits) / static_cast<double>(n)},
                     {"avg_latency_ns", static_cast<double>(cs.latency_sum_cycles) /
                                            static_cast<double>(n) * tck_ns}});
  }
  j["channels"] = chans;
  return j;
}

}  // namespace mxemu::hbm
