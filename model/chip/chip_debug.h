// The chip as the GDB stub sees it beyond the core's own map (docs/CORE.md "Debug windows"):
// debug windows for the memories the core cannot address (VMEM, the accumulators, HBM through a
// movable 256 MiB aperture), mapped on the core's bus with Bus::map_debug so only the debugger
// sees them, and the `monitor` commands queues, sems and hbm-window. Nothing here changes
// simulated state or time when it reads; writes are plain stores into the chip's memories.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/core/bus.h"
#include "model/core/debug_monitor.h"

namespace mxemu::chip {

class Chip;

// Debug window bases: an on-chip descriptor-space address a (VMEM at 0, ACC i at
// 0x1000_0000 + i * 0x100_0000) is seen at kDebugOnChipBase + a.
inline constexpr std::uint32_t kDebugOnChipBase = 0x40000000u;
inline constexpr std::uint32_t kDebugVmemBase = 0x40000000u;  // VMEM, [vmem] bytes (<= 256 MiB)
inline constexpr std::uint32_t kDebugAccBase = 0x50000000u;   // ACC of MXU i at + i * stride
inline constexpr std::uint32_t kDebugAccStride = 0x01000000u;
inline constexpr std::uint32_t kDebugHbmBase = 0x60000000u;  // HBM [base, base + 256 MiB)
inline constexpr std::uint32_t kDebugHbmBytes = 0x10000000u;

class ChipDebug : public core::DebugMonitor {
 public:
  // Maps the debug windows on the chip core's bus (once per chip; they stay for the chip's life,
  // so this object must outlive the run).
  explicit ChipDebug(Chip& chip);
  ~ChipDebug() override;
  ChipDebug(const ChipDebug&) = delete;
  ChipDebug& operator=(const ChipDebug&) = delete;

  std::optional<std::string> command(std::string_view line) override;
  std::string help() const override;

  // The HBM address the aperture at kDebugHbmBase starts at (`monitor hbm-window ADDR`).
  std::uint64_t hbm_window_base() const;

 private:
  class HostWindow;
  class HbmWindow;
  std::string queues() const;
  std::string sems() const;
  std::string hbm_window(std::string_view args);

  Chip& chip_;
  std::vector<std::unique_ptr<HostWindow>> on_chip_;
  std::unique_ptr<HbmWindow> hbm_;
};

}  // namespace mxemu::chip
