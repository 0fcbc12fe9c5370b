#include "model/core/elf_loader.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "firmware/include/mxemu/platform.h"
#include "model/common/error.h"

namespace mxemu::core {

namespace {

constexpr std::uint16_t kEtExec = 2;
constexpr std::uint16_t kEmRiscv = 243;
constexpr std::uint32_t kPtLoad = 1;
constexpr std::uint32_t kShtSymtab = 2;
constexpr std::uint32_t kShtStrtab = 3;
// e_flags of RISC-V ELF files (RISC-V ELF psABI): code that needs the C extension, and the
// floating-point calling convention (0 = soft float; single, double, quad need F/D/Q registers).
constexpr std::uint32_t kEfRiscvRvc = 0x1;
constexpr std::uint32_t kEfRiscvFloatAbi = 0x6;
constexpr std::size_t kEhdrSize = 52, kPhdrSize = 32, kShdrSize = 40, kSymSize = 16;

class Reader {
 public:
  Reader(const std::vector<std::uint8_t>& b, const std::string& name) : b_(b), name_(name) {}
  bool has(std::uint64_t off, std::uint64_t len) const { return off + len <= b_.size(); }
  void need(std::uint64_t off, std::uint64_t len, const char* what) const {
    if (!has(off, len)) {
      throw_bad_input(
          "{}: truncated ELF file: {} at offset {} (+{} bytes) is past the end of the "
          "file ({} bytes)",
          name_, what, off, len, b_.size());
    }
  }
  std::uint16_t u16(std::uint64_t off) const {
    return static_cast<std::uint16_t>(b_[off] | b_[off + 1] << 8);
  }
  std::uint32_t u32(std::uint64_t off) const {
    return b_[off] | b_[off + 1] << 8 | b_[off + 2] << 16 |
           static_cast<std::uint32_t>(b_[off + 3]) << 24;
  }

 private:
  const std::vector<std::uint8_t>& b_;
  const std::string& name_;
};

}  // namespace

ElfImage parse_elf(const std::vector<std::uint8_t>& b, const std::string& name) {
  Reader r(b, name);
  if (b.size() < 4 || std::memcmp(b.data(),
                                  "\x7f"
                                  "ELF",
                                  4) != 0)
    throw_bad_input("{}: not an ELF file (bad magic)", name);
  r.need(0, kEhdrSize, "ELF header");
  if (b[4] != 1) {
    throw_bad_input("{}: wrong ELF class {} (expected ELFCLASS32: an RV32 program)", name,
                    b[4] == 2 ? "ELFCLASS64" : std::to_string(b[4]));
  }
  if (b[5] != 1) throw_bad_input("{}: not a little-endian ELF file", name);
  if (b[6] != 1 || r.u32(20) != 1) {
    throw_bad_input("{}: unknown ELF version {} (expected EV_CURRENT = 1)", name,
                    b[6] != 1 ? b[6] : r.u32(20));
  }
  const std::uint16_t type = r.u16(16), machine = r.u16(18);
  if (machine != kEmRiscv)
    throw_bad_input("{}: wrong ELF machine {} (expected EM_RISCV = 243)", name, machine);
  if (type != kEtExec)
    throw_bad_input("{}: ELF type {} is not an executable (ET_EXEC)", name, type);
  const std::uint32_t flags = r.u32(36);
  if ((flags & kEfRiscvRvc) != 0) {
    throw_bad_input(
        "{}: the program uses compressed instructions (ELF flag EF_RISCV_RVC), but the core is "
        "RV32IM without the C extension: build it with -march=rv32im -mabi=ilp32",
        name);
  }
  if ((flags & kEfRiscvFloatAbi) != 0) {
    throw_bad_input(
        "{}: the program uses a hardware floating-point ABI (ELF flags 0x{:x}), but the core is "
        "RV32IM without F or D: build it with -march=rv32im -mabi=ilp32",
        name, flags);
  }
  ElfImage img;
  img.entry = r.u32(24);
  const std::uint32_t phoff = r.u32(28), shoff = r.u32(32);
  const std::uint16_t phentsize = r.u16(42), phnum = r.u16(44), shentsize = r.u16(46),
                      shnum = r.u16(48);
  if (phnum == 0) throw_bad_input("{}: ELF file has no program headers", name);
  if (phentsize != kPhdrSize) throw_bad_input("{}: bad program header size {}", name, phentsize);
  r.need(phoff, std::uint64_t{phnum} * kPhdrSize, "program header table");
  // Segment data is copied, so the file ranges of the segments may not overlap: the copies then
  // total at most the file size (a few program headers cannot make gigabytes of copies).
  std::uint64_t file_bytes = 0;
  std::vector<unsigned> index;  // program header number of each segment, for messages
  for (unsigned i = 0; i < phnum; ++i) {
    const std::uint64_t p = phoff + std::uint64_t{i} * kPhdrSize;
    if (r.u32(p) != kPtLoad) continue;
    const std::uint32_t off = r.u32(p + 4), paddr = r.u32(p + 12), filesz = r.u32(p + 16),
                        memsz = r.u32(p + 20);
    if (memsz == 0 && filesz == 0) continue;
    if (filesz > memsz) {
      throw_bad_input("{}: segment {} has file size {} larger than its memory size {}", name, i,
                      filesz, memsz);
    }
    if (std::uint64_t{paddr} + memsz > std::uint64_t{1} << 32) {
      throw_bad_input(
          "{}: segment {} at 0x{:08x} (+0x{:x} bytes) runs past the end of the 32-bit address "
          "space",
          name, i, paddr, memsz);
    }
    r.need(off, filesz, "segment data");
    file_bytes += filesz;
    if (file_bytes > b.size()) {
      throw_bad_input("{}: the file data of the segments overlap (segment {} and an earlier one)",
                      name, i);
    }
    ElfImage::Segment s;
    s.paddr = paddr;
    s.memsz = memsz;
    s.data.assign(b.begin() + off, b.begin() + off + filesz);
    img.segments.push_back(std::move(s));
    index.push_back(i);
  }
  // Segments may not overlap in memory (one would silently overwrite the other).
  std::vector<std::size_t> order(img.segments.size());
  for (std::size_t k = 0; k < order.size(); ++k) order[k] = k;
  std::sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) {
    return img.segments[x].paddr < img.segments[y].paddr;
  });
  for (std::size_t k = 1; k < order.size(); ++k) {
    const ElfImage::Segment& lo = img.segments[order[k - 1]];
    const ElfImage::Segment& hi = img.segments[order[k]];
    if (std::uint64_t{lo.paddr} + lo.memsz > hi.paddr) {
      throw_bad_input(
          "{}: segments {} (0x{:08x} +0x{:x}) and {} (0x{:08x} +0x{:x}) overlap in memory", name,
          index[order[k - 1]], lo.paddr, lo.memsz, index[order[k]], hi.paddr, hi.memsz);
    }
  }
  if (img.segments.empty()) throw_bad_input("{}: ELF file has no loadable segment", name);
  if ((img.entry & 3) != 0)
    throw_bad_input("{}: entry point 0x{:08x} is not 4-byte aligned", name, img.entry);

  // Symbols (optional: a stripped file simply has no HTIF words).
  if (shoff != 0 && shnum != 0) {
    if (shentsize != kShdrSize) throw_bad_input("{}: bad section header size {}", name, shentsize);
    r.need(shoff, std::uint64_t{shnum} * kShdrSize, "section header table");
    bool have_symtab = false;
    for (unsigned i = 0; i < shnum; ++i) {
      const std::uint64_t sh = shoff + std::uint64_t{i} * kShdrSize;
      if (r.u32(sh + 4) != kShtSymtab) continue;
      // The ELF specification allows one SHT_SYMTAB; several would each be scanned in full.
      if (have_symtab) throw_bad_input("{}: ELF file has more than one symbol table", name);
      have_symtab = true;
      const std::uint32_t symoff = r.u32(sh + 16), symsize = r.u32(sh + 20), link = r.u32(sh + 24);
      if (link >= shnum) throw_bad_input("{}: symbol table links to a missing string table", name);
      const std::uint64_t strsh = shoff + std::uint64_t{link} * kShdrSize;
      if (r.u32(strsh + 4) != kShtStrtab) {
        throw_bad_input("{}: symbol table links to section {}, which is not a string table", name,
                        link);
      }
      const std::uint32_t stroff = r.u32(strsh + 16), strsize = r.u32(strsh + 20);
      r.need(symoff, symsize, "symbol table");
      r.need(stroff, strsize, "string table");
      for (std::uint64_t s = symoff; s + kSymSize <= std::uint64_t{symoff} + symsize;
           s += kSymSize) {
        const std::uint32_t nameoff = r.u32(s);
        if (nameoff >= strsize) continue;
        const char* str = reinterpret_cast<const char*>(b.data() + stroff + nameoff);
        const std::size_t maxlen = strsize - nameoff;
        const std::string sym(str, strnlen(str, maxlen));
        if (sym == "tohost") img.tohost = r.u32(s + 4);
        if (sym == "fromhost") img.fromhost = r.u32(s + 4);
      }
    }
  }
  return img;
}

