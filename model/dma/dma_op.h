// The DMA's DMA_COPY as plain C++ (no SystemC): decoding the descriptor with its limits, the row
// segments a 3-D strided copy moves, and the HBM requests they make. The engine shell
// (model/chip/dma_engine) resolves the spaces, moves the bytes and times the requests.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "model/chip/engine_error.h"

namespace mxemu::dma {

// A decoded DMA_COPY: planes x rows segments of row_bytes each.
struct Copy {
  std::uint64_t src = 0, dst = 0;  // descriptor space addresses
  std::uint64_t row_bytes = 0, rows = 0, planes = 0;
  std::uint64_t src_row_stride = 0, dst_row_stride = 0;
  std::uint64_t src_plane_stride = 0, dst_plane_stride = 0;

  std::uint64_t total_bytes() const { return planes * rows * row_bytes; }
  // The extent each side touches, from its first byte (strides may interleave rows).
  std::uint64_t src_span() const {
    return (planes - 1) * src_plane_stride + (rows - 1) * src_row_stride + row_bytes;
  }
  std::uint64_t dst_span() const {
    return (planes - 1) * dst_plane_stride + (rows - 1) * dst_row_stride + row_bytes;
  }
  // Offsets (from src / dst) of segment (p, r).
  std::uint64_t src_offset(std::uint64_t p, std::uint64_t r) const {
    return p * src_plane_stride + r * src_row_stride;
  }
  std::uint64_t dst_offset(std::uint64_t p, std::uint64_t r) const {
    return p * dst_plane_stride + r * dst_row_stride;
  }
};

// A descriptor moves at most kMaxRows row segments and kMaxBytes bytes: with zero strides a few
// fields could otherwise ask for billions of copies of one byte.
inline constexpr std::uint64_t kMaxRows = std::uint64_t{1} << 24;
inline constexpr std::uint64_t kMaxBytes = std::uint64_t{1} << 32;

// Decodes the descriptor words. Throws chip::EngineError for another opcode (kBadOpcode), an
// empty transfer or one over the limits (kBadField).
Copy decode(std::span<const std::uint32_t> desc);

// Appends the addresses (side offset `base` + segment offsets) of the requests of `req_bytes`
// (a power of two) covering every segment of one side, in segment order; a request is aligned
// to req_bytes and a segment that straddles an alignment boundary makes one more.
void append_requests(const Copy& c, bool source_side, std::uint64_t base, std::uint32_t req_bytes,
                     std::vector<std::uint64_t>& out);

}  // namespace mxemu::dma
