// The platform devices of the control core's memory map (firmware/include/mxemu/platform.h).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "model/core/bus.h"

namespace mxemu::core {

class Hart;

// Byte-addressable RAM (core RAM, launch block).
class Ram : public Device {
 public:
  explicit Ram(std::uint32_t size_bytes) : mem_(size_bytes, 0) {}
  AccessResult read(std::uint32_t offset, unsigned size, std::uint32_t& value,
                    std::uint64_t cycle) override;
  AccessResult write(std::uint32_t offset, unsigned size, std::uint32_t value,
                     std::uint64_t cycle) override;
  std::uint8_t* host_memory() override { return mem_.data(); }
  std::uint32_t size() const { return static_cast<std::uint32_t>(mem_.size()); }

 private:
  std::vector<std::uint8_t> mem_;
};

// MMIO console: bytes written to TX go to the sink (and are kept for tests).
class Console : public Device {
 public:
  using Sink = std::function<void(char)>;
  void set_sink(Sink sink) { sink_ = std::move(sink); }
  AccessResult read(std::uint32_t offset, unsigned size, std::uint32_t& value,
                    std::uint64_t cycle) override;
  AccessResult write(std::uint32_t offset, unsigned size, std::uint32_t value,
                     std::uint64_t cycle) override;
  const std::string& text() const { return text_; }

 private:
  Sink sink_;
  std::string text_;
};

// Read-only system registers: chip id, clocks, RAM geometry, hart id.
class SysRegs : public Device {
 public:
  struct Values {
    std::uint32_t chip_id, core_hz, ram_base, ram_size, timer_hz, hart_id;
  };
  explicit SysRegs(Values v) : v_(v) {}
  AccessResult read(std::uint32_t offset, unsigned size, std::uint32_t& value,
                    std::uint64_t cycle) override;
  AccessResult write(std::uint32_t, unsigned, std::uint32_t, std::uint64_t) override {
    return {false, 0};
  }

 private:
  Values v_;
};

// CLINT-style timer: msip, mtimecmp, mtime. The counters live in the hart (hot path).
class Timer : public Device {
 public:
  explicit Timer(Hart& hart) : hart_(hart) {}
  AccessResult read(std::uint32_t offset, unsigned size, std::uint32_t& value,
                    std::uint64_t cycle) override;
  AccessResult write(std::uint32_t offset, unsigned size, std::uint32_t value,
                     std::uint64_t cycle) override;

 private:
  Hart& hart_;
};

// Spike HTIF words (tohost, fromhost) overlaid on RAM. A non-zero write to the low word of tohost
// ends the run: odd value v exits with code v >> 1 (1 = pass); even values (spike's syscall
// proxy) are refused as a fault.
class Htif : public Device {
 public:
  Htif(Hart& hart, std::uint8_t* storage) : hart_(hart), storage_(storage) {}
  AccessResult read(std::uint32_t offset, unsigned size, std::uint32_t& value,
                    std::uint64_t cycle) override;
  AccessResult write(std::uint32_t offset, unsigned size, std::uint32_t value,
                     std::uint64_t cycle) override;
  bool is_tohost = true;
  std::string error;  // set when firmware used an unsupported HTIF request

 private:
  Hart& hart_;
  std::uint8_t* storage_;  // the 8 bytes of RAM under the word
};

}  // namespace mxemu::core
