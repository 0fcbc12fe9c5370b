#include "model/core/gdb_packet.h"

#include <fmt/format.h>

#include <algorithm>
#include <vector>

#include "model/core/hart.h"

namespace mxemu::core::gdb {

namespace {

constexpr std::uint64_t kAddressSpace = std::uint64_t{1} << 32;

int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// 1 to 16 hex digits, nothing else.
bool parse_hex(std::string_view s, std::uint64_t& v) {
  if (s.empty() || s.size() > 16) return false;
  v = 0;
  for (const char c : s) {
    const int h = hexval(c);
    if (h < 0) return false;
    v = v << 4 | static_cast<unsigned>(h);
  }
  return true;
}

bool parse_address(std::string_view s, std::uint32_t& a) {
  std::uint64_t v = 0;
  if (!parse_hex(s, v) || v >= kAddressSpace) return false;
  a = static_cast<std::uint32_t>(v);
  return true;
}

// Exactly 8 hex digits: a 32-bit register in target (little-endian) byte order.
bool parse_le32(std::string_view s, std::uint32_t& v) {
  if (s.size() != 8) return false;
  v = 0;
  for (int i = 0; i < 4; ++i) {
    const int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    v |= static_cast<std::uint32_t>(hi << 4 | lo) << (8 * i);
  }
  return true;
}

std::string hex32le(std::uint32_t v) {
  return fmt::format("{:02x}{:02x}{:02x}{:02x}", v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff,
                     v >> 24);
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

}  // namespace

PacketDecoder::Kind PacketDecoder::feed(char c) {
  switch (state_) {
    case State::kIdle:
      if (c == '$') {
        state_ = State::kBody;
        payload_.clear();
        sum_ = 0;
        overflow_ = false;
        return Kind::kNone;
      }
      if (c == kInterruptByte) return Kind::kInterrupt;
      if (c == '+') return Kind::kAck;
      if (c == '-') return Kind::kNak;
      return Kind::kNone;  // noise between packets
    case State::kBody:
      if (c == '#') {
        state_ = State::kCheck1;
        return Kind::kNone;
      }
      if (c == '$') {  // a new packet starts: the unfinished one is lost
        payload_.clear();
        sum_ = 0;
        overflow_ = false;
        return Kind::kNone;
      }
      sum_ += static_cast<unsigned char>(c);
      if (c == '}') {
        state_ = State::kEscape;
        return Kind::kNone;
      }
      break;
    case State::kEscape:
      sum_ += static_cast<unsigned char>(c);
      c = static_cast<char>(c ^ 0x20);
      state_ = State::kBody;
      break;
    case State::kCheck1:
      check_hi_ = hexval(c);
      state_ = State::kCheck2;
      return Kind::kNone;
    case State::kCheck2: {
      state_ = State::kIdle;
      const int lo = hexval(c);
      const bool ok = check_hi_ >= 0 && lo >= 0 &&
                      static_cast<unsigned>(check_hi_ * 16 + lo) == (sum_ & 0xff) && !overflow_;
      if (!ok) payload_.clear();
      return ok ? Kind::kPacket : Kind::kBadPacket;
    }
  }
  // A payload byte (kBody or kEscape).
  if (payload_.size() < max_payload_) {
    payload_.push_back(c);
  } else {
    overflow_ = true;
  }
  return Kind::kNone;
}

std::string encode_packet(std::string_view payload) {
  std::string frame = "$";
  unsigned sum = 0;
  auto put = [&](char c) {
    frame.push_back(c);
    sum += static_cast<unsigned char>(c);
  };
  for (const char c : payload) {
    if (c == '$' || c == '#' || c == '}' || c == '*') {
      put('}');
      put(static_cast<char>(c ^ 0x20));
    } else {
      put(c);
    }
  }
  return frame + fmt::format("#{:02x}", sum & 0xff);
}

std::string target_xml() {
  static constexpr const char* kXNames[32] = {"zero", "ra", "sp",  "gp",  "tp", "t0", "t1", "t2",
                                              "fp",   "s1", "a0",  "a1",  "a2", "a3", "a4", "a5",
                                              "a6",   "a7", "s2",  "s3",  "s4", "s5", "s6", "s7",
                                              "s8",   "s9", "s10", "s11", "t3", "t4", "t5", "t6"};
  static constexpr struct {
    const char* name;
    std::uint32_t csr;
  } kCsrs[] = {{"mstatus", kCsrMstatus},     {"misa", kCsrMisa},         {"mie", kCsrMie},
               {"mtvec", kCsrMtvec},         {"mscratch", kCsrMscratch}, {"mepc", kCsrMepc},
               {"mcause", kCsrMcause},       {"mtval", kCsrMtval},       {"mip", kCsrMip},
               {"mcycle", kCsrMcycle},       {"minstret", kCsrMinstret}, {"mcycleh", kCsrMcycleh},
               {"minstreth", kCsrMinstreth}, {"mhartid", kCsrMhartid}};
  std::string x =
      "<?xml version=\"1.0\"?><!DOCTYPE target SYSTEM \"gdb-target.dtd\"><target version=\"1.0\">"
      "<architecture>riscv:rv32</architecture><feature name=\"org.gnu.gdb.riscv.cpu\">";
  for (unsigned i = 0; i < 32; ++i) {
    x += fmt::format(R"(<reg name="{}" bitsize="32" type="{}" regnum="{}"/>)", kXNames[i],
                     i == 1 ? "code_ptr" : (i == 2 || i == 8 ? "data_ptr" : "int"), i);
  }
  x += R"(<reg name="pc" bitsize="32" type="code_ptr" regnum="32"/></feature>)";
  x += "<feature name=\"org.gnu.gdb.riscv.csr\">";
  for (const auto& c : kCsrs) {
    x += fmt::format(
        "<reg name=\"{}\" bitsize=\"32\" type=\"int\" group=\"csr\" save-restore=\"no\" "
        "regnum=\"{}\"/>",
        c.name, kRegCsrBase + c.csr);
  }
  return x + "</feature></target>";
}

std::uint64_t GdbTarget::read_block(std::uint32_t address, std::span<std::uint8_t> out) {
  std::uint64_t n = 0;
  while (n < out.size() && read_memory(static_cast<std::uint32_t>(address + n), out[n])) ++n;
  return n;
}

bool GdbTarget::write_block(std::uint32_t address, std::span<const std::uint8_t> in) {
  for (std::uint64_t i = 0; i < in.size(); ++i)
    if (!write_memory(static_cast<std::uint32_t>(address + i), in[i])) return false;
  return true;
}

std::string GdbCommands::memory_read(std::string_view args) {
  const auto comma = args.find(',');
  std::uint32_t addr = 0;
  std::uint64_t len = 0;
  if (comma == std::string_view::npos || !parse_address(args.substr(0, comma), addr) ||
      !parse_hex(args.substr(comma + 1), len) || len > kMaxMemoryBytes ||
      addr + len > kAddressSpace)
    return "E01";
  std::vector<std::uint8_t> bytes(len);
  const std::uint64_t n = std::min<std::uint64_t>(t_.read_block(addr, bytes), len);
  // A partial read ends at the first byte that cannot be read; none at all is an error.
  if (n == 0 && len != 0) return "E14";
  constexpr std::string_view kHex = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (std::uint64_t i = 0; i < n; ++i) {
    out += kHex[bytes[i] >> 4];
    out += kHex[bytes[i] & 15];
  }
  return out;
}

std::string GdbCommands::memory_write(std::string_view args) {
  const auto comma = args.find(','), colon = args.find(':');
  std::uint32_t addr = 0;
  std::uint64_t len = 0;
  if (comma == std::string_view::npos || colon == std::string_view::npos || colon < comma ||
      !parse_address(args.substr(0, comma), addr) ||
      !parse_hex(args.substr(comma + 1, colon - comma - 1), len) || len > kMaxMemoryBytes ||
      addr + len > kAddressSpace)
    return "E01";
  const std::string_view data = args.substr(colon + 1);
  if (data.size() != 2 * len) return "E01";
  for (const char c : data)
    if (hexval(c) < 0) return "E01";
  std::vector<std::uint8_t> bytes(len);
  for (std::uint64_t i = 0; i < len; ++i)
    bytes[i] = static_cast<std::uint8_t>(hexval(data[2 * i]) << 4 | hexval(data[2 * i + 1]));
  return t_.write_block(addr, bytes) ? "OK" : "E14";
}

std::string GdbCommands::monitor(std::string_view hex_command) {
  // "qRcmd,<hex of the command line>"; gdb shows the reply's hex text.
  if (hex_command.size() % 2 != 0) return "E01";
  std::string cmd;
  cmd.reserve(hex_command.size() / 2);
  for (std::size_t i = 0; i < hex_command.size(); i += 2) {
    const int hi = hexval(hex_command[i]), lo = hexval(hex_command[i + 1]);
    if (hi < 0 || lo < 0) return "E01";
    cmd.push_back(static_cast<char>(hi << 4 | lo));
  }
  const std::optional<std::string> text = t_.monitor(cmd);
  if (!text) return "";
  if (text->empty()) return "OK";
  constexpr std::string_view kHex = "0123456789abcdef";
  constexpr std::string_view kCut = "... (cut: more than one packet)\n";
  std::string_view shown = *text;
  if (2 * shown.size() > kMaxPacketBytes)
    shown = shown.substr(0, kMaxPacketBytes / 2 - kCut.size());
  std::string out;
  out.reserve(2 * (shown.size() + kCut.size()));
  const auto put = [&](std::string_view part) {
    for (const char c : part) {
      const auto b = static_cast<unsigned char>(c);
      out += kHex[b >> 4];
      out += kHex[b & 15];
    }
  };
  put(shown);
  if (shown.size() < text->size()) put(kCut);
  return out;
}

std::string GdbCommands::breakpoint(std::string_view p) {
  // Z0 (software) and Z1 (hardware) breakpoints are the same thing here: a pc match.
  // "Z<type>,<addr>,<kind>"; other types (watchpoints) are unsupported: empty reply.
  if (p.size() < 2 || (p[1] != '0' && p[1] != '1')) return "";
  if (p.size() < 3 || p[2] != ',') return "E01";
  std::string_view rest = p.substr(3);
  const auto comma = rest.find(',');
  std::uint32_t addr = 0;
  std::uint64_t kind = 0;
  if (!parse_address(rest.substr(0, comma), addr)) return "E01";
  if (comma != std::string_view::npos && !parse_hex(rest.substr(comma + 1), kind)) return "E01";
  if (p[0] == 'Z') {
    t_.add_breakpoint(addr);
  } else {
    t_.remove_breakpoint(addr);
  }
  return "OK";
}

std::string GdbCommands::features(std::string_view annex_range) {
  constexpr std::string_view kAnnex = "target.xml:";
  if (!starts_with(annex_range, kAnnex)) return "E00";
  const std::string_view range = annex_range.substr(kAnnex.size());
  const auto comma = range.find(',');
  std::uint64_t off = 0, len = 0;
  if (comma == std::string_view::npos || !parse_hex(range.substr(0, comma), off) ||
      !parse_hex(range.substr(comma + 1), len))
    return "E01";
  const std::string xml = target_xml();
  if (off >= xml.size()) return "l";
  // The reply ('m' or 'l' and the part) must fit the advertised packet size.
  len = std::min<std::uint64_t>(len, kMaxPacketBytes - 1);
  const std::string part = xml.substr(off, len);
  return (off + part.size() < xml.size() ? "m" : "l") + part;
}

CommandResult GdbCommands::handle(std::string_view p) {
  using Action = CommandResult::Action;
  CommandResult r;
  if (p.empty()) {
    r.reply = "";
    return r;
  }
  switch (p[0]) {
    case '?':
      r.reply = fmt::format("S{:02x}", last_signal_ & 0xff);
      break;
    case 'g': {
      std::string s;
      for (unsigned i = 0; i <= kRegPc; ++i) {
        std::uint32_t v = 0;
        s += t_.read_register(i, v) ? hex32le(v) : "xxxxxxxx";
      }
      r.reply = std::move(s);
      break;
    }
    case 'G': {
      // x0..x31 then pc, 8 hex digits each; gdb sends the length it got from 'g'.
      const std::string_view regs = p.substr(1);
      if (regs.empty() || regs.size() % 8 != 0 || regs.size() > 8 * (kRegPc + 1)) {
        r.reply = "E01";
        break;
      }
      std::uint32_t v[kRegPc + 1] = {};
      const std::size_t n = regs.size() / 8;
      bool ok = true;
      for (std::size_t i = 0; i < n && ok; ++i) ok = parse_le32(regs.substr(8 * i, 8), v[i]);
      if (ok)
        for (std::size_t i = 0; i < n; ++i) t_.write_register(static_cast<unsigned>(i), v[i]);
      r.reply = ok ? "OK" : "E01";
      break;
    }
    case 'p': {
      std::uint64_t n = 0;
      std::uint32_t v = 0;
      r.reply = parse_hex(p.substr(1), n) && n < kRegCsrEnd &&
                        t_.read_register(static_cast<unsigned>(n), v)
                    ? hex32le(v)
                    : "E01";
      break;
    }
    case 'P': {
      const auto eq = p.find('=');
      std::uint64_t n = 0;
      std::uint32_t v = 0;
      r.reply = eq != std::string_view::npos && parse_hex(p.substr(1, eq - 1), n) &&
                        n < kRegCsrEnd && parse_le32(p.substr(eq + 1), v) &&
                        t_.write_register(static_cast<unsigned>(n), v)
                    ? "OK"
                    : "E01";
      break;
    }
    case 'm':
      r.reply = memory_read(p.substr(1));
      break;
    case 'M':
      r.reply = memory_write(p.substr(1));
      break;
    case 'Z':
    case 'z':
      r.reply = breakpoint(p);
      break;
    case 'c':
    case 's': {
      std::uint32_t addr = 0;
      if (p.size() > 1) {
        if (!parse_address(p.substr(1), addr)) {
          r.reply = "E01";
          break;
        }
        t_.write_register(kRegPc, addr);
      }
      r.action = p[0] == 'c' ? Action::kContinue : Action::kStep;
      break;
    }
    case 'D':
      r.reply = "OK";
      r.action = Action::kDetach;
      break;
    case 'k':
      r.action = Action::kKill;
      break;
    case 'H':
    case 'T':
      r.reply = "OK";
      break;
    case 'q':
      if (starts_with(p, "qSupported")) {
        r.reply =
            fmt::format("PacketSize={:x};QStartNoAckMode+;qXfer:features:read+", kMaxPacketBytes);
      } else if (starts_with(p, "qXfer:features:read:")) {
        r.reply = features(p.substr(std::string_view("qXfer:features:read:").size()));
      } else if (p == "qfThreadInfo") {
        r.reply = "m1";
      } else if (p == "qsThreadInfo") {
        r.reply = "l";
      } else if (p == "qC") {
        r.reply = "QC1";
      } else if (p == "qAttached") {
        r.reply = "1";
      } else if (starts_with(p, "qSymbol")) {
        r.reply = "OK";
      } else if (starts_with(p, "qRcmd,")) {
        r.reply = monitor(p.substr(std::string_view("qRcmd,").size()));
      } else {
        r.reply = "";
      }
      break;
    case 'Q':
      if (p == "QStartNoAckMode") {
        no_ack_ = true;
        r.reply = "OK";
      } else {
        r.reply = "";
      }
      break;
    default:
      r.reply = "";  // unsupported: gdb falls back (vCont -> c/s, X -> M)
      break;
  }
  return r;
}

}  // namespace mxemu::core::gdb
