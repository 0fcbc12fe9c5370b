#include "model/core/bus.h"

#include "model/common/error.h"

namespace mxemu::core {

void Bus::map(std::uint32_t base, std::uint32_t size, Device& device, std::uint32_t latency_cycles,
              std::string name, bool overlay) {
  if (size == 0 || static_cast<std::uint64_t>(base) + size > (std::uint64_t{1} << 32)) {
    throw_bad_input("bus: region '{}' at 0x{:08x} size 0x{:x} does not fit the address space", name,
                    base, size);
  }
  auto& list = overlay ? overlays_ : regions_;
  for (const Region& r : list) {
    const bool disjoint = base + (size - 1) < r.base || r.base + (r.size - 1) < base;
    if (!disjoint) {
      throw_bad_input("bus: region '{}' at 0x{:08x} overlaps '{}' at 0x{:08x}", name, base, r.name,
                      r.base);
    }
  }
  list.push_back(Region{base, size, &device, latency_cycles, std::move(name)});
}

bool Bus::debug_read(std::uint32_t addr, std::uint8_t& byte, std::uint64_t cycle) {
  const Region* r = find(addr);
  if (r == nullptr) return false;
  const std::uint32_t off = addr - r->base;
  if (std::uint8_t* mem = r->device->host_memory()) {
    byte = mem[off];
    return true;
  }
  std::uint32_t v = 0;
  if (!r->device->read(off, 1, v, cycle).ok) return false;
  byte = static_cast<std::uint8_t>(v);
  return true;
}

bool Bus::debug_write(std::uint32_t addr, std::uint8_t byte, std::uint64_t cycle) {
  const Region* r = find(addr);
  if (r == nullptr) return false;
  const std::uint32_t off = addr - r->base;
  if (std::uint8_t* mem = r->device->host_memory()) {
    mem[off] = byte;
    return true;
  }
  return r->device->write(off, 1, byte, cycle).ok;
}

}  // namespace mxemu::core
