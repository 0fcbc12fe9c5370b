#include "testbench/mxemu/options.h"

#include <cmath>
#include <cstdlib>

#include "model/common/error.h"

namespace mxemu::cli {

std::uint64_t parse_uint_option(const std::string& text, const char* option, std::uint64_t lo,
                                std::uint64_t hi) {
  const bool digits = !text.empty() && text.size() <= 20 &&
                      text.find_first_not_of("0123456789") == std::string::npos;
  std::uint64_t v = 0;
  bool ok = digits;
  for (const char c : digits ? text : std::string()) {
    const auto d = static_cast<std::uint64_t>(c - '0');
    if (v > (~std::uint64_t{0} - d) / 10) {
      ok = false;
      break;
    }
    v = v * 10 + d;
  }
  if (!ok || v < lo || v > hi) {
    throw_bad_input("{} {}: expected a whole number in [{}, {}]", option, text, lo, hi);
  }
  return v;
}

double parse_seconds_option(const std::string& text, const char* option) {
  char* end = nullptr;
  const double v = text.empty() ? NAN : std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(v) || v < 0 || v > 1e7) {
    throw_bad_input("{} {}: expected a number of seconds in [0, 10000000]", option, text);
  }
  return v;
}

}  // namespace mxemu::cli
