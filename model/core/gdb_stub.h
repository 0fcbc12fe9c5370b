// GDB remote serial protocol stub for the control core (gdb-multiarch, riscv:rv32). Listens on
// 127.0.0.1 only. Registers: x0..x31, pc (numbers 0..32), CSRs as 65 + csr number (readable and,
// except the read-only ones, writable). Memory: the core's map and the debug windows on its bus
// (Bus::debug_read/debug_write: reads have no side effects). `monitor` commands: help, map, and
// those of a DebugMonitor (the chip's queues and semaphores). The protocol itself (framing,
// commands) is model/core/gdb_packet.h; this class is the socket and the machine behind it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "model/core/core_module.h"
#include "model/core/debug_monitor.h"
#include "model/core/gdb_packet.h"
#include "model/core/machine.h"

namespace mxemu::core {

class GdbStub : public DebugAgent {
 public:
  // Binds 127.0.0.1:port (0: a free port chosen by the OS; see port()). Bad input if it cannot.
  // monitor: more `monitor` commands (the chip's; nullptr: only the stub's own).
  GdbStub(Machine& machine, std::uint16_t port, DebugMonitor* monitor = nullptr);
  ~GdbStub() override;
  GdbStub(const GdbStub&) = delete;
  GdbStub& operator=(const GdbStub&) = delete;

  std::uint16_t port() const { return port_; }
  // Blocks until gdb connects.
  void accept_connection();

  Resume on_stop(int signal) override;
  bool interrupt_requested() override;
  void on_exit(int code, int signal) override;

 private:
  // The machine as the protocol's commands see it.
  class Target : public gdb::GdbTarget {
   public:
    Target(Machine& m, DebugMonitor* monitor) : m_(m), monitor_(monitor) {}
    bool read_register(unsigned n, std::uint32_t& value) override;
    bool write_register(unsigned n, std::uint32_t value) override;
    bool read_memory(std::uint32_t address, std::uint8_t& byte) override;
    bool write_memory(std::uint32_t address, std::uint8_t byte) override;
    std::uint64_t read_block(std::uint32_t address, std::span<std::uint8_t> out) override;
    bool write_block(std::uint32_t address, std::span<const std::uint8_t> in) override;
    void add_breakpoint(std::uint32_t address) override;
    void remove_breakpoint(std::uint32_t address) override;
    std::optional<std::string> monitor(std::string_view command) override;

   private:
    std::string map_text() const;
    Machine& m_;
    DebugMonitor* monitor_;
  };

  bool read_packet(std::string& packet);  // false: connection closed
  void send_packet(const std::string& payload);
  bool read_byte(char& c);
  void send_raw(const std::string& bytes);
  // Feeds one received byte to the decoder; acknowledges packets, records interrupts.
  gdb::PacketDecoder::Kind receive(char c);

  Target target_;
  gdb::GdbCommands commands_;
  gdb::PacketDecoder decoder_;
  std::optional<std::string> queued_;  // a packet that arrived while waiting for an ack
  int listen_fd_ = -1;
  int fd_ = -1;
  std::uint16_t port_ = 0;
  bool no_ack_ = false;
  bool pending_interrupt_ = false;
  bool first_stop_ = true;  // the initial stop is reported through '?', not sent unasked
};

}  // namespace mxemu::core
