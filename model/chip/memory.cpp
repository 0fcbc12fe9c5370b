#include "model/chip/memory.h"

#include <fmt/format.h>

#include <algorithm>

namespace mxemu::chip {

std::string describe(const SpaceAddr& a) {
  switch (a.kind) {
    case SpaceKind::kVmem:
      return fmt::format("VMEM+0x{:x}", a.offset);
    case SpaceKind::kAcc:
      return fmt::format("ACC{}+0x{:x}", a.index, a.offset);
    case SpaceKind::kHbm:
      return fmt::format("HBM+0x{:x}", a.offset);
  }
  return "?";
}

std::uint32_t Scratchpad::access_cycles(std::span<const std::uint64_t> offsets,
                                        std::uint32_t len) const {
  if (len == 0 || offsets.empty()) return 1;
  const std::uint64_t w = cfg_.bank_width_bytes;
  // Distinct words per bank; the words of one access are few (lanes), so a sorted list suffices.
  std::vector<std::uint64_t> words;
  words.reserve(offsets.size() * (len / w + 2));
  for (const std::uint64_t off : offsets) {
    for (std::uint64_t word = off / w; word <= (off + len - 1) / w; ++word) words.push_back(word);
  }
  std::sort(words.begin(), words.end());
  words.erase(std::unique(words.begin(), words.end()), words.end());
  std::vector<std::uint32_t> per_bank(cfg_.banks, 0);
  std::uint32_t worst = 1;
  for (const std::uint64_t word : words) worst = std::max(worst, ++per_bank[word % cfg_.banks]);
  return worst;
}

}  // namespace mxemu::chip
