// One direction of an ICI link as plain C++ (no SystemC; time in picoseconds): packets with a
// CRC-32, credit-based flow control per virtual channel, and go-back-N link-level retry. The
// SystemC router (router.h) drives a LinkTx at each output port and a LinkRx at each input port;
// tests drive them directly.
//
// Flow control: the receiver holds `credits` bytes per virtual channel; a new packet needs its
// wire size in credits, which come back (CREDIT) when the receiver's buffer frees it. Retry:
// every data packet carries a sequence number; the receiver ACKs in order, NACKs the first
// packet it drops for a bad CRC and drops every later one until the resend (go-back-N); the
// sender resends from the NACKed packet, or from the oldest unACKed one after a timeout (lost
// packets: a dark link). Control messages (ACK, NACK, CREDIT) ride the reverse direction's
// control lane with the link's latency and are not corrupted (they are small and FEC-protected;
// docs/ICI.md).
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <random>
#include <vector>

#include "model/ici/ici_config.h"

namespace mxemu::ici {

struct Packet {
  enum class Kind : std::uint8_t { kData, kSignal };
  Kind kind = Kind::kData;
  std::uint32_t src_chip = 0, dst_chip = 0;
  std::uint32_t tag = 0;        // data: the message tag; signal: the semaphore
  std::uint64_t msg_id = 0;     // per (src, dst, tag) message number, from 0
  std::uint64_t offset = 0;     // data: byte offset in the message
  std::uint64_t msg_bytes = 0;  // data: the whole message's size
  std::uint32_t hops = 0;       // links crossed so far (= the virtual channel it travels on)
  std::uint32_t epoch = 0;      // the interconnect's epoch it was sent in (older: dropped)
  std::uint64_t seq = 0;        // link-level sequence number (set by LinkTx)
  std::vector<std::uint8_t> payload;
  std::uint32_t crc = 0;  // CRC-32 of header fields and payload (set by seal())

  std::uint32_t compute_crc() const;
  void seal() { crc = compute_crc(); }
  bool intact() const { return crc == compute_crc(); }
};

// A packet on the wire: when its last byte reaches the receiver.
struct Flight {
  Ps arrival = 0;
  std::shared_ptr<const Packet> packet;  // shared by the retry buffer and the flight
  bool corrupted = false;                // a bit was flipped on the way (the CRC will fail)
};

struct Control {
  enum class Kind : std::uint8_t { kAck, kNack, kCredit };
  Kind kind = Kind::kAck;
  std::uint64_t seq = 0;    // kAck: all up to seq received; kNack: resend from seq
  std::uint32_t vc = 0;     // kCredit
  std::uint64_t bytes = 0;  // kCredit
  Ps arrival = 0;
};

struct LinkStats {
  std::uint64_t packets = 0;  // first transmissions
  std::uint64_t payload_bytes = 0;
  std::uint64_t wire_bytes = 0;  // every transmission, headers included
  std::uint64_t retransmissions = 0;
  std::uint64_t corrupted = 0;  // transmissions that took a bit error
  std::uint64_t nacks = 0, timeouts = 0;
  Ps busy_ps = 0;          // serialising
  Ps credit_stall_ps = 0;  // a packet was ready but its channel had no credits

  LinkStats& operator+=(const LinkStats& o) {
    packets += o.packets;
    payload_bytes += o.payload_bytes;
    wire_bytes += o.wire_bytes;
    retransmissions += o.retransmissions;
    corrupted += o.corrupted;
    nacks += o.nacks;
    timeouts += o.timeouts;
    busy_ps += o.busy_ps;
    credit_stall_ps += o.credit_stall_ps;
    return *this;
  }
};

class LinkTx {
 public:
  // latency: first bit out to first bit in; credits: receiver bytes per virtual channel.
  LinkTx(const IciConfig& cfg, Ps latency, std::uint64_t credits, std::uint32_t vcs,
         std::uint64_t rng_seed);

  std::uint64_t wire_bytes(const Packet& p) const { return cfg_.header_bytes + p.payload.size(); }
  bool has_credits(std::uint32_t vc, std::uint64_t bytes) const { return credits_[vc] >= bytes; }
  std::uint64_t credits(std::uint32_t vc) const { return credits_[vc]; }
  Ps free_at() const { return free_at_; }
  bool resend_pending() const { return resend_from_ < window_.size(); }
  bool idle() const { return window_.empty(); }
  std::size_t in_flight() const { return window_.size(); }
  std::uint32_t vcs() const { return static_cast<std::uint32_t>(credits_.size()); }
  // The link died: hands back every packet sent but not acknowledged (oldest first).
  std::deque<std::shared_ptr<const Packet>> take_unacked();

  // Puts a new packet on the wire at `now` (>= free_at(), credits checked by the caller).
  Flight send(Packet p, Ps now);
  // Puts the next packet of a pending go-back-N resend on the wire at `now`.
  Flight resend(Ps now);
  // When the oldest unACKed packet times out (~0: nothing outstanding).
  Ps timeout_at() const;
  void on_timeout(Ps now);  // go back to the oldest unACKed packet
  void on_control(const Control& c);
  void note_credit_stall(Ps ps) { stats_.credit_stall_ps += ps; }
  const LinkStats& stats() const { return stats_; }
  Ps latency() const { return latency_; }

 private:
  Flight transmit(const std::shared_ptr<const Packet>& p, Ps now);

  const IciConfig& cfg_;
  Ps latency_;
  std::vector<std::uint64_t> credits_;
  std::uint64_t next_seq_ = 0;
  std::deque<std::shared_ptr<const Packet>> window_;  // sent, not yet ACKed (in seq order)
  std::deque<Ps> sent_at_;                            // last transmission of each
  std::size_t resend_from_ = ~std::size_t{0};         // index in window_ of the next resend
  Ps free_at_ = 0;
  std::mt19937_64 rng_;
  double p_bit_;
  LinkStats stats_;
};

class LinkRx {
 public:
  struct Result {
    bool accept = false;         // deliver the packet to the router
    std::vector<Control> reply;  // control messages for the sender
  };
  // A flight has arrived (its packet is checked here); control replies leave at `now`.
  Result receive(const Flight& f, Ps now);
  std::uint64_t expected() const { return expected_; }

 private:
  std::uint64_t expected_ = 0;
  bool nacked_ = false;  // a NACK for expected_ is outstanding
};

}  // namespace mxemu::ici
