#include "model/ici/link.h"

#include <zlib.h>

#include <cmath>
#include <cstring>

namespace mxemu::ici {

std::uint32_t Packet::compute_crc() const {
  // The header fields as they would be on the wire, then the payload.
  std::uint8_t h[64];
  std::size_t n = 0;
  const auto put = [&](auto v) {
    std::memcpy(h + n, &v, sizeof v);
    n += sizeof v;
  };
  put(static_cast<std::uint8_t>(kind));
  put(src_chip);
  put(dst_chip);
  put(tag);
  put(msg_id);
  put(offset);
  put(msg_bytes);
  put(seq);
  put(epoch);
  uLong c = crc32(0L, Z_NULL, 0);
  c = crc32(c, h, static_cast<uInt>(n));
  if (!payload.empty()) c = crc32(c, payload.data(), static_cast<uInt>(payload.size()));
  return static_cast<std::uint32_t>(c);
}

LinkTx::LinkTx(const IciConfig& cfg, Ps latency, std::uint64_t credits, std::uint32_t vcs,
               std::uint64_t rng_seed)
    : cfg_(cfg),
      latency_(latency),
      credits_(vcs, credits),
      rng_(rng_seed),
      p_bit_(cfg.bit_error_rate) {}

Flight LinkTx::transmit(const std::shared_ptr<const Packet>& p, Ps now) {
  const std::uint64_t bytes = wire_bytes(*p);
  const Ps start = std::max(now, free_at_);
  const Ps ser = cfg_.wire_ps(bytes);
  free_at_ = start + ser;
  stats_.busy_ps += ser;
  stats_.wire_bytes += bytes;
  Flight f{start + ser + latency_, p, false};
  if (p_bit_ > 0) {
    // P(at least one of the packet's bits flips) = 1 - (1 - BER)^bits.
    const double bits = 8.0 * static_cast<double>(bytes);
    const double p_packet = -std::expm1(bits * std::log1p(-p_bit_));
    if (std::uniform_real_distribution<double>(0.0, 1.0)(rng_) < p_packet) {
      // Flip one bit of what the receiver will check: a copy, the sender keeps the original.
      auto bad = std::make_shared<Packet>(*p);
      const std::uint64_t bit = rng_() % (8 * (bad->payload.size() + 8));
      if (bit < 8 * bad->payload.size()) {
        bad->payload[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
      } else {
        bad->offset ^= std::uint64_t{1} << (bit % 64);  // a header bit
      }
      f.packet = std::move(bad);
      f.corrupted = true;
      ++stats_.corrupted;
    }
  }
  return f;
}

Flight LinkTx::send(Packet p, Ps now) {
  p.seq = next_seq_++;
  p.seal();
  credits_[p.hops] -= wire_bytes(p);
  ++stats_.packets;
  stats_.payload_bytes += p.payload.size();
  auto sp = std::make_shared<const Packet>(std::move(p));
  window_.push_back(sp);
  sent_at_.push_back(std::max(now, free_at_));
  return transmit(sp, now);
}

Flight LinkTx::resend(Ps now) {
  const std::size_t i = resend_from_++;
  ++stats_.retransmissions;
  sent_at_[i] = std::max(now, free_at_);
  Flight f = transmit(window_[i], now);
  if (resend_from_ >= window_.size()) resend_from_ = ~std::size_t{0};
  return f;
}

Ps LinkTx::timeout_at() const {
  if (window_.empty() || resend_pending()) return ~Ps{0};
  // The oldest packet's last transmission plus the timeout (its ACK is overdue then).
  return sent_at_.front() + Ps{cfg_.retry_timeout_ns} * 1000;
}

void LinkTx::on_timeout(Ps /*now*/) {
  if (window_.empty()) return;
  ++stats_.timeouts;
  resend_from_ = 0;
}

void LinkTx::on_control(const Control& c) {
  switch (c.kind) {
    case Control::Kind::kCredit:
      credits_[c.vc] += c.bytes;
      return;
    case Control::Kind::kAck:
    case Control::Kind::kNack: {
      // Both acknowledge everything before their sequence number (ACK: up to and including).
      const std::uint64_t upto = c.kind == Control::Kind::kAck ? c.seq + 1 : c.seq;
      const bool pending = resend_pending();  // before the window shrinks
      std::size_t popped = 0;
      while (!window_.empty() && window_.front()->seq < upto) {
        window_.pop_front();
        sent_at_.pop_front();
        ++popped;
      }
      if (pending) resend_from_ = resend_from_ > popped ? resend_from_ - popped : 0;
      if (c.kind == Control::Kind::kNack) {
        ++stats_.nacks;
        if (!window_.empty()) resend_from_ = 0;  // go back to the NACKed packet
      }
      if (resend_from_ != ~std::size_t{0} && resend_from_ >= window_.size()) {
        resend_from_ = ~std::size_t{0};
      }
      return;
    }
  }
}

std::deque<std::shared_ptr<const Packet>> LinkTx::take_unacked() {
  std::deque<std::shared_ptr<const Packet>> w;
  w.swap(window_);
  sent_at_.clear();
  resend_from_ = ~std::size_t{0};
  return w;
}

LinkRx::Result LinkRx::receive(const Flight& f, Ps now) {
  Result r;
  const Packet& p = *f.packet;
  if (!p.intact()) {
    // The CRC failed: ask once for a resend from the first packet not yet received.
    if (!nacked_) {
      r.reply.push_back(Control{Control::Kind::kNack, expected_, 0, 0, now});
      nacked_ = true;
    }
    return r;
  }
  if (p.seq != expected_) {
    // Out of order (after a drop) or a duplicate (after a timeout): go-back-N drops it; a
    // duplicate re-ACKs what has arrived so that a sender that timed out moves on.
    if (p.seq < expected_ && expected_ > 0) {
      r.reply.push_back(Control{Control::Kind::kAck, expected_ - 1, 0, 0, now});
    }
    return r;
  }
  ++expected_;
  nacked_ = false;
  r.accept = true;
  r.reply.push_back(Control{Control::Kind::kAck, p.seq, 0, 0, now});
  return r;
}

}  // namespace mxemu::ici
