// The HBM controller's statistics as JSON, for `mxemu hbm --stats` and the chip's report: totals
// (the keys of trace.h's to_json, same meaning) plus a split by reads and writes and the shares
// of time spent in refresh, write drains and read/write turnarounds.
#pragma once

#include <nlohmann/json.hpp>

#include "model/hbm/controller.h"

namespace mxemu::hbm {

// Keys (times in ns, bandwidths in GB/s = 1e9 bytes/s, over `cycles` = first arrival to last
// completion):
//   timing, requests, reads, writes, bytes, cycles, tck_ns, time_ns, bandwidth_gbps, peak_gbps,
//   efficiency, avg_latency_ns, p50_latency_ns, p99_latency_ns, row_hit_rate, activates,
//   refreshes, drains, turnarounds, active_pseudo_channels, channels[] (as to_json);
//   read / write: requests, bytes, bandwidth_gbps, efficiency (of the data-bus peak),
//     row_hit_rate, latency_ns {mean, p50, p99, max}, latency_histogram [{lo_ns, hi_ns, count}]
//     (power-of-two bins of cycles, non-empty bins only);
//   time_share: refresh (bank-time blocked by refresh), drain (time in write drains),
//     turnaround (data-bus cycles that read/write direction changes cost: the idle gap, at most
//     what tRTW / tWTR + nCL force), each a fraction of the time of the pseudo-channels that
//     served accesses.
nlohmann::json stats_json(const HbmCore& core);

}  // namespace mxemu::hbm
