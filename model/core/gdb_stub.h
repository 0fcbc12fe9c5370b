// GDB remote serial protocol stub for the control core (gdb-multiarch, riscv:rv32). Listens on
// 127.0.0.1 only. Registers: x0..x31, pc (numbers 0..32), CSRs as 65 + csr number.
#pragma once

#include <cstdint>
#include <string>

#include "model/core/core_module.h"
#include "model/core/machine.h"

namespace mxemu::core {

class GdbStub : public DebugAgent {
 public:
  // Binds 127.0.0.1:port (0: a free port chosen by the OS; see port()). Bad input if it cannot.
  GdbStub(Machine& machine, std::uint16_t port);
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
  bool read_packet(std::string& packet);  // false: connection closed
  void send_packet(const std::string& payload);
  bool read_byte(char& c);
  std::string handle(const std::string& p, bool& resume, Resume& how);
  std::string read_registers() const;
  bool read_register(unsigned n, std::uint32_t& v) const;

  Machine& m_;
  int listen_fd_ = -1;
  int fd_ = -1;
  std::uint16_t port_ = 0;
  bool no_ack_ = false;
  bool pending_interrupt_ = false;
  int last_signal_ = 5;
  bool first_stop_ = true;  // the initial stop is reported through '?', not sent unasked
};

}  // namespace mxemu::core
