// The accelerator's MMIO window in the control core's map (tools/regmap): descriptor staging and
// PUSH per queue, semaphores, FENCE and status registers. It lives in SystemC time
// (needs_sync): a PUSH to a full queue and a FENCE stall the core until the engines move on.
#pragma once

#include <string>
#include <vector>

#include "model/chip/engine.h"
#include "model/core/bus.h"

namespace mxemu::chip {

class AccelMmio : public core::Device {
 public:
  // queues: indexed by queue number (nullptr: the chip has no such engine; its registers fault);
  // bus: where PUSH_ADDR fetches descriptors from (core RAM).
  AccelMmio(ChipState& state, std::vector<Engine*> queues, core::Bus& bus);

  core::AccessResult read(std::uint32_t offset, unsigned size, std::uint32_t& value,
                          std::uint64_t cycle) override;
  core::AccessResult write(std::uint32_t offset, unsigned size, std::uint32_t value,
                           std::uint64_t cycle) override;
  bool needs_sync() const override { return true; }
  // The debugger's access (GDB stub; docs/CORE.md "Debug windows"). Every register reads without
  // side effects except FENCE, whose read waits for the engines to drain: its debug read answers
  // at once with what FAULT holds (0 or the fault code) and waits for nothing. Writes are the
  // core's, except that a PUSH / PUSH_ADDR to a full queue is refused instead of waiting.
  core::AccessResult debug_read(std::uint32_t offset, std::uint32_t& value,
                                std::uint64_t cycle) override;
  core::AccessResult debug_write(std::uint32_t offset, std::uint32_t value,
                                 std::uint64_t cycle) override;

  // What the core is blocked on right now ("" when it is not): for deadlock reports.
  const std::string& core_waiting_on() const { return waiting_on_; }
  std::uint64_t fence_stall_cycles() const { return fence_stall_; }
  std::uint64_t push_stall_cycles() const { return push_stall_; }
  bool all_idle() const;

 private:
  void push(std::uint32_t q, const Desc& d);

  ChipState& state_;
  std::vector<Engine*> queues_;
  core::Bus& bus_;
  std::vector<Desc> staging_;
  std::string waiting_on_;
  std::uint64_t fence_stall_ = 0;
  std::uint64_t push_stall_ = 0;
};

}  // namespace mxemu::chip
