// Firmware collectives on pods (firmware/kernels/collective, docs/ICI.md ("Collectives")): results
// bit for bit against a host reference that applies the documented partitioning and reduction order
// (plain float arithmetic, BF16 rounding written here), for every op x algorithm x dtype x
// reduction on an 8-chip ring, a 2x2x2 and a 4x4x1 torus; times against the alpha-beta formulas
// of docs/ICI.md ("Collectives"); two runs identical.
#include <fmt/core.h>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>

#include "model/ici/topology.h"
#include "tests/chip/chip_test_util.h"

using namespace mxemu;

namespace {

enum class Op : std::uint32_t { kAllReduce = 0, kReduceScatter = 1, kAllGather = 2 };
enum class Algo : std::uint32_t { kRing = 0, kBiring = 1, kTorus = 2 };

const char* op_name(Op o) {
  static constexpr const char* kNames[] = {"all-reduce", "reduce-scatter", "all-gather"};
  return kNames[static_cast<std::uint32_t>(o)];
}
const char* algo_name(Algo a) {
  static constexpr const char* kNames[] = {"ring", "biring", "torus"};
  return kNames[static_cast<std::uint32_t>(a)];
}

struct Case {
  Op op = Op::kAllReduce;
  Algo algo = Algo::kRing;
  bool bf16 = false;
  bool max = false;
  std::array<std::uint32_t, 3> shape{8, 1, 1};
  std::uint32_t elements = 1000;  // of the whole vector
  std::uint32_t chunk = 0;        // 0: the kernel's default
};

std::string describe(const Case& c) {
  return fmt::format("{} {} {} {} on {}x{}x{}, {} elements{}", op_name(c.op), algo_name(c.algo),
                     c.bf16 ? "bf16" : "f32", c.max ? "max" : "sum", c.shape[0], c.shape[1],
                     c.shape[2], c.elements,
                     c.chunk != 0 ? fmt::format(", chunk {}", c.chunk) : std::string());
}

// ---- the host reference: docs/ICI.md ("Collectives"), "Partitioning" and "Reduction order" ----

// BF16 round to nearest even, from the two neighbours' exact distances (not the model's code).
std::uint16_t bf16_rne(float f) {
  if (std::isnan(f)) return 0x7FC0;
  const auto bits = std::bit_cast<std::uint32_t>(f);
  const auto lo = static_cast<std::uint16_t>(bits >> 16);
  if ((bits & 0xFFFFu) == 0) return lo;
  const auto hi = static_cast<std::uint16_t>(lo + 1);
  const auto value = [](std::uint16_t b) {
    return static_cast<double>(std::bit_cast<float>(std::uint32_t{b} << 16));
  };
  const double v = f, dlo = std::abs(v - value(lo)), dhi = std::abs(value(hi) - v);
  if (dlo != dhi) return dlo < dhi ? lo : hi;
  return (lo & 1) == 0 ? lo : hi;
}
float bf16_float(std::uint16_t b) {
  return std::bit_cast<float>(std::uint32_t{b} << 16);
}

// max with the documented rules: NaN wins (as the canonical NaN), max(+0, -0) = +0.
float ref_max(float a, float b) {
  if (std::isnan(a) || std::isnan(b)) return std::bit_cast<float>(0x7FC00000u);
  if (a != b) return a > b ? a : b;
  return std::signbit(a) ? b : a;
}

struct Span {
  std::uint32_t off = 0, len = 0;
};

// Shard q of P of a block: the first (len mod P) shards have one element more.
Span shard_of(Span block, std::uint32_t p, std::uint32_t q) {
  const std::uint32_t base = block.len / p, rem = block.len % p;
  return Span{block.off + q * base + std::min(q, rem), base + (q < rem ? 1u : 0u)};
}

// A ring: its members in ring order (chip indices) and, per position, the shard it owns.
struct Ring {
  std::vector<std::uint32_t> chips;
  std::vector<std::uint32_t> shard;  // shard index of the chip at each position
};

// The whole pod in reflected Gray-code order (x fastest): the ring of the ring algorithms.
Ring gray_ring(const std::array<std::uint32_t, 3>& s) {
  Ring r;
  for (std::uint32_t z = 0; z < s[2]; ++z) {
    for (std::uint32_t yy = 0; yy < s[1]; ++yy) {
      const std::uint32_t y = z % 2 == 1 ? s[1] - 1 - yy : yy;
      for (std::uint32_t xx = 0; xx < s[0]; ++xx) {
        const std::uint32_t x = (z * s[1] + yy) % 2 == 1 ? s[0] - 1 - xx : xx;
        r.chips.push_back(x + s[0] * (y + s[1] * z));
      }
    }
  }
  r.shard = r.chips;  // the chip at each position owns the shard with its own index
  return r;
}

// The ring along dimension d through chip `c`: positions are coordinates, and so are shards.
Ring line_ring(const std::array<std::uint32_t, 3>& s, std::uint32_t d, std::uint32_t c) {
  std::array<std::uint32_t, 3> xyz{c % s[0], c / s[0] % s[1], c / (s[0] * s[1])};
  Ring r;
  for (std::uint32_t p = 0; p < s[d]; ++p) {
    xyz[d] = p;
    r.chips.push_back(xyz[0] + s[0] * (xyz[1] + s[1] * xyz[2]));
    r.shard.push_back(p);
  }
  return r;
}

// Chip values: each chip's whole vector (f32 values; BF16 ones are exact floats of BF16).
using Vecs = std::vector<std::vector<float>>;

struct Ref {
  const Case& c;
  std::uint32_t chips;
  // The block each chip works on at each phase (phase i of the dims used).
  std::vector<std::uint32_t> dims;

