// Loader of RV32 little-endian executable ELF files: validates the file, copies PT_LOAD segments
// to their physical addresses (p_paddr) and finds the HTIF symbols. Every defect is bad input.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "model/core/bus.h"

namespace mxemu::core {

struct ElfImage {
  struct Segment {
    std::uint32_t paddr = 0, memsz = 0;
    std::vector<std::uint8_t> data;  // filesz bytes; the rest of memsz is zero
  };
  std::uint32_t entry = 0;
  std::vector<Segment> segments;
  std::optional<std::uint32_t> tohost, fromhost;  // addresses of the symbols, when present
};

// Parses `bytes` (named `name` in messages). Throws mxemu::Error(kBadInput) naming the defect.
ElfImage parse_elf(const std::vector<std::uint8_t>& bytes, const std::string& name);
ElfImage read_elf_file(const std::string& path);

// Copies the segments into RAM-like regions of `bus` (host memory); a segment that does not lie
// entirely inside one such region is bad input.
void load_elf(const ElfImage& image, Bus& bus, const std::string& name);

}  // namespace mxemu::core
