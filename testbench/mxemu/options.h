// Strict parsing of the CLI's numeric options: CLI11 would wrap "-5" into a huge unsigned value
// and saturate out-of-range digits; these refuse them with the option and its range named.
#pragma once

#include <cstdint>
#include <string>

namespace mxemu::cli {

// The most cycles a run may be given (10^15: 11.6 days of simulated time at 1 GHz).
inline constexpr std::uint64_t kMaxCycleLimit = 1'000'000'000'000'000ull;
// The default wall-clock limit of `mxemu run` / `mxemu gemm` (seconds).
inline constexpr double kDefaultMaxSeconds = 600;

// A decimal integer in [lo, hi]; throws bad input naming `option` otherwise.
std::uint64_t parse_uint_option(const std::string& text, const char* option, std::uint64_t lo,
                                std::uint64_t hi);
// A number of seconds in [0, 10^7]; throws bad input naming `option` otherwise.
double parse_seconds_option(const std::string& text, const char* option);

}  // namespace mxemu::cli
