// libFuzzer harness of the GDB remote protocol layer (model/core/gdb_packet.h): the input is the
// byte stream gdb would send; every packet it decodes to is handled by GdbCommands against a
// fake target (registers, 256 bytes of memory: replies stay short, executions fast). Properties
// beyond "no crash, no hang": replies fit the advertised packet size and survive framing
// (decode(encode(reply)) == reply); 'g' always answers 33 registers; an 'm' reply is an error or at
// most the bytes asked for, in hex; memory written by an accepted 'M' reads back the same through
// 'm'; the fuzz input itself survives framing as a payload.
#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "model/core/gdb_packet.h"
#include "tools/fuzz/fuzz_check.h"

namespace {

using namespace mxemu::core::gdb;

class FakeTarget : public GdbTarget {
 public:
  static constexpr std::uint32_t kBase = 0x80000000U, kSize = 0x100;
  bool read_register(unsigned n, std::uint32_t& v) override {
    if (n > kRegPc) return false;
    v = regs_[n];
    return true;
  }
  bool write_register(unsigned n, std::uint32_t v) override {
    if (n > kRegPc) return false;
    if (n != 0) regs_[n] = v;
    return true;
  }
  bool read_memory(std::uint32_t a, std::uint8_t& b) override {
    if (a - kBase >= kSize) return false;
    b = mem_[a - kBase];
    return true;
  }
  bool write_memory(std::uint32_t a, std::uint8_t b) override {
    if (a - kBase >= kSize) return false;
    mem_[a - kBase] = b;
    return true;
  }
  void add_breakpoint(std::uint32_t a) override {
    if (breakpoints_.size() < 64) breakpoints_.push_back(a);
  }
  void remove_breakpoint(std::uint32_t a) override {
    breakpoints_.erase(std::remove(breakpoints_.begin(), breakpoints_.end(), a),
                       breakpoints_.end());
  }

 private:
  std::uint32_t regs_[kRegPc + 1] = {};
  std::vector<std::uint8_t> mem_ = std::vector<std::uint8_t>(kSize, 0);
  std::vector<std::uint32_t> breakpoints_;
};

// The stream's own packets are decoded with a small payload limit, so that short inputs reach the
// overflow path too; replies are checked against the real limit.
constexpr std::size_t kStreamMaxPayload = 256;

std::vector<std::string> decode_all(const std::string& bytes, int* bad,
                                    std::size_t max_payload = kMaxPacketBytes) {
  PacketDecoder d(max_payload);
  std::vector<std::string> out;
  for (const char c : bytes) {
    const PacketDecoder::Kind k = d.feed(c);
    if (k == PacketDecoder::Kind::kPacket) out.push_back(d.payload());
    if (k == PacketDecoder::Kind::kBadPacket && bad != nullptr) ++*bad;
  }
  return out;
}

bool is_hex(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return std::isxdigit(c) != 0; });
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

void check_framing(const std::string& payload, std::size_t max_payload = kMaxPacketBytes) {
  int bad = 0;
  const std::vector<std::string> back = decode_all(encode_packet(payload), &bad, max_payload);
  if (payload.size() <= max_payload) {
    FUZZ_CHECK(back.size() == 1 && back[0] == payload);
  } else {
    FUZZ_CHECK(back.empty() && bad == 1);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  check_framing(bytes, kStreamMaxPayload);
  FakeTarget target;
  GdbCommands cmd(target);
  for (const std::string& p : decode_all(bytes, nullptr, kStreamMaxPayload)) {
    FUZZ_CHECK(p.size() <= kStreamMaxPayload);
    const CommandResult r = cmd.handle(p);
    if (!r.reply) {
      FUZZ_CHECK(r.action != CommandResult::Action::kNone);
      continue;
    }
    const std::string& reply = *r.reply;
    FUZZ_CHECK(reply.size() <= kMaxPacketBytes);
    // Framing of replies: fully for short ones and those with bytes that need escaping (long
    // replies are hex or XML, whose framing is the same code path; that keeps executions fast).
    if (reply.size() <= 64 || reply.find_first_of("$#}*") != std::string::npos) {
      check_framing(reply);
    }
    if (p == "g") FUZZ_CHECK(reply.size() == 8 * (kRegPc + 1));
    if (p[0] == 'm' && reply != "E01" && reply != "E14") {
      FUZZ_CHECK(reply.size() % 2 == 0 && is_hex(reply));
      FUZZ_CHECK(reply.size() <= 2 * kMaxMemoryBytes);
    }
    if (p[0] == 'M' && reply == "OK") {
      const std::size_t colon = p.find(':');
      FUZZ_CHECK(colon != std::string::npos);
      const std::string data_hex = p.substr(colon + 1);
      const CommandResult back = cmd.handle("m" + p.substr(1, colon - 1));
      FUZZ_CHECK(back.reply && (data_hex.empty() ? *back.reply == "E14" || back.reply->empty()
                                                 : lower(*back.reply) == lower(data_hex)));
    }
  }
  return 0;
}
