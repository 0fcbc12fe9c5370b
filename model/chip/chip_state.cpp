#include "model/chip/chip_state.h"

#include <fmt/format.h>

#include <cstring>

namespace mxemu::chip {

ChipState::ChipState(const ChipConfig& c, const ChipIdentity& i, HbmBackend& h)
    : cfg(c),
      id(i),
      hbm(h),
      vmem(c.vmem),
      acc(c.mxu.count, std::vector<std::uint8_t>(c.mxu.acc_bytes)),
      clock_(c.clock()),
      period_(sc_core::sc_time(static_cast<double>(clock_.period_ps), sc_core::SC_PS)) {}

std::uint64_t ChipState::now_cycle() const {
  return static_cast<std::uint64_t>(sc_core::sc_time_stamp() / period_);
}

SpaceAddr ChipState::resolve(std::uint64_t addr, std::uint64_t len, const char* what) const {
  namespace sp = regs::space;
  SpaceAddr a;
  std::uint64_t size = 0;
  if (addr >= sp::kHbm) {
    a = {SpaceKind::kHbm, 0, addr - sp::kHbm};
    size = hbm.capacity_bytes();
  } else if (addr >= sp::kAcc) {
    const std::uint64_t idx = (addr - sp::kAcc) / sp::kAccStride;
    if (idx >= cfg.mxu.count) {
      throw EngineError{regs::Fault::kBadAddress,
                        fmt::format("{} address 0x{:x} names ACC{} but the chip has {} MXUs", what,
                                    addr, idx, cfg.mxu.count)};
    }
    a = {SpaceKind::kAcc, static_cast<std::uint32_t>(idx), (addr - sp::kAcc) % sp::kAccStride};
    size = cfg.mxu.acc_bytes;
  } else {
    a = {SpaceKind::kVmem, 0, addr - sp::kVmem};
    size = vmem.size();
  }
  if (a.offset > size || len > size - a.offset) {
    throw EngineError{regs::Fault::kBadAddress,
                      fmt::format("{} range [0x{:x}, +0x{:x}) leaves {} ({} bytes)", what, addr,
                                  len, describe(SpaceAddr{a.kind, a.index, 0}), size)};
  }
  return a;
}

std::uint8_t* ChipState::on_chip(const SpaceAddr& a) {
  return a.kind == SpaceKind::kVmem ? vmem.data() + a.offset : acc[a.index].data() + a.offset;
}

void ChipState::read_bytes(const SpaceAddr& a, std::span<std::uint8_t> out) {
  if (a.kind == SpaceKind::kHbm) {
    hbm.read(a.offset, out);
  } else {
    std::memcpy(out.data(), on_chip(a), out.size());
  }
}

void ChipState::write_bytes(const SpaceAddr& a, std::span<const std::uint8_t> in) {
  if (a.kind == SpaceKind::kHbm) {
    hbm.write(a.offset, in);
  } else {
    std::memcpy(on_chip(a), in.data(), in.size());
  }
}

}  // namespace mxemu::chip
