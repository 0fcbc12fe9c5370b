// The core's bus: a router from physical addresses to devices. Plain C++ (no SystemC) so the chip
// model can attach its own MMIO devices with map(base, size, device, latency).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mxemu::core {

// What a device answers to one access.
struct AccessResult {
  bool ok = true;                  // false: access fault (the core traps)
  std::uint32_t stall_cycles = 0;  // extra cycles the access holds the core (e.g. a fence register)
};

// A memory-mapped target. Offsets are relative to the base it was mapped at; size is 1, 2 or 4
// bytes and naturally aligned (the core traps misaligned accesses before they reach the bus).
// `cycle` is the core cycle at which the access happens (exact in every simulation mode).
class Device {
 public:
  virtual ~Device() = default;
  virtual AccessResult read(std::uint32_t offset, unsigned size, std::uint32_t& value,
                            std::uint64_t cycle) = 0;
  virtual AccessResult write(std::uint32_t offset, unsigned size, std::uint32_t value,
                             std::uint64_t cycle) = 0;
  // Host memory behind the device when it is plain RAM (loader, debugger, fast path), else null.
  virtual std::uint8_t* host_memory() { return nullptr; }
  // True when the device lives in SystemC time (e.g. an engine queue): the SystemC shell then
  // synchronises SystemC time with the core's cycle before each access, and the device may call
  // sc_core::wait() inside read/write; the time it waits counts as core stall cycles.
  virtual bool needs_sync() const { return false; }
};

struct Region {
  std::uint32_t base = 0;
  std::uint32_t size = 0;
  Device* device = nullptr;
  std::uint32_t latency_cycles = 0;
  std::string name;
  bool contains(std::uint32_t addr) const { return addr - base < size; }
};

class Bus {
 public:
  // Maps `device` at [base, base + size). Overlapping an earlier region is an error unless
  // `overlay` is set: overlays take precedence over the region beneath them (HTIF words in RAM).
  void map(std::uint32_t base, std::uint32_t size, Device& device, std::uint32_t latency_cycles,
           std::string name, bool overlay = false);

  const Region* find(std::uint32_t addr) const {
    for (const Region& r : overlays_)
      if (r.contains(addr)) return &r;
    for (const Region& r : regions_)
      if (r.contains(addr)) return &r;
    return nullptr;
  }
  const std::vector<Region>& regions() const { return regions_; }
  const std::vector<Region>& overlays() const { return overlays_; }

  // Debugger / loader access: reads or writes host memory of RAM-like regions and goes through
  // device read/write (at `cycle`) for the others. Returns false when an address is unmapped.
  bool debug_read(std::uint32_t addr, std::uint8_t& byte, std::uint64_t cycle);
  bool debug_write(std::uint32_t addr, std::uint8_t byte, std::uint64_t cycle);

 private:
  std::vector<Region> regions_;
  std::vector<Region> overlays_;
};

}  // namespace mxemu::core
