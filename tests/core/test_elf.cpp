// The ELF loader against the inputs of tools/fuzz/corpus/elf/, which tools/fuzz/make_corpus.py
// builds field by field from the ELF32 specification and the RISC-V psABI (fw_*: firmware of this
// project's own build, debug information stripped). regress_*: files that were accepted (or
// asked for unbounded copies) before the loader checked them; each now gets a clear error.
#include <catch2/catch.hpp>

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "firmware/include/mxemu/platform.h"
#include "model/common/error.h"
#include "model/core/bus.h"
#include "model/core/devices.h"
#include "model/core/elf_loader.h"

using namespace mxemu;
using namespace mxemu::core;

namespace {

constexpr const char* kCorpus = "tools/fuzz/corpus/elf/";

std::vector<std::uint8_t> corpus(const std::string& name) {
  std::ifstream f(std::string(kCorpus) + name, std::ios::binary);
  REQUIRE(f);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

std::string parse_error(const std::string& name) {
  try {
    parse_elf(corpus(name), name);
  } catch (const Error& e) {
    CHECK(e.code() == ExitCode::kBadInput);
    return e.what();
  }
  FAIL("no error for " << name);
  return "";
}

}  // namespace

TEST_CASE("elf: a minimal executable loads at its physical address", "[core][elf]") {
  const ElfImage img = parse_elf(corpus("valid_bss_symbols.elf"), "valid_bss_symbols.elf");
  CHECK(img.entry == 0x80000000U);
  REQUIRE(img.segments.size() == 2);
  CHECK(img.segments[0].paddr == 0x80000000U);
  CHECK(img.segments[0].memsz == 16);
  // addi a0, x0, 1 = 0x00100513, little-endian.
  CHECK(std::vector<std::uint8_t>(img.segments[0].data.begin(), img.segments[0].data.begin() + 4) ==
        std::vector<std::uint8_t>{0x13, 0x05, 0x10, 0x00});
  CHECK(img.segments[1].paddr == 0x80001000U);
  CHECK(img.segments[1].memsz == 0x100);
  CHECK(img.segments[1].data == std::vector<std::uint8_t>{0x2a, 0, 0, 0});
  REQUIRE(img.tohost);
  CHECK(*img.tohost == 0x80001000U);
  REQUIRE(img.fromhost);
  CHECK(*img.fromhost == 0x80001008U);

  Ram ram(0x2000);
  ram.host_memory()[0x1004] = 0xEE;  // inside the second segment's bss: must be zeroed
  Bus bus;
  bus.map(MXEMU_RAM_BASE, 0x2000, ram, 0, "ram");
  load_elf(img, bus, "valid_bss_symbols.elf");
  CHECK(ram.host_memory()[0] == 0x13);
  CHECK(ram.host_memory()[0x1000] == 0x2a);
  CHECK(ram.host_memory()[0x1004] == 0);
}

TEST_CASE("elf: a segment without file data is zeroed", "[core][elf][regress]") {
  // Found by fuzz_elf: load_elf passed the null data pointer of a bss-only segment to memcpy.
  const ElfImage img = parse_elf(corpus("regress_bss_only.elf"), "regress_bss_only.elf");
  REQUIRE(img.segments.size() == 1);
  CHECK(img.segments[0].data.empty());
  CHECK(img.segments[0].memsz == 0x200);
  Ram ram(0x1000);
  for (std::uint32_t i = 0; i < 0x1000; ++i) ram.host_memory()[i] = 0x55;
  Bus bus;
  bus.map(MXEMU_RAM_BASE, 0x1000, ram, 0, "ram");
  load_elf(img, bus, "regress_bss_only.elf");
  CHECK(ram.host_memory()[0] == 0);
  CHECK(ram.host_memory()[0x1ff] == 0);
  CHECK(ram.host_memory()[0x200] == 0x55);
}

TEST_CASE("elf: the project's own firmware parses", "[core][elf]") {
  for (const char* name : {"fw_bad_forever.elf", "fw_rv32ui_ctrl.elf", "fw_exit_code.elf"}) {
    INFO(name);
    const ElfImage img = parse_elf(corpus(name), name);
    CHECK(img.entry == MXEMU_RAM_BASE);
    CHECK_FALSE(img.segments.empty());
    // The riscv-tests and C programs have the HTIF symbol; bad_forever never exits.
    CHECK(img.tohost.has_value() == (std::string(name) != "fw_bad_forever.elf"));
  }
}

TEST_CASE("elf: a compressed (RVC) or hard-float program is refused", "[core][elf][regress]") {
  CHECK_THAT(parse_error("regress_rvc.elf"),
             Catch::Contains("uses compressed instructions (ELF flag EF_RISCV_RVC), but the "
                             "core is RV32IM without the C extension"));
  CHECK_THAT(parse_error("regress_float_abi.elf"),
             Catch::Contains("hardware floating-point ABI (ELF flags 0x4), but the core is "
                             "RV32IM without F or D"));
}

TEST_CASE("elf: malformed segments and symbol tables get clear errors", "[core][elf][regress]") {
  CHECK_THAT(parse_error("regress_filesz_gt_memsz.elf"),
             Catch::Contains("segment 0 has file size 16 larger than its memory size 8"));
  CHECK_THAT(parse_error("regress_segment_wrap.elf"),
             Catch::Contains("segment 0 at 0xfffff000 (+0x2000 bytes) runs past the end of the "
                             "32-bit address space"));
  CHECK_THAT(parse_error("regress_overlap.elf"),
             Catch::Contains("segments 0 (0x80000000 +0x100) and 1 (0x80000080 +0x10) overlap "
                             "in memory"));
  CHECK_THAT(parse_error("regress_file_overlap.elf"),
             Catch::Contains("the file data of the segments overlap (segment 9 and an earlier "
                             "one)"));
  CHECK_THAT(parse_error("regress_two_symtabs.elf"),
             Catch::Contains("ELF file has more than one symbol table"));
  CHECK_THAT(parse_error("regress_symtab_link.elf"),
             Catch::Contains("symbol table links to section 2, which is not a string table"));
}

TEST_CASE("elf: near-valid files name what is wrong", "[core][elf]") {
  CHECK_THAT(parse_error("near_truncated.elf"),
             Catch::Contains("truncated ELF file: ELF header at offset 0 (+52 bytes) is past the "
                             "end of the file (40 bytes)"));
  CHECK_THAT(parse_error("near_elf64.elf"), Catch::Contains("wrong ELF class ELFCLASS64"));
  CHECK_THAT(parse_error("near_x86.elf"),
             Catch::Contains("wrong ELF machine 3 (expected EM_RISCV = 243)"));
  const ElfImage img = parse_elf(corpus("near_outside_ram.elf"), "near_outside_ram.elf");
  Ram ram(0x1000);
  Bus bus;
  bus.map(MXEMU_RAM_BASE, 0x1000, ram, 0, "ram");
  CHECK_THROWS_WITH(load_elf(img, bus, "near_outside_ram.elf"),
                    Catch::Contains("segment at 0x00001000 (+0x10 bytes) lies outside the memory "
                                    "of the core"));
  CHECK_THROWS_WITH(read_elf_file("tools/fuzz/corpus/elf"), Catch::Contains("is a directory"));
}
