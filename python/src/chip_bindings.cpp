// The chip runner for Python: configurations, bundled kernels, and one-chip runs (firmware with
// tensors, and the gemm job of `mxemu gemm`) through model/sim's runner, each elaborated in a
// SystemC context of its own. The friendly API (mxemu.Chip) is python/mxemu/chip.py.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <systemc>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "model/common/error.h"
#include "model/common/npy.h"
#include "model/core/runner.h"
#include "model/sim/runner.h"
#include "model/sim/sc_context.h"
#include "model/sim/sim_config.h"
#include "python/src/bindings.h"
#include "testbench/mxemu/bundled.h"
#include "testbench/mxemu/chip_run.h"
#include "testbench/mxemu/options.h"

namespace mxemu::py {

namespace {

// SystemC has one current simulation context per process: runs from several Python threads take
// turns. One instance lives on the module (attribute _simulation_lock).
struct SimulationLock {
  std::mutex mutex;
};

SimulationLock& simulation_lock() {
  return pb::module_::import("mxemu._mxemu").attr("_simulation_lock").cast<SimulationLock&>();
}

// How a run goes (the CLI's --cycle-accurate, --max-cycles, --max-seconds, --threads, --timeline).
struct RunOptions {
  bool cycle_accurate = false;
  std::uint64_t max_cycles = 0;
  double max_seconds = 0;
  unsigned threads = 0;
  bool record_timeline = false;
  bool echo_console = false;
};

// A NumPy array as a tensor of the runner: uint8 or float32, 1 to 4 dimensions (the launch block's
// limit), copied.
NpyArray to_npy(const pb::handle& obj, const std::string& what) {
  const auto is = [&](const pb::dtype& d) {
    return pb::isinstance<pb::array>(obj) &&
           pb::reinterpret_borrow<pb::array>(obj).dtype().equal(d);
  };
  const bool u8 = is(pb::dtype::of<std::uint8_t>());
  if (!u8 && !is(pb::dtype::of<float>())) {
    throw pb::value_error(what + " must be a NumPy array of dtype uint8 (FP8/UE8M0 codes) or " +
                          "float32, got " + describe_dtype(obj));
  }
  pb::array a;
  if (u8) {
    a = require_array<std::uint8_t>(obj, what, "uint8");
  } else {
    a = require_array<float>(obj, what, "float32");
  }
  NpyArray t;
  if (a.ndim() < 1 || a.ndim() > 4) {
    throw pb::value_error(what + " has " + std::to_string(a.ndim()) +
                          " dimensions; the launch block holds tensors of 1 to 4");
  }
  t.dtype = u8 ? NpyDtype::kU8 : NpyDtype::kF32;
  for (pb::ssize_t i = 0; i < a.ndim(); ++i)
    t.shape.push_back(static_cast<std::size_t>(a.shape(i)));
  const auto bytes = static_cast<std::size_t>(a.nbytes());
  t.data.resize(bytes);
  if (bytes > 0) std::memcpy(t.data.data(), a.data(), bytes);
  return t;
}

pb::array from_npy(const NpyArray& t) {
  const std::vector<pb::ssize_t> shape(t.shape.begin(), t.shape.end());
  pb::array a;
  if (t.dtype == NpyDtype::kU8) {
    a = pb::array_t<std::uint8_t>(shape);
  } else {
    a = pb::array_t<float>(shape);
  }
  if (!t.data.empty()) std::memcpy(a.mutable_data(), t.data.data(), t.data.size());
  return a;
}

// Runs the job in a fresh SystemC context (Simulation requires one; a context that has run cannot
// elaborate again), with the GIL released and the simulation lock held. The context is deleted
// after the run, so a long sweep does not grow (about 86 KiB per run otherwise); the Simulation
// and its modules are gone by then, and the next run, or anyone else, gets a new one.
sim::ChipJobResult run_job(sim::ChipJob& job, const RunOptions& o) {
  job.cycle_accurate = o.cycle_accurate;
  job.max_cycles = o.max_cycles;
  job.max_seconds = o.max_seconds;
  job.threads = o.threads;
  job.record_timeline = o.record_timeline;
  if (o.echo_console) {
    job.console_sink = [](char c) {
      std::fputc(c, stdout);
      if (c == '\n') std::fflush(stdout);
    };
  }
  SimulationLock& lock = simulation_lock();
  const pb::gil_scoped_release release;
  const std::lock_guard<std::mutex> guard(lock.mutex);
  const sim::OwnScContext context;  // this run's, deleted after it
  // sc_stop() is how a run ends, not news (as in the CLI).
  sc_core::sc_report_handler::set_actions("/OSCI/SystemC", sc_core::SC_INFO,
                                          sc_core::SC_DO_NOTHING);
  sim::ChipJobResult r = sim::run_chip_job(job);
  std::fflush(stdout);
  return r;
}

// The result as a dict for python/mxemu/chip.py: outputs as arrays, stats as JSON text.
pb::dict to_dict(const sim::ChipJobResult& r) {
  pb::dict d;
  const std::uint64_t instret = r.stats["core"]["instret"].get<std::uint64_t>();
  d["exit_code"] = r.exit_code;
  d["cycles"] = r.total_cycles;
  d["instret"] = instret;
  d["host_seconds"] = r.host_seconds;
  d["stats_json"] = r.stats.dump();
  d["console"] = pb::bytes(r.console);
  d["timeline_json"] = r.timeline_json;
  // The CLI's line for this exit ("mxemu: firmware passed ..." / "... failed with code ...").
  d["exit_line"] = cli::exit_line("", r.exit_code, r.total_cycles, instret);
  pb::dict outputs;
  for (const auto& [name, t] : r.outputs) outputs[pb::str(name)] = from_npy(t);
  d["outputs"] = outputs;
  return d;
}

pb::dict run_firmware(const sim::SimConfig& config, const pb::bytes& elf,
                      const std::string& firmware_name,
                      const std::vector<std::pair<std::string, pb::object>>& inputs,
                      const std::vector<std::pair<std::string, std::uint32_t>>& scalars,
                      const std::vector<std::string>& read_back, const RunOptions& o) {
  sim::ChipJob job;
  job.config = config;
  job.firmware_name = firmware_name;
  const std::string_view bytes = elf;
  job.firmware_elf.assign(bytes.begin(), bytes.end());
  for (const auto& [name, arr] : inputs) {
    job.inputs.emplace_back(name, to_npy(arr, "input '" + name + "'"));
  }
  job.scalars = scalars;
  job.read_back = read_back;
  return to_dict(run_job(job, o));
}

pb::dict run_gemm(const sim::SimConfig& config, const pb::object& a, const pb::object& b,
                  const pb::object& sa, const pb::object& sb, std::optional<int> block,
                  const std::string& fmt_a, const std::string& fmt_b, const pb::object& c_init,
                  const RunOptions& o) {
  // dtypes first, with the Python argument names; shapes, formats and the block then go through
  // make_gemm_job, which gives `mxemu gemm`'s messages.
  sim::GemmJob g;
  g.a = to_npy(require_array<std::uint8_t>(a, "a", "uint8 (FP8 codes)"), "a");
  g.b = to_npy(require_array<std::uint8_t>(b, "b", "uint8 (FP8 codes)"), "b");
  if (!sa.is_none()) g.sa = to_npy(require_array<std::uint8_t>(sa, "sa", "uint8 (UE8M0)"), "sa");
  if (!sb.is_none()) g.sb = to_npy(require_array<std::uint8_t>(sb, "sb", "uint8 (UE8M0)"), "sb");
  if (!c_init.is_none()) g.c0 = to_npy(require_array<float>(c_init, "c_init", "float32"), "c_init");
  g.fmt_a = fmt_a;
  g.fmt_b = fmt_b;
  g.block = block.value_or(static_cast<int>(config.chip.mx.block));
  sim::ChipJob job = sim::make_gemm_job(g, bundled::elf("gemm"));
  job.config = config;
  pb::dict d = to_dict(run_job(job, o));
  const int code = d["exit_code"].cast<int>();
  if (code != 0) {
    throw Error(ExitCode::kSimFault, "the gemm firmware exited with code " + std::to_string(code));
  }
  return d;
}

}  // namespace

void register_chip(pb::module_& m) {
  using pb::arg;
  pb::class_<SimulationLock>(m, "_SimulationLock").def(pb::init<>());
  m.attr("_simulation_lock") = m.attr("_SimulationLock")();

  m.attr("DEFAULT_RUN_MAX_CYCLES") = core::kDefaultMaxCycles;         // mxemu run --max-cycles
  m.attr("DEFAULT_GEMM_MAX_CYCLES") = sim::RunSettings{}.max_cycles;  // mxemu gemm --max-cycles
  m.attr("DEFAULT_MAX_SECONDS") = cli::kDefaultMaxSeconds;            // --max-seconds of both

  pb::class_<sim::SimConfig>(m, "Config", "A whole simulation configuration (chip, core, HBM)")
      .def_property_readonly("name", [](const sim::SimConfig& c) { return c.chip.name; })
      .def_property_readonly("mx_block", [](const sim::SimConfig& c) { return c.chip.mx.block; })
      .def_readonly("source", &sim::SimConfig::source)
      .def("dump", &sim::dump_sim_config,
           "Every key with its effective value (mxemu config --dump)");
  m.def("load_config", &sim::load_sim_config, arg("path"),
        "A configuration from a TOML file ('' gives the defaults, chip mx1)");
  m.def("parse_config", &sim::parse_sim_config, arg("text"), arg("source"),
        "A configuration from TOML text; `source` names it in messages");

  m.def(
      "bundled_kernel",
      [](const std::string& name) -> std::optional<pb::bytes> {
        const auto s = bundled::find(name);
        if (s.empty()) return std::nullopt;
        return pb::bytes(reinterpret_cast<const char*>(s.data()), s.size());
      },
      arg("name"), "The ELF bytes of a firmware kernel bundled into mxemu, or None");

  pb::class_<RunOptions>(m, "RunOptions")
      .def(pb::init<>())
      .def_readwrite("cycle_accurate", &RunOptions::cycle_accurate)
      .def_readwrite("max_cycles", &RunOptions::max_cycles)
      .def_readwrite("max_seconds", &RunOptions::max_seconds)
      .def_readwrite("threads", &RunOptions::threads)
      .def_readwrite("record_timeline", &RunOptions::record_timeline)
      .def_readwrite("echo_console", &RunOptions::echo_console);
  m.def("run_firmware", &run_firmware, arg("config"), arg("elf"), arg("firmware_name"),
        arg("inputs"), arg("scalars"), arg("read_back"), arg("options"),
        "Runs firmware on one chip (mxemu run); returns a dict (see mxemu/chip.py)");
  m.def("run_gemm", &run_gemm, arg("config"), arg("a"), arg("b"), arg("sa"), arg("sb"),
        arg("block"), arg("fmt_a"), arg("fmt_b"), arg("c_init"), arg("options"),
        "Runs the bundled gemm firmware on one chip (mxemu gemm); returns a dict");
}

}  // namespace mxemu::py
