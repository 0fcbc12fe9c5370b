#include "model/chip/accel_mmio.h"

#include <fmt/format.h>

#include <cstring>

namespace mxemu::chip {

namespace {
constexpr std::uint32_t kQueueWindow = regs::kQueueBase - regs::kBase;
constexpr std::uint32_t kSemWindow = regs::kSemBase - regs::kBase;
constexpr std::uint32_t kCtrlWindow = regs::kCtrlBase - regs::kBase;
}  // namespace

// Core cycles to fetch a descriptor from core RAM for PUSH_ADDR (64 bytes at 16 bytes a cycle).
constexpr std::uint32_t kDescFetchCycles = regs::kDescWords * 4 / 16;

AccelMmio::AccelMmio(ChipState& state, std::vector<Engine*> queues, core::Bus& bus)
    : state_(state), queues_(std::move(queues)), bus_(bus), staging_(queues_.size(), Desc{}) {}

void AccelMmio::push(std::uint32_t q, const Desc& d) {
  Engine& e = *queues_[q];
  if (e.full()) {
    const std::uint64_t t0 = state_.now_cycle();
    waiting_on_ = fmt::format("PUSH to the full {} queue (at cycle {})", e.queue_name(), t0);
    while (e.full() && !state_.fault && !state_.halted) sc_core::wait(state_.changed);
    waiting_on_.clear();
    push_stall_ += state_.now_cycle() - t0;
  }
  if (!state_.fault && !state_.halted) e.push(d);
}

bool AccelMmio::all_idle() const {
  for (const Engine* e : queues_)
    if (e != nullptr && !e->idle()) return false;
  return true;
}

core::AccessResult AccelMmio::read(std::uint32_t offset, unsigned size, std::uint32_t& value,
                                   std::uint64_t /*cycle*/) {
  if (size != 4) return {false, 0};
  value = 0;
  if (offset >= kQueueWindow && offset < kQueueWindow + queues_.size() * regs::kQueueStride) {
    const std::uint32_t q = (offset - kQueueWindow) / regs::kQueueStride;
    const std::uint32_t reg = (offset - kQueueWindow) % regs::kQueueStride;
    if (queues_[q] == nullptr) return {false, 0};
    if (reg < regs::kDescWords * 4) {
      value = staging_[q][reg / 4];
    } else if (reg == regs::qreg::kCount) {
      value = static_cast<std::uint32_t>(queues_[q]->queued_or_running());
    } else if (reg == regs::qreg::kDone) {
      value = static_cast<std::uint32_t>(queues_[q]->done());
    } else {
      return {false, 0};
    }
    return {};
  }
  if (offset >= kSemWindow && offset < kSemWindow + regs::kNumSemaphores * 4) {
    value = state_.sems[(offset - kSemWindow) / 4];
    return {};
  }
  if (offset >= kCtrlWindow && offset < kCtrlWindow + 0x100) {
    const std::uint32_t reg = offset - kCtrlWindow;
    const ChipConfig& c = state_.cfg;
    switch (reg) {
      case regs::ctrl::kFence: {
        const std::uint64_t t0 = state_.now_cycle();
        waiting_on_ = fmt::format("FENCE (read at cycle {})", t0);
        while (!all_idle() && !state_.fault && !state_.halted) sc_core::wait(state_.changed);
        waiting_on_.clear();
        fence_stall_ += state_.now_cycle() - t0;
        value = state_.fault ? static_cast<std::uint32_t>(state_.fault->code) : 0;
        return {};
      }
      case regs::ctrl::kFault:
        value = state_.fault ? static_cast<std::uint32_t>(state_.fault->code) : 0;
        return {};
      case regs::ctrl::kCycleLo:
        value = static_cast<std::uint32_t>(state_.now_cycle());
        return {};
      case regs::ctrl::kCycleHi:
        value = static_cast<std::uint32_t>(state_.now_cycle() >> 32);
        return {};
      case regs::ctrl::kNumMxu:
        value = c.mxu.count;
        return {};
      case regs::ctrl::kMxuRows:
        value = c.mxu.rows;
        return {};
      case regs::ctrl::kMxuCols:
        value = c.mxu.cols;
        return {};
      case regs::ctrl::kVmemBytes:
        value = static_cast<std::uint32_t>(c.vmem.bytes);
        return {};
      case regs::ctrl::kAccBytes:
        value = static_cast<std::uint32_t>(c.mxu.acc_bytes);
        return {};
      case regs::ctrl::kAbiVersion:
        value = regs::kAbiVersion;
        return {};
      case regs::ctrl::kChipIndex:
        value = state_.id.index;
        return {};
      case regs::ctrl::kNumChips:
        value = state_.id.num_chips;
        return {};
      case regs::ctrl::kChipX:
      case regs::ctrl::kChipY:
      case regs::ctrl::kChipZ:
        value = state_.id.coord[(reg - regs::ctrl::kChipX) / 4];
        return {};
      case regs::ctrl::kPodX:
      case regs::ctrl::kPodY:
      case regs::ctrl::kPodZ:
        value = state_.id.pod_shape[(reg - regs::ctrl::kPodX) / 4];
        return {};
      case regs::ctrl::kMxBlock:
        value = c.mx.block;
        return {};
      case regs::ctrl::kIciEpoch:
        value = state_.ici_epoch;
        return {};
      case regs::ctrl::kIciState:
        value = state_.ici_state;
        return {};
      default:
        return {false, 0};
    }
  }
  return {false, 0};
}

core::AccessResult AccelMmio::debug_read(std::uint32_t offset, std::uint32_t& value,
                                         std::uint64_t cycle) {
  if (offset == kCtrlWindow + regs::ctrl::kFence) offset = kCtrlWindow + regs::ctrl::kFault;
  return read(offset, 4, value, cycle);  // no other register's read waits or changes anything
}

core::AccessResult AccelMmio::debug_write(std::uint32_t offset, std::uint32_t value,
                                          std::uint64_t cycle) {
  if (offset >= kQueueWindow && offset < kQueueWindow + queues_.size() * regs::kQueueStride) {
    const std::uint32_t q = (offset - kQueueWindow) / regs::kQueueStride;
    const std::uint32_t reg = (offset - kQueueWindow) % regs::kQueueStride;
    const bool push = reg == regs::qreg::kPush || reg == regs::qreg::kPushAddr;
    if (push && (queues_[q] == nullptr || queues_[q]->full())) return {false, 0};
  }
  return write(offset, 4, value, cycle);
}

core::AccessResult AccelMmio::write(std::uint32_t offset, unsigned size, std::uint32_t value,
                                    std::uint64_t /*cycle*/) {
  if (size != 4) return {false, 0};
  if (offset >= kQueueWindow && offset < kQueueWindow + queues_.size() * regs::kQueueStride) {
    const std::uint32_t q = (offset - kQueueWindow) / regs::kQueueStride;
    const std::uint32_t reg = (offset - kQueueWindow) % regs::kQueueStride;
    if (queues_[q] == nullptr) return {false, 0};
    if (reg < regs::kDescWords * 4) {
      staging_[q][reg / 4] = value;
      return {};
    }
    if (reg == regs::qreg::kPush) {
      push(q, staging_[q]);
      return {};
    }
    if (reg == regs::qreg::kPushAddr) {
      // The descriptor comes from core RAM; anything else is an access fault of the store.
      const core::Region* r = bus_.find(value);
      const std::uint32_t bytes = regs::kDescWords * 4;
      if (r == nullptr || r->device->host_memory() == nullptr || value % 4 != 0 ||
          value - r->base > r->size - bytes) {
        return {false, 0};
      }
      Desc d;
      std::memcpy(d.data(), r->device->host_memory() + (value - r->base), bytes);
      push(q, d);
      return {true, kDescFetchCycles};
    }
    return {false, 0};
  }
  if (offset == kCtrlWindow + regs::ctrl::kIciEpoch) {
    // Acknowledges the epoch read (docs/ICI.md, "Faults"); a stale value (the pod was rewired
    // again meanwhile) acknowledges nothing.
    if (value == state_.ici_epoch) state_.ici_epoch_ack = value;
    return {};
  }
  if (offset >= kSemWindow && offset < kSemWindow + regs::kNumSemaphores * 4) {
    state_.sems[(offset - kSemWindow) / 4] = value;
    ++state_.sem_events;
    state_.notify_changed();
    return {};
  }
  return {false, 0};
}

}  // namespace mxemu::chip
