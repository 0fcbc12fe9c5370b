// The GDB remote serial protocol without the socket: packet framing (PacketDecoder,
// encode_packet) and the commands of an RV32 target (GdbCommands over a GdbTarget). Plain C++,
// driven from bytes, so unit tests and the fuzz harness (tools/fuzz/fuzz_gdb_packet.cpp) reach
// exactly the code that GdbStub runs.
//
// Framing ("$payload#ck", ck = two hex digits of the byte sum modulo 256): a payload longer than
// kMaxPacketBytes (the PacketSize this stub advertises) is dropped and answered with '-', as is a
// bad checksum; '}' escapes the next byte (XOR 0x20), as gdb's own reader undoes it; a '$' inside
// a packet restarts it; bytes between packets are acks, naks, the 0x03 interrupt byte or noise.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace mxemu::core::gdb {

inline constexpr std::size_t kMaxPacketBytes = 0x4000;  // advertised as PacketSize=4000 (hex)
inline constexpr std::uint64_t kMaxMemoryBytes = kMaxPacketBytes / 2;  // per m/M: one reply
inline constexpr unsigned kRegPc = 32;
inline constexpr unsigned kRegCsrBase = 65;  // gdb's riscv numbering: CSR n is register 65 + n
inline constexpr unsigned kRegCsrEnd = kRegCsrBase + 4096;
inline constexpr char kInterruptByte = 0x03;

class PacketDecoder {
 public:
  // `max_payload_bytes`: longer packets are dropped (the fuzz harness lowers it to reach that
  // path with short inputs).
  explicit PacketDecoder(std::size_t max_payload_bytes = kMaxPacketBytes)
      : max_payload_(max_payload_bytes) {}
  enum class Kind : std::uint8_t {
    kNone,       // the byte was consumed, nothing complete yet
    kPacket,     // a packet with a good checksum: payload() holds it; acknowledge with '+'
    kBadPacket,  // bad checksum or too long: answer '-'
    kInterrupt,  // the 0x03 byte outside a packet
    kAck,        // '+'
    kNak,        // '-'
  };
  Kind feed(char c);
  // The payload of the last kPacket (unescaped), valid until the next feed().
  const std::string& payload() const { return payload_; }

 private:
  enum class State : std::uint8_t { kIdle, kBody, kEscape, kCheck1, kCheck2 };
  std::size_t max_payload_;
  State state_ = State::kIdle;
  std::string payload_;
  unsigned sum_ = 0;
  int check_hi_ = 0;
  bool overflow_ = false;
};

// "$payload#ck" with '$', '#', '}' and '*' escaped ('}' then the byte XOR 0x20).
std::string encode_packet(std::string_view payload);

// What the commands need of the machine. Register numbers are gdb's: 0..31 x0..x31, 32 pc,
// kRegCsrBase + n the CSR n. False: no such register / address (the command answers E01 / E14).
class GdbTarget {
 public:
  virtual ~GdbTarget() = default;
  virtual bool read_register(unsigned n, std::uint32_t& value) = 0;
  virtual bool write_register(unsigned n, std::uint32_t value) = 0;
  virtual bool read_memory(std::uint32_t address, std::uint8_t& byte) = 0;
  virtual bool write_memory(std::uint32_t address, std::uint8_t byte) = 0;
  virtual void add_breakpoint(std::uint32_t address) = 0;
  virtual void remove_breakpoint(std::uint32_t address) = 0;
  // One m packet: the number of bytes read from `address` on (it stops at the first byte it
  // cannot read). One M packet: true when every byte was written. The defaults go byte by byte
  // through read_memory / write_memory; a target with word-wide registers overrides them.
  virtual std::uint64_t read_block(std::uint32_t address, std::span<std::uint8_t> out);
  virtual bool write_block(std::uint32_t address, std::span<const std::uint8_t> in);
  // A `monitor` command (qRcmd): the text to show, or nullopt when the target has no monitor
  // commands at all (the packet then gets the empty reply: unsupported).
  virtual std::optional<std::string> monitor(std::string_view /*command*/) { return std::nullopt; }
};

// One command's outcome: the reply to send (when `reply` is set) and what the target does next.
struct CommandResult {
  enum class Action : std::uint8_t { kNone, kContinue, kStep, kDetach, kKill };
  Action action = Action::kNone;
  std::optional<std::string> reply;  // sent before the action; none for c, s and k
};

// The commands of NOTES.md's list: qSupported, ?, g/G, p/P, m/M, Z0/Z1/z0/z1, c/s [addr], H, T,
// qfThreadInfo/qsThreadInfo, qC, qAttached, qSymbol, qXfer:features:read:target.xml, D, k and
// QStartNoAckMode, plus qRcmd (gdb's `monitor`; the reply is the hex of the target's text, cut to
// fit one packet). Anything else gets the empty reply (gdb falls back); malformed arguments get
// E01, unmapped memory E14. Addresses must fit in 32 bits; m/M move at most kMaxMemoryBytes.
class GdbCommands {
 public:
  explicit GdbCommands(GdbTarget& target) : t_(target) {}
  CommandResult handle(std::string_view packet);
  // The signal reported by '?' (5 = SIGTRAP at start).
  void set_last_signal(int signal) { last_signal_ = signal; }
  // True once QStartNoAckMode was answered: from then on neither side sends acks.
  bool no_ack() const { return no_ack_; }

 private:
  std::string memory_read(std::string_view args);
  std::string memory_write(std::string_view args);
  std::string breakpoint(std::string_view p);
  std::string features(std::string_view annex_range);
  std::string monitor(std::string_view hex_command);

  GdbTarget& t_;
  int last_signal_ = 5;
  bool no_ack_ = false;
};

// The target description served through qXfer (x0..x31, pc and the machine CSRs).
std::string target_xml();

}  // namespace mxemu::core::gdb
