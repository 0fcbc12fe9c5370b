// gdb-multiarch (batch mode) into the chip through `mxemu run --firmware gdb_chip.elf --gdb 0`:
// the debug windows (device registers, launch block, VMEM, accumulators, HBM; docs/CORE.md
// "Debug windows") read back what the host input and the firmware put there, memory and CSR
// writes reach the chip and the firmware, `monitor` lists queues and semaphores, bad addresses
// and commands answer errors, and a session that only reads leaves the run's cycles unchanged.
#include <unistd.h>
#include <catch2/catch.hpp>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "tests/core/fw_path.h"
#include "tests/core/subprocess.h"

using namespace mxemu;

namespace {

bool contains(const std::string& s, const std::string& what) {
  return s.find(what) != std::string::npos;
}

std::filesystem::path temp_file(const std::string& name) {
  return std::filesystem::temp_directory_path() /
         ("mxemu_gdb_chip_" + std::to_string(getpid()) + "_" + name);
}

// The input tensor `x`: 8 FP32 values whose IEEE-754 bit patterns the test knows.
constexpr float kX[8] = {1.0f, -2.0f, 0.5f, 3.0f, 100.0f, -0.25f, 7.0f, 1024.0f};
const char* const kXBits[8] = {"0x3f800000", "0xc0000000", "0x3f000000", "0x40400000",
                               "0x42c80000", "0xbe800000", "0x40e00000", "0x44800000"};

// A version 1.0 .npy file of kX ('<f4', shape (8,)); magic, version, length and header take a
// multiple of 64 bytes.
void write_x_npy(const std::filesystem::path& path) {
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (8,), }";
  header.append(127 - 10 - header.size(), ' ');  // 10 + header + '\n' = 128 bytes
  header += '\n';
  std::string file = "\x93NUMPY";
  file += '\x01';
  file += '\x00';
  file += static_cast<char>(header.size() & 0xff);
  file += static_cast<char>(header.size() >> 8);
  file += header;
  for (const float f : kX) {
    char b[4];
    std::memcpy(b, &f, 4);  // little-endian host
    file.append(b, 4);
  }
  std::ofstream(path, std::ios::binary) << file;
}

// The line `x/Nwx ADDR` prints for its first four words: "0xADDR:\tW0\tW1\tW2\tW3".
std::string xline(const std::string& addr, const std::vector<std::string>& words) {
  std::string s = addr + ":";
  for (const auto& w : words) s += "\t" + w;
  return s + "\n";
}

std::string fmt_addr(std::uint32_t a) {
  char b[16];
  std::snprintf(b, sizeof b, "0x%08x", a);
  return b;
}

// What the error loop prints for `x/1wx ADDR` on an address that cannot be read.
std::string fmt_err_x(const std::string& addr) {
  return "ERR[x/1wx " + addr + "] Cannot access memory at address " + addr;
}

struct Session {
  std::string gdb_out, gdb_err, emu_out, emu_err;
  int gdb_rc = -1, emu_rc = -1;
  bool listened = false;
};

// Starts mxemu on gdb_chip.elf with the input x and `extra` arguments, waits for its port, runs
// gdb-multiarch -batch on the script prologue + `body`, and waits for both to end (bounded).
Session run_session(const std::string& body, const std::vector<std::string>& extra) {
  const std::string elf = test::firmware_elf("gdb_chip");
  const auto npy = temp_file("x.npy");
  write_x_npy(npy);
  std::vector<std::string> argv = {test::mxemu_binary(), "run",   "--firmware", elf, "--in",
                                   "x=" + npy.string(),  "--gdb", "0"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  test::Child emu(argv);
  Session s;
  std::smatch m;
  const std::regex listen_re(R"(listening on 127\.0\.0\.1:([0-9]+))");
  s.listened = emu.wait_until([&] { return std::regex_search(emu.err(), m, listen_re); }, 20);
  if (s.listened) {
    const auto script = temp_file("session.gdb");
    std::ofstream(script) << "set pagination off\n"
                             "set confirm off\n"
                             "set architecture riscv:rv32\n"
                             "file "
                          << elf << "\n"
                          << "target remote 127.0.0.1:" << m[1] << "\n"
                          << body;
    test::Child gdb({"gdb-multiarch", "-batch", "-nx", "-x", script.string()});
    s.gdb_rc = gdb.finish(60);
    s.gdb_out = gdb.out();
    s.gdb_err = gdb.err();
    std::filesystem::remove(script);
  }
  s.emu_rc = emu.finish(20);
  s.emu_out = emu.out();
  s.emu_err = emu.err();
  std::filesystem::remove(npy);
  return s;
}

// Every window read at probe(1) and probe(2); no writes.
const char* const kReads =
    "break probe\n"
    "continue\n"
    "x/4wx 0x20002010\n"
    "x/1wx 0x20002000\n"
    "x/2wx 0x20000184\n"
    "x/8wx 0x20001000\n"
    "x/4wx 0x30000000\n"
    "x/4wx 0x30000020\n"
    "x/8wx 0x40000100\n"
    "x/8wx 0x51000040\n"
    "x/8wx 0x60000000\n"
    "x/1bx 0x20002011\n"
    "info registers mstatus mscratch mcycle minstret\n"
    "monitor queues\n"
    "monitor sems\n"
    "monitor map\n";

}  // namespace