  explicit Ref(const Case& cs) : c(cs), chips(cs.shape[0] * cs.shape[1] * cs.shape[2]) {
    if (c.algo == Algo::kTorus) {
      for (std::uint32_t d = 0; d < 3; ++d) {
        if (c.shape[d] > 1) dims.push_back(d);
      }
    } else if (chips > 1) {
      dims.push_back(3);  // the Gray ring
    }
  }
  Ring ring(std::uint32_t phase, std::uint32_t chip) const {
    return dims[phase] == 3 ? gray_ring(c.shape) : line_ring(c.shape, dims[phase], chip);
  }
  // Block of `chip` at phase i: B0 = everything, B(i+1) = its shard of Bi.
  Span block(std::uint32_t chip, std::uint32_t phase) const {
    Span b{0, c.elements};
    for (std::uint32_t i = 0; i < phase; ++i) {
      const Ring r = ring(i, chip);
      const auto pos = static_cast<std::uint32_t>(std::find(r.chips.begin(), r.chips.end(), chip) -
                                                  r.chips.begin());
      b = shard_of(b, static_cast<std::uint32_t>(r.chips.size()), r.shard[pos]);
    }
    return b;
  }
  Span own(std::uint32_t chip) const {
    return block(chip, static_cast<std::uint32_t>(dims.size()));
  }

  float combine(float local, float received) const {
    const float v = c.max ? ref_max(local, received) : local + received;
    return c.bf16 ? bf16_float(bf16_rne(v)) : v;
  }

