// libFuzzer harness of the ELF loader (model/core/elf_loader.h): parse_elf, then load_elf into
// a bus with 64 KiB of RAM at the core's RAM base. Properties beyond "no crash, no hang": every
// refusal is mxemu::Error(kBadInput); accepted segments obey the loader's contract (file size <=
// memory size, inside the 32-bit address space, no two overlapping, copies no larger than the
// file, entry 4-byte aligned); a successful load leaves each segment's bytes followed by zeros
// in RAM and the entry point in RAM.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "firmware/include/mxemu/platform.h"
#include "model/common/error.h"
#include "model/core/bus.h"
#include "model/core/devices.h"
#include "model/core/elf_loader.h"
#include "tools/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace mxemu;
  using namespace mxemu::core;
  const std::vector<std::uint8_t> bytes(data, data + size);
  ElfImage img;
  try {
    img = parse_elf(bytes, "fuzz.elf");
  } catch (const Error& e) {
    FUZZ_CHECK(e.code() == ExitCode::kBadInput);
    return 0;
  }
  FUZZ_CHECK(!img.segments.empty());
  FUZZ_CHECK(img.entry % 4 == 0);
  std::uint64_t copied = 0;
  for (const ElfImage::Segment& s : img.segments) {
    FUZZ_CHECK(s.data.size() <= s.memsz);
    FUZZ_CHECK(std::uint64_t{s.paddr} + s.memsz <= std::uint64_t{1} << 32);
    copied += s.data.size();
  }
  FUZZ_CHECK(copied <= size);
  std::vector<const ElfImage::Segment*> by_addr;
  for (const ElfImage::Segment& s : img.segments) by_addr.push_back(&s);
  std::sort(by_addr.begin(), by_addr.end(), [](auto* x, auto* y) { return x->paddr < y->paddr; });
  for (std::size_t i = 1; i < by_addr.size(); ++i)
    FUZZ_CHECK(std::uint64_t{by_addr[i - 1]->paddr} + by_addr[i - 1]->memsz <= by_addr[i]->paddr);

  constexpr std::uint32_t kRamBytes = 64 * 1024;
  Ram ram(kRamBytes);
  Bus bus;
  bus.map(MXEMU_RAM_BASE, kRamBytes, ram, 0, "ram");
  try {
    load_elf(img, bus, "fuzz.elf");
  } catch (const Error& e) {
    FUZZ_CHECK(e.code() == ExitCode::kBadInput);
    return 0;
  }
  FUZZ_CHECK(img.entry - MXEMU_RAM_BASE < kRamBytes);
  for (const ElfImage::Segment& s : img.segments) {
    FUZZ_CHECK(s.paddr - MXEMU_RAM_BASE < kRamBytes);
    FUZZ_CHECK(s.paddr - MXEMU_RAM_BASE + std::uint64_t{s.memsz} <= kRamBytes);
    const std::uint8_t* mem = ram.host_memory() + (s.paddr - MXEMU_RAM_BASE);
    FUZZ_CHECK(std::equal(s.data.begin(), s.data.end(), mem));
    FUZZ_CHECK(std::all_of(mem + s.data.size(), mem + s.memsz, [](std::uint8_t b) { return !b; }));
  }
  return 0;
}
