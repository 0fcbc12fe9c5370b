// The DMA's functional core without SystemC: descriptor decoding with its limits, the extents a
// copy touches, and its HBM requests against a byte-by-byte reference written here.
#include <catch2/catch.hpp>

#include <array>
#include <random>
#include <set>

#include "model/chip/regs.h"
#include "model/dma/dma_op.h"

using namespace mxemu;
namespace regs = chip::regs;

namespace {
std::array<std::uint32_t, 16> desc(std::uint64_t src, std::uint64_t dst, std::uint32_t row,
                                   std::uint32_t rows, std::uint32_t planes, std::uint32_t srs,
                                   std::uint32_t drs, std::uint32_t sps, std::uint32_t dps) {
  return {regs::kOpDmaCopy,
          static_cast<std::uint32_t>(src),
          static_cast<std::uint32_t>(src >> 32),
          static_cast<std::uint32_t>(dst),
          static_cast<std::uint32_t>(dst >> 32),
          row,
          rows,
          planes,
          srs,
          drs,
          sps,
          dps,
          0,
          0,
          0,
          0};
}

std::string error_of(const std::array<std::uint32_t, 16>& d) {
  try {
    dma::decode(d);
  } catch (const chip::EngineError& e) {
    return e.message;
  }
  return "";
}
}  // namespace

TEST_CASE("DMA_COPY decodes every field", "[chip][dma]") {
  const auto d = desc(0x1'2345'6789ull, 0x10000040ull, 48, 3, 2, 64, 100, 1000, 2000);
  const dma::Copy c = dma::decode(d);
  CHECK(c.src == 0x1'2345'6789ull);
  CHECK(c.dst == 0x10000040ull);
  CHECK(c.row_bytes == 48);
  CHECK(c.rows == 3);
  CHECK(c.planes == 2);
  CHECK(c.total_bytes() == 288);
  CHECK(c.src_span() == 1000 + 2 * 64 + 48);
  CHECK(c.dst_span() == 2000 + 2 * 100 + 48);
  CHECK(c.src_offset(1, 2) == 1000 + 128);
  CHECK(c.dst_offset(1, 2) == 2000 + 200);
}

TEST_CASE("DMA_COPY refuses other opcodes, empty and oversize transfers", "[chip][dma]") {
  auto d = desc(0, 0, 1, 1, 1, 0, 0, 0, 0);
  d[0] = 9;
  CHECK(error_of(d) == "unknown DMA opcode 9");
  CHECK_THAT(error_of(desc(0, 0, 0, 1, 1, 0, 0, 0, 0)), Catch::Contains("empty transfer"));
  CHECK_THAT(error_of(desc(0, 0, 1, 1u << 13, 1u << 12, 0, 0, 0, 0)),
             Catch::Contains("exceeds the descriptor limit"));
  CHECK_THAT(error_of(desc(0, 0, 0xFFFFFFFFu, 2, 1, 0, 0, 0, 0)),
             Catch::Contains("exceeds the descriptor limit"));
  CHECK(error_of(desc(0, 0, 1u << 16, 1u << 16, 1, 0, 0, 0, 0)).empty());  // exactly 4 GiB
}

TEST_CASE("HBM requests cover every byte of every segment once, aligned, in order", "[chip][dma]") {
  std::mt19937_64 rng(4);
  for (int t = 0; t < 300; ++t) {
    const std::uint32_t req = 32u << (rng() % 4);
    const std::uint32_t row = 1 + static_cast<std::uint32_t>(rng() % 300);
    const std::uint32_t rows = 1 + static_cast<std::uint32_t>(rng() % 5);
    const std::uint32_t planes = 1 + static_cast<std::uint32_t>(rng() % 3);
    const auto d =
        desc(0, 0, row, rows, planes, static_cast<std::uint32_t>(rng() % 700),
             static_cast<std::uint32_t>(rng() % 700), static_cast<std::uint32_t>(rng() % 5000),
             static_cast<std::uint32_t>(rng() % 5000));
    const dma::Copy c = dma::decode(d);
    const std::uint64_t base = rng() % 100000;
    for (const bool src : {true, false}) {
      std::vector<std::uint64_t> got;
      dma::append_requests(c, src, base, req, got);
      // Reference: segment by segment, the distinct aligned blocks its bytes fall in.
      std::vector<std::uint64_t> want;
      for (std::uint64_t p = 0; p < planes; ++p) {
        for (std::uint64_t r = 0; r < rows; ++r) {
          const std::uint64_t off = base + (src ? c.src_offset(p, r) : c.dst_offset(p, r));
          std::set<std::uint64_t> blocks;
          for (std::uint64_t b = off; b < off + row; ++b) blocks.insert(b - b % req);
          want.insert(want.end(), blocks.begin(), blocks.end());
        }
      }
      REQUIRE(got == want);
    }
  }
}
