// Register-resident FMA loops that measure the host's FP32 FMA peak for one ISA level: kChains
// independent accumulator vectors, each updated once per iteration (no memory traffic).
#pragma once

#include <cstdint>

namespace mxemu::bench {

// Runs `iters` iterations; returns a value derived from the accumulators (so the loop is kept)
// and sets fmas to the number of scalar FMAs executed.
float fma_loop_portable(std::uint64_t iters, std::uint64_t& fmas);
#if defined(MXEMU_BENCH_X86)
float fma_loop_avx2(std::uint64_t iters, std::uint64_t& fmas);
float fma_loop_avx512(std::uint64_t iters, std::uint64_t& fmas);
#endif

}  // namespace mxemu::bench
