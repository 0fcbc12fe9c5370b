#include "model/core/devices.h"

#include <fmt/format.h>

#include <cstring>

#include "firmware/include/mxemu/platform.h"
#include "model/core/hart.h"

namespace mxemu::core {

namespace {
std::uint32_t read_le(const std::uint8_t* p, unsigned size) {
  std::uint32_t v = 0;
  std::memcpy(&v, p, size);  // little-endian host
  return v;
}
}  // namespace

AccessResult Ram::read(std::uint32_t offset, unsigned size, std::uint32_t& value, std::uint64_t) {
  value = read_le(mem_.data() + offset, size);
  return {};
}

AccessResult Ram::write(std::uint32_t offset, unsigned size, std::uint32_t value, std::uint64_t) {
  std::memcpy(mem_.data() + offset, &value, size);
  return {};
}

AccessResult Console::read(std::uint32_t offset, unsigned, std::uint32_t& value, std::uint64_t) {
  value = offset == MXEMU_CONSOLE_STATUS ? 1u : 0u;
  return {};
}

AccessResult Console::write(std::uint32_t offset, unsigned, std::uint32_t value, std::uint64_t) {
  if (offset == MXEMU_CONSOLE_TX) {
    const char c = static_cast<char>(value & 0xff);
    text_.push_back(c);
    if (sink_) sink_(c);
  }
  return {};
}

AccessResult SysRegs::read(std::uint32_t offset, unsigned size, std::uint32_t& value,
                           std::uint64_t) {
  if (size != 4) return {false, 0};
  switch (offset) {
    case MXEMU_SYSREG_CHIP_ID:
      value = v_.chip_id;
      break;
    case MXEMU_SYSREG_CORE_HZ:
      value = v_.core_hz;
      break;
    case MXEMU_SYSREG_RAM_BASE:
      value = v_.ram_base;
      break;
    case MXEMU_SYSREG_RAM_SIZE:
      value = v_.ram_size;
      break;
    case MXEMU_SYSREG_TIMER_HZ:
      value = v_.timer_hz;
      break;
    case MXEMU_SYSREG_HART_ID:
      value = v_.hart_id;
      break;
    default:
      value = 0;  // reserved registers read as zero
      break;
  }
  return {};
}

AccessResult Timer::read(std::uint32_t offset, unsigned size, std::uint32_t& value, std::uint64_t) {
  if (size != 4) return {false, 0};
  switch (offset) {
    case MXEMU_TIMER_MSIP:
      value = hart_.msip() ? 1 : 0;
      return {};
    case MXEMU_TIMER_MTIMECMP:
      value = static_cast<std::uint32_t>(hart_.mtimecmp());
      return {};
    case MXEMU_TIMER_MTIMECMP + 4:
      value = static_cast<std::uint32_t>(hart_.mtimecmp() >> 32);
      return {};
    case MXEMU_TIMER_MTIME:
      value = static_cast<std::uint32_t>(hart_.mtime());
      return {};
    case MXEMU_TIMER_MTIME + 4:
      value = static_cast<std::uint32_t>(hart_.mtime() >> 32);
      return {};
    default:
      return {false, 0};
  }
}

AccessResult Timer::write(std::uint32_t offset, unsigned size, std::uint32_t value, std::uint64_t) {
  if (size != 4) return {false, 0};
  const std::uint64_t cmp = hart_.mtimecmp(), now = hart_.mtime();
  switch (offset) {
    case MXEMU_TIMER_MSIP:
      hart_.set_msip((value & 1) != 0);
      return {};
    case MXEMU_TIMER_MTIMECMP:
      hart_.set_mtimecmp((cmp & ~0xffffffffull) | value);
      return {};
    case MXEMU_TIMER_MTIMECMP + 4:
      hart_.set_mtimecmp((cmp & 0xffffffffull) | (std::uint64_t{value} << 32));
      return {};
    case MXEMU_TIMER_MTIME:
      hart_.set_mtime((now & ~0xffffffffull) | value);
      return {};
    case MXEMU_TIMER_MTIME + 4:
      hart_.set_mtime((now & 0xffffffffull) | (std::uint64_t{value} << 32));
      return {};
    default:
      return {false, 0};
  }
}

AccessResult Htif::read(std::uint32_t offset, unsigned size, std::uint32_t& value, std::uint64_t) {
  value = read_le(storage_ + offset, size);
  return {};
}

AccessResult Htif::write(std::uint32_t offset, unsigned size, std::uint32_t value, std::uint64_t) {
  std::memcpy(storage_ + offset, &value, size);
  if (!is_tohost || offset != 0 || value == 0) return {};
  if ((value & 1) != 0) {
    hart_.request_exit(static_cast<int>(value >> 1));
  } else {
    error = fmt::format(
        "unsupported HTIF request 0x{:08x} written to tohost (only exit codes, "
        "odd values, are supported)",
        value);
    hart_.request_stop();
  }
  return {};
}

}  // namespace mxemu::core