ElfImage read_elf_file(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw_bad_input("cannot open firmware file '{}': it is a directory", path);
  std::ifstream f(path, std::ios::binary);
  if (!f) throw_bad_input("cannot open firmware file '{}'", path);
  std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(f)),
                                  std::istreambuf_iterator<char>());
  return parse_elf(bytes, path);
}

void load_elf(const ElfImage& img, Bus& bus, const std::string& name) {
  const Region* ram = bus.find(MXEMU_RAM_BASE);
  const std::uint64_t ram_end = ram != nullptr ? std::uint64_t{ram->base} + ram->size : 0;
  for (const ElfImage::Segment& s : img.segments) {
    const Region* r = nullptr;
    for (const Region& reg : bus.regions())
      if (reg.contains(s.paddr)) r = &reg;
    if (r == nullptr || r->device->host_memory() == nullptr ||
        std::uint64_t{s.paddr} - r->base + s.memsz > r->size) {
      throw_bad_input(
          "{}: segment at 0x{:08x} (+0x{:x} bytes) lies outside the memory of the core "
          "(RAM is 0x{:08x}..0x{:08x})",
          name, s.paddr, s.memsz, MXEMU_RAM_BASE, ram_end);
    }
    std::uint8_t* mem = r->device->host_memory() + (s.paddr - r->base);
    // std::copy, not memcpy: a segment without file data (bss) has a null data pointer.
    std::copy(s.data.begin(), s.data.end(), mem);
    std::fill(mem + s.data.size(), mem + s.memsz, 0);
  }
  bool entry_ok = false;
  for (const Region& reg : bus.regions())
    if (reg.contains(img.entry) && reg.device->host_memory() != nullptr) entry_ok = true;
  if (!entry_ok) throw_bad_input("{}: entry point 0x{:08x} is not in memory", name, img.entry);
}

}  // namespace mxemu::core
