#include "model/chip/chip_debug.h"

#include <fmt/format.h>

#include <charconv>
#include <cstring>

#include "model/chip/chip.h"

namespace mxemu::chip {

// An on-chip memory (VMEM, one MXU's accumulators) as plain host memory for the debugger. The
// core never reaches it (a debug window): its own read/write refuse.
class ChipDebug::HostWindow : public core::Device {
 public:
  explicit HostWindow(std::uint8_t* bytes) : bytes_(bytes) {}
  core::AccessResult read(std::uint32_t, unsigned, std::uint32_t&, std::uint64_t) override {
    return {false, 0};
  }
  core::AccessResult write(std::uint32_t, unsigned, std::uint32_t, std::uint64_t) override {
    return {false, 0};
  }
  std::uint8_t* host_memory() override { return bytes_; }

 private:
  std::uint8_t* bytes_;
};

// The HBM aperture: HBM [base, base + kDebugHbmBytes) through the functional storage (sparse;
// reading an unwritten page allocates nothing and touches no timing state or statistics).
class ChipDebug::HbmWindow : public core::Device {
 public:
  explicit HbmWindow(HbmBackend& hbm) : hbm_(hbm) {}
  core::AccessResult read(std::uint32_t, unsigned, std::uint32_t&, std::uint64_t) override {
    return {false, 0};
  }
  core::AccessResult write(std::uint32_t, unsigned, std::uint32_t, std::uint64_t) override {
    return {false, 0};
  }
  core::AccessResult debug_read(std::uint32_t offset, std::uint32_t& value,
                                std::uint64_t /*cycle*/) override {
    if (!inside(offset)) return {false, 0};
    std::uint8_t b[4];
    hbm_.read(base + offset, b);
    std::memcpy(&value, b, 4);  // little-endian host, as the chip
    return {};
  }
  core::AccessResult debug_write(std::uint32_t offset, std::uint32_t value,
                                 std::uint64_t /*cycle*/) override {
    if (!inside(offset)) return {false, 0};
    std::uint8_t b[4];
    std::memcpy(b, &value, 4);
    hbm_.write(base + offset, b);
    return {};
  }
  bool debug_is_memory() const override { return true; }
  bool inside(std::uint32_t offset) const {
    const std::uint64_t cap = hbm_.capacity_bytes();
    return base <= cap && offset <= cap - base && cap - base - offset >= 4;
  }
  std::uint64_t base = 0;

