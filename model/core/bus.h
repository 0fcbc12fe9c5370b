// The core's bus: a router from physical addresses to devices. Plain C++ (no SystemC) so the chip
// model can attach its own MMIO devices with map(base, size, device, latency).
#pragma once

#include <cstdint>
#include <span>
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
  // The debugger's access to the naturally aligned 32-bit word at `offset` (the GDB stub, while
  // the core is stopped). A debug read must have no side effect on simulated state or time: it
  // never waits, pops, counts or clears anything. The defaults are read()/write() with size 4,
  // right for devices whose reads have no side effects; a device with a side-effecting or
  // blocking register overrides them (model/chip's AccelMmio: FENCE, a PUSH to a full queue).
  virtual AccessResult debug_read(std::uint32_t offset, std::uint32_t& value, std::uint64_t cycle) {
    return read(offset, 4, value, cycle);
  }
  virtual AccessResult debug_write(std::uint32_t offset, std::uint32_t value, std::uint64_t cycle) {
    return write(offset, 4, value, cycle);
  }
  // True for memory behind a device interface (no registers; e.g. sparse HBM): the debugger may
  // write single bytes of it (it reads the word with debug_read, patches it and writes it back).
  // Registers (false) are written as whole aligned words only.
  virtual bool debug_is_memory() const { return false; }
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

  // Maps a debug window: a region only the debugger sees (debug_read/debug_write), invisible to
  // the core's fetches, loads and stores and to find(). For memories the core cannot address
  // (the chip's VMEM, accumulators, HBM). It must not overlap any region, overlay or window.
  void map_debug(std::uint32_t base, std::uint32_t size, Device& device, std::string name);
  const std::vector<Region>& debug_windows() const { return debug_; }
  // The region the debugger sees at `addr`: find(), then the debug windows.
  const Region* find_debug(std::uint32_t addr) const;

  // Debugger access (the GDB stub) to the core's map and the debug windows, without side
  // effects on reads: host memory of RAM-like regions directly, devices through
  // Device::debug_read/debug_write a whole aligned word at a time (a byte read reads its word).
  // debug_read returns how many bytes from `addr` on it read: it stops at the first byte that is
  // unmapped or that its device refuses. debug_write first checks that every byte is mapped and
  // that the bytes on devices form whole aligned words (device registers have no byte lanes);
  // if not it writes nothing and returns false. A device that refuses a word also ends it with
  // false, the words before it written.
  std::uint64_t debug_read(std::uint32_t addr, std::span<std::uint8_t> out, std::uint64_t cycle);
  bool debug_write(std::uint32_t addr, std::span<const std::uint8_t> in, std::uint64_t cycle);

 private:
  std::vector<Region> regions_;
  std::vector<Region> overlays_;
  std::vector<Region> debug_;
};

}  // namespace mxemu::core
