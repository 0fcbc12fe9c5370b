// The GDB remote protocol without a socket (model/core/gdb_packet.h): framing and the commands
// against a fake target. Expected frames are written out from the protocol's definition
// ("$payload#ck", ck = sum of the payload bytes mod 256: "OK" = 0x4f + 0x4b = 0x9a). The inputs
// under tools/fuzz/corpus/gdb_packet/ are byte streams built by tools/fuzz/make_corpus.py;
// regress_*: packets that read out of bounds, wrote garbage or were truncated before.
#include <catch2/catch.hpp>

#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "model/core/gdb_packet.h"

using namespace mxemu::core::gdb;

namespace {

class FakeTarget : public GdbTarget {
 public:
  static constexpr std::uint32_t kBase = 0x80000000U, kSize = 0x1000;
  std::uint32_t regs[kRegPc + 1] = {};
  std::vector<std::uint8_t> mem = std::vector<std::uint8_t>(kSize, 0);
  std::set<std::uint32_t> breakpoints;
  std::map<std::uint32_t, std::uint8_t> writes;  // every byte written, by address

  bool read_register(unsigned n, std::uint32_t& v) override {
    if (n <= kRegPc) {
      v = regs[n];
      return true;
    }
    if (n == kRegCsrBase + 0x301) {  // misa: RV32IM
      v = 0x40001100;
      return true;
    }
    return false;
  }
  bool write_register(unsigned n, std::uint32_t v) override {
    if (n > kRegPc) return false;
    if (n != 0) regs[n] = v;
    return true;
  }
  bool read_memory(std::uint32_t a, std::uint8_t& b) override {
    if (a - kBase >= kSize) return false;
    b = mem[a - kBase];
    return true;
  }
  bool write_memory(std::uint32_t a, std::uint8_t b) override {
    if (a - kBase >= kSize) return false;
    mem[a - kBase] = b;
    writes[a] = b;
    return true;
  }
  void add_breakpoint(std::uint32_t a) override { breakpoints.insert(a); }
  void remove_breakpoint(std::uint32_t a) override { breakpoints.erase(a); }
};

// The packets a byte stream decodes to, and how many frames were bad.
struct Decoded {
  std::vector<std::string> packets;
  int bad = 0, interrupts = 0, acks = 0;
};
Decoded decode(const std::string& bytes) {
  PacketDecoder d;
  Decoded out;
  for (const char c : bytes) {
    switch (d.feed(c)) {
      case PacketDecoder::Kind::kPacket:
        out.packets.push_back(d.payload());
        break;
      case PacketDecoder::Kind::kBadPacket:
        ++out.bad;
        break;
      case PacketDecoder::Kind::kInterrupt:
        ++out.interrupts;
        break;
      case PacketDecoder::Kind::kAck:
        ++out.acks;
        break;
      default:
        break;
    }
  }
  return out;
}

std::string corpus(const std::string& name) {
  std::ifstream f("tools/fuzz/corpus/gdb_packet/" + name, std::ios::binary);
  REQUIRE(f);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

// Replies to every packet of a corpus stream, in order.
std::vector<std::string> replies(const std::string& name, FakeTarget& t) {
  GdbCommands cmd(t);
  std::vector<std::string> out;
  for (const std::string& p : decode(corpus(name)).packets)
    out.push_back(cmd.handle(p).reply.value_or("<no reply>"));
  return out;
}

}  // namespace

TEST_CASE("gdb packets: framing, checksums, escapes, interrupts", "[core][gdb]") {
  CHECK(encode_packet("OK") == "$OK#9a");
  CHECK(encode_packet("") == "$#00");
  // '#' (0x23) goes out as '}' 0x03; the checksum covers the escaped bytes: 0x7d + 0x03 = 0x80.
  CHECK(encode_packet("#") == std::string("$}\x03#80"));
  const Decoded d = decode("+$OK#9a$g#67\x03$OK#00-$x#78");
  CHECK(d.packets == std::vector<std::string>{"OK", "g", "x"});
  CHECK(d.bad == 1);
  CHECK(d.interrupts == 1);
  CHECK(d.acks == 1);
  CHECK(decode(corpus("valid_escaped.bin")).packets == std::vector<std::string>{"m80000000,1"});
  CHECK(decode(corpus("near_restart.bin")).packets == std::vector<std::string>{"?"});
  const Decoded bad = decode(corpus("near_bad_checksum.bin"));
  CHECK(bad.bad == 1);
  CHECK(bad.packets == std::vector<std::string>{"g"});
  for (const std::string& p : {std::string("a$b#c}d*e"), std::string(kMaxPacketBytes, 'z')}) {
    CHECK(decode(encode_packet(p)).packets == std::vector<std::string>{p});
  }
}

TEST_CASE("gdb packets: a session against a fake target", "[core][gdb]") {
  FakeTarget t;
  t.regs[5] = 0x12345678;
  t.regs[kRegPc] = 0x80000000;
  t.mem[0] = 0xde;
  t.mem[1] = 0xad;
  const std::vector<std::string> r = replies("valid_session.bin", t);
  REQUIRE(r.size() == 20);
  CHECK(r[0] == "PacketSize=4000;QStartNoAckMode+;qXfer:features:read+");
  CHECK(r[1] == "OK");                    // QStartNoAckMode
  CHECK(r[3] == "S05");                   // ?
  CHECK(r[4].substr(0, 7) == "l<?xml ");  // the whole description fits 0xffb bytes
  CHECK(r[15] == "<no reply>");           // c
  CHECK(r[5] == "1");
  CHECK(r[8].size() == 33 * 8);                 // g: x0..x31, pc
  CHECK(r[8].substr(5 * 8, 8) == "78563412");   // x5, little-endian
  CHECK(r[8].substr(32 * 8, 8) == "00000080");  // pc
  CHECK(r[9] == "00000080");                    // p20: pc
  CHECK(r[10] == "00110040");                   // p342: misa (CSR 0x301)
  CHECK(r[11] == "dead0000");                   // m80000000,4
  CHECK(r[12] == "OK");                         // M80000100,4:01020304
  CHECK(r[13] == "01020304");                   // m80000100,4
  CHECK(r[14] == "OK");                         // Z0
  CHECK(r[16] == "OK");                         // z0
  CHECK(r[18] == "OK");                         // P5=78563412
  CHECK(r[19] == "OK");                         // D
  CHECK(t.breakpoints.empty());
  CHECK(t.regs[5] == 0x12345678);

  FakeTarget t2;
  GdbCommands cmd(t2);
  using Action = CommandResult::Action;
  CHECK(cmd.handle("c").action == Action::kContinue);
  CHECK_FALSE(cmd.handle("c").reply.has_value());
  CHECK(cmd.handle("s80000010").action == Action::kStep);
  CHECK(t2.regs[kRegPc] == 0x80000010);
  CHECK(cmd.handle("k").action == Action::kKill);
  CHECK(cmd.handle("D").action == Action::kDetach);
  CHECK(*cmd.handle("D").reply == "OK");
  CHECK(*cmd.handle("vCont?").reply == "");
  CHECK(*cmd.handle("Z2,80000000,4").reply == "");    // watchpoints: unsupported
  CHECK(*cmd.handle("m80000ffe,4").reply == "0000");  // partial read up to unmapped memory
  CHECK(*cmd.handle("m0,4").reply == "E14");
  CHECK(*cmd.handle("M0,1:00").reply == "E14");
  CHECK_FALSE(cmd.no_ack());
  CHECK(*cmd.handle("QStartNoAckMode").reply == "OK");
  CHECK(cmd.no_ack());
  cmd.set_last_signal(2);
  CHECK(*cmd.handle("?").reply == "S02");
}

TEST_CASE("gdb packets: regression inputs get E01 and touch nothing", "[core][gdb][regress]") {
  FakeTarget t;
  // M with a length whose double wraps past 2^64: read beyond the packet, 2^63 writes before.
  CHECK(replies("regress_M_len_wrap.bin", t) == std::vector<std::string>{"E01"});
  // m at 0x1_8000_0000: was read at 0x8000_0000 (truncated).
  CHECK(replies("regress_m_addr_wide.bin", t) == std::vector<std::string>{"E01"});
  // p/P of register 2^32 + 1: was register 1.
  CHECK(replies("regress_p_reg_wide.bin", t) == std::vector<std::string>{"E01", "E01"});
  // Non-hex register and memory data, and a short register value: were written as garbage.
  CHECK(replies("regress_G_bad_hex.bin", t) == std::vector<std::string>{"E01"});
  CHECK(replies("regress_M_bad_hex.bin", t) == std::vector<std::string>{"E01"});
  CHECK(replies("regress_P_short.bin", t) == std::vector<std::string>{"E01"});
  CHECK(t.writes.empty());
  for (const std::uint32_t r : t.regs) CHECK(r == 0);
  // A packet longer than the packet size is dropped (answered '-'), the next one is served.
  const Decoded d = decode(corpus("regress_long_packet.bin"));
  CHECK(d.bad == 1);
  CHECK(d.packets == std::vector<std::string>{"?"});
}

TEST_CASE("gdb packets: qRcmd (monitor) decodes hex, answers hex text, refuses bad hex",
          "[core][gdb]") {
  FakeTarget plain;
  GdbCommands none(plain);
  CHECK(*none.handle("qRcmd,68656c70").reply == "");  // a target without monitor commands

  struct MonitorTarget : FakeTarget {
    std::vector<std::string> seen;
    std::optional<std::string> monitor(std::string_view command) override {
      seen.emplace_back(command);
      if (command == "quiet") return std::string();
      if (command == "long") return std::string(kMaxPacketBytes, 'a');
      return std::string("Hi\n");
    }
  } t;
  GdbCommands cmd(t);
  // "help" = 68 65 6c 70; "Hi\n" = 48 69 0a.
  CHECK(*cmd.handle("qRcmd,68656c70").reply == "48690a");
  CHECK(*cmd.handle("qRcmd,717569657").reply == "E01");  // odd number of hex digits
  CHECK(*cmd.handle("qRcmd,7g").reply == "E01");         // not hex
  CHECK(*cmd.handle("qRcmd,7175696574").reply == "OK");  // "quiet": no output
  CHECK(t.seen == std::vector<std::string>{"help", "quiet"});
  // Output longer than a packet is cut, with a note, to fit one reply.
  const std::string r = *cmd.handle("qRcmd,6c6f6e67").reply;
  CHECK(r.size() <= kMaxPacketBytes);
  CHECK(r.substr(0, 4) == "6161");
  CHECK(r.find("2e2e2e2028637574") != std::string::npos);  // "... (cut"
}
