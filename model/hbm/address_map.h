// Bit-field address mapping: a physical byte address is split into stack, channel,
// pseudo-channel, stack ID, bank group, bank, row and column fields in the order the config names
// them.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "model/hbm/config.h"
#include "model/hbm/types.h"

namespace mxemu::hbm {

struct DecodedAddress {
  Stack stack;
  Channel channel;
  PseudoChannel pseudo_channel;
  StackId sid;
  BankGroup bank_group;  // within the stack ID
  Bank bank;
  Row row;
  Column column;
  std::uint32_t flat_pc = 0;       // (stack * channels + channel) * pseudo_channels + pc
  std::uint32_t flat_channel = 0;  // stack * channels + channel
  // Bank within the pseudo-channel: (sid * bank_groups + bank_group) * banks_per_group + bank.
  std::uint32_t flat_bank = 0;
};

class AddressMap {
 public:
  // `mapping`: tokens St Ch Pc Bg Ba Ro Co (and Si, which may be left out while org.sids = 1),
  // most significant first, each exactly once. Throws bad input naming hbm.mapping otherwise.
  AddressMap(const Organisation& org, const std::string& mapping);

  std::uint64_t capacity_bytes() const { return capacity_; }
  bool contains(std::uint64_t addr, std::uint64_t len = 1) const {
    return addr < capacity_ && len <= capacity_ - addr;
  }
  // Decodes an address below capacity (the caller checks `contains`).
  DecodedAddress decode(std::uint64_t addr) const;
  // The address of the first byte of the access named by `d` (inverse of decode).
  std::uint64_t encode(const DecodedAddress& d) const;

 private:
  enum Field { kSt, kCh, kPc, kSi, kBg, kBa, kRo, kCo, kFieldCount };
  Organisation org_;
  std::uint64_t capacity_ = 0;
  std::array<std::uint32_t, kFieldCount> shift_{};
  std::array<std::uint64_t, kFieldCount> mask_{};
};

}  // namespace mxemu::hbm
