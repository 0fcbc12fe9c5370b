#include "model/chip/dma_engine.h"

#include <fmt/format.h>

#include <algorithm>

#include "model/dma/dma_op.h"

namespace mxemu::chip {

DmaEngine::DmaEngine(const sc_core::sc_module_name& name, ChipState& state)
    : Engine(name, state, regs::kQueueDma, "DMA") {}

std::string DmaEngine::op_name(std::uint32_t opcode) const {
  return opcode == regs::kOpDmaCopy ? "DMA_COPY" : fmt::format("op{}", opcode);
}

std::string DmaEngine::slice_name(const Desc& d) const {
  if (regs::hdr::kOpcode.get(d.data()) != regs::kOpDmaCopy) return Engine::slice_name(d);
  const dma::Copy cp = dma::decode(d);
  const auto space = [&](std::uint64_t addr, std::uint64_t span) {
    const std::string s = describe(state_.resolve(addr, span, "DMA"));
    return s.substr(0, s.find('+'));
  };
  return fmt::format("DMA {}->{} {}", space(cp.src, cp.src_span()), space(cp.dst, cp.dst_span()),
                     size_label(cp.total_bytes()));
}

Engine::Timing DmaEngine::execute(const Desc& d, std::uint64_t now) {
  const dma::Copy cp = dma::decode(d);
  const SpaceAddr s0 = state_.resolve(cp.src, cp.src_span(), "DMA source");
  const SpaceAddr d0 = state_.resolve(cp.dst, cp.dst_span(), "DMA destination");

  // Functional copy row by row (a row may overlap another's destination: rows land in order). A
  // row moves in pieces of at most kPiece bytes, so that the host buffer stays small, unless it
  // overlaps its own destination (pieces would then read bytes already written): whole, then.
  constexpr std::uint64_t kPiece = std::uint64_t{1} << 20;
  const std::uint64_t len = cp.row_bytes;
  for (std::uint64_t p = 0; p < cp.planes; ++p) {
    for (std::uint64_t r = 0; r < cp.rows; ++r) {
      SpaceAddr s = s0, t = d0;
      s.offset += cp.src_offset(p, r);
      t.offset += cp.dst_offset(p, r);
      const bool overlaps = s.kind == t.kind && s.index == t.index && s.offset < t.offset + len &&
                            t.offset < s.offset + len;
      const std::uint64_t piece = overlaps ? len : std::min(len, kPiece);
      buf_.resize(piece);
      for (std::uint64_t done = 0; done < len; done += piece) {
        const std::uint64_t n = std::min(piece, len - done);
        const std::span<std::uint8_t> b(buf_.data(), n);
        state_.read_bytes(s, b);
        state_.write_bytes(t, b);
        s.offset += n;
        t.offset += n;
      }
    }
  }
  const std::uint64_t total = cp.total_bytes();
  bytes_moved_ += total;

  const DmaConfig& c = state_.cfg.dma;
  const std::uint32_t req = c.hbm_request_bytes;
  const bool hbm_src = s0.kind == SpaceKind::kHbm;
  const bool hbm_dst = d0.kind == SpaceKind::kHbm;
  const std::uint64_t start = now + c.setup_cycles;
  const std::uint64_t on_chip_end = start + (total + c.bytes_per_cycle - 1) / c.bytes_per_cycle;
  std::uint64_t end = on_chip_end;
  if (hbm_src) {
    addrs_.clear();
    dma::append_requests(cp, true, s0.offset, req, addrs_);
    end = std::max(end, state_.hbm.time_requests(addrs_, req, false, start));
  }
  if (hbm_dst) {
    addrs_.clear();
    dma::append_requests(cp, false, d0.offset, req, addrs_);
    // Writes follow the reads (HBM to HBM) or the on-chip reads.
    const std::uint64_t wstart = hbm_src ? end : start;
    end = std::max(end, state_.hbm.time_requests(addrs_, req, true, wstart));
  }
  stats_.busy_cycles += end - now;
  if (hbm_src || hbm_dst) stats_.stall_cycles["hbm"] += end - std::min(end, on_chip_end);
  return Timing{end, end};
}

}  // namespace mxemu::chip
