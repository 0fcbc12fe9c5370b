#include "model/core/machine.h"

#include <fmt/format.h>

#include "model/common/error.h"

namespace mxemu::core {

namespace {
void validate(const CoreConfig& c) {
  if (c.ram_size_bytes == 0 || c.ram_size_bytes % 4 != 0 || c.ram_size_bytes > 0x40000000u) {
    throw_bad_input(
        "config: core ram_size_bytes {} must be a non-zero multiple of 4, at most 1 GiB",
        c.ram_size_bytes);
  }
  if (c.clock_hz == 0 || c.clock_hz > 1'000'000'000'000ull)
    throw_bad_input("config: core clock_hz {} is out of range (1 .. 1e12)", c.clock_hz);
  if (c.timer_divider == 0) throw_bad_input("config: core timer_divider must be at least 1");
  if (c.quantum_cycles == 0) throw_bad_input("config: core quantum_cycles must be at least 1");
  const CoreTiming& t = c.timing;
  for (std::uint32_t v : {t.alu_cycles, t.branch_not_taken_cycles, t.branch_taken_cycles,
                          t.jump_cycles, t.mul_cycles, t.div_cycles, t.load_cycles, t.store_cycles,
                          t.csr_cycles, t.system_cycles, t.trap_cycles, t.mret_cycles})
    if (v == 0) throw_bad_input("config: every core.timing entry must be at least 1 cycle");
}
}  // namespace

Machine::Machine(const CoreConfig& cfg)
    : cfg_((validate(cfg), cfg)),
      hart_(cfg_, bus_),
      ram_(cfg_.ram_size_bytes),
      launch_(MXEMU_LAUNCH_SIZE),
      sysregs_(SysRegs::Values{cfg_.chip_id, static_cast<std::uint32_t>(cfg_.clock_hz),
                               MXEMU_RAM_BASE, cfg_.ram_size_bytes,
                               static_cast<std::uint32_t>(cfg_.clock_hz / cfg_.timer_divider),
                               cfg_.hart_id}),
      timer_(hart_) {
  const PlatformLatency& l = cfg_.latency;
  bus_.map(MXEMU_TIMER_BASE, MXEMU_TIMER_SIZE, timer_, l.timer_cycles, "timer");
  bus_.map(MXEMU_CONSOLE_BASE, MXEMU_CONSOLE_SIZE, console_, l.console_cycles, "console");
  bus_.map(MXEMU_SYSREG_BASE, MXEMU_SYSREG_SIZE, sysregs_, l.sysreg_cycles, "sysregs");
  bus_.map(MXEMU_LAUNCH_BASE, MXEMU_LAUNCH_SIZE, launch_, l.launch_cycles, "launch block");
  bus_.map(MXEMU_RAM_BASE, cfg_.ram_size_bytes, ram_, l.ram_cycles, "ram");
  hart_.reset(MXEMU_RAM_BASE);
}

const std::string& Machine::htif_error() const {
  static const std::string kNone;
  return tohost_dev_ ? tohost_dev_->error : kNone;
}

void Machine::load(const ElfImage& image, const std::string& name) {
  load_elf(image, bus_, name);  // segments first: "outside memory" is the clearer message
  auto map_word = [&](std::uint32_t addr, const char* sym) {
    if (addr - MXEMU_RAM_BASE > cfg_.ram_size_bytes - 8 || (addr & 7) != 0) {
      throw_bad_input("{}: symbol '{}' at 0x{:08x} is not an aligned 8-byte word in RAM", name, sym,
                      addr);
    }
    auto dev = std::make_unique<Htif>(hart_, ram_.host_memory() + (addr - MXEMU_RAM_BASE));
    bus_.map(addr, 8, *dev, cfg_.latency.htif_cycles, sym, /*overlay=*/true);
    return dev;
  };
  if (image.tohost) {
    tohost_dev_ = map_word(*image.tohost, "tohost");
    tohost_ = image.tohost;
  }
  if (image.fromhost && image.fromhost != image.tohost) {
    fromhost_dev_ = map_word(*image.fromhost, "fromhost");
    fromhost_dev_->is_tohost = false;
  }
  hart_.reset(image.entry);
}

void Machine::load_file(const std::string& path) {
  load(read_elf_file(path), path);
}

RunResult Machine::run_plain(std::uint64_t max_cycles) {
  StopReason r;
  do {
    r = hart_.run(max_cycles);
  } while (r == StopReason::kStopRequest && htif_error().empty());
  return RunResult{r, hart_.exit_code(), hart_.cycle(), hart_.instret()};
}

int Machine::finish(StopReason reason, std::uint64_t max_cycles) const {
  switch (reason) {
    case StopReason::kExit:
      return hart_.exit_code();
    case StopReason::kFault:
      throw_sim_fault("core: {}", hart_.fault());
    case StopReason::kWfi:
      throw_sim_fault(
          "core: wfi at pc 0x{:08x}, cycle {}: waiting for an external interrupt that "
          "nothing can raise (deadlock)",
          hart_.pc() - 4, hart_.cycle());  // the hart stopped just after the wfi
    default:
      if (!htif_error().empty()) {
        throw_sim_fault("core: {} at pc 0x{:08x}, cycle {}", htif_error(), hart_.pc(),
                        hart_.cycle());
      }
      throw Error(ExitCode::kLimit,
                  fmt::format("core: cycle limit {} reached at pc 0x{:08x}, cycle {} ({} "
                              "instructions retired)",
                              max_cycles, hart_.pc(), hart_.cycle(), hart_.instret()));
  }
}

}  // namespace mxemu::core
