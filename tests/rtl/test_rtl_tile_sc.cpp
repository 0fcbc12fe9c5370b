// The SystemC-wrapped Verilated 4x4 tile (Vmxu_tile4_sc) bound into an sc_module with an sc_clock,
// driven by FoldDriver from the model/mxu schedule: every output bit- and cycle-exact against the
// fast path. This is how a chip-level SystemC model plugs the RTL in.
#include <fmt/core.h>
#include <catch2/catch.hpp>

#include <random>
#include <systemc>

#include "Vmxu_tile4_sc.h"
#include "model/mxu/systolic.h"
#include "testbench/cosim/random_folds.h"

using namespace mxemu;
using namespace sc_core;

namespace {

constexpr int kN = 4;

SC_MODULE(TileBench) {
  sc_clock clk{"clk", 1, SC_NS};
  sc_signal<bool> rst_n{"rst_n"}, w_valid{"w_valid"}, w_bank{"w_bank"}, w_fmt{"w_fmt"};
  sc_signal<bool> a_valid{"a_valid"}, a_bank{"a_bank"}, a_fmt{"a_fmt"};
  sc_signal<std::uint32_t> w{"w"}, ws{"ws"}, a{"a"}, as{"as"}, out_valid{"out_valid"};
  sc_signal<sc_dt::sc_bv<32 * kN>> psum{"psum"}, out{"out"};
  Vmxu_tile4_sc dut{"dut"};

  mxu::SystolicConfig cfg;
  std::vector<mxu::FoldSpec> folds;
  std::vector<std::string> errors;
  std::uint64_t checked = 0;

  SC_CTOR(TileBench) {
    dut.clk_i(clk);
    dut.rst_ni(rst_n);
    dut.w_valid_i(w_valid);
    dut.w_bank_i(w_bank);
    dut.w_fmt_i(w_fmt);
    dut.w_i(w);
    dut.ws_i(ws);
    dut.a_valid_i(a_valid);
    dut.a_bank_i(a_bank);
    dut.a_fmt_i(a_fmt);
    dut.a_i(a);
    dut.as_i(as);
    dut.psum_i(psum);
    dut.out_valid_o(out_valid);
    dut.out_o(out);
    SC_THREAD(drive);
  }

  static std::uint32_t pack(const std::vector<std::uint8_t>& v) {
    std::uint32_t x = 0;
    for (std::size_t i = 0; i < v.size(); ++i) x |= static_cast<std::uint32_t>(v[i]) << (8 * i);
    return x;
  }

  void drive() {
    mxu::SystolicCore core(cfg);
    mxu::FoldDriver driver(cfg);
    std::vector<std::vector<float>> expect(folds.size());
    std::vector<mxu::FoldTiming> timing(folds.size());
    std::vector<std::pair<std::size_t, std::size_t>> order;
    for (std::size_t f = 0; f < folds.size(); ++f) {
      expect[f].resize(folds[f].m * kN);
      timing[f] = core.run_fold(folds[f], expect[f]);
      driver.add(folds[f], timing[f]);
      for (std::size_t i = 0; i < folds[f].m; ++i) order.emplace_back(f, i);
    }
    rst_n.write(false);
    wait(clk.negedge_event());
    wait(clk.negedge_event());
    rst_n.write(true);
    std::vector<std::size_t> next(kN, 0);
    mxu::CycleInputs in;
    for (std::uint64_t c = 0; c < driver.end_cycle() + 2; ++c) {
      // Mid-cycle: the registered outputs belong to cycle c; then apply cycle c's inputs.
      const auto ov = out_valid.read();
      const auto ob = out.read();
      for (int n = 0; n < kN; ++n) {
        if (((ov >> n) & 1u) == 0) continue;
        const std::uint32_t got = ob.range(32 * n + 31, 32 * n).to_uint();
        if (next[n] >= order.size()) {
          errors.push_back(fmt::format("extra output in column {} at cycle {}", n, c));
          continue;
        }
        const auto [f, i] = order[next[n]++];
        const std::uint32_t want = num::f32_bits(expect[f][i * kN + n]);
        const std::uint64_t want_c = timing[f].out_cycle(i, n);
        ++checked;
        if (got != want || c != want_c) {
          errors.push_back(
              fmt::format("fold {} row {} col {}: expected {:08x} at cycle {}, got "
                          "{:08x} at cycle {}",
                          f, i, n, want, want_c, got, c));
        }
      }
      driver.inputs_at(c, in);
      w_valid.write(in.w_valid);
      w_bank.write(in.w_bank != 0);
      w_fmt.write(in.w_fmt == num::Fp8Format::kE5M2);
      w.write(pack(in.w));
      ws.write(pack(in.ws));
      a_valid.write(in.a_valid);
      a_bank.write(in.a_bank != 0);
      a_fmt.write(in.a_fmt == num::Fp8Format::kE5M2);
      a.write(pack(in.a));
      as.write(pack(in.as));
      sc_dt::sc_bv<32 * kN> p;
      for (int n = 0; n < kN; ++n) p.range(32 * n + 31, 32 * n) = in.psum[n];
      psum.write(p);
      wait(clk.negedge_event());
    }
    for (int n = 0; n < kN; ++n) {
      if (next[n] != order.size()) errors.push_back(fmt::format("column {} short", n));
    }
    sc_stop();
  }
};

}  // namespace

TEST_CASE("SystemC-wrapped 4x4 tile equals model/mxu bit- and cycle-exactly", "[rtl][systemc]") {
  // Declared first so it is destroyed last: the next test case gets a fresh simulation context.
  struct FreshContext {
    ~FreshContext() {
      // NOLINTNEXTLINE(bugprone-unhandled-exception-at-new): out of memory ends the test run
      sc_curr_simcontext = new sc_simcontext();
    }
  } fresh;
  std::mt19937_64 rng(99);
  TileBench bench("bench");
  bench.cfg.rows = bench.cfg.cols = kN;
  std::vector<cosim::FoldData> data;
  for (std::size_t m : {1, 5, 12, 2, 3, 9, 1, 20})
    data.push_back(cosim::random_fold(rng, bench.cfg, m));
  std::size_t outputs = 0;
  for (auto& d : data) {
    bench.folds.push_back(d.spec());
    outputs += d.m * kN;
  }
  sc_start();
  for (const auto& e : bench.errors) FAIL_CHECK(e);
  CHECK(bench.checked == outputs);
  CHECK(bench.errors.empty());
}