  // Reduce-scatter phase i on every ring of it: the partial of the shard (half) owned by
  // position s starts at s + 1 (direction 0; s - 1 for direction 1) and goes around the ring,
  // each chip combining its own value with the partial received: own (op) partial.
  void reduce_scatter(Vecs& v, std::uint32_t phase) const {
    Vecs out = v;
    for (std::uint32_t chip = 0; chip < chips; ++chip) {
      const Ring r = ring(phase, chip);
      if (r.chips[0] != chip && dims[phase] != 3) continue;  // each line once, from its first
      if (dims[phase] == 3 && chip != 0) continue;
      const auto n = static_cast<std::uint32_t>(r.chips.size());
      const Span blk = block(r.chips[0], phase);
      for (std::uint32_t s = 0; s < n; ++s) {
        const Span sh = shard_of(blk, n, r.shard[s]);
        const std::uint32_t half = (sh.len + 1) / 2;
        const std::uint32_t ndir = c.algo == Algo::kRing ? 1 : 2;
        for (std::uint32_t d = 0; d < ndir; ++d) {
          const Span part = ndir == 1 ? sh
                            : d == 0  ? Span{sh.off, half}
                                      : Span{sh.off + half, sh.len - half};
          for (std::uint32_t e = part.off; e < part.off + part.len; ++e) {
            std::uint32_t p = d == 0 ? (s + 1) % n : (s + n - 1) % n;
            float acc = v[r.chips[p]][e];
            for (std::uint32_t t = 1; t < n; ++t) {
              p = d == 0 ? (p + 1) % n : (p + n - 1) % n;
              acc = combine(v[r.chips[p]][e], acc);
            }
            out[r.chips[s]][e] = acc;
          }
        }
      }
    }
    v = std::move(out);
  }
  // All-gather phase i: every member gets each owner's shard of the block.
  void all_gather(Vecs& v, std::uint32_t phase) const {
    Vecs out = v;
    for (std::uint32_t chip = 0; chip < chips; ++chip) {
      const Ring r = ring(phase, chip);
      const auto n = static_cast<std::uint32_t>(r.chips.size());
      const Span blk = block(chip, phase);
      for (std::uint32_t s = 0; s < n; ++s) {
        const Span sh = shard_of(blk, n, r.shard[s]);
        for (std::uint32_t e = sh.off; e < sh.off + sh.len; ++e) out[chip][e] = v[r.chips[s]][e];
      }
    }
    v = std::move(out);
  }
  // The whole collective on whole vectors (all-gather: each chip's own shard filled in).
  Vecs run(Vecs v) const {
    const auto phases = static_cast<std::uint32_t>(dims.size());
    if (c.op != Op::kAllGather) {
      for (std::uint32_t i = 0; i < phases; ++i) reduce_scatter(v, i);
    }
    if (c.op != Op::kReduceScatter) {
      for (std::uint32_t i = phases; i-- > 0;) all_gather(v, i);
    }
    return v;
  }
};

// ---- running the kernel ----

struct Run {  // NOLINT(bugprone-exception-escape): as sim::PodResult (moves of json, maps)
  sim::PodResult pod;
  std::vector<std::vector<std::uint8_t>> y;  // per chip, raw bytes
  std::uint64_t start = 0, end = 0;          // over every chip: the last to start, the last to end
};

ici::TopologyKind topology_of(const Case& c) {
  return c.shape[1] == 1 && c.shape[2] == 1 ? ici::TopologyKind::kRing : ici::TopologyKind::kTorus;
}

std::vector<std::uint8_t> to_bytes(const Case& c, const std::vector<float>& v, Span s) {
  std::vector<std::uint8_t> b(s.len * (c.bf16 ? 2u : 4u));
  for (std::uint32_t i = 0; i < s.len; ++i) {
    const float f = v[s.off + i];
    if (c.bf16) {
      const auto h = static_cast<std::uint16_t>(std::bit_cast<std::uint32_t>(f) >> 16);
      std::memcpy(&b[2 * i], &h, 2);
    } else {
      std::memcpy(&b[4 * i], &f, 4);
    }
  }
  return b;
}

sim::PodJob make_job(const Case& c, const Vecs& in, const Ref& ref) {
  sim::PodJob job;
  job.config = sim::SimConfig{};
  job.config->pod.shape = {c.shape[0], c.shape[1], c.shape[2]};
  job.config->pod.topology = topology_of(c);
  job.max_cycles = 100'000'000;
  const std::vector<std::uint8_t> elf = test::test_firmware("collective");
  for (std::uint32_t chip = 0; chip < ref.chips; ++chip) {
    sim::ChipProgram p;
    p.firmware_name = "collective";
    p.firmware_elf = elf;
    const Span x = c.op == Op::kAllGather ? ref.own(chip) : Span{0, c.elements};
    std::vector<std::uint8_t> bytes = to_bytes(c, in[chip], x);
    if (c.bf16) {
      const std::size_t n = bytes.size();
      p.inputs.emplace_back("X", make_u8({n}, std::move(bytes)));
    } else {
      std::vector<float> f(in[chip].begin() + x.off, in[chip].begin() + x.off + x.len);
      p.inputs.emplace_back("X", make_f32({f.size()}, f));
    }
    p.scalars = {{"op", static_cast<std::uint32_t>(c.op)},
                 {"algo", static_cast<std::uint32_t>(c.algo)},
                 {"dtype", c.bf16 ? 1u : 0u},
                 {"reduce", c.max ? 1u : 0u},
                 {"n", c.elements}};
    if (c.chunk != 0) p.scalars.emplace_back("chunk", c.chunk);
    p.read_back = {"Y"};
    job.programs.push_back(std::move(p));
  }
  return job;
}

Run run_job(const sim::PodJob& job, const Ref& ref) {
  Run r;
  r.pod = test::run_pod(job);
  for (std::uint32_t chip = 0; chip < ref.chips; ++chip) {
    const sim::ChipJobResult& cr = r.pod.chips[chip];
    INFO("chip " << chip << ": " << cr.end.message << "\n" << cr.console);
    REQUIRE(cr.end.kind == chip::ChipEnd::Kind::kExit);
    REQUIRE(cr.exit_code == 0);
    r.y.push_back(cr.outputs.at("Y").data);
    unsigned long t0 = 0, t1 = 0;
    const auto at = cr.console.find("collective: cycles ");
    REQUIRE(at != std::string::npos);
    REQUIRE(std::sscanf(cr.console.c_str() + at, "collective: cycles %lu %lu", &t0, &t1) == 2);
    r.start = std::max<std::uint64_t>(r.start, t0);
    r.end = std::max<std::uint64_t>(r.end, t1);
  }
  return r;
}

Run run_case(const Case& c, const Vecs& in, const Ref& ref) {
  return run_job(make_job(c, in, ref), ref);
}

// Random inputs: f32 values of mixed signs and magnitudes (sums round, and depend on their
// order); BF16 values (exact floats) for bf16; a few zeros of both signs.
Vecs random_inputs(const Case& c, std::uint32_t chips, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> u(-1.0F, 1.0F);
  std::uniform_int_distribution<int> ex(-12, 12);
  Vecs v(chips, std::vector<float>(c.elements));
  for (auto& chip : v) {
    for (float& f : chip) {
      f = std::ldexp(u(rng), ex(rng));
      if (rng() % 64 == 0) f = rng() % 2 == 0 ? 0.0F : -0.0F;
      if (c.bf16) f = bf16_float(bf16_rne(f));
    }
  }
  return v;
}

void require_exact(const Case& c, const Ref& ref, const Vecs& want, const Run& r) {
  for (std::uint32_t chip = 0; chip < ref.chips; ++chip) {
    const Span s = c.op == Op::kReduceScatter ? ref.own(chip) : Span{0, c.elements};
    const std::vector<std::uint8_t> w = to_bytes(c, want[chip], s);
    INFO("chip " << chip);
    REQUIRE(r.y[chip].size() == w.size());
    if (r.y[chip] != w) {
      const std::uint32_t eb = c.bf16 ? 2 : 4;
      for (std::size_t i = 0; i < w.size(); i += eb) {
        INFO("element " << s.off + i / eb);
        REQUIRE(std::memcmp(&r.y[chip][i], &w[i], eb) == 0);
      }
    }
  }
}

void check_case(const Case& c, std::uint64_t seed) {
  INFO(describe(c));
  const Ref ref(c);
  const Vecs in = random_inputs(c, ref.chips, seed);
  const Vecs want = ref.run(in);
  const Run r = run_case(c, in, ref);
  require_exact(c, ref, want, r);
}

}  // namespace

