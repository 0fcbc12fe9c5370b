#include "model/hbm/address_map.h"

#include <bit>

#include "model/common/error.h"

namespace mxemu::hbm {

AddressMap::AddressMap(const Organisation& org, const std::string& mapping) : org_(org) {
  capacity_ = org.capacity_bytes();
  const std::array<const char*, kFieldCount> names{"St", "Ch", "Pc", "Bg", "Ba", "Ro", "Co"};
  const std::array<std::uint32_t, kFieldCount> sizes{org.stacks,          org.channels_per_stack,
                                                     org.pseudo_channels, org.bank_groups,
                                                     org.banks_per_group, org.rows,
                                                     org.columns};
  if (mapping.size() != 2 * kFieldCount) {
    throw_bad_input("must name St Ch Pc Bg Ba Ro Co once each");
  }
  std::array<bool, kFieldCount> seen{};
  std::array<int, kFieldCount> order{};
  for (int i = 0; i < kFieldCount; ++i) {
    const std::string tok = mapping.substr(2 * i, 2);
    int f = -1;
    for (int j = 0; j < kFieldCount; ++j) {
      if (tok == names[j]) f = j;
    }
    if (f < 0 || seen[f]) {
      throw_bad_input("token '{}' is unknown or repeated", tok);
    }
    seen[f] = true;
    order[i] = f;
  }
  auto shift = static_cast<std::uint32_t>(std::countr_zero(org.access_bytes));
  for (int i = kFieldCount - 1; i >= 0; --i) {  // least significant field last in the string
    const int f = order[i];
    shift_[f] = shift;
    mask_[f] = sizes[f] - 1;
    shift += static_cast<std::uint32_t>(std::countr_zero(sizes[f]));
  }
}

DecodedAddress AddressMap::decode(std::uint64_t addr) const {
  auto field = [&](Field f) { return static_cast<std::uint32_t>((addr >> shift_[f]) & mask_[f]); };
  DecodedAddress d;
  d.stack = Stack{field(kSt)};
  d.channel = Channel{field(kCh)};
  d.pseudo_channel = PseudoChannel{field(kPc)};
  d.bank_group = BankGroup{field(kBg)};
  d.bank = Bank{field(kBa)};
  d.row = Row{field(kRo)};
  d.column = Column{field(kCo)};
  d.flat_channel = d.stack.value() * org_.channels_per_stack + d.channel.value();
  d.flat_pc = d.flat_channel * org_.pseudo_channels + d.pseudo_channel.value();
  return d;
}

std::uint64_t AddressMap::encode(const DecodedAddress& d) const {
  auto put = [&](Field f, std::uint32_t v) { return (std::uint64_t{v} & mask_[f]) << shift_[f]; };
  return put(kSt, d.stack.value()) | put(kCh, d.channel.value()) |
         put(kPc, d.pseudo_channel.value()) | put(kBg, d.bank_group.value()) |
         put(kBa, d.bank.value()) | put(kRo, d.row.value()) | put(kCo, d.column.value());
}

}  // namespace mxemu::hbm
