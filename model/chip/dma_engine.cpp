#include "model/chip/dma_engine.h"

#include <fmt/format.h>

#include <algorithm>

namespace mxemu::chip {

DmaEngine::DmaEngine(const sc_core::sc_module_name& name, ChipState& state)
    : Engine(name, state, regs::kQueueDma, "DMA") {}

std::string DmaEngine::op_name(std::uint32_t opcode) const {
  return opcode == regs::kOpDmaCopy ? "DMA_COPY" : fmt::format("op{}", opcode);
}

Engine::Timing DmaEngine::execute(const Desc& d, std::uint64_t now) {
  namespace f = regs::dma_copy;
  const std::uint32_t opcode = regs::hdr::kOpcode.get(d.data());
  if (opcode != regs::kOpDmaCopy) {
    throw EngineError{regs::Fault::kBadOpcode, fmt::format("unknown DMA opcode {}", opcode)};
  }
  const std::uint64_t src =
      (std::uint64_t{f::kSrcHi.get(d.data())} << 32) | f::kSrcLo.get(d.data());
  const std::uint64_t dst =
      (std::uint64_t{f::kDstHi.get(d.data())} << 32) | f::kDstLo.get(d.data());
  const std::uint64_t row = f::kRowBytes.get(d.data());
  const std::uint64_t rows = f::kRows.get(d.data());
  const std::uint64_t planes = f::kPlanes.get(d.data());
  const std::uint64_t srs = f::kSrcRowStride.get(d.data());
  const std::uint64_t drs = f::kDstRowStride.get(d.data());
  const std::uint64_t sps = f::kSrcPlaneStride.get(d.data());
  const std::uint64_t dps = f::kDstPlaneStride.get(d.data());
  if (row == 0 || rows == 0 || planes == 0) {
    throw EngineError{
        regs::Fault::kBadField,
        fmt::format("empty transfer (ROW_BYTES {}, ROWS {}, PLANES {})", row, rows, planes)};
  }
  // A descriptor moves at most kMaxRows row segments and kMaxBytes bytes: with zero strides a
  // few fields could otherwise ask for billions of copies of one byte.
  constexpr std::uint64_t kMaxRows = std::uint64_t{1} << 24, kMaxBytes = std::uint64_t{1} << 32;
  if (rows * planes > kMaxRows || rows * planes * row > kMaxBytes) {
    throw EngineError{regs::Fault::kBadField,
                      fmt::format("transfer of {} rows x {} planes x {} bytes exceeds the "
                                  "descriptor limit ({} row segments, {} bytes)",
                                  rows, planes, row, kMaxRows, kMaxBytes)};
  }
  // The extent each side touches, checked as one range (strides may interleave rows).
  const std::uint64_t src_span = (planes - 1) * sps + (rows - 1) * srs + row;
  const std::uint64_t dst_span = (planes - 1) * dps + (rows - 1) * drs + row;
  const SpaceAddr s0 = state_.resolve(src, src_span, "DMA source");
  const SpaceAddr d0 = state_.resolve(dst, dst_span, "DMA destination");

  // Functional copy row by row (a row may overlap another's destination: rows land in order).
  buf_.resize(row);
  std::vector<std::uint64_t>& haddr = addrs_;
  haddr.clear();
  const std::uint32_t req = state_.cfg.dma.hbm_request_bytes;
  const auto add_requests = [&](std::uint64_t off) {
    for (std::uint64_t a = off / req * req; a < off + row; a += req) haddr.push_back(a);
  };
  const bool hbm_src = s0.kind == SpaceKind::kHbm;
  const bool hbm_dst = d0.kind == SpaceKind::kHbm;
  for (std::uint64_t p = 0; p < planes; ++p) {
    for (std::uint64_t r = 0; r < rows; ++r) {
      SpaceAddr s = s0, t = d0;
      s.offset += p * sps + r * srs;
      t.offset += p * dps + r * drs;
      state_.read_bytes(s, buf_);
      state_.write_bytes(t, buf_);
      if (hbm_src) add_requests(s.offset);
    }
  }
  const std::uint64_t total = planes * rows * row;
  bytes_moved_ += total;

  const DmaConfig& c = state_.cfg.dma;
  const std::uint64_t start = now + c.setup_cycles;
  const std::uint64_t on_chip_end = start + (total + c.bytes_per_cycle - 1) / c.bytes_per_cycle;
  std::uint64_t end = on_chip_end;
  if (hbm_src) {
    end = std::max(end, state_.hbm.time_requests(haddr, req, false, start));
  }
  if (hbm_dst) {
    haddr.clear();
    for (std::uint64_t p = 0; p < planes; ++p)
      for (std::uint64_t r = 0; r < rows; ++r) add_requests(d0.offset + p * dps + r * drs);
    // Writes follow the reads (HBM to HBM) or the on-chip reads.
    const std::uint64_t wstart = hbm_src ? end : start;
    end = std::max(end, state_.hbm.time_requests(haddr, req, true, wstart));
  }
  stats_.busy_cycles += end - now;
  if (hbm_src || hbm_dst) stats_.stall_cycles["hbm"] += end - std::min(end, on_chip_end);
  return Timing{end, end};
}

}  // namespace mxemu::chip
