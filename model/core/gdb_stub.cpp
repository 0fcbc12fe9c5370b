#include "model/core/gdb_stub.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>
#include <vector>

#include "model/common/error.h"

namespace mxemu::core {

namespace {
// The text of errno (std::strerror is not thread-safe).
std::string errno_text() {
  return std::error_code(errno, std::generic_category()).message();
}
}  // namespace

using gdb::kRegCsrBase;
using gdb::kRegCsrEnd;
using gdb::kRegPc;
using gdb::PacketDecoder;

GdbStub::GdbStub(Machine& machine, std::uint16_t port, DebugMonitor* monitor)
    : target_(machine, monitor), commands_(target_) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (listen_fd_ < 0) throw_bad_input("gdb: cannot create a socket: {}", errno_text());
  const int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::listen(listen_fd_, 1) != 0) {
    const std::string why = errno_text();
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
  if (fd_ < 0) throw_bad_input("gdb: accept failed: {}", errno_text());
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

void GdbStub::send_raw(const std::string& bytes) {
  ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
}

PacketDecoder::Kind GdbStub::receive(char c) {
  const PacketDecoder::Kind k = decoder_.feed(c);
  if (k == PacketDecoder::Kind::kInterrupt) pending_interrupt_ = true;
  if (!no_ack_ && k == PacketDecoder::Kind::kPacket) send_raw("+");
  if (!no_ack_ && k == PacketDecoder::Kind::kBadPacket) send_raw("-");
  return k;
}

bool GdbStub::read_packet(std::string& packet) {
  if (queued_) {
    packet = std::move(*queued_);
    queued_.reset();
    return true;
  }
  char c = 0;
  for (;;) {
    if (!read_byte(c)) return false;
    if (receive(c) == PacketDecoder::Kind::kPacket) {
      packet = decoder_.payload();
      return true;
    }
  }
}

void GdbStub::send_packet(const std::string& payload) {
  const std::string frame = gdb::encode_packet(payload);
  for (int attempt = 0; attempt < 3; ++attempt) {
    send_raw(frame);
    if (no_ack_) return;
    for (;;) {
      char c = 0;
      if (!read_byte(c)) return;
      const PacketDecoder::Kind k = receive(c);
      if (k == PacketDecoder::Kind::kAck) return;
      if (k == PacketDecoder::Kind::kNak) break;
      if (k == PacketDecoder::Kind::kPacket) {  // gdb moved on without an ack: take it as one
        queued_ = decoder_.payload();
        return;
      }
    }
  }
}

bool GdbStub::Target::read_register(unsigned n, std::uint32_t& v) {
  const Hart& h = m_.hart();
  if (n < 32) {
    v = h.reg(n);
    return true;
  }
  if (n == kRegPc) {
    v = h.pc();
    return true;
  }
  if (n >= kRegCsrBase && n < kRegCsrEnd) return h.read_csr(n - kRegCsrBase, v);
  return false;
}

bool GdbStub::Target::write_register(unsigned n, std::uint32_t v) {
  Hart& h = m_.hart();
  if (n < 32) {
    h.set_reg(n, v);
    return true;
  }
  if (n == kRegPc) {
    h.set_pc(v & ~3u);
    return true;
  }
  // As CSRRW would write it (WARL rules); read-only and unknown CSRs answer an error.
  if (n >= kRegCsrBase && n < kRegCsrEnd) return h.debug_write_csr(n - kRegCsrBase, v);
  return false;
}

// Debug reads and writes happen at the core's current cycle; the core is stopped and SystemC
// time stands at that cycle (CoreModule syncs before every debugger stop).
bool GdbStub::Target::read_memory(std::uint32_t address, std::uint8_t& byte) {
  return m_.bus().debug_read(address, std::span<std::uint8_t>(&byte, 1), m_.hart().cycle()) == 1;
}

bool GdbStub::Target::write_memory(std::uint32_t address, std::uint8_t byte) {
  return m_.bus().debug_write(address, std::span<const std::uint8_t>(&byte, 1), m_.hart().cycle());
}

std::uint64_t GdbStub::Target::read_block(std::uint32_t address, std::span<std::uint8_t> out) {
  return m_.bus().debug_read(address, out, m_.hart().cycle());
}

bool GdbStub::Target::write_block(std::uint32_t address, std::span<const std::uint8_t> in) {
  return m_.bus().debug_write(address, in, m_.hart().cycle());
}

std::string GdbStub::Target::map_text() const {
  const Bus& b = m_.bus();
  std::vector<const Region*> all;
  for (const Region& r : b.regions()) all.push_back(&r);
  for (const Region& r : b.overlays()) all.push_back(&r);
  for (const Region& r : b.debug_windows()) all.push_back(&r);
  std::sort(all.begin(), all.end(), [](const Region* x, const Region* y) {
    return x->base != y->base ? x->base < y->base : x->size > y->size;
  });
  std::string s = "address range            what\n";
  for (const Region* r : all) {
    const bool debug_only = std::any_of(b.debug_windows().begin(), b.debug_windows().end(),
                                        [&](const Region& d) { return &d == r; });
    s += fmt::format("0x{:08x}-0x{:08x}    {}{}\n", r->base,
                     static_cast<std::uint64_t>(r->base) + r->size - 1, r->name,
                     debug_only                            ? " (debug window)"
                     : r->device->host_memory() != nullptr ? ""
                                                           : " (device registers, 32-bit words)");
  }
  return s;
}

std::optional<std::string> GdbStub::Target::monitor(std::string_view command) {
  // Words separated by blanks; the first names the command.
  const auto first = command.find_first_not_of(" \t");
  if (first == std::string_view::npos) {
    command = "help";
  } else {
    command.remove_prefix(first);
  }
  const std::string_view word = command.substr(0, command.find_first_of(" \t"));
  if (word == "help") {
    std::string s =
        "mxemu monitor commands:\n"
        "  help              this list\n"
        "  map               the address map the debugger sees (core regions, debug windows)\n";
    if (monitor_ != nullptr) s += monitor_->help();
    return s;
  }
  if (word == "map") return map_text();
  if (monitor_ != nullptr) {
    if (std::optional<std::string> out = monitor_->command(command)) return out;
  }
  return fmt::format("unknown monitor command '{}' (monitor help lists them)\n", word);
}

void GdbStub::Target::add_breakpoint(std::uint32_t address) {
  m_.hart().add_breakpoint(address);
}

void GdbStub::Target::remove_breakpoint(std::uint32_t address) {
  m_.hart().remove_breakpoint(address);
}

bool GdbStub::interrupt_requested() {
  if (pending_interrupt_) return true;
  pollfd p{fd_, POLLIN, 0};
  while (::poll(&p, 1, 0) == 1 && (p.revents & POLLIN) != 0) {
    char c = 0;
    if (::recv(fd_, &c, 1, MSG_DONTWAIT) != 1) break;
    if (receive(c) == PacketDecoder::Kind::kPacket) queued_ = decoder_.payload();
  }
  return pending_interrupt_;
}

DebugAgent::Resume GdbStub::on_stop(int signal) {
  using Action = gdb::CommandResult::Action;
  pending_interrupt_ = false;
  commands_.set_last_signal(signal);
  if (!first_stop_) send_packet(fmt::format("S{:02x}", signal & 0xff));
  first_stop_ = false;
  std::string p;
  for (;;) {
    if (!read_packet(p)) return Resume::kKill;  // gdb went away: end the run
    const gdb::CommandResult r = commands_.handle(p);
    if (r.reply) send_packet(*r.reply);
    no_ack_ = commands_.no_ack();  // after the reply to QStartNoAckMode, which is still acked
    switch (r.action) {
      case Action::kNone:
        break;
      case Action::kContinue:
        return Resume::kContinue;
      case Action::kStep:
        return Resume::kStep;
      case Action::kDetach:
        return Resume::kDetach;
      case Action::kKill:
        return Resume::kKill;
    }
  }
}

void GdbStub::on_exit(int code, int signal) {
  if (fd_ < 0) return;
  if (signal != 0) {
    send_packet(fmt::format("X{:02x}", signal & 0xff));
  } else {
    send_packet(fmt::format("W{:02x}", code & 0xff));
  }
}

}  // namespace mxemu::core
