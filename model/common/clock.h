// The chip clock: frequency and period, derived in this one place. SystemC time has a resolution
// of 1 ps, so the period is a whole number of picoseconds (the frequency rounded to it); every
// unit converts cycles to time with this period, so they never disagree by a rounding.
#pragma once

#include <cstdint>

namespace mxemu {

struct Clock {
  std::uint64_t hz = 1'000'000'000;
  std::uint64_t period_ps = 1000;

  // hz must be in [kMinHz, kMaxHz] (the config reader enforces it).
  static constexpr std::uint64_t kMinHz = 1'000'000;       // 1 MHz: slower clocks only waste time
  static constexpr std::uint64_t kMaxHz = 10'000'000'000;  // 10 GHz: period 100 ps
  static constexpr Clock from_hz(std::uint64_t hz) {
    return Clock{hz, (1'000'000'000'000ull + hz / 2) / hz};
  }
  // The frequency the period stands for (equal to hz when 10^12 / hz is a whole number).
  double effective_hz() const { return 1e12 / static_cast<double>(period_ps); }
};

}  // namespace mxemu
