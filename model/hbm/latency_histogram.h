// An exact distribution of latencies in cycles: counts per value (dense up to kDenseCycles, a
// sorted map beyond), so mean and percentiles are exact and memory follows the number of distinct
// values, not the number of requests. Plain value type; no SystemC.
#pragma once

#include <cmath>
#include <cstdint>
#include <map>
#include <utility>
#include <vector>

namespace mxemu::hbm {

class LatencyHistogram {
 public:
  static constexpr std::uint32_t kDenseCycles = 4096;

  void add(std::uint64_t cycles) {
    ++count_;
    sum_ += cycles;
    if (cycles > max_) max_ = cycles;
    if (cycles < kDenseCycles) {
      if (dense_.size() <= cycles) dense_.resize(cycles + 1, 0);
      ++dense_[cycles];
    } else {
      ++sparse_[cycles];
    }
  }

  std::uint64_t count() const { return count_; }
  std::uint64_t sum() const { return sum_; }
  std::uint64_t max() const { return max_; }
  double mean() const { return count_ == 0 ? 0.0 : static_cast<double>(sum_) / count_; }

  // Nearest-rank percentile: the smallest value v with at least ceil(p x count) samples <= v
  // (p in (0, 1]); 0 when empty.
  std::uint64_t percentile(double p) const {
    if (count_ == 0) return 0;
    auto rank = static_cast<std::uint64_t>(std::ceil(p * static_cast<double>(count_)));
    if (rank == 0) rank = 1;
    std::uint64_t seen = 0;
    for (std::size_t v = 0; v < dense_.size(); ++v) {
      seen += dense_[v];
      if (seen >= rank) return v;
    }
    for (const auto& [v, n] : sparse_) {
      seen += n;
      if (seen >= rank) return v;
    }
    return max_;
  }

  // Counts in power-of-two bins of cycles: bin 0 holds [0, 1), bin k >= 1 holds [2^(k-1), 2^k).
  // Returns (lower bound, upper bound, count) for each non-empty bin, in order.
  struct Bin {
    std::uint64_t lo_cycles, hi_cycles, count;
  };
  std::vector<Bin> log2_bins() const {
    std::vector<Bin> out;
    auto put = [&out](std::uint64_t v, std::uint64_t n) {
      std::uint64_t lo = 0, hi = 1;
      while (v >= hi) {
        lo = hi;
        hi *= 2;
      }
      if (out.empty() || out.back().lo_cycles != lo) out.push_back({lo, hi, 0});
      out.back().count += n;
    };
    for (std::size_t v = 0; v < dense_.size(); ++v) {
      if (dense_[v] != 0) put(v, dense_[v]);
    }
    for (const auto& [v, n] : sparse_) put(v, n);
    return out;
  }

  void merge(const LatencyHistogram& o) {
    count_ += o.count_;
    sum_ += o.sum_;
    if (o.max_ > max_) max_ = o.max_;
    if (dense_.size() < o.dense_.size()) dense_.resize(o.dense_.size(), 0);
    for (std::size_t v = 0; v < o.dense_.size(); ++v) dense_[v] += o.dense_[v];
    for (const auto& [v, n] : o.sparse_) sparse_[v] += n;
  }

 private:
  std::vector<std::uint64_t> dense_;               // count per value below kDenseCycles
  std::map<std::uint64_t, std::uint64_t> sparse_;  // value -> count, from kDenseCycles
  std::uint64_t count_ = 0, sum_ = 0, max_ = 0;
};

}  // namespace mxemu::hbm
