#include "rtl/loop/datapath_check.h"

#include <verilated.h>

#include <fmt/format.h>

#include <array>
#include <vector>

#include "Vfp8_fused_lanes.h"
#include "model/common/error.h"
#include "model/numerics/fp8.h"
#include "model/numerics/fused.h"
#include "testbench/cosim/tile_harness.h"

namespace mxemu::rtl {

namespace {
constexpr std::size_t kLanes = 32;  // NumLanes of the Verilated fp8_fused_lanes

std::uint8_t scale_at(std::span<const std::uint8_t> s, std::size_t idx) {
  return s.empty() ? num::kUnitScaleCode : s[idx];
}
}  // namespace

DatapathCheck::DatapathCheck(const mxu::SystolicConfig& cfg, std::string where, std::string origin)
    : cfg_(cfg),
      where_(std::move(where)),
      origin_(std::move(origin)),
      ctx_(std::make_unique<VerilatedContext>()),
      top_(std::make_unique<Vfp8_fused_lanes>(ctx_.get(), "lanes")) {}

DatapathCheck::~DatapathCheck() {
  top_->final();
}

std::string DatapathCheck::description() const {
  return fmt::format("Verilated fp8_fused under every MAC of the {}x{} array{}", cfg_.rows,
                     cfg_.cols, origin_);
}

void DatapathCheck::fold(const mxu::FoldSpec& f, const mxu::FoldTiming& /*t*/,
                         std::span<const float> out, std::uint64_t /*now*/) {
  const auto rows = static_cast<std::size_t>(cfg_.rows);
  const auto cols = static_cast<std::size_t>(cfg_.cols);
  const auto block = static_cast<std::size_t>(f.block);
  const std::size_t kb = rows / block;
  const std::size_t total = f.m * cols;
  Vfp8_fused_lanes& top = *top_;
  top.fmt_a_i = f.fmt_a == num::Fp8Format::kE5M2 ? 0xFFFFFFFFu : 0u;
  top.fmt_b_i = f.fmt_b == num::Fp8Format::kE5M2 ? 0xFFFFFFFFu : 0u;
  std::vector<std::uint32_t> acc(kLanes);
  std::vector<std::uint8_t> a(kLanes), b(kLanes), sa(kLanes), sb(kLanes);
  std::array<std::size_t, kLanes> row{}, col{};
  for (std::size_t base = 0; base < total; base += kLanes) {
    const std::size_t lanes = std::min(kLanes, total - base);
    for (std::size_t l = 0; l < kLanes; ++l) {
      // Unused lanes repeat the last output (their results are not looked at).
      const std::size_t o = base + std::min(l, lanes - 1);
      row[l] = o / cols;
      col[l] = o % cols;
      acc[l] = f.psum_in.empty() ? 0u : num::f32_bits(f.psum_in[o]);
    }
    for (std::size_t k = 0; k < rows; ++k) {
      for (std::size_t l = 0; l < kLanes; ++l) {
        a[l] = f.acts[row[l] * rows + k];
        b[l] = f.weights[k * cols + col[l]];
        sa[l] = scale_at(f.act_scales, row[l] * kb + k / block);
        sb[l] = scale_at(f.weight_scales, (k / block) * cols + col[l]);
      }
      cosim::put_words(top.acc_i, acc);
      cosim::put_bytes(top.a_i, a);
      cosim::put_bytes(top.b_i, b);
      cosim::put_bytes(top.sa_i, sa);
      cosim::put_bytes(top.sb_i, sb);
      top.eval();
      for (std::size_t l = 0; l < kLanes; ++l) acc[l] = top.res_o[l];
    }
    for (std::size_t l = 0; l < lanes; ++l) {
      const std::size_t o = base + l;
      const std::uint32_t want = num::f32_bits(out[o]);
      if (acc[l] == want) continue;
      // Locate the first step at which the RTL leaves the C++ fused step, for the report.
      std::uint32_t x = f.psum_in.empty() ? 0u : num::f32_bits(f.psum_in[o]);
      std::string step = "every step agrees with the C++ fused step (the model's GEMM differs)";
      for (std::size_t k = 0; k < rows; ++k) {
        const std::uint8_t ak = f.acts[row[l] * rows + k], bk = f.weights[k * cols + col[l]];
        const std::uint8_t sak = scale_at(f.act_scales, row[l] * kb + k / block);
        const std::uint8_t sbk = scale_at(f.weight_scales, (k / block) * cols + col[l]);
        std::vector<std::uint32_t> acc1(kLanes, x);
        std::vector<std::uint8_t> a1(kLanes, ak), b1(kLanes, bk), sa1(kLanes, sak),
            sb1(kLanes, sbk);
        cosim::put_words(top.acc_i, acc1);
        cosim::put_bytes(top.a_i, a1);
        cosim::put_bytes(top.b_i, b1);
        cosim::put_bytes(top.sa_i, sa1);
        cosim::put_bytes(top.sb_i, sb1);
        top.eval();
        const std::uint32_t rtl = top.res_o[0];
        const std::uint32_t ref = num::fused_step_bits(x, f.fmt_a, ak, f.fmt_b, bk, sak, sbk);
        if (rtl != ref) {
          step = fmt::format(
              "first differing step k={}: acc=0x{:08x} a=0x{:02x} b=0x{:02x} sa=0x{:02x} "
              "sb=0x{:02x}: RTL 0x{:08x}, C++ fused step 0x{:08x}",
              k, x, ak, bk, sak, sbk, rtl, ref);
          break;
        }
        x = rtl;
      }
      throw Error(
          ExitCode::kSimFault,
          fmt::format("RTL mismatch in {} ({}): fold {} row {} col {}: expected "
                      "0x{:08x}, got 0x{:08x}; {}; {}",
                      where_, description(), folds_, row[l], col[l], want, acc[l], step,
                      cosim::describe_output(cfg_, f, folds_, row[l], static_cast<int>(col[l]))));
    }
  }
  ++folds_;
  outputs_ += total;
  macs_ += total * rows;
}

}  // namespace mxemu::rtl