TEST_CASE("collectives are bit-exact against the documented order: 8-chip ring", "[chip][ici]") {
  std::uint64_t seed = 1;
  for (const Op op : {Op::kAllReduce, Op::kReduceScatter, Op::kAllGather}) {
    for (const Algo algo : {Algo::kRing, Algo::kBiring}) {
      for (const bool bf16 : {false, true}) {
        for (const bool mx : {false, true}) {
          Case c;
          c.op = op;
          c.algo = algo;
          c.bf16 = bf16;
          c.max = mx;
          c.elements = 3001;
          c.chunk = 1000;
          check_case(c, seed++);
        }
      }
    }
  }
}

TEST_CASE("collectives are bit-exact on tori: 2x2x2 and 4x4x1", "[chip][ici]") {
  std::uint64_t seed = 100;
  for (const std::array<std::uint32_t, 3> shape :
       {std::array<std::uint32_t, 3>{2, 2, 2}, std::array<std::uint32_t, 3>{4, 4, 1}}) {
    for (const Op op : {Op::kAllReduce, Op::kReduceScatter, Op::kAllGather}) {
      for (const Algo algo : {Algo::kRing, Algo::kBiring, Algo::kTorus}) {
        Case c;
        c.op = op;
        c.algo = algo;
        c.shape = shape;
        c.bf16 = seed % 2 == 0;
        c.max = seed % 3 == 0;
        c.elements = 2053;  // shards of unequal sizes on every phase
        c.chunk = 512;
        check_case(c, seed++);
      }
    }
  }
}

