// Sparse storage read-back and the bit-field address mapping against hand-computed fields.
#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

#include "model/common/error.h"
#include "model/hbm/address_map.h"
#include "model/hbm/storage.h"

using namespace mxemu::hbm;

TEST_CASE("Storage reads back what was written, zero elsewhere, and stays sparse") {
  const std::uint64_t cap = std::uint64_t{64} << 30;
  Storage s(cap);
  std::vector<std::uint8_t> data(10000);
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::uint8_t>(i * 7 + 3);
  const std::uint64_t addr = (std::uint64_t{40} << 30) + 4000;  // crosses three page boundaries
  s.write(addr, data);
  std::vector<std::uint8_t> back(data.size() + 200, 0xEE);
  s.read(addr - 100, back);
  for (std::size_t i = 0; i < 100; ++i) REQUIRE(back[i] == 0);
  for (std::size_t i = 0; i < data.size(); ++i) REQUIRE(back[100 + i] == data[i]);
  for (std::size_t i = 0; i < 100; ++i) REQUIRE(back[100 + data.size() + i] == 0);
  // 10000 bytes starting 4000 bytes into a page touch pages 0..3 of that range.
  REQUIRE(s.pages_allocated() == 4);
  std::vector<std::uint8_t> last(1, 0x5A);
  s.write(cap - 1, last);
  std::vector<std::uint8_t> one(1);
  s.read(cap - 1, one);
  REQUIRE(one[0] == 0x5A);
  REQUIRE_THROWS_AS(s.write(cap - 1, std::vector<std::uint8_t>(2)), mxemu::Error);
  REQUIRE_THROWS_AS(s.read(cap, one), mxemu::Error);
}

TEST_CASE("Default mapping RoBaCoBgStChPc splits addresses as the bit layout says") {
  const Organisation org;
  const AddressMap m(org, "RoBaCoBgStChPc");
  REQUIRE(m.capacity_bytes() == (std::uint64_t{64} << 30));
  // Bits, least significant first: 5 offset, 1 Pc, 4 Ch, 2 St, 2 Bg, 5 Co, 2 Ba, 15 Ro.
  const std::uint64_t pc = 1, ch = 11, st = 2, bg = 3, co = 17, ba = 2, ro = 12345, off = 9;
  const std::uint64_t addr =
      off | pc << 5 | ch << 6 | st << 10 | bg << 12 | co << 14 | ba << 19 | ro << 21;
  const DecodedAddress d = m.decode(addr);
  REQUIRE(d.pseudo_channel.value() == pc);
  REQUIRE(d.channel.value() == ch);
  REQUIRE(d.stack.value() == st);
  REQUIRE(d.bank_group.value() == bg);
  REQUIRE(d.column.value() == co);
  REQUIRE(d.bank.value() == ba);
  REQUIRE(d.row.value() == ro);
  REQUIRE(d.flat_channel == st * 16 + ch);
  REQUIRE(d.flat_pc == (st * 16 + ch) * 2 + pc);
  REQUIRE(m.encode(d) == addr - off);
  // Consecutive 32-byte accesses walk the pseudo-channels first.
  REQUIRE(m.decode(32).flat_pc == 1);
  REQUIRE(m.decode(64).flat_pc == 2);
  REQUIRE(m.decode(32 * 128).bank_group.value() == 1);
}

TEST_CASE("Another mapping order moves the fields") {
  Organisation org;
  org.stacks = 1;
  const AddressMap m(org, "StChPcRoBaBgCo");
  // Least significant first: 5 offset, 5 Co, 2 Bg, 2 Ba, 15 Ro, 1 Pc, 4 Ch, 0 St.
  const std::uint64_t addr = std::uint64_t{3} << 5 | std::uint64_t{1} << 10 |
                             std::uint64_t{7} << 14 | std::uint64_t{1} << 29 |
                             std::uint64_t{5} << 30;
  const DecodedAddress d = m.decode(addr);
  REQUIRE(d.column.value() == 3);
  REQUIRE(d.bank_group.value() == 1);
  REQUIRE(d.row.value() == 7);
  REQUIRE(d.pseudo_channel.value() == 1);
  REQUIRE(d.channel.value() == 5);
  REQUIRE(m.capacity_bytes() == (std::uint64_t{16} << 30));
  REQUIRE_FALSE(m.contains(std::uint64_t{16} << 30));
}

TEST_CASE("Stack IDs: the Si field, flat banks, and mappings that must name it") {
  Organisation org;
  org.stacks = 1;
  org.sids = 2;
  org.rows = 16384;  // HBM3 8-high, 16 Gb dies: 2 stack IDs x 16 banks x 16384 rows per pc
  const AddressMap m(org, "RoBaSiCoBgStChPc");
  // Least significant first: 5 offset, 1 Pc, 4 Ch, 0 St, 2 Bg, 5 Co, 1 Si, 2 Ba, 14 Ro.
  const std::uint64_t pc = 1, ch = 6, bg = 2, co = 9, si = 1, ba = 3, ro = 4321;
  const std::uint64_t addr =
      pc << 5 | ch << 6 | bg << 10 | co << 12 | si << 17 | ba << 18 | ro << 20;
  const DecodedAddress d = m.decode(addr);
  REQUIRE(d.sid.value() == si);
  REQUIRE(d.bank_group.value() == bg);
  REQUIRE(d.bank.value() == ba);
  REQUIRE(d.row.value() == ro);
  REQUIRE(d.column.value() == co);
  REQUIRE(d.flat_bank == (si * 4 + bg) * 4 + ba);
  REQUIRE(m.encode(d) == addr);
  REQUIRE(m.capacity_bytes() == (std::uint64_t{16} << 30));  // the same 16 GiB stack
  // With two stack IDs the mapping must name Si; with one it may (a field of no bits).
  REQUIRE_THROWS_WITH(AddressMap(org, "RoBaCoBgStChPc"),
                      Catch::Contains("must name St Ch Pc Si Bg Ba Ro Co once each (sids = 2)"));
  Organisation one;
  one.stacks = 1;
  const AddressMap with_si(one, "RoBaSiCoBgStChPc"), without(one, "RoBaCoBgStChPc");
  REQUIRE(with_si.capacity_bytes() == without.capacity_bytes());
  REQUIRE(with_si.decode(12345 * 32).flat_bank == without.decode(12345 * 32).flat_bank);
  REQUIRE(with_si.decode(12345 * 32).sid.value() == 0);
}
