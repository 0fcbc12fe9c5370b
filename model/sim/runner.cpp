#include "model/sim/runner.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>
#include <memory>
#include <thread>

#include "model/chip/chip.h"
#include "model/chip/chip_debug.h"
#include "model/common/bytes.h"
#include "model/common/error.h"
#include "model/core/elf_loader.h"
#include "model/core/gdb_stub.h"
#include "model/numerics/fp8.h"
#include "model/sim/partition.h"
#include "model/sim/simulation.h"
#include "model/waves/writer.h"

namespace mxemu::sim {

namespace regs = chip::regs;

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
  enum Existing { kExisting };
  // A new, empty block at `base`.
  explicit LaunchBlock(std::uint8_t* base) : base_(base) {
    put32(base_ + lb::kMagicOffset, lb::kMagic);
    put32(base_ + lb::kCountOffset, 0);
  }
  // The block as the firmware left it.
  LaunchBlock(std::uint8_t* base, Existing /*tag*/) : base_(base) {}
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

// Puts one chip's program in place: firmware, console, tensors in HBM, launch block.
void set_up_chip(chip::Chip& chip, const ChipProgram& prog, const core::ElfImage& elf,
                 std::string& console) {
  chip.machine().load(elf, prog.firmware_name);
  chip.machine().console().set_sink([&console, sink = prog.console_sink](char c) {
    console += c;
    if (sink) sink(c);
  });
  // Inputs and pre-allocated outputs go to HBM one after the other, 4 KiB aligned.
  std::uint8_t* lbmem = chip.machine().launch_block().host_memory();
  LaunchBlock block(lbmem);
  chip.write_identity_header();
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
  for (const auto& [name, a] : prog.inputs) place(name, a, true);
  for (const auto& [name, a] : prog.outputs) place(name, a, false);
  const auto scalar = [&](const std::string& name, std::uint64_t v) {
    std::uint8_t* e = block.add(name);
    put32(e + lb::kEDtype, lb::kDtypeScalar);
    put32(e + lb::kEAddrLo, static_cast<std::uint32_t>(v));
    put32(e + lb::kEAddrHi, static_cast<std::uint32_t>(v >> 32));
  };
  for (const auto& [name, v] : prog.scalars) scalar(name, v);
  // Where firmware may allocate its own HBM buffers, and the configured MX block.
  scalar("hbm_free", next);
  if (block.find("mx_block") == nullptr) scalar("mx_block", chip.config().mx.block);
}

// Reads the outputs a chip's program asked for; throws naming the chip when one is missing,
// unless `passed` is false: a firmware that reported failure may have stopped before declaring
// its outputs (a kernel refusing its inputs), and its failure, not the missing output, is the
// run's result; the outputs it did declare are read.
std::map<std::string, NpyArray> read_outputs(chip::Chip& chip, const ChipProgram& prog,
                                             const std::string& who, bool passed) {
  std::map<std::string, NpyArray> outputs;
  const LaunchBlock block(chip.machine().launch_block().host_memory(), LaunchBlock::kExisting);
  const std::uint64_t capacity = chip.hbm().capacity_bytes();
  for (const std::string& name : prog.read_back) {
    const std::uint8_t* e = block.find(name);
    if (e == nullptr && !passed) continue;
    if (e == nullptr) throw_sim_fault("{}the firmware produced no output named '{}'", who, name);
    NpyArray a;
    const std::uint32_t dtype = get32(e + lb::kEDtype);
    if (dtype != lb::kDtypeU8 && dtype != lb::kDtypeF32) {
      throw_sim_fault("{}output '{}' has launch-block dtype {}, not a tensor", who, name, dtype);
    }
    a.dtype = dtype == lb::kDtypeU8 ? NpyDtype::kU8 : NpyDtype::kF32;
    const std::uint32_t ndim = get32(e + lb::kENdim);
    if (ndim == 0 || ndim > 4) throw_sim_fault("{}output '{}' has {} dimensions", who, name, ndim);
    std::uint64_t elements = 1;
    for (std::uint32_t i = 0; i < ndim; ++i) {
      const std::uint32_t d = get32(e + lb::kEShape0 + 4 * i);
      a.shape.push_back(d);
      elements *= d;  // at most (2^32)^4 would overflow: bounded by the capacity check below
      if (elements > capacity) break;
    }
    const std::uint64_t addr =
        (std::uint64_t{get32(e + lb::kEAddrHi)} << 32) | get32(e + lb::kEAddrLo);
    const std::uint64_t bytes = elements * a.element_bytes();
    if (elements > capacity || addr > capacity || bytes > capacity - addr) {
      throw_sim_fault("{}output '{}' at HBM 0x{:x} (shape {}) lies outside HBM", who, name, addr,
                      a.shape_str());
    }
    a.data.resize(bytes);
    chip.hbm().read(addr, a.data);
    outputs[name] = std::move(a);
  }
  return outputs;
}

void write_file(const std::string& path, const std::string& text, const char* what) {
  std::ofstream f(path);
  if (!f) throw_bad_input("cannot write {} file '{}'", what, path);
  f << text;
  if (!f) throw_bad_input("could not write the whole {} file '{}'", what, path);
}

// The model's waveforms ([waves] file): every chip's recorder, logical chip order, one file.
void write_waves(Simulation& sim, const SimConfig& cfg) {
  const chip::WavesConfig& w = cfg.chip.waves;
  std::vector<const waves::Recorder*> recs;
  std::uint64_t last = 0;
  for (std::size_t i = 0; i < sim.size(); ++i) {
    chip::Chip& c = sim.chip(i);
    if (c.waves() == nullptr) continue;
    const std::uint64_t end = std::max(c.cycles(), c.state().now_cycle());
    c.waves()->finish(end);
    recs.push_back(&c.waves()->recorder());
    last = std::max(last, end);
  }
  if (w.start > last) {
    throw_bad_input(
        "waveform window {}:{} starts after the run's last cycle ({}): no waveform file written",
        w.start, w.end == 0 ? std::string() : std::to_string(w.end), last);
  }
  const std::uint64_t period = cfg.chip.clock().period_ps;
  waves::FileInfo info;
  info.timescale = waves::timescale_for_period_ps(period);
  info.comment = fmt::format("mxemu: one time unit = one chip cycle ({} ps)", period);
  if (info.timescale.empty()) {
    info.timescale = "1ns";
    info.comment += "; the timescale says 1 ns, read time units as cycles";
  }
  waves::write_waves(w.file, recs, info);
}

SimConfig job_config(const RunSettings& s) {
  SimConfig cfg = s.config ? *s.config : load_sim_config(s.config_path);
  if (s.cycle_accurate) {
    cfg.chip.mxu.cycle_accurate = true;
    cfg.core.lockstep = true;
  }
  return cfg;
}

// Distributed pods (docs/DISTRIBUTED.md): what ranks tell one another at the end of a run.
void put_end(ByteWriter& w, const chip::ChipEnd& e) {
  w.put(static_cast<std::uint8_t>(e.kind));
  w.put(static_cast<std::int32_t>(e.exit_code));
  w.put(static_cast<std::int32_t>(e.error));
  w.put_string(e.message);
  w.put(e.cycle);
}
chip::ChipEnd get_end(ByteReader& r) {
  chip::ChipEnd e;
  e.kind = static_cast<chip::ChipEnd::Kind>(r.get<std::uint8_t>());
  e.exit_code = r.get<std::int32_t>();
  e.error = static_cast<ExitCode>(r.get<std::int32_t>());
  e.message = r.get_string();
  e.cycle = r.get<std::uint64_t>();
  return e;
}
void put_error(ByteWriter& w, const std::optional<Error>& e) {
  w.put(static_cast<std::uint8_t>(e ? 1 : 0));
  if (!e) return;
  w.put(static_cast<std::int32_t>(e->code()));
  w.put_string(e->what());
}
std::optional<Error> get_error(ByteReader& r) {
  if (r.get<std::uint8_t>() == 0) return std::nullopt;
  const auto code = static_cast<ExitCode>(r.get<std::int32_t>());
  return Error(code, r.get_string());
}

// An error on some ranks only (a tensor that does not fit one chip's HBM): every rank throws the
// lowest failing rank's, instead of the others waiting for it in the run's first window.
void agree_on_errors(PodTransport& tr, const std::optional<Error>& mine) {
  ByteWriter w;
  put_error(w, mine);
  const std::vector<Bytes> all = tr.all_gather(w.bytes());
  for (std::size_t r = 0; r < all.size(); ++r) {
    ByteReader rd(all[r]);
    if (auto e = get_error(rd)) {
      throw Error(e->code(), static_cast<int>(r) == tr.rank()
                                 ? std::string(e->what())
                                 : fmt::format("rank {}: {}", r, e->what()));
    }
  }
}

// Every rank learns every chip's end, cycles and output error (so all leave with one status);
// rank 0 also gets the rest (stats, console, timeline, outputs) and the ports' statistics.
void gather_results(PodTransport& tr, Simulation& sim, PodResult& pr,
                    std::vector<std::optional<Error>>& output_errors) {
  const auto n = static_cast<std::uint32_t>(pr.chips.size());
  ByteWriter brief, full;
  for (std::uint32_t i = 0; i < n; ++i) {
    if (!sim.owns(sim.physical(i))) continue;
    const ChipJobResult& r = pr.chips[i];
    brief.put(i);
    put_end(brief, r.end);
    brief.put(static_cast<std::int32_t>(r.exit_code));
    brief.put(static_cast<std::uint8_t>(r.killed ? 1 : 0));
    brief.put(r.total_cycles);
    put_error(brief, output_errors[i]);
    full.put(i);
    full.put_string(r.stats.dump());
    full.put_string(r.console);
    full.put_string(r.timeline_json);
    full.put(static_cast<std::uint64_t>(r.outputs.size()));
    for (const auto& [name, a] : r.outputs) {
      full.put_string(name);
      full.put(static_cast<std::uint8_t>(a.dtype));
      full.put(static_cast<std::uint64_t>(a.shape.size()));
      for (const std::size_t d : a.shape) full.put(static_cast<std::uint64_t>(d));
      full.put_bytes(a.data);
    }
  }
  const std::vector<Bytes> briefs = tr.all_gather(brief.bytes());
  for (std::size_t rk = 0; rk < briefs.size(); ++rk) {
    if (static_cast<int>(rk) == tr.rank()) continue;
    ByteReader rd(briefs[rk]);
    while (!rd.done()) {
      const auto i = rd.get<std::uint32_t>();
      ChipJobResult& r = pr.chips.at(i);
      r.end = get_end(rd);
      r.exit_code = rd.get<std::int32_t>();
      r.killed = rd.get<std::uint8_t>() != 0;
      r.total_cycles = rd.get<std::uint64_t>();
      r.host_seconds = pr.host_seconds;
      output_errors.at(i) = get_error(rd);
    }
  }
  const std::vector<Bytes> fulls = tr.gather(full.bytes());
  const std::vector<Bytes> ports = tr.gather(sim.fabric().encode_port_records());
  if (tr.rank() != 0) return;
  for (std::size_t rk = 1; rk < fulls.size(); ++rk) {
    ByteReader rd(fulls[rk]);
    while (!rd.done()) {
      ChipJobResult& r = pr.chips.at(rd.get<std::uint32_t>());
      r.stats = nlohmann::json::parse(rd.get_string());
      r.console = rd.get_string();
      r.timeline_json = rd.get_string();
      const auto outputs = rd.get<std::uint64_t>();
      for (std::uint64_t k = 0; k < outputs; ++k) {
        std::string name = rd.get_string();
        NpyArray a;
        a.dtype = static_cast<NpyDtype>(rd.get<std::uint8_t>());
        a.shape.resize(rd.get<std::uint64_t>());
        for (std::size_t& d : a.shape) d = rd.get<std::uint64_t>();
        a.data = rd.get_bytes();
        r.outputs[name] = std::move(a);
      }
    }
    sim.fabric().absorb_port_records(ports[rk]);
  }
}

}  // namespace

