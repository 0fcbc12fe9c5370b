// A second implementation of the systolic array run in lock step with the model (RTL in the loop,
// docs/RTL.md "RTL in the chip"): the MXU engine hands it every fold it runs -- the fold's
// operands, the schedule the model gave it and the model's outputs -- and the checker computes the
// fold its own way (e.g. the Verilated mxu_tile, driven cycle by cycle from the same schedule) and
// compares every output bit for bit (and, where it has cycles, cycle for cycle).
//
// A checker may lag behind the model: it may hold a fold back until it knows that no later fold
// can drive the array's ports in the cycles it still has to simulate, but it must have checked
// every fold when drain() returns. The first disagreement throws mxemu::Error (kSimFault) whose
// message names the site, fold, row, column, cycle, operands, scales, expected and got.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "model/mxu/systolic.h"

namespace mxemu::mxu {

class FoldCheck {
 public:
  virtual ~FoldCheck() = default;
  // The model's fold `fold` with its schedule (absolute cycles) and outputs (m x cols, row-major).
  // `now`: the current cycle; no later fold can start loading its weights before it.
  virtual void fold(const FoldSpec& fold, const FoldTiming& timing, std::span<const float> out,
                    std::uint64_t now) = 0;
  // No more folds: finish and check everything outstanding.
  virtual void drain() = 0;
  // What was checked so far: outputs compared, fused steps (MACs) computed by the checker, and
  // clock cycles it evaluated (0 for a checker without a clock).
  virtual std::uint64_t outputs_checked() const = 0;
  virtual std::uint64_t macs_checked() const = 0;
  virtual std::uint64_t cycles_evaluated() const = 0;
  // What it is ("Verilated mxu_tile 16x16, NumPipeRegs 0").
  virtual std::string description() const = 0;
};

}  // namespace mxemu::mxu
