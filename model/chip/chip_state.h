// What the chip's engines share: the configuration, on-chip memories, semaphores, the HBM
// backend, the first fault, statistics and the command timeline. Owned by the Chip; no globals.
#pragma once

#include <systemc>

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "model/chip/chip_config.h"
#include "model/chip/engine_error.h"
#include "model/chip/memory.h"
#include "model/chip/regs.h"
#include "model/common/clock.h"

namespace mxemu {
class ThreadPool;
}

namespace mxemu::chip {

class RtlPlugins;
class ChipWaves;

using Desc = std::array<std::uint32_t, regs::kDescWords>;

// The chip's view of HBM: functional storage and a timing engine, in chip cycles.
class HbmBackend {
 public:
  virtual ~HbmBackend() = default;
  virtual std::uint64_t capacity_bytes() const = 0;
  virtual void read(std::uint64_t addr, std::span<std::uint8_t> out) = 0;
  virtual void write(std::uint64_t addr, std::span<const std::uint8_t> in) = 0;
  // Times `count` requests of `bytes` each at addresses addr0 + i * bytes... given by `addrs`,
  // issued in order at the DMA's pace, the first no earlier than `start_cycle`; the controller's
  // queues push back through each request's accept cycle.
  // Returns the chip cycle at which the last one completes.
  virtual std::uint64_t time_requests(std::span<const std::uint64_t> addrs, std::uint32_t bytes,
                                      bool is_write, std::uint64_t start_cycle) = 0;
  virtual std::uint64_t bytes_read() const = 0;
  virtual std::uint64_t bytes_written() const = 0;
};

struct EngineFault {
  std::string queue;
  std::uint64_t seq = 0;  // descriptor number in its queue, from 0
  std::uint32_t opcode = 0;
  std::uint64_t cycle = 0;
  regs::Fault code = regs::Fault::kNone;
  std::string message;
};

struct TimelineEvent {
  std::uint32_t queue = 0;
  std::string name;  // the opcode's name (MXU_MATMUL, NOP)
  std::uint64_t start_cycle = 0;
  std::uint64_t end_cycle = 0;
  std::uint64_t seq = 0;
  std::string label;  // the slice's name: operation and size (Engine::slice_name)
};

// Where a chip sits in its pod (DESIGN §6): firmware reads it from the control registers and the
// launch block. Chip i of a pod of shape [X, Y, Z] is at i = x + X * (y + Y * z).
struct ChipIdentity {
  std::uint32_t index = 0;
  std::uint32_t num_chips = 1;
  std::array<std::uint32_t, 3> coord{0, 0, 0};
  std::array<std::uint32_t, 3> pod_shape{1, 1, 1};
};

class ChipState {
 public:
  ChipState(const ChipConfig& cfg, const ChipIdentity& id, HbmBackend& hbm);
  ChipState(const ChipState&) = delete;
  ChipState& operator=(const ChipState&) = delete;

  const ChipConfig& cfg;
  ChipIdentity id;  // changes only when a spare takes a failed chip's place
  HbmBackend& hbm;
  Scratchpad vmem;
  std::vector<std::vector<std::uint8_t>> acc;  // one FP32 accumulator array per MXU (bytes)
  std::array<std::uint32_t, regs::kNumSemaphores> sems{};
  std::optional<EngineFault> fault;
  std::vector<TimelineEvent> timeline;
  bool record_timeline = false;
  // Set when the chip's run has ended (its owner stopped it): engines dispatch nothing more.
  bool halted = false;
  // Called (once per fault) when an engine faults; the chip reports its end to the simulation.
  std::function<void()> on_fault;
  void raise_fault() {
    notify_changed();
    if (on_fault) on_fault();
  }
  // Host threads for the MXUs' GEMMs (the simulation's pool; nullptr: the caller's thread only).
  ThreadPool* pool = nullptr;
  // The Verilated RTL the config's [rtl] table may put in the loop (nullptr: none in this build).
  const RtlPlugins* rtl = nullptr;
  // The waveform probe ([waves] file; nullptr: no waveforms, and no cost).
  ChipWaves* waves = nullptr;
  // The interconnect's epoch and state as firmware reads them (ICI_EPOCH, ICI_STATE).
  std::uint32_t ici_epoch = 0;
  // 0 healthy, 1 degraded (being rewired around a failed chip), 2 degraded for good (a chip failed
  // and no spare is left).
  std::uint32_t ici_state = 0;
  // The epoch firmware acknowledged (an ICI_EPOCH write): while it differs from ici_epoch the ICI
  // engine completes every descriptor without doing it (docs/ICI.md, "Faults"). A spare that has
  // just been activated takes the epoch it starts in as acknowledged (ici_ack_next_epoch).
  std::uint32_t ici_epoch_ack = 0;
  bool ici_ack_next_epoch = false;
  // Counts semaphore writes and signals (deadlock watchdog progress).
  std::uint64_t sem_events = 0;
  // Semaphores waited on by descriptors of two engines at once (docs/CHIP.md "Semaphores"): the
  // first engine to look after a signal takes it, so which one proceeds is a race between them.
  // sem_waiters: per semaphore, the queues (bit = queue index) whose head waits on it now;
  // sem_shared: the first time each semaphore had two, for the statistics and a warning.
  struct SemShared {
    std::uint32_t sem = 0;
    std::uint32_t queues = 0;  // bit per queue index
    std::uint64_t cycle = 0;
  };
  std::array<std::uint32_t, regs::kNumSemaphores> sem_waiters{};
  std::vector<SemShared> sem_shared;

  // Notified (next delta) whenever a semaphore, a queue or an engine's state changes.
  sc_core::sc_event changed;
  void notify_changed() { changed.notify(sc_core::SC_ZERO_TIME); }

  sc_core::sc_time period() const { return period_; }
  Clock clock() const { return clock_; }
  std::uint64_t now_cycle() const;
  sc_core::sc_time cycles(std::uint64_t n) const { return period_ * static_cast<double>(n); }

  // Resolves [addr, addr + len) in a descriptor address space; throws EngineError naming `what`
  // when it is outside every space or crosses a space's end.
  SpaceAddr resolve(std::uint64_t addr, std::uint64_t len, const char* what) const;
  // Host pointer to an on-chip range (VMEM or ACC) resolved by resolve().
  std::uint8_t* on_chip(const SpaceAddr& a);

  // Reads / writes `len` bytes at a space address (any space, HBM included), functionally.
  void read_bytes(const SpaceAddr& a, std::span<std::uint8_t> out);
  void write_bytes(const SpaceAddr& a, std::span<const std::uint8_t> in);

 private:
  Clock clock_;
  sc_core::sc_time period_;
};

}  // namespace mxemu::chip