PodResult run_pod_job(const PodJob& job) {
  SimConfig cfg = job_config(job);
  if (job.chips > 0) {
    if (job.chips > PodConfig::kMaxChips) {
      throw_bad_input("--chips {} is more than the pod limit ({})", job.chips,
                      PodConfig::kMaxChips);
    }
    cfg.pod.shape = {job.chips, 1, 1};
  }
  const std::uint32_t n = cfg.pod.chips();
  if (job.programs.empty()) throw_bad_input("no firmware to run");
  if (cfg.chip.waves.on()) waves::check_writable(cfg.chip.waves.file, "waveform file");
  if (job.programs.size() != 1 && job.programs.size() != n) {
    throw_bad_input("{} programs for a pod of {} chips: give one for all chips or one per chip",
                    job.programs.size(), n);
  }
  if (job.gdb_port && job.gdb_chip >= n) {
    throw_bad_input("--gdb names chip {}, but the pod has {} chips (0..{})", job.gdb_chip, n,
                    n - 1);
  }
  const auto program = [&](std::uint32_t i) -> const ChipProgram& {
    return job.programs.size() == 1 ? job.programs[0] : job.programs[i];
  };
  std::vector<core::ElfImage> elfs;
  for (const ChipProgram& p : job.programs)
    elfs.push_back(core::parse_elf(p.firmware_elf, p.firmware_name));

  // Spare s stands ready with the program of the s-th chip to fail (the faults are known).
  std::vector<std::uint32_t> spare_for;
  {
    std::vector<ici::FaultSpec> chip_faults;
    for (const ici::FaultSpec& f : cfg.pod.faults) {
      if (f.kind == ici::FaultSpec::Kind::kChip) chip_faults.push_back(f);
    }
    std::stable_sort(chip_faults.begin(), chip_faults.end(),
                     [](const auto& a, const auto& b) { return a.at_ns < b.at_ns; });
    for (const auto& f : chip_faults) spare_for.push_back(f.chip);
  }
  // A distributed pod: which rank runs each chip (a spare: the rank of the chip it replaces).
  PodTransport* const tr = job.transport;
  const int ranks = tr != nullptr ? tr->size() : 1;
  Distribution dist;
  dist.transport = tr;
  dist.crash_rank = job.crash_rank;
  PodResult pr;
  pr.rank = tr != nullptr ? static_cast<std::uint32_t>(tr->rank()) : 0;
  unsigned threads = job.threads;
  if (ranks > 1) {
    if (cfg.chip.waves.on()) {
      throw_bad_input(
          "the model's waveforms (--vcd/--fst, [waves]) are not written by a pod "
          "run over several ranks; run it in one process");
    }
    if (job.gdb_port) throw_bad_input("--gdb debugs a pod in one process, not over several ranks");
    const Partition part =
        make_partition(cfg.pod, static_cast<std::uint32_t>(ranks), job.partition);
    pr.partition = fmt::format("{} over {} ranks: {}", part.kind, ranks, part.describe());
    dist.rank_of = part.rank_of;
    for (std::uint32_t s = 0; s < cfg.pod.spares; ++s) {
      dist.rank_of.push_back(s < spare_for.size() ? part.rank_of[spare_for[s]] : 0);
    }
    // Ranks sharing a host share its cores (results do not depend on the thread count).
    if (threads == 0) {
      threads = std::max(1u, std::thread::hardware_concurrency() /
                                 static_cast<unsigned>(std::max(1, tr->local_size())));
    }
  }

  Simulation sim("pod", cfg, job.max_cycles, threads, job.gdb_port ? 0.0 : job.max_seconds, job.rtl,
                 dist);
  sim.set_monitor(Simulation::Monitor{job.progress && !job.gdb_port, job.interrupt});
  const bool record = job.record_timeline || !job.timeline_path.empty();
  std::vector<std::string> consoles(sim.size());
  std::optional<Error> setup_error;
  for (std::uint32_t i = 0; i < sim.size(); ++i) {
    if (!sim.owns(i)) continue;  // another rank's
    sim.chip(i).state().record_timeline = record;
    sim.chip(i).router().set_record_timeline(record || cfg.chip.waves.on());
    const std::uint32_t as = i < n ? i : i - n < spare_for.size() ? spare_for[i - n] : ~0u;
    if (as == ~0u) continue;  // a spare no fault will call on
    try {
      set_up_chip(sim.chip(i), program(as), elfs[job.programs.size() == 1 ? 0 : as], consoles[i]);
    } catch (const Error& e) {
      if (ranks == 1) throw;
      if (!setup_error) setup_error = e;
    }
  }
  if (ranks > 1) agree_on_errors(*tr, setup_error);

  std::unique_ptr<chip::ChipDebug> chip_debug;  // the debug windows and monitor commands
  std::unique_ptr<core::GdbStub> stub;
  if (job.gdb_port) {
    if (*job.gdb_port < 0 || *job.gdb_port > 65535) {
      throw_bad_input("--gdb port {} is out of range (0..65535)", *job.gdb_port);
    }
    chip_debug = std::make_unique<chip::ChipDebug>(sim.chip(job.gdb_chip));
    stub = std::make_unique<core::GdbStub>(sim.chip(job.gdb_chip).machine(),
                                           static_cast<std::uint16_t>(*job.gdb_port),
                                           chip_debug.get());
    if (job.on_gdb_listen) job.on_gdb_listen(stub->port());
    stub->accept_connection();
    sim.chip(job.gdb_chip).set_debugger(stub.get());
  }

  const auto t0 = std::chrono::steady_clock::now();
  if (ranks > 1) {
    try {
      sim.run();
    } catch (const std::exception& e) {
      // The other ranks wait in the window's exchange: end them all, naming this rank.
      fmt::print(stderr, "{}rank {}: {}\n", kErrorPrefix, pr.rank, e.what());
      tr->abort(static_cast<int>(ExitCode::kInternal));
    }
  } else {
    sim.run();
  }
  pr.host_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  pr.first_failure = sim.first_failure();

  // Each chip's result, by the rank that ran it; rank 0 gathers them all.
  std::vector<std::optional<Error>> output_errors(n);
  pr.chips.resize(n);
  for (std::uint32_t i = 0; i < n; ++i) {
    if (!sim.owns(sim.physical(i))) continue;
    chip::Chip& c = sim.logical_chip(i);
    const ChipProgram& prog = program(i);
    ChipJobResult& r = pr.chips[i];
    r.end = *c.end();
    r.exit_code = r.end.kind == chip::ChipEnd::Kind::kExit ? r.end.exit_code
                  : r.end.failed()                         ? static_cast<int>(r.end.error)
                                                           : 0;
    r.killed = c.killed();
    r.total_cycles = c.cycles();
    r.host_seconds = pr.host_seconds;
    r.console = consoles[sim.physical(i)];
    r.stats = c.stats();
    r.stats["host_seconds"] = pr.host_seconds;
    r.stats["outcome"] =
        r.end.kind == chip::ChipEnd::Kind::kExit ? std::string("exit") : r.end.message;
    r.stats["exit_code"] = r.exit_code;
    r.stats["firmware"] = prog.firmware_name;
    const std::uint64_t instret = c.machine().hart().instret();
    r.stats["core"]["host_mips"] =
        pr.host_seconds > 0 ? static_cast<double>(instret) / pr.host_seconds / 1e6 : 0.0;
    if (record) {
      nlohmann::json mine = nlohmann::json::array();
      c.timeline_events(mine);
      r.timeline_json = nlohmann::json{{"traceEvents", mine}, {"displayTimeUnit", "ns"}}.dump();
    }
    if (r.end.kind == chip::ChipEnd::Kind::kExit) {
      try {
        r.outputs = read_outputs(c, prog, n == 1 ? std::string() : fmt::format("chip {}: ", i),
                                 r.exit_code == 0);
      } catch (const Error& e) {
        output_errors[i] = e;  // thrown after the files are written
      }
    }
  }
  if (ranks > 1) gather_results(*tr, sim, pr, output_errors);
  std::optional<Error> output_error;
  for (auto& e : output_errors) {
    if (e && !output_error) output_error = e;
  }

  if (pr.rank != 0) {  // rank 0 writes the files and reports; the others agree on the status
    if (output_error) throw Error(output_error->code(), output_error->what());
    return pr;
  }
  nlohmann::json chip_stats = nlohmann::json::array();
  nlohmann::json events = nlohmann::json::array();
  std::uint64_t max_cycles = 0;
  for (std::uint32_t i = 0; i < n; ++i) {
    const ChipJobResult& r = pr.chips[i];
    if (record) {
      nlohmann::json mine = nlohmann::json::parse(r.timeline_json)["traceEvents"];
      for (auto& e : mine) events.push_back(std::move(e));
    }
    max_cycles = std::max(max_cycles, r.total_cycles);
    chip_stats.push_back(r.stats);
  }
  nlohmann::json pod = {{"chips", n},
                        {"shape", cfg.pod.shape},
                        {"total_cycles", max_cycles},
                        {"host_seconds", pr.host_seconds},
                        {"threads", sim.pool().size()}};
  if (ranks > 1) pod["ranks"] = {{"count", ranks}, {"partition", pr.partition}};
  if (sim.window_ps() != 0) pod["windows"] = sim.windows();
  if (pr.first_failure) pod["first_failure"] = *pr.first_failure;
  nlohmann::json repl = nlohmann::json::array();
  for (const Simulation::Replacement& rp : sim.replacements()) {
    repl.push_back({{"chip", rp.logical},
                    {"failed_chip", rp.failed},
                    {"spare_chip", rp.spare},
                    {"failed_at_cycle", rp.failed_end.cycle},
                    {"failed", rp.failed_end.message}});
  }
  pod["replacements"] = repl;
  {
    const Clock clk = cfg.chip.clock();
    pod["ici"] = sim.fabric().stats_json(max_cycles * clk.period_ps);
  }
  pr.stats = {{"pod", pod}, {"chips", chip_stats}};
  if (record) {
    sim.fabric().timeline_events(events, n);
    pr.timeline_json = nlohmann::json{{"traceEvents", events}, {"displayTimeUnit", "ns"}}.dump();
  }
  if (!job.timeline_path.empty()) {
    write_file(job.timeline_path, n == 1 ? pr.chips[0].timeline_json : pr.timeline_json,
               "timeline");
  }
  if (!job.stats_path.empty()) {
    write_file(job.stats_path, (n == 1 ? pr.chips[0].stats : pr.stats).dump(2) + "\n",
               "statistics");
  }
  if (cfg.chip.waves.on()) write_waves(sim, cfg);
  if (output_error) throw Error(output_error->code(), output_error->what());
  return pr;
}

ChipJobResult run_chip_job(const ChipJob& job) {
  PodJob pj;
  static_cast<RunSettings&>(pj) = static_cast<const RunSettings&>(job);
  pj.programs.push_back(static_cast<const ChipProgram&>(job));
  SimConfig cfg = job_config(job);
  cfg.pod.shape = {1, 1, 1};
  pj.config = cfg;
  pj.cycle_accurate = false;  // already applied
  PodResult pr = run_pod_job(pj);
  ChipJobResult r = std::move(pr.chips.at(0));
  if (r.end.failed()) throw Error(r.end.error, r.end.message);
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

}  // namespace mxemu::sim
