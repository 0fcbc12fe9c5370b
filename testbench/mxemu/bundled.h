// Firmware kernels bundled into the mxemu binary (firmware/kernels, embedded at build time).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace mxemu::bundled {

// The ELF bytes of kernel `name` ("gemm", "quantize", "linear_relu", "demo", "collective",
// "softmax", "layernorm", "rmsnorm"); empty if unknown.
std::span<const std::uint8_t> find(std::string_view name);

inline std::vector<std::uint8_t> elf(std::string_view name) {
  const auto s = find(name);
  return {s.begin(), s.end()};
}

}  // namespace mxemu::bundled