TEST_CASE("gdb reads and writes the chip's debug windows, CSRs and monitor state",
          "[core][gdb][chip]") {
  const std::string body =
      std::string(kReads) +
      // CYCLE_LO (SystemC time, synced at the stop) and mcycle (the hart's count) agree.
      "python\n"
      "lo = int(gdb.parse_and_eval('*(unsigned int *)0x20002008'))\n"
      "mc = int(gdb.parse_and_eval('$mcycle')) & 0xffffffff\n"
      "print('CYCLE_MATCH=%d' % (lo == mc))\n"
      "end\n"
      // Writes: VMEM words and a byte, a semaphore, HBM bytes, CSRs.
      "set {unsigned int}0x40000200 = 0x11223344\n"
      "set {unsigned int}0x40000204 = 0x55667788\n"
      "set {unsigned int}0x40000208 = 0\n"
      "set {unsigned char}0x40000208 = 0x7f\n"
      "set {unsigned int}0x4000020c = 0xdeadbeef\n"
      "x/4wx 0x40000200\n"
      "set {unsigned int}0x20001020 = 5\n"
      "x/1wx 0x20001020\n"
      "set {unsigned int}0x51000400 = 0x40490fdb\n"
      "x/1wx 0x51000400\n"
      "set {unsigned char}0x60000011 = 0x5a\n"
      "x/1wx 0x60000010\n"
      "set $mscratch = 0x5a5a1234\n"
      "set $minstret = 1000\n"
      "maint flush register-cache\n"
      "printf \"MSCRATCH=%#x\\n\", $mscratch\n"
      "printf \"MINSTRET=%u\\n\", $minstret\n"
      "monitor sems\n"
      // Errors: each command's outcome printed, none ends the session.
      "python\n"
      "for c in ['x/1wx 0x90000000', 'x/1wx 0x42000000', 'x/1wx 0x52000000',\n"
      "          'x/1wx 0x20002ffc', 'x/1wx 0x20000384', 'set {char}0x20001014 = 1',\n"
      "          'set {short}0x20001016 = 1', 'set $mhartid = 5',\n"
      "          'maint packet Pc41=05000000', 'maint packet m90000000',\n"
      "          'maint packet qRcmd,6', 'maint packet qRcmd,zz',\n"
      "          'monitor bogus', 'monitor hbm-window zz', 'monitor hbm-window 0x3',\n"
      "          'monitor hbm-window 0x1000000000', 'monitor sems 3',\n"
      "          'monitor hbm-window 0xffffff000', 'x/1wx 0x60000ffc', 'x/1wx 0x60001000',\n"
      "          'monitor hbm-window 0']:\n"
      "    try:\n"
      "        print('OK[%s] %s' % (c, gdb.execute(c, to_string=True).strip()))\n"
      "    except gdb.error as e:\n"
      "        print('ERR[%s] %s' % (c, e))\n"
      "end\n"
      "echo AFTER_ERRORS\\n\n"
      "continue\n"
      // probe(2): the firmware copied VMEM 0x200.. (written above) to HBM 0x10000000.
      "monitor hbm-window 0x10000000\n"
      "x/4wx 0x60000000\n"
      "monitor queues\n"
      "continue\n";
  const Session s = run_session(body, {});
  INFO("gdb stdout:\n"
       << s.gdb_out << "\ngdb stderr:\n"
       << s.gdb_err << "\nmxemu stdout:\n"
       << s.emu_out << "\nmxemu stderr:\n"
       << s.emu_err);
  REQUIRE(s.listened);
  CHECK(s.gdb_rc == 0);
  // gdb prints `monitor` output on its target stream (stderr), the rest on stdout.
  const std::string o = s.gdb_out + s.gdb_err;
  CHECK(contains(o, "Breakpoint 1, probe (phase=phase@entry=1)"));
  // Device registers: NUM_MXU, MXU_ROWS, MXU_COLS, VMEM_BYTES of mx1 (2 MXUs of 128 x 128, 32 MiB
  // of VMEM); FENCE answers 0 at once although the VPU still has work (no wait, no hang).
  CHECK(contains(o, xline("0x20002010", {"0x00000002", "0x00000080", "0x00000080", "0x02000000"})));
  CHECK(contains(o, xline("0x20002000", {"0x00000000"})));
  CHECK(contains(o, "0x20002011:\t0x00\n"));  // a byte of NUM_MXU (2) = 0x00000002, byte 1
  // VPU queue COUNT (two NOPs pushed, none done) and DONE.
  CHECK(contains(o, xline("0x20000184", {"0x00000002", "0x00000000"})));
  // Semaphores: 3 signalled by both DMAs, 7 set to 42 by the firmware.
  CHECK(contains(o, xline("0x20001000", {"0x00000000", "0x00000000", "0x00000000", "0x00000002"})));
  CHECK(contains(o, xline("0x20001010", {"0x00000000", "0x00000000", "0x00000000", "0x0000002a"})));
  // Launch block: magic "MXLB", 3 entries (x, hbm_free, mx_block), ABI version 2, chip 0; then
  // entry 0, named "x" (0x78).
  CHECK(contains(o, xline("0x30000000", {"0x4d584c42", "0x00000003", "0x00000002", "0x00000000"})));
  CHECK(contains(o, xline("0x30000020", {"0x00000078", "0x00000000", "0x00000000", "0x00000000"})));
  // x in VMEM+0x100 and ACC1+0x40 (copied by the firmware) and in HBM 0 (put by the host).
  const std::vector<std::string> lo(kXBits, kXBits + 4), hi(kXBits + 4, kXBits + 8);
  for (const char* base : {"0x40000100", "0x51000040", "0x60000000"}) {
    const std::uint32_t a = static_cast<std::uint32_t>(std::stoul(base, nullptr, 16));
    CHECK(contains(o, xline(base, lo)));
    CHECK(contains(o, xline(fmt_addr(a + 16), hi)));
  }
  CHECK(contains(o, "CYCLE_MATCH=1"));
  // monitor queues: the VPU's first NOP waits for semaphore 5, the second is queued.
  CHECK(
      std::regex_search(o, std::regex(R"(VPU \(queue 1\): 1 in flight, 1 queued of 64, 0 done)")));
  CHECK(contains(o, "  #0 NOP: waits for 1 on semaphore 5 (value 0) [wait sem 5 x1 signal sem 6]"));
  CHECK(contains(o, "  #1 NOP: queued\n"));
  CHECK(contains(o, "DMA (queue 0): 0 in flight, 0 queued of 64, 2 done"));
  // monitor sems before and after the write of semaphore 8.
  CHECK(contains(o, "sem 3 = 2\n"));
  CHECK(contains(o, "sem 7 = 42\n"));
  CHECK(contains(o, "sem 8 = 5\n"));
  CHECK(contains(o, "0x40000000-0x41ffffff    VMEM (debug window)"));
  CHECK(contains(o, "0x60000000-0x6fffffff    HBM window"));
  // Writes read back (the byte write patched one byte of a zero word; HBM bytes likewise, in
  // x[4] = 100.0f = 0x42c80000).
  CHECK(contains(o, xline("0x40000200", {"0x11223344", "0x55667788", "0x0000007f", "0xdeadbeef"})));
  CHECK(contains(o, xline("0x20001020", {"0x00000005"})));
  CHECK(contains(o, xline("0x51000400", {"0x40490fdb"})));
  CHECK(contains(o, xline("0x60000010", {"0x42c85a00"})));
  CHECK(contains(o, "MSCRATCH=0x5a5a1234"));
  CHECK(contains(o, "MINSTRET=1000\n"));
  // Errors: unmapped addresses (beyond RAM, past VMEM's end, an MXU the chip lacks, an unknown
  // register, a queue the chip lacks), partial-word stores to registers, read-only CSRs.
  for (const char* a :
       {"0x90000000", "0x42000000", "0x52000000", "0x20002ffc", "0x20000384", "0x60001000"}) {
    CHECK(contains(o, fmt_err_x(a)));
  }
  CHECK(contains(o, "ERR[set {char}0x20001014 = 1] Cannot access memory at address 0x20001014"));
  CHECK(contains(o, "ERR[set {short}0x20001016 = 1] Cannot access memory at address 0x20001016"));
  CHECK(std::regex_search(o,
                          std::regex(R"(ERR\[set \$mhartid = 5\] Could not write register.*E01)")));
  // Raw packets: a write of the read-only CSR cycle (0xc00: register 65 + 0xc00 = 0xc41), an m
  // packet without its length, qRcmd with odd or non-hex text.
  for (const char* p : {"Pc41=05000000", "m90000000", "qRcmd,6", "qRcmd,zz"}) {
    CHECK(std::regex_search(o, std::regex(std::string(R"(OK\[maint packet )") + p +
                                          R"(\] sending: )" + p + R"(\s+received: "E01")")));
  }
  CHECK(contains(o, "OK[monitor bogus] unknown monitor command 'bogus' (monitor help lists them)"));
  CHECK(contains(o, "OK[monitor hbm-window zz] hbm-window: 'zz' is not an address"));
  CHECK(contains(o, "OK[monitor hbm-window 0x3] hbm-window: 0x3 is not a 4-byte aligned address"));
  CHECK(contains(o, "OK[monitor hbm-window 0x1000000000] hbm-window: 0x1000000000 is not"));
  CHECK(contains(o, "OK[monitor sems 3] sems takes no arguments"));
  // The last 4 KiB of the 64 GiB HBM (mx1: 4 stacks x 16 GiB): the window ends with it.
  CHECK(contains(o,
                 "OK[monitor hbm-window 0xffffff000] HBM window 0x60000000-0x60000fff shows HBM "
                 "0xffffff000-0xfffffffff"));
  CHECK(contains(o, "OK[x/1wx 0x60000ffc] 0x60000ffc:\t0x00000000"));
  CHECK(contains(o, "AFTER_ERRORS"));
  // probe(2): gdb's VMEM words went through the firmware's DMA into HBM 0x10000000.
  CHECK(contains(o, "Breakpoint 1, probe (phase=phase@entry=2)"));
  CHECK(contains(o, xline("0x60000000", {"0x11223344", "0x55667788", "0x0000007f", "0xdeadbeef"})));
  CHECK(contains(o, "VPU (queue 1): 0 in flight, 0 queued of 64, 2 done"));
  CHECK(contains(o, "exited normally"));
  // The firmware saw the CSR and semaphore writes: the NOP took semaphore 5 (set to 1 by the
  // firmware) and signalled 6; semaphore 8 holds what gdb wrote.
  CHECK(s.emu_out == "mscratch=0x5a5a1234 sem5=0 sem6=1 sem8=5\n");
  CHECK(s.emu_rc == 0);
}

