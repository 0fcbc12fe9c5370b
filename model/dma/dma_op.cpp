#include "model/dma/dma_op.h"

#include <fmt/format.h>

namespace mxemu::dma {

namespace regs = chip::regs;
using chip::EngineError;

Copy decode(std::span<const std::uint32_t> desc) {
  namespace f = regs::dma_copy;
  if (desc.size() < regs::kDescWords) {
    throw EngineError{regs::Fault::kBadField, "DMA descriptor shorter than 16 words"};
  }
  const std::uint32_t* d = desc.data();
  const std::uint32_t opcode = regs::hdr::kOpcode.get(d);
  if (opcode != regs::kOpDmaCopy) {
    throw EngineError{regs::Fault::kBadOpcode, fmt::format("unknown DMA opcode {}", opcode)};
  }
  Copy c;
  c.src = (std::uint64_t{f::kSrcHi.get(d)} << 32) | f::kSrcLo.get(d);
  c.dst = (std::uint64_t{f::kDstHi.get(d)} << 32) | f::kDstLo.get(d);
  c.row_bytes = f::kRowBytes.get(d);
  c.rows = f::kRows.get(d);
  c.planes = f::kPlanes.get(d);
  c.src_row_stride = f::kSrcRowStride.get(d);
  c.dst_row_stride = f::kDstRowStride.get(d);
  c.src_plane_stride = f::kSrcPlaneStride.get(d);
  c.dst_plane_stride = f::kDstPlaneStride.get(d);
  if (c.row_bytes == 0 || c.rows == 0 || c.planes == 0) {
    throw EngineError{regs::Fault::kBadField,
                      fmt::format("empty transfer (ROW_BYTES {}, ROWS {}, PLANES {})", c.row_bytes,
                                  c.rows, c.planes)};
  }
  // Each factor is below 2^32, so the products below do not wrap.
  if (c.rows * c.planes > kMaxRows || c.rows * c.planes * c.row_bytes > kMaxBytes) {
    throw EngineError{regs::Fault::kBadField,
                      fmt::format("transfer of {} rows x {} planes x {} bytes exceeds the "
                                  "descriptor limit ({} row segments, {} bytes)",
                                  c.rows, c.planes, c.row_bytes, kMaxRows, kMaxBytes)};
  }
  return c;
}

void append_requests(const Copy& c, bool source_side, std::uint64_t base, std::uint32_t req_bytes,
                     std::vector<std::uint64_t>& out) {
  for (std::uint64_t p = 0; p < c.planes; ++p) {
    for (std::uint64_t r = 0; r < c.rows; ++r) {
      const std::uint64_t off = base + (source_side ? c.src_offset(p, r) : c.dst_offset(p, r));
      for (std::uint64_t a = off / req_bytes * req_bytes; a < off + c.row_bytes; a += req_bytes) {
        out.push_back(a);
      }
    }
  }
}

}  // namespace mxemu::dma
