#include "model/core/gdb_stub.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "model/common/error.h"

namespace mxemu::core {

namespace {
constexpr unsigned kRegPc = 32;
constexpr unsigned kRegCsrBase = 65;
constexpr char kInterruptByte = 0x03;

std::string hex32le(std::uint32_t v) {
  return fmt::format("{:02x}{:02x}{:02x}{:02x}", v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff,
                     v >> 24);
}
int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
bool parse_hex(const std::string& s, std::uint64_t& v) {
  if (s.empty() || s.size() > 16) return false;
  v = 0;
  for (char c : s) {
    const int h = hexval(c);
    if (h < 0) return false;
    v = v << 4 | static_cast<unsigned>(h);
  }
  return true;
}
std::uint32_t parse_le32(const std::string& s) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4 && 2 * i + 1 < static_cast<int>(s.size()); ++i)
    v |= static_cast<std::uint32_t>(hexval(s[2 * i]) << 4 | hexval(s[2 * i + 1])) << (8 * i);
  return v;
}
// Target description: the RV32 integer registers and pc (numbers 0..32), and the machine CSRs
// this core has at 65 + CSR number (gdb's own numbering), read through 'p'.
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
  for (unsigned i = 0; i < 32; ++i)
    x += fmt::format("<reg name=\"{}\" bitsize=\"32\" type=\"{}\" regnum=\"{}\"/>", kXNames[i],
                     i == 1 ? "code_ptr" : (i == 2 || i == 8 ? "data_ptr" : "int"), i);
  x += "<reg name=\"pc\" bitsize=\"32\" type=\"code_ptr\" regnum=\"32\"/></feature>";
  x += "<feature name=\"org.gnu.gdb.riscv.csr\">";
  for (const auto& c : kCsrs)
    x += fmt::format(
        "<reg name=\"{}\" bitsize=\"32\" type=\"int\" group=\"csr\" save-restore=\"no\" "
        "regnum=\"{}\"/>",
        c.name, kRegCsrBase + c.csr);
  return x + "</feature></target>";
}

}  // namespace

GdbStub::GdbStub(Machine& machine, std::uint16_t port) : m_(machine) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (listen_fd_ < 0) throw_bad_input("gdb: cannot create a socket: {}", std::strerror(errno));
  const int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::listen(listen_fd_, 1) != 0) {
    const std::string why = std::strerror(errno);
    ::close(listen_fd_);
    throw_bad_input("gdb: cannot listen on 127.0.0.1:{}: {}", port, why);
  }
  socklen_t len = sizeof a;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
  port_ = ntohs(a.sin_port);
}

GdbStub::~GdbStub() {
  if (fd_ >= 0) ::close(fd_);
  if (listen_fd_ >= 0) ::close(listen_fd_);
}

