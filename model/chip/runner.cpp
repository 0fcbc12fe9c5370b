#include "model/chip/runner.h"

#include <fmt/format.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <memory>

#include "model/chip/chip.h"
#include "model/common/error.h"
#include "model/core/elf_loader.h"
#include "model/core/gdb_stub.h"
#include "model/numerics/fp8.h"

namespace mxemu::chip {

namespace {

namespace lb = regs::launch;

constexpr std::uint64_t kHbmAlign = 4096;

void put32(std::uint8_t* p, std::uint32_t v) {
  std::memcpy(p, &v, 4);
}
std::uint32_t get32(const std::uint8_t* p) {
  std::uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

class LaunchBlock {
 public:
  explicit LaunchBlock(std::uint8_t* base) : base_(base) {
    put32(base_ + lb::kMagicOffset, lb::kMagic);
    put32(base_ + lb::kCountOffset, 0);
  }
  std::uint8_t* add(const std::string& name) {
    if (name.empty() || name.size() > lb::kNameBytes) {
      throw_bad_input("tensor name '{}' must have 1 to {} characters", name, lb::kNameBytes);
    }
    if (find(name) != nullptr) throw_bad_input("tensor name '{}' is given twice", name);
    const std::uint32_t n = get32(base_ + lb::kCountOffset);
    if (n >= lb::kMaxEntries) throw_bad_input("more than {} launch-block entries", lb::kMaxEntries);
    std::uint8_t* e = base_ + lb::kEntries + n * lb::kEntryBytes;
    std::memset(e, 0, lb::kEntryBytes);
    std::copy(name.begin(), name.end(), e);  // NUL-padded, not NUL-terminated at full length
    put32(base_ + lb::kCountOffset, n + 1);
    return e;
  }
  const std::uint8_t* find(const std::string& name) const {
    const std::uint32_t n = std::min(get32(base_ + lb::kCountOffset), lb::kMaxEntries);
    for (std::uint32_t i = 0; i < n; ++i) {
      const std::uint8_t* e = base_ + lb::kEntries + i * lb::kEntryBytes;
      const std::size_t len = strnlen(reinterpret_cast<const char*>(e), lb::kNameBytes);
      if (std::string(reinterpret_cast<const char*>(e), len) == name) return e;
    }
    return nullptr;
  }

 private:
  std::uint8_t* base_;
};

void describe_tensor(std::uint8_t* e, const NpyArray& a, std::uint64_t addr) {
  put32(e + lb::kEDtype, a.dtype == NpyDtype::kU8 ? lb::kDtypeU8 : lb::kDtypeF32);
  put32(e + lb::kENdim, static_cast<std::uint32_t>(a.shape.size()));
  for (std::size_t i = 0; i < a.shape.size() && i < 4; ++i) {
    put32(e + lb::kEShape0 + 4 * i, static_cast<std::uint32_t>(a.shape[i]));
  }
  put32(e + lb::kEAddrLo, static_cast<std::uint32_t>(addr));
  put32(e + lb::kEAddrHi, static_cast<std::uint32_t>(addr >> 32));
  put32(e + lb::kEBytes, static_cast<std::uint32_t>(a.data.size()));
}

}  // namespace

ChipJobResult run_chip_job(const ChipJob& job) {
  const AllConfigs cfg = load_all_configs(job.config_path);
  ChipConfig chip_cfg = cfg.chip;
  core::CoreConfig core_cfg = cfg.core;
  if (job.cycle_accurate) {
    chip_cfg.mxu.cycle_accurate = true;
    core_cfg.lockstep = true;
  }
  const core::ElfImage elf = core::parse_elf(job.firmware_elf, job.firmware_name);

  Chip chip(chip_cfg, core_cfg, cfg.hbm, job.max_cycles);
  chip.state().record_timeline = job.record_timeline;
  chip.machine().load(elf, job.firmware_name);
  std::string console;
  chip.machine().console().set_sink([&](char c) {
    console += c;
    if (job.console_sink) job.console_sink(c);
  });

  // Inputs and pre-allocated outputs go to HBM one after the other, 4 KiB aligned.
  LaunchBlock block(chip.machine().launch_block().host_memory());
  std::uint64_t next = 0;
  const std::uint64_t capacity = chip.hbm().capacity_bytes();
  const auto place = [&](const std::string& name, const NpyArray& a, bool copy) {
    const std::uint64_t addr = next;
    if (a.data.size() > capacity - addr) {
      throw_bad_input("tensor '{}' ({} bytes) does not fit in HBM ({} bytes, {} already used)",
                      name, a.data.size(), capacity, addr);
    }
    if (copy) chip.hbm().write(addr, a.data);
    describe_tensor(block.add(name), a, addr);
    next = (addr + a.data.size() + kHbmAlign - 1) / kHbmAlign * kHbmAlign;
  };
  for (const auto& [name, a] : job.inputs) place(name, a, true);
  for (const auto& [name, a] : job.outputs) place(name, a, false);
  for (const auto& [name, v] : job.scalars) {
    std::uint8_t* e = block.add(name);
    put32(e + lb::kEDtype, lb::kDtypeScalar);
    put32(e + lb::kEAddrLo, v);
  }
  {
    // Where firmware may allocate its own HBM buffers.
    std::uint8_t* e = block.add("hbm_free");
    put32(e + lb::kEDtype, lb::kDtypeScalar);
    put32(e + lb::kEAddrLo, static_cast<std::uint32_t>(next));
    put32(e + lb::kEAddrHi, static_cast<std::uint32_t>(next >> 32));
  }

  std::unique_ptr<core::GdbStub> stub;
  if (job.gdb_port) {
    if (*job.gdb_port < 0 || *job.gdb_port > 65535) {
      throw_bad_input("--gdb port {} is out of range (0..65535)", *job.gdb_port);
    }
    stub =
        std::make_unique<core::GdbStub>(chip.machine(), static_cast<std::uint16_t>(*job.gdb_port));
    if (job.on_gdb_listen) job.on_gdb_listen(stub->port());
    stub->accept_connection();
  }
  chip.attach_core(stub.get());

  ChipJobResult r;
  const auto t0 = std::chrono::steady_clock::now();
  const auto collect = [&](const std::string& outcome) {
    r.host_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    r.total_cycles = chip.cycles();
    r.stats = chip.stats();
    r.stats["host_seconds"] = r.host_seconds;
    r.stats["outcome"] = outcome;
    r.stats["exit_code"] = r.exit_code;
    r.stats["firmware"] = job.firmware_name;
    r.console = console;
    if (!job.stats_path.empty()) {
      std::ofstream f(job.stats_path);
      if (!f) throw_bad_input("cannot write statistics file '{}'", job.stats_path);
      f << r.stats.dump(2) << '\n';
    }
  };
  try {
    r.exit_code = chip.run();
  } catch (const Error& e) {
    r.exit_code = static_cast<int>(e.code());
    collect(e.what());
    throw;
  }
  r.killed = chip.killed();
  collect(r.killed ? "killed by debugger" : "exit");
  if (job.record_timeline) r.timeline_json = chip.timeline_json();
  if (r.killed) return r;

  for (const std::string& name : job.read_back) {
    const std::uint8_t* e = block.find(name);
    if (e == nullptr) throw_sim_fault("the firmware produced no output named '{}'", name);
    NpyArray a;
    const std::uint32_t dtype = get32(e + lb::kEDtype);
    if (dtype != lb::kDtypeU8 && dtype != lb::kDtypeF32) {
      throw_sim_fault("output '{}' has launch-block dtype {}, not a tensor", name, dtype);
    }
    a.dtype = dtype == lb::kDtypeU8 ? NpyDtype::kU8 : NpyDtype::kF32;
    const std::uint32_t ndim = get32(e + lb::kENdim);
    if (ndim == 0 || ndim > 4) throw_sim_fault("output '{}' has {} dimensions", name, ndim);
    for (std::uint32_t i = 0; i < ndim; ++i) a.shape.push_back(get32(e + lb::kEShape0 + 4 * i));
    const std::uint64_t addr =
        (std::uint64_t{get32(e + lb::kEAddrHi)} << 32) | get32(e + lb::kEAddrLo);
    a.data.resize(a.elements() * a.element_bytes());
    if (addr > capacity || a.data.size() > capacity - addr) {
      throw_sim_fault("output '{}' at HBM 0x{:x} ({} bytes) lies outside HBM", name, addr,
                      a.data.size());
    }
    chip.hbm().read(addr, a.data);
    r.outputs[name] = std::move(a);
  }
  return r;
}

ChipJob make_gemm_job(const GemmJob& g, std::vector<std::uint8_t> gemm_elf) {
  const auto need_u8_2d = [](const NpyArray& a, const char* what) {
    if (a.dtype != NpyDtype::kU8) {
      throw_bad_input("{} must be a uint8 array of FP8/UE8M0 bit patterns, got {}", what,
                      npy_dtype_name(a.dtype));
    }
    if (a.shape.size() != 2) throw_bad_input("{} must be 2-D, got shape {}", what, a.shape_str());
  };
  need_u8_2d(g.a, "A");
  need_u8_2d(g.b, "B");
  const std::size_t m = g.a.shape[0], k = g.a.shape[1], n = g.b.shape[1];
  if (g.b.shape[0] != k) {
    throw_bad_input("A is {} but B is {}: A's columns must equal B's rows", g.a.shape_str(),
                    g.b.shape_str());
  }
  if (m == 0 || n == 0 || k == 0) throw_bad_input("empty GEMM (M={}, N={}, K={})", m, n, k);
  const auto fa = num::parse_format(g.fmt_a), fb = num::parse_format(g.fmt_b);
  if (!fa) throw_bad_input("unknown format '{}' for A (expected e4m3 or e5m2)", g.fmt_a);
  if (!fb) throw_bad_input("unknown format '{}' for B (expected e4m3 or e5m2)", g.fmt_b);
  if (g.sa.has_value() != g.sb.has_value()) {
    throw_bad_input("give both --a-scales and --b-scales, or neither");
  }
  ChipJob job;
  job.firmware_name = "gemm (bundled)";
  job.firmware_elf = std::move(gemm_elf);
  job.inputs.emplace_back("A", g.a);
  job.inputs.emplace_back("B", g.b);
  if (g.sa) {
    if (g.block <= 0) throw_bad_input("--block must be positive, got {}", g.block);
    const auto bs = static_cast<std::size_t>(g.block);
    if (k % bs != 0) throw_bad_input("K = {} is not a multiple of the block ({})", k, g.block);
    need_u8_2d(*g.sa, "the A scales");
    need_u8_2d(*g.sb, "the B scales");
    if (g.sa->shape != std::vector<std::size_t>{m, k / bs}) {
      throw_bad_input("the A scales are {} but must be M x K/block = ({}, {})", g.sa->shape_str(),
                      m, k / bs);
    }
    if (g.sb->shape != std::vector<std::size_t>{k / bs, n}) {
      throw_bad_input("the B scales are {} but must be K/block x N = ({}, {})", g.sb->shape_str(),
                      k / bs, n);
    }
    job.inputs.emplace_back("SA", *g.sa);
    job.inputs.emplace_back("SB", *g.sb);
  }
  if (g.c0) {
    if (g.c0->dtype != NpyDtype::kF32) {
      throw_bad_input("C_init must be float32, got {}", npy_dtype_name(g.c0->dtype));
    }
    if (g.c0->shape != std::vector<std::size_t>{m, n}) {
      throw_bad_input("C_init is {} but must be M x N = ({}, {})", g.c0->shape_str(), m, n);
    }
    job.inputs.emplace_back("C0", *g.c0);
  }
  NpyArray c;
  c.dtype = NpyDtype::kF32;
  c.shape = {m, n};
  c.data.resize(m * n * 4);
  job.outputs.emplace_back("C", std::move(c));
  job.read_back = {"C"};
  job.scalars = {{"fmt_a", *fa == num::Fp8Format::kE5M2 ? 1u : 0u},
                 {"fmt_b", *fb == num::Fp8Format::kE5M2 ? 1u : 0u},
                 {"block", static_cast<std::uint32_t>(g.block)}};
  return job;
}

}  // namespace mxemu::chip