TEST_CASE("a gdb session that only reads the chip changes no cycle", "[core][gdb][chip]") {
  const auto stats_gdb = temp_file("gdb.json"), stats_plain = temp_file("plain.json");
  const Session s =
      run_session(std::string(kReads) + "continue\nmonitor queues\nx/8wx 0x40000100\ncontinue\n",
                  {"--stats", stats_gdb.string()});
  INFO("gdb stdout:\n" << s.gdb_out << "\nmxemu stderr:\n" << s.emu_err);
  REQUIRE(s.listened);
  CHECK(s.gdb_rc == 0);
  CHECK(contains(s.gdb_out, "Breakpoint 1, probe (phase=phase@entry=2)"));
  CHECK(s.emu_rc == 0);

  const auto npy = temp_file("x.npy");
  write_x_npy(npy);
  test::Child plain({test::mxemu_binary(), "run", "--firmware", test::firmware_elf("gdb_chip"),
                     "--in", "x=" + npy.string(), "--stats", stats_plain.string()});
  CHECK(plain.finish(30) == 0);
  std::filesystem::remove(npy);
  CHECK(plain.out() == s.emu_out);
  CHECK(plain.out() == "mscratch=0x00000000 sem5=0 sem6=1 sem8=0\n");

  const auto field = [](const std::filesystem::path& p, const std::string& key) {
    std::ifstream in(p);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::smatch m;
    return std::regex_search(text, m, std::regex("\"" + key + "\":\\s*([0-9]+)")) ? m[1].str()
                                                                                  : "missing";
  };
  CHECK(field(stats_gdb, "total_cycles") != "missing");
  CHECK(field(stats_gdb, "total_cycles") == field(stats_plain, "total_cycles"));
  CHECK(field(stats_gdb, "instret") == field(stats_plain, "instret"));
  CHECK(field(stats_gdb, "busy_cycles") == field(stats_plain, "busy_cycles"));
  std::filesystem::remove(stats_gdb);
  std::filesystem::remove(stats_plain);
}