namespace {

// ---- the alpha-beta model (docs/ICI.md, "Collective times") ----
//
// A max-plus evaluation of the pipelined ring schedule from the link and engine parameters: per
// chip and per engine queue, descriptors run in issue order; an ICI descriptor occupies its
// engine for the start-up (alpha_e); a chunk's packets leave when the link is free and take
// beta per wire byte; they land one hop latency (fibre, SerDes, FEC) and a router pass later; a
// reduction takes the VPU's latency plus its bank cycles. Written from docs/ICI.md, not from the
// engines' code.
struct Params {
  double cycle_ps = 1000;
  double setup_ps = 32'000;  // ICI engine start-up per descriptor
  double router_ps = 20'000;
  double hop_cube_ps = 165'000, hop_ocs_ps = 300'000;
  double ps_per_byte = 10;  // 100 GB/s
  double header = 32, payload = 4096;
  double vpu_latency = 8, vpu_lanes = 128, vmem_row = 256;  // banks x bank width
  double dma_setup = 16, dma_bytes_per_cycle = 2048;
  double hbm_ps = 40'000;  // a DMA's first HBM access (row opened, CAS, burst): nominal
};

double wire_ps(const Params& p, double bytes) {
  const double packets = std::ceil(bytes / p.payload);
  return (bytes + packets * p.header) * p.ps_per_byte;
}
double vpu_ps(const Params& p, double elements, double ebytes) {
  const double groups = std::ceil(elements / p.vpu_lanes);
  return (p.vpu_latency + groups * std::ceil(p.vpu_lanes * ebytes / p.vmem_row)) * p.cycle_ps;
}
double dma_ps(const Params& p, double bytes) {
  return (p.dma_setup + std::ceil(bytes / p.dma_bytes_per_cycle)) * p.cycle_ps + p.hbm_ps;
}

bool through_ocs(const std::array<std::uint32_t, 3>& s, std::uint32_t a, std::uint32_t b) {
  // Two chips next to each other along one dimension: a wrap-around link, or one between
  // cubes of 4 along it, goes through the OCS.
  const std::array<std::uint32_t, 3> ca{a % s[0], a / s[0] % s[1], a / (s[0] * s[1])};
  const std::array<std::uint32_t, 3> cb{b % s[0], b / s[0] % s[1], b / (s[0] * s[1])};
  for (std::uint32_t d = 0; d < 3; ++d) {
    if (ca[d] == cb[d]) continue;
    const std::uint32_t lo = std::min(ca[d], cb[d]), hi = std::max(ca[d], cb[d]);
    if (hi - lo != 1) return true;  // wrap-around
    return s[d] > 4 && lo / 4 != hi / 4;
  }
  return false;
}

// The collective's time in ps, from the first descriptor to the last store, for a case whose
// shards and chunks are all equal (sizes a multiple of chips x chunk).
double model_ps(const Case& c, const Ref& ref, const Params& p) {
  const double eb = c.bf16 ? 2 : 4;
  const std::uint32_t chips = ref.chips;
  const double chunk_elems = (c.chunk != 0 ? c.chunk : 32768) / eb;
  const std::uint32_t ndir = c.algo == Algo::kRing ? 1 : 2;
  struct Chip {
    double ici = 0, vpu = 0, dma = 0, link[2] = {0, 0}, lv = 0, barrier = 0, done = 0;
  };
  std::vector<Chip> st(chips);
  // Pipelines as the kernel runs them.
  struct Pipe {
    std::uint32_t phase;
    bool rs, ag;
  };
  std::vector<Pipe> pipes;
  const auto phases = static_cast<std::uint32_t>(ref.dims.size());
  REQUIRE(c.op == Op::kAllReduce);
  for (std::uint32_t i = 0; i + 1 < phases; ++i) pipes.push_back({i, true, false});
  pipes.push_back({phases - 1, true, true});
  for (std::uint32_t i = phases - 1; i-- > 0;) pipes.push_back({i, false, true});

  // Loads: the first pipeline's step-0 chunks, then the whole input (the reductions wait for it).
  const auto seg_elems = [&](std::uint32_t phase) {
    const double n = static_cast<double>(ref.ring(phase, 0).chips.size());
    return ref.block(0, phase).len / n / ndir;
  };
  {
    const double s0 = seg_elems(pipes[0].phase);
    const auto k = static_cast<std::uint32_t>(std::ceil(s0 / chunk_elems));
    for (Chip& ch : st) {
      for (std::uint32_t j = 0; j < k * ndir; ++j) ch.dma += dma_ps(p, chunk_elems * eb);
      ch.lv = ch.dma + dma_ps(p, c.elements * eb);
      ch.dma = ch.lv;
    }
  }
  for (std::size_t pi = 0; pi < pipes.size(); ++pi) {
    const Pipe& pp = pipes[pi];
    const double seg = seg_elems(pp.phase);
    const auto k = static_cast<std::uint32_t>(std::ceil(seg / chunk_elems));
    const double cb = std::min(seg, chunk_elems) * eb;  // chunk bytes (all equal here)
    const auto n = static_cast<std::uint32_t>(ref.ring(pp.phase, 0).chips.size());
    const std::uint32_t rs_steps = pp.rs ? n - 1 : 0;
    const std::uint32_t steps = (pp.rs ? n - 1 : 0) + (pp.ag ? n - 1 : 0);
    // ready[chip][d][j]: the chunk to send at the current step is there (loaded, reduced or
    // received); arrive: what the current step delivers.
    std::vector<std::vector<std::vector<double>>> ready(
        chips, std::vector<std::vector<double>>(ndir, std::vector<double>(k, 0)));
    for (std::uint32_t i = 0; i < chips; ++i) {
      for (std::uint32_t d = 0; d < ndir; ++d) {
        for (std::uint32_t j = 0; j < k; ++j) {
          ready[i][d][j] = pi == 0 ? st[i].dma : st[i].barrier;  // loads done / phase barrier
        }
      }
    }
    if (pi == 0) {
      // The step-0 sends wait for their own chunk's load only.
      for (std::uint32_t i = 0; i < chips; ++i) {
        double t = 0;
        for (std::uint32_t j = 0; j < k; ++j) {
          for (std::uint32_t d = 0; d < ndir; ++d) {
            t += dma_ps(p, chunk_elems * eb);
            ready[i][d][j] = t;
          }
        }
      }
    }
    for (std::uint32_t m = 0; m < steps; ++m) {
      auto arrive = ready;
      for (std::uint32_t i = 0; i < chips; ++i) {
        const Ring r = ref.ring(pp.phase, i);
        const auto pos = static_cast<std::uint32_t>(std::find(r.chips.begin(), r.chips.end(), i) -
                                                    r.chips.begin());
        for (std::uint32_t j = 0; j < k; ++j) {
          // Receives of this step (dispatch in order; their data waits in the buffers).
          st[i].ici += ndir * p.setup_ps;
          for (std::uint32_t d = 0; d < ndir; ++d) {
            const std::uint32_t next = r.chips[d == 0 ? (pos + 1) % n : (pos + n - 1) % n];
            const double dispatch = std::max(st[i].ici, ready[i][d][j]);
            st[i].ici = dispatch + p.setup_ps;
            const double leave = std::max(st[i].ici, st[i].link[d]);
            st[i].link[d] = leave + wire_ps(p, cb);
            arrive[next][d][j] = st[i].link[d] +
                                 (through_ocs(c.shape, i, next) ? p.hop_ocs_ps : p.hop_cube_ps) +
                                 p.router_ps;
          }
        }
      }
      // What arrived: reduced (reduce-scatter steps) or forwarded as it is (all-gather steps).
      for (std::uint32_t i = 0; i < chips; ++i) {
        for (std::uint32_t j = 0; j < k; ++j) {
          for (std::uint32_t d = 0; d < ndir; ++d) {
            double t = std::ceil(arrive[i][d][j] / p.cycle_ps) * p.cycle_ps;
            if (m < rs_steps) {
              t = std::max({t, st[i].vpu, st[i].lv}) + vpu_ps(p, cb / eb, eb);
              st[i].vpu = t + p.cycle_ps;  // the NOP that frees the slot
            }
            ready[i][d][j] = t;
            st[i].done = std::max(st[i].done, t);
          }
        }
      }
    }
    for (Chip& ch : st) ch.barrier = ch.done;
  }
  // The last chunk's store to HBM.
  double end = 0;
  for (const Chip& ch : st) end = std::max(end, ch.done + dma_ps(p, chunk_elems * eb));
  return end;
}

}  // namespace