 private:
  HbmBackend& hbm_;
};

ChipDebug::ChipDebug(Chip& chip) : chip_(chip) {
  ChipState& s = chip.state();
  core::Bus& bus = chip.machine().bus();
  on_chip_.push_back(std::make_unique<HostWindow>(s.vmem.data()));
  bus.map_debug(kDebugVmemBase, static_cast<std::uint32_t>(s.vmem.size()), *on_chip_.back(),
                "VMEM");
  for (std::uint32_t i = 0; i < s.acc.size(); ++i) {
    on_chip_.push_back(std::make_unique<HostWindow>(s.acc[i].data()));
    bus.map_debug(kDebugAccBase + i * kDebugAccStride, static_cast<std::uint32_t>(s.acc[i].size()),
                  *on_chip_.back(), fmt::format("ACC{} (accumulators of MXU {})", i, i));
  }
  hbm_ = std::make_unique<HbmWindow>(s.hbm);
  bus.map_debug(kDebugHbmBase, kDebugHbmBytes, *hbm_, "HBM window (monitor hbm-window moves it)");
}

ChipDebug::~ChipDebug() = default;

std::uint64_t ChipDebug::hbm_window_base() const {
  return hbm_->base;
}

std::string ChipDebug::help() const {
  return "  queues            each engine's queue: depth, descriptors in flight and queued\n"
         "  sems              the values of the counting semaphores\n"
         "  hbm-window [ADDR] show, or move to HBM address ADDR (4-byte aligned), the HBM\n"
         "                    window at 0x60000000-0x6fffffff\n";
}

std::optional<std::string> ChipDebug::command(std::string_view line) {
  const std::string_view word = line.substr(0, line.find_first_of(" \t"));
  std::string_view args = line.substr(word.size());
  while (!args.empty() && (args.front() == ' ' || args.front() == '\t')) args.remove_prefix(1);
  while (!args.empty() && (args.back() == ' ' || args.back() == '\t')) args.remove_suffix(1);
  const auto no_args = [&](std::string (ChipDebug::*f)() const) {
    return args.empty() ? (this->*f)() : fmt::format("{} takes no arguments\n", word);
  };
  if (word == "queues") return no_args(&ChipDebug::queues);
  if (word == "sems") return no_args(&ChipDebug::sems);
  if (word == "hbm-window") return hbm_window(args);
  return std::nullopt;
}

std::string ChipDebug::queues() const {
  const ChipState& s = chip_.state();
  std::string out = fmt::format("chip {} at cycle {}; queue depth {}\n", s.id.index,
                                chip_.machine().hart().cycle(), s.cfg.queue.depth);
  for (const auto& e : chip_.engines()) {
    const std::vector<Engine::DescriptorView> v = e->debug_view();
    std::size_t queued = 0;
    for (const auto& d : v) queued += d.state == "queued" ? 1 : 0;
    out += fmt::format("{} (queue {}): {} in flight, {} queued of {}, {} done\n", e->queue_name(),
                       e->queue_index(), v.size() - queued, queued, s.cfg.queue.depth, e->done());
    for (const auto& d : v) {
      std::string sync;
      if (regs::hdr::kWaitEn.get(d.desc.data()) != 0) {
        sync += fmt::format(" wait sem {} x{}", regs::hdr::kWaitSem.get(d.desc.data()),
                            regs::hdr::kWaitCount.get(d.desc.data()));
      }
      if (regs::hdr::kSignalEn.get(d.desc.data()) != 0) {
        sync += fmt::format(" signal sem {}", regs::hdr::kSignalSem.get(d.desc.data()));
      }
      out += fmt::format("  #{} {}: {}{}\n", d.seq, d.label, d.state,
                         sync.empty() ? "" : " [" + sync.substr(1) + "]");
    }
  }
  return out;
}

std::string ChipDebug::sems() const {
  const ChipState& s = chip_.state();
  std::string out;
  for (std::size_t i = 0; i < s.sems.size(); ++i) out += fmt::format("sem {} = {}\n", i, s.sems[i]);
  return out;
}

std::string ChipDebug::hbm_window(std::string_view args) {
  const std::uint64_t cap = chip_.state().hbm.capacity_bytes();
  if (!args.empty()) {
    std::uint64_t v = 0;
    std::string_view digits = args;
    int radix = 10;
    if (digits.size() > 2 && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X')) {
      digits.remove_prefix(2);
      radix = 16;
    }
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v, radix);
    if (ec != std::errc() || end != digits.data() + digits.size()) {
      return fmt::format("hbm-window: '{}' is not an address (decimal or 0x hex)\n", args);
    }
    if (v >= cap || v % 4 != 0) {
      return fmt::format(
          "hbm-window: 0x{:x} is not a 4-byte aligned address inside HBM (0x0-0x{:x})\n", v,
          cap - 1);
    }
    hbm_->base = v;
  }
  const std::uint64_t shown = std::min<std::uint64_t>(kDebugHbmBytes, cap - hbm_->base);
  return fmt::format("HBM window 0x{:08x}-0x{:08x} shows HBM 0x{:x}-0x{:x} (capacity 0x{:x})\n",
                     kDebugHbmBase, kDebugHbmBase + shown - 1, hbm_->base, hbm_->base + shown - 1,
                     cap);
}

}  // namespace mxemu::chip
