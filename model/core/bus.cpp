#include "model/core/bus.h"

#include <algorithm>

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

void Bus::map_debug(std::uint32_t base, std::uint32_t size, Device& device, std::string name) {
  if (size == 0 || static_cast<std::uint64_t>(base) + size > (std::uint64_t{1} << 32)) {
    throw_bad_input("bus: debug window '{}' at 0x{:08x} size 0x{:x} does not fit the address space",
                    name, base, size);
  }
  for (const auto* list : {&regions_, &overlays_, &debug_}) {
    for (const Region& r : *list) {
      const bool disjoint = base + (size - 1) < r.base || r.base + (r.size - 1) < base;
      if (!disjoint) {
        throw_bad_input("bus: debug window '{}' at 0x{:08x} overlaps '{}' at 0x{:08x}", name, base,
                        r.name, r.base);
      }
    }
  }
  debug_.push_back(Region{base, size, &device, 0, std::move(name)});
}

const Region* Bus::find_debug(std::uint32_t addr) const {
  if (const Region* r = find(addr)) return r;
  for (const Region& r : debug_)
    if (r.contains(addr)) return &r;
  return nullptr;
}

std::uint64_t Bus::debug_read(std::uint32_t addr, std::span<std::uint8_t> out,
                              std::uint64_t cycle) {
  std::uint64_t done = 0;
  while (done < out.size()) {
    const std::uint64_t a64 = std::uint64_t{addr} + done;
    if (a64 >> 32 != 0) break;
    const auto a = static_cast<std::uint32_t>(a64);
    const Region* r = find_debug(a);
    if (r == nullptr) break;
    const std::uint32_t off = a - r->base;
    // find_debug is asked again for every byte or word: an overlay may cut a region short.
    if (std::uint8_t* mem = r->device->host_memory()) {
      out[done++] = mem[off];
      continue;
    }
    const std::uint32_t word = off & ~3u;
    if (r->size - word < 4) break;  // a device region must hold whole words
    std::uint32_t v = 0;
    if (!r->device->debug_read(word, v, cycle).ok) break;
    for (std::uint32_t b = off - word; b < 4 && done < out.size(); ++b) {
      out[done++] = static_cast<std::uint8_t>(v >> (8 * b));
    }
  }
  return done;
}

bool Bus::debug_write(std::uint32_t addr, std::span<const std::uint8_t> in, std::uint64_t cycle) {
  if (std::uint64_t{addr} + in.size() > (std::uint64_t{1} << 32)) return false;
  // Check everything first: a write that cannot complete changes nothing.
  for (std::uint64_t i = 0; i < in.size();) {
    const auto a = static_cast<std::uint32_t>(addr + i);
    const Region* r = find_debug(a);
    if (r == nullptr) return false;
    if (r->device->host_memory() != nullptr) {
      ++i;
      continue;
    }
    const std::uint32_t off = a - r->base;
    if (r->size - (off & ~3u) < 4) return false;  // a device region holds whole words
    if (r->device->debug_is_memory()) {
      i += std::min<std::uint64_t>(4 - off % 4, in.size() - i);
      continue;
    }
    if (off % 4 != 0 || in.size() - i < 4) return false;
    i += 4;
  }
  for (std::uint64_t i = 0; i < in.size();) {
    const auto a = static_cast<std::uint32_t>(addr + i);
    const Region* r = find_debug(a);
    const std::uint32_t off = a - r->base;
    if (std::uint8_t* mem = r->device->host_memory()) {
      mem[off] = in[i++];
      continue;
    }
    const std::uint32_t word = off & ~3u;
    std::uint32_t v = 0;
    if (off != word || in.size() - i < 4) {  // part of a word of memory: read, patch, write
      if (!r->device->debug_read(word, v, cycle).ok) return false;
    }
    for (std::uint32_t b = off - word; b < 4 && i < in.size(); ++b, ++i) {
      v = (v & ~(0xffu << (8 * b))) | std::uint32_t{in[i]} << (8 * b);
    }
    if (!r->device->debug_write(word, v, cycle).ok) return false;
  }
  return true;
}

}  // namespace mxemu::core