struct TimingCase {
  std::array<std::uint32_t, 3> shape;
  Algo algo;
  std::uint32_t bytes;
};

void check_alpha_beta(const TimingCase& t) {
  const Params p;
  Case c;
  c.shape = t.shape;
  c.algo = t.algo;
  c.elements = t.bytes / 4;
  c.chunk = 32768;
  const Ref ref(c);
  const Vecs in = random_inputs(c, ref.chips, 7);
  const Run r = run_case(c, in, ref);
  const double measured = static_cast<double>(r.end - r.start) * p.cycle_ps;
  const double model = model_ps(c, ref, p);
  INFO(describe(c) << ": measured " << measured / 1e3 << " ns, model " << model / 1e3 << " ns");
  CHECK(std::abs(measured - model) <= 0.05 * model);
  WARN(describe(c) << ": measured " << measured / 1e3 << " ns, model " << model / 1e3 << " ns");
}

TEST_CASE("all-reduce times follow the alpha-beta model", "[chip][ici][timing]") {
  for (const TimingCase t :
       {TimingCase{{8, 1, 1}, Algo::kRing, 1024}, TimingCase{{8, 1, 1}, Algo::kRing, 65536},
        TimingCase{{8, 1, 1}, Algo::kRing, 1 << 20}, TimingCase{{8, 1, 1}, Algo::kBiring, 1 << 20},
        TimingCase{{4, 4, 4}, Algo::kTorus, 1024}, TimingCase{{4, 4, 4}, Algo::kTorus, 65536}}) {
    check_alpha_beta(t);
  }
}

