#include "model/hbm/address_map.h"

#include <bit>

#include "model/common/error.h"

namespace mxemu::hbm {

AddressMap::AddressMap(const Organisation& org, const std::string& mapping) : org_(org) {
  capacity_ = org.capacity_bytes();
  const std::array<const char*, kFieldCount> names{"St", "Ch", "Pc", "Si", "Bg", "Ba", "Ro", "Co"};
  const std::array<std::uint32_t, kFieldCount> sizes{org.stacks,
                                                     org.channels_per_stack,
                                                     org.pseudo_channels,
                                                     org.sids,
                                                     org.bank_groups,
                                                     org.banks_per_group,
                                                     org.rows,
                                                     org.columns};
  // Si may be left out of the mapping while there is one stack ID (its field is then 0 bits).
  const bool with_sid = mapping.find("Si") != std::string::npos && mapping.find("Si") % 2 == 0;
  const int tokens = with_sid ? kFieldCount : kFieldCount - 1;
  if (mapping.size() != 2 * static_cast<std::size_t>(tokens) || (!with_sid && org.sids != 1)) {
    if (org.sids != 1) {
      throw_bad_input("must name St Ch Pc Si Bg Ba Ro Co once each (sids = {})", org.sids);
    }
    throw_bad_input("must name St Ch Pc Bg Ba Ro Co once each (and Si, if any)");
  }
  std::array<bool, kFieldCount> seen{};
  std::array<int, kFieldCount> order{};
  if (!with_sid) {
    seen[kSi] = true;  // zero bits wide, below every other field
    shift_[kSi] = 0;
    mask_[kSi] = 0;
  }
  for (int i = 0; i < tokens; ++i) {
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
  for (int i = tokens - 1; i >= 0; --i) {  // least significant field last in the string
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
  d.sid = StackId{field(kSi)};
  d.bank_group = BankGroup{field(kBg)};
  d.bank = Bank{field(kBa)};
  d.row = Row{field(kRo)};
  d.column = Column{field(kCo)};
  d.flat_channel = d.stack.value() * org_.channels_per_stack + d.channel.value();
  d.flat_pc = d.flat_channel * org_.pseudo_channels + d.pseudo_channel.value();
  d.flat_bank = (d.sid.value() * org_.bank_groups + d.bank_group.value()) * org_.banks_per_group +
                d.bank.value();
  return d;
}

std::uint64_t AddressMap::encode(const DecodedAddress& d) const {
  auto put = [&](Field f, std::uint32_t v) { return (std::uint64_t{v} & mask_[f]) << shift_[f]; };
  return put(kSt, d.stack.value()) | put(kCh, d.channel.value()) |
         put(kPc, d.pseudo_channel.value()) | put(kSi, d.sid.value()) |
         put(kBg, d.bank_group.value()) | put(kBa, d.bank.value()) | put(kRo, d.row.value()) |
         put(kCo, d.column.value());
}

}  // namespace mxemu::hbm