void GdbStub::accept_connection() {
  fd_ = ::accept(listen_fd_, nullptr, nullptr);
  if (fd_ < 0) throw_bad_input("gdb: accept failed: {}", std::strerror(errno));
  const int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

bool GdbStub::read_byte(char& c) {
  for (;;) {
    const ssize_t n = ::recv(fd_, &c, 1, 0);
    if (n == 1) return true;
    if (n < 0 && errno == EINTR) continue;
    return false;
  }
}

bool GdbStub::read_packet(std::string& packet) {
  char c;
  for (;;) {
    if (!read_byte(c)) return false;
    if (c == kInterruptByte) {
      pending_interrupt_ = true;
      continue;
    }
    if (c != '$') continue;  // acks and noise
    packet.clear();
    unsigned sum = 0;
    while (read_byte(c) && c != '#') {
      packet.push_back(c);
      sum += static_cast<unsigned char>(c);
    }
    char ck[2];
    if (!read_byte(ck[0]) || !read_byte(ck[1])) return false;
    const bool ok = hexval(ck[0]) * 16 + hexval(ck[1]) == static_cast<int>(sum & 0xff);
    if (!no_ack_) {
      const char reply = ok ? '+' : '-';
      ::send(fd_, &reply, 1, MSG_NOSIGNAL);
    }
    if (ok) return true;
  }
}

void GdbStub::send_packet(const std::string& payload) {
  unsigned sum = 0;
  for (char c : payload) sum += static_cast<unsigned char>(c);
  const std::string frame = fmt::format("${}#{:02x}", payload, sum & 0xff);
  for (int attempt = 0; attempt < 3; ++attempt) {
    ::send(fd_, frame.data(), frame.size(), MSG_NOSIGNAL);
    if (no_ack_) return;
    char c;
    do {
      if (!read_byte(c)) return;
      if (c == kInterruptByte) pending_interrupt_ = true;
    } while (c != '+' && c != '-');
    if (c == '+') return;
  }
}

bool GdbStub::read_register(unsigned n, std::uint32_t& v) const {
  const Hart& h = m_.hart();
  if (n < 32) {
    v = h.reg(n);
    return true;
  }
  if (n == kRegPc) {
    v = h.pc();
    return true;
  }
  if (n >= kRegCsrBase && n < kRegCsrBase + 4096) return h.read_csr(n - kRegCsrBase, v);
  return false;
}

std::string GdbStub::read_registers() const {
  std::string s;
  for (unsigned i = 0; i <= kRegPc; ++i) {
    std::uint32_t v = 0;
    read_register(i, v);
    s += hex32le(v);
  }
  return s;
}

bool GdbStub::interrupt_requested() {
  if (pending_interrupt_) return true;
  pollfd p{fd_, POLLIN, 0};
  while (::poll(&p, 1, 0) == 1 && (p.revents & POLLIN) != 0) {
    char c;
    if (::recv(fd_, &c, 1, MSG_DONTWAIT) != 1) break;
    if (c == kInterruptByte) pending_interrupt_ = true;
  }
  return pending_interrupt_;
}

DebugAgent::Resume GdbStub::on_stop(int signal) {
  pending_interrupt_ = false;
  last_signal_ = signal;
  if (!first_stop_) send_packet(fmt::format("S{:02x}", signal));
  first_stop_ = false;
  std::string p;
  for (;;) {
    if (!read_packet(p)) return Resume::kKill;  // gdb went away: end the run
    bool resume = false;
    Resume how = Resume::kContinue;
    const std::string reply = handle(p, resume, how);
    if (resume) return how;
    send_packet(reply);
    if (p == "QStartNoAckMode") no_ack_ = true;
  }
}

void GdbStub::on_exit(int code, int signal) {
  if (fd_ < 0) return;
  if (signal != 0)
    send_packet(fmt::format("X{:02x}", signal));
  else
    send_packet(fmt::format("W{:02x}", code & 0xff));
}

std::string GdbStub::handle(const std::string& p, bool& resume, Resume& how) {
  Hart& h = m_.hart();
  Bus& bus = m_.bus();
  if (p.empty()) return "";
  switch (p[0]) {
    case '?':
      return fmt::format("S{:02x}", last_signal_);
    case 'g':
      return read_registers();
    case 'G':
      for (unsigned i = 0; i <= kRegPc && 8 * i + 8 <= p.size() - 1; ++i) {
        const std::uint32_t v = parse_le32(p.substr(1 + 8 * i, 8));
        if (i == kRegPc)
          h.set_pc(v & ~3u);
        else
          h.set_reg(i, v);
      }
      return "OK";
    case 'p': {
      std::uint64_t n;
      std::uint32_t v;
      if (!parse_hex(p.substr(1), n) || !read_register(static_cast<unsigned>(n), v)) return "E01";
      return hex32le(v);
    }
    case 'P': {
      const auto eq = p.find('=');
      std::uint64_t n;
      if (eq == std::string::npos || !parse_hex(p.substr(1, eq - 1), n)) return "E01";
      const std::uint32_t v = parse_le32(p.substr(eq + 1));
      if (n < 32)
        h.set_reg(static_cast<unsigned>(n), v);
      else if (n == kRegPc)
        h.set_pc(v & ~3u);
      else
        return "E01";
      return "OK";
    }
    case 'm': {
      const auto comma = p.find(',');
      std::uint64_t addr, len;
      if (comma == std::string::npos || !parse_hex(p.substr(1, comma - 1), addr) ||
          !parse_hex(p.substr(comma + 1), len) || len > 0x10000)
        return "E01";
      std::string out;
      for (std::uint64_t i = 0; i < len; ++i) {
        std::uint8_t b;
        if (!bus.debug_read(static_cast<std::uint32_t>(addr + i), b, h.cycle()))
          return out.empty() ? "E14" : out;
        out += fmt::format("{:02x}", b);
      }
      return out;
    }
    case 'M': {
      const auto comma = p.find(','), colon = p.find(':');
      std::uint64_t addr, len;
      if (comma == std::string::npos || colon == std::string::npos ||
          !parse_hex(p.substr(1, comma - 1), addr) ||
          !parse_hex(p.substr(comma + 1, colon - comma - 1), len) || p.size() - colon - 1 < 2 * len)
        return "E01";
      for (std::uint64_t i = 0; i < len; ++i) {
        const auto b = static_cast<std::uint8_t>(hexval(p[colon + 1 + 2 * i]) << 4 |
                                                 hexval(p[colon + 2 + 2 * i]));
        if (!bus.debug_write(static_cast<std::uint32_t>(addr + i), b, h.cycle())) return "E14";
      }
      return "OK";
    }
    case 'Z':
    case 'z': {
      // Z0 (software) and Z1 (hardware) breakpoints are the same thing here: a pc match.
      if (p.size() < 3 || (p[1] != '0' && p[1] != '1')) return "";
      const auto comma2 = p.find(',', 3);
      std::uint64_t addr;
      if (!parse_hex(p.substr(3, comma2 - 3), addr)) return "E01";
      if (p[0] == 'Z')
        h.add_breakpoint(static_cast<std::uint32_t>(addr));
      else
        h.remove_breakpoint(static_cast<std::uint32_t>(addr));
      return "OK";
    }
    case 'c':
    case 's': {
      std::uint64_t addr;
      if (p.size() > 1 && parse_hex(p.substr(1), addr)) h.set_pc(static_cast<std::uint32_t>(addr));
      resume = true;
      how = p[0] == 'c' ? Resume::kContinue : Resume::kStep;
      return "";
    }
    case 'D':
      send_packet("OK");
      resume = true;
      how = Resume::kDetach;
      return "";
    case 'k':
      resume = true;
      how = Resume::kKill;
      return "";
    case 'H':
    case 'T':
      return "OK";
    case 'q':
      if (p.rfind("qSupported", 0) == 0)
        return "PacketSize=4000;QStartNoAckMode+;qXfer:features:read+";
      if (p.rfind("qXfer:features:read:target.xml:", 0) == 0) {
        const std::string xml = target_xml();
        const std::string range = p.substr(std::strlen("qXfer:features:read:target.xml:"));
        const auto comma = range.find(',');
        std::uint64_t off, len;
        if (comma == std::string::npos || !parse_hex(range.substr(0, comma), off) ||
            !parse_hex(range.substr(comma + 1), len))
          return "E01";
        if (off >= xml.size()) return "l";
        const std::string part = xml.substr(off, len);
        return (off + part.size() < xml.size() ? "m" : "l") + part;
      }
      if (p.rfind("qXfer:features:read:", 0) == 0) return "E00";
      if (p == "qfThreadInfo") return "m1";
      if (p == "qsThreadInfo") return "l";
      if (p == "qC") return "QC1";
      if (p == "qAttached") return "1";
      if (p.rfind("qSymbol", 0) == 0) return "OK";
      return "";
    case 'Q':
      if (p == "QStartNoAckMode") return "OK";
      return "";
    default:
      return "";  // unsupported: gdb falls back (vCont -> c/s, X -> M)
  }
}

}  // namespace mxemu::core