// The two largest cases (8 x 16 MiB through HBM, 64 chips x 1 MiB): about 40 s of the suite's
// time here, five minutes under ASan, so ctest runs them as their own entry labelled "large"
// (chip_collectives_large, tests/chip/CMakeLists.txt), which CI's sanitizer stage leaves out.
TEST_CASE("all-reduce times follow the alpha-beta model: 16 MiB ring, 64-chip torus",
          "[chip][ici][timing][large]") {
  for (const TimingCase t : {TimingCase{{8, 1, 1}, Algo::kRing, 16 << 20},
                             TimingCase{{4, 4, 4}, Algo::kTorus, 1 << 20}}) {
    check_alpha_beta(t);
  }
}

// 64 chips x 16 MiB: about five minutes and 6 GB of host memory here (docs/PERFORMANCE.md,
// "Pods"); its own ctest entry chip_collectives_huge, labelled large like the two above.
TEST_CASE("all-reduce times follow the alpha-beta model: 64-chip torus, 16 MiB per chip",
          "[chip][ici][timing][huge]") {
  check_alpha_beta(TimingCase{{4, 4, 4}, Algo::kTorus, 16 << 20});
}

TEST_CASE("a collective run twice gives identical outputs, cycles and statistics", "[chip][ici]") {
  Case c;
  c.shape = {2, 2, 2};
  c.algo = Algo::kTorus;
  c.bf16 = true;
  c.elements = 4096;
  c.chunk = 1024;
  const Ref ref(c);
  const Vecs in = random_inputs(c, ref.chips, 42);
  const Run a = run_case(c, in, ref);
  const Run b = run_case(c, in, ref);
  CHECK(a.y == b.y);
  CHECK(a.start == b.start);
  CHECK(a.end == b.end);
  for (std::uint32_t chip = 0; chip < ref.chips; ++chip) {
    nlohmann::json sa = a.pod.chips[chip].stats, sb = b.pod.chips[chip].stats;
    for (nlohmann::json* s : {&sa, &sb}) {  // host-side figures differ from run to run
      s->erase("host_seconds");
      if (s->contains("core")) (*s)["core"].erase("host_mips");
    }
    INFO("chip " << chip);
    CHECK(sa == sb);
  }
}

TEST_CASE("a collective stays exact through bit errors and a link that fails mid-way",
          "[chip][ici][faults]") {
  Case c;
  c.shape = {8, 1, 1};
  c.algo = Algo::kRing;
  c.elements = 1 << 18;  // 1 MiB of FP32 per chip
  const Ref ref(c);
  const Vecs in = random_inputs(c, ref.chips, 11);
  const Vecs want = ref.run(in);
  const Run clean = run_case(c, in, ref);
  // Bit errors at 1e-6 per bit on every link, and chip 2's x+ link (to chip 3) dies a third of
  // the way through: its traffic goes the long way round the ring.
  sim::PodJob job = make_job(c, in, ref);
  job.config->ici.bit_error_rate = 1e-6;
  ici::FaultSpec f;
  f.kind = ici::FaultSpec::Kind::kLink;
  f.chip = 2;
  f.port = 0;
  f.at_ns = clean.start + (clean.end - clean.start) / 3;  // 1 GHz: a cycle is a ns
  job.config->pod.faults = {f};
  const Run r = run_job(job, ref);
  require_exact(c, ref, want, r);
  CHECK(r.y == clean.y);
  CHECK(r.end - r.start > clean.end - clean.start);  // the detour and the resends cost time
  double retrans = 0;
  bool dead = false;
  for (const auto& l : r.pod.stats["pod"]["ici"]["links"]) {
    if (!l["alive"].get<bool>()) dead = true;
    for (const auto& d : l["directions"]) retrans += d["retransmissions"].get<double>();
  }
  CHECK(dead);
  CHECK(retrans > 0);
  WARN("link fault + BER 1e-6: " << retrans << " packets resent, " << r.end - r.start
                                 << " cycles (clean: " << clean.end - clean.start << ")");
}

