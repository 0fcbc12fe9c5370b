#include <stdexcept>
#include <string>

#include "model/numerics/fused.h"
#include "model/numerics/gemm.h"

namespace mxemu::num {

std::string_view isa_name(GemmIsa isa) {
  switch (isa) {
    case GemmIsa::kAuto:
      return "auto";
    case GemmIsa::kPortable:
      return "portable";
    case GemmIsa::kAvx2:
      return "avx2";
    case GemmIsa::kAvx512:
      return "avx512";
  }
  return "?";
}

void validate(const GemmProblem& p, std::span<const float> c) {
  const auto need = [](std::string_view what, std::size_t have, std::size_t want) {
    if (have != want) {
      throw std::invalid_argument(std::string(what) + " has " + std::to_string(have) +
                                  " elements, expected " + std::to_string(want));
    }
  };
  need("A", p.a.size(), p.m * p.k);
  need("B", p.b.size(), p.k * p.n);
  need("C", c.size(), p.m * p.n);
  if (!p.c_init.empty()) need("C_init", p.c_init.size(), p.m * p.n);
  const bool scaled = !p.scale_a.empty() || !p.scale_b.empty();
  if (scaled) {
    if (p.block <= 0) throw std::invalid_argument("block size must be positive");
    const auto bs = static_cast<std::size_t>(p.block);
    if (p.k % bs != 0) {
      throw std::invalid_argument("K (" + std::to_string(p.k) +
                                  ") is not a multiple of the block (" + std::to_string(p.block) +
                                  ")");
    }
    if (!p.scale_a.empty()) need("scale_a", p.scale_a.size(), p.m * (p.k / bs));
    if (!p.scale_b.empty()) need("scale_b", p.scale_b.size(), (p.k / bs) * p.n);
  }
}

void gemm_exact(const GemmProblem& p, std::span<float> c) {
  validate(p, c);
  const std::size_t kb = p.block > 0 ? p.k / static_cast<std::size_t>(p.block) : 0;
  for (std::size_t i = 0; i < p.m; ++i) {
    for (std::size_t j = 0; j < p.n; ++j) {
      std::uint32_t acc = p.c_init.empty() ? 0u : f32_bits(p.c_init[i * p.n + j]);
      for (std::size_t k = 0; k < p.k; ++k) {
        const std::size_t blk = p.block > 0 ? k / static_cast<std::size_t>(p.block) : 0;
        const std::uint8_t sa = p.scale_a.empty() ? kUnitScale : p.scale_a[i * kb + blk];
        const std::uint8_t sb = p.scale_b.empty() ? kUnitScale : p.scale_b[blk * p.n + j];
        acc = fused_step_bits(acc, p.fmt_a, p.a[i * p.k + k], p.fmt_b, p.b[k * p.n + j], sa, sb);
      }
      c[i * p.n + j] = f32_from_bits(acc);
    }
  }
}

}  // namespace mxemu::num
