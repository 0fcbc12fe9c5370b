#include "model/core/elf_loader.h"

#include <cstring>
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
constexpr std::size_t kEhdrSize = 52, kPhdrSize = 32, kShdrSize = 40, kSymSize = 16;

class Reader {
 public:
  Reader(const std::vector<std::uint8_t>& b, const std::string& name) : b_(b), name_(name) {}
  bool has(std::uint64_t off, std::uint64_t len) const { return off + len <= b_.size(); }
  void need(std::uint64_t off, std::uint64_t len, const char* what) const {
    if (!has(off, len))
      throw_bad_input(
          "{}: truncated ELF file: {} at offset {} (+{} bytes) is past the end of the "
          "file ({} bytes)",
          name_, what, off, len, b_.size());
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
  if (b[4] != 1)
    throw_bad_input("{}: wrong ELF class {} (expected ELFCLASS32: an RV32 program)", name,
                    b[4] == 2 ? "ELFCLASS64" : std::to_string(b[4]));
  if (b[5] != 1) throw_bad_input("{}: not a little-endian ELF file", name);
  const std::uint16_t type = r.u16(16), machine = r.u16(18);
  if (machine != kEmRiscv)
    throw_bad_input("{}: wrong ELF machine {} (expected EM_RISCV = 243)", name, machine);
  if (type != kEtExec)
    throw_bad_input("{}: ELF type {} is not an executable (ET_EXEC)", name, type);
  ElfImage img;
  img.entry = r.u32(24);
  const std::uint32_t phoff = r.u32(28), shoff = r.u32(32);
  const std::uint16_t phentsize = r.u16(42), phnum = r.u16(44), shentsize = r.u16(46),
                      shnum = r.u16(48);
  if (phnum == 0) throw_bad_input("{}: ELF file has no program headers", name);
  if (phentsize != kPhdrSize) throw_bad_input("{}: bad program header size {}", name, phentsize);
  r.need(phoff, std::uint64_t{phnum} * kPhdrSize, "program header table");
  for (unsigned i = 0; i < phnum; ++i) {
    const std::uint64_t p = phoff + std::uint64_t{i} * kPhdrSize;
    if (r.u32(p) != kPtLoad) continue;
    const std::uint32_t off = r.u32(p + 4), paddr = r.u32(p + 12), filesz = r.u32(p + 16),
                        memsz = r.u32(p + 20);
    if (memsz == 0) continue;
    if (filesz > memsz)
      throw_bad_input("{}: segment {} has file size {} larger than its memory size {}", name, i,
                      filesz, memsz);
    r.need(off, filesz, "segment data");
    ElfImage::Segment s;
    s.paddr = paddr;
    s.memsz = memsz;
    s.data.assign(b.begin() + off, b.begin() + off + filesz);
    img.segments.push_back(std::move(s));
  }
  if (img.segments.empty()) throw_bad_input("{}: ELF file has no loadable segment", name);
  if ((img.entry & 3) != 0)
    throw_bad_input("{}: entry point 0x{:08x} is not 4-byte aligned", name, img.entry);

  // Symbols (optional: a stripped file simply has no HTIF words).
  if (shoff != 0 && shnum != 0) {
    if (shentsize != kShdrSize) throw_bad_input("{}: bad section header size {}", name, shentsize);
    r.need(shoff, std::uint64_t{shnum} * kShdrSize, "section header table");
    for (unsigned i = 0; i < shnum; ++i) {
      const std::uint64_t sh = shoff + std::uint64_t{i} * kShdrSize;
      if (r.u32(sh + 4) != kShtSymtab) continue;
      const std::uint32_t symoff = r.u32(sh + 16), symsize = r.u32(sh + 20), link = r.u32(sh + 24);
      if (link >= shnum) throw_bad_input("{}: symbol table links to a missing string table", name);
      const std::uint64_t strsh = shoff + std::uint64_t{link} * kShdrSize;
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
        std::uint64_t{s.paddr} - r->base + s.memsz > r->size)
      throw_bad_input(
          "{}: segment at 0x{:08x} (+0x{:x} bytes) lies outside the memory of the core "
          "(RAM is 0x{:08x}..0x{:08x})",
          name, s.paddr, s.memsz, MXEMU_RAM_BASE, ram_end);
    std::uint8_t* mem = r->device->host_memory() + (s.paddr - r->base);
    std::memcpy(mem, s.data.data(), s.data.size());
    std::memset(mem + s.data.size(), 0, s.memsz - s.data.size());
  }
  bool entry_ok = false;
  for (const Region& reg : bus.regions())
    if (reg.contains(img.entry) && reg.device->host_memory() != nullptr) entry_ok = true;
  if (!entry_ok) throw_bad_input("{}: entry point 0x{:08x} is not in memory", name, img.entry);
}

}  // namespace mxemu::core