TEST_CASE("a chip that fails mid-collective is replaced by a spare; the collective restarts exact",
          "[chip][ici][faults]") {
  // The bundled kernel, all-reducing 256 KiB of FP32 per chip on a ring of 8 with one spare;
  // chip 3 fails half-way. After the OCS's 10 ms the spare is chip 3, the epoch is 1, and every
  // survivor's interrupted plan drains (aborted or discarded) before it starts over.
  Case c;
  c.shape = {8, 1, 1};
  c.algo = Algo::kRing;
  c.elements = 1 << 16;
  const Ref ref(c);
  const Vecs in = random_inputs(c, ref.chips, 13);
  const Vecs want = ref.run(in);
  const Run clean = run_case(c, in, ref);
  sim::PodJob job = make_job(c, in, ref);
  job.config->pod.spares = 1;
  ici::FaultSpec f;
  f.kind = ici::FaultSpec::Kind::kChip;
  f.chip = 3;
  f.at_ns = clean.start + (clean.end - clean.start) / 2;  // 1 GHz: a cycle is a ns
  job.config->pod.faults = {f};
  job.max_cycles = 1'000'000'000;
  const Run r = run_job(job, ref);
  require_exact(c, ref, want, r);
  CHECK(r.y == clean.y);
  CHECK(r.pod.chips[3].stats["sc_name"] == "pod.chip8");
  REQUIRE(r.pod.stats["pod"]["replacements"].size() == 1);
  CHECK(r.start > 10'000'000);  // the last (re)start came after the reconfiguration
  std::uint64_t discarded = 0;
  for (std::uint32_t chip = 0; chip < ref.chips; ++chip) {
    INFO("chip " << chip << ": " << r.pod.chips[chip].console);
    const bool restarted =
        r.pod.chips[chip].console.find("collective: restarted 1 times") != std::string::npos;
    CHECK(restarted == (chip != 3));  // the spare started once, in the new epoch
    const auto& ici = r.pod.chips[chip].stats["engines"]["ICI"];
    CHECK(ici["epoch"] == 1);
    discarded += ici["discarded"].get<std::uint64_t>();
  }
  CHECK(discarded > 0);  // queued descriptors of the interrupted plan were not sent
}

TEST_CASE("a collective on buffers of different sizes is refused, naming both chips",
          "[chip][ici][bad-input]") {
  Case c;
  c.shape = {4, 1, 1};
  c.elements = 4096;
  c.chunk = 4096;
  const Ref ref(c);
  const Vecs in = random_inputs(c, ref.chips, 5);
  sim::PodJob job = make_job(c, in, ref);
  // Chip 2 gets a shorter vector than the others.
  std::vector<float> shorter(in[2].begin(), in[2].begin() + 3000);
  job.programs[2].inputs[0].second = make_f32({shorter.size()}, shorter);
  const sim::PodResult r = test::run_pod(job);
  REQUIRE(r.first_failure.has_value());
  std::string all;
  for (const sim::ChipJobResult& ch : r.chips) all += ch.end.message + "\n";
  INFO(all);
  CHECK(all.find("from chip 2") != std::string::npos);
  CHECK(all.find("matched a message of 3000 bytes") != std::string::npos);
}

TEST_CASE("a pod's timeline: named slices on properly nested tracks, a track per link",
          "[chip][ici][timeline]") {
  Case c;
  c.shape = {2, 2, 2};
  c.algo = Algo::kTorus;
  c.elements = 8192;
  c.chunk = 4096;
  const Ref ref(c);
  const Vecs in = random_inputs(c, ref.chips, 3);
  sim::PodJob job = make_job(c, in, ref);
  job.record_timeline = true;
  const Run r = run_job(job, ref);
  REQUIRE(test::require_well_nested(r.pod.timeline_json) > 0);
  const auto t = nlohmann::json::parse(r.pod.timeline_json);
  bool send = false, reduce = false, load = false, link = false;
  for (const auto& e : t["traceEvents"]) {
    if (e["ph"] != "X") continue;
    const std::string n = e["name"];
    send |= n == "ICI send 4 KiB to chip 1" && e["pid"] == 0;  // 4096-byte chunks
    reduce |= n == "VPU add 1x1024";
    load |= n.rfind("DMA HBM->VMEM ", 0) == 0;
    link |= n.find(" packets, ") != std::string::npos;
  }
  CHECK(send);
  CHECK(reduce);
  CHECK(load);
  CHECK(link);
}
