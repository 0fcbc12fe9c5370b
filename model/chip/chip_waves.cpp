#include "model/chip/chip_waves.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <utility>

#include "model/chip/engine.h"
#include "model/chip/hbm_backend.h"
#include "model/ici/router.h"

namespace mxemu::chip {

namespace {

std::vector<std::string> split_dots(const std::string& s) {
  std::vector<std::string> parts;
  std::size_t from = 0;
  for (;;) {
    const std::size_t dot = s.find('.', from);
    parts.push_back(s.substr(from, dot == std::string::npos ? std::string::npos : dot - from));
    if (dot == std::string::npos) return parts;
    from = dot + 1;
  }
}

HbmCmd wave_command(hbm::Command c) {
  switch (c) {
    case hbm::Command::kAct:
      return HbmCmd::kAct;
    case hbm::Command::kRd:
      return HbmCmd::kRd;
    case hbm::Command::kWr:
      return HbmCmd::kWr;
    case hbm::Command::kPre:
      return HbmCmd::kPre;
    case hbm::Command::kRefAb:
    case hbm::Command::kRefPb:
      return HbmCmd::kRef;
  }
  return HbmCmd::kNone;
}

constexpr std::uint32_t kQueueBits = 16, kSeqBits = 32, kOpBits = 8, kSpanBits = 11,
                        kCreditBits = 32;

}  // namespace

ChipWaves::ChipWaves(const sc_core::sc_module_name& name, const std::string& scope,
                     ChipState& state, const std::vector<std::unique_ptr<Engine>>& engines,
                     ChipHbm& hbm, ici::Router& router)
    : sc_core::sc_module(name),
      chip_scope_(split_dots(scope)),
      state_(state),
      hbm_(hbm),
      router_(router),
      rec_(waves::Window{state.cfg.waves.start, state.cfg.waves.end}),
      rows_(state.cfg.mxu.rows),
      latency_(state.cfg.mxu.pe_latency_cycles) {
  pc_ = rec_.add(this->scope("core"), "pc", 32);
  for (const auto& e : engines) {
    const std::vector<std::string> s = this->scope(e->basename());
    engines_.push_back(EngineSignals{e.get(), rec_.add(s, "queue", kQueueBits),
                                     rec_.add(s, "inflight", kQueueBits), rec_.add(s, "busy", 1),
                                     rec_.add(s, "stall", 2), rec_.add(s, "op", kOpBits),
                                     rec_.add(s, "seq", kSeqBits)});
  }
  for (std::uint32_t i = 0; i < state.cfg.mxu.count; ++i) {
    const std::vector<std::string> s = this->scope(fmt::format("mxu{}", i));
    MxuSignals m{};
    m.load = rec_.add(s, "wload", 1);
    m.stream = rec_.add(s, "stream", 1);
    m.rows = rec_.add(s, "k_used", kSpanBits);
    m.cols = rec_.add(s, "n_used", kSpanBits);
    m.stall = rec_.add(s, "array_stall", 2);
    m.bank[0] = rec_.add(s, "bank0", 2);
    m.bank[1] = rec_.add(s, "bank1", 2);
    mxus_.push_back(m);
  }
  for (std::uint32_t i = 0; i < regs::kNumSemaphores; ++i) {
    sems_[i] = rec_.add(this->scope("sem"), fmt::format("sem{}", i), 32);
  }
  router_.set_record_links(true);  // link states, credits and resends (finish())
  SC_METHOD(poll);
  sensitive << state_.changed;
}

std::vector<std::string> ChipWaves::scope(const std::string& unit) const {
  std::vector<std::string> s = chip_scope_;
  s.push_back(unit);
  return s;
}

void ChipWaves::poll() {
  const std::uint64_t now = state_.now_cycle();
  for (const EngineSignals& e : engines_) {
    const std::uint64_t depth = e.engine->queue_depth();
    rec_.set(e.queue, now, depth);
    rec_.set(e.inflight, now, e.engine->queued_or_running() - depth);
    rec_.set(e.busy, now, e.engine->busy() ? 1 : 0);
    StallCode stall = StallCode::kNone;
    if (e.engine->blocked_on()) {
      stall = StallCode::kSemaphore;
    } else if (!e.engine->waiting_on().empty()) {
      stall = StallCode::kPeer;
    }
    rec_.set(e.stall, now, static_cast<std::uint64_t>(stall));
    if (const auto& last = e.engine->last_taken()) {
      rec_.set(e.op, now, last->second);
      rec_.set(e.seq, now, last->first);
    }
  }
  for (std::uint32_t i = 0; i < regs::kNumSemaphores; ++i) rec_.set(sems_[i], now, state_.sems[i]);
}

void ChipWaves::core_pc(std::uint64_t cycle, std::uint32_t pc) {
  rec_.set(pc_, cycle, pc);
}

void ChipWaves::hbm_accept(std::uint64_t address, hbm::Cycle accepted) {
  accepts_.push_back(Accept{accepted, hbm_.core().address_map().decode(address).flat_pc});
}

void ChipWaves::mxu_fold(std::uint32_t mxu, const mxu::FoldTiming& t, std::uint32_t k,
                         std::uint32_t n, std::uint64_t prev_stream_end, std::uint64_t now) {
  MxuSignals& m = mxus_.at(mxu);
  const std::uint64_t s = t.load_start, tt = t.stream_start;
  // Stall causes between folds, as MxuEngine's statistics count them.
  if (tt > prev_stream_end) {
    const std::uint64_t data_ready = std::max(prev_stream_end, std::min(now, tt));
    if (data_ready > prev_stream_end) {
      rec_.set(m.stall, prev_stream_end, static_cast<std::uint64_t>(ArrayStall::kWaitInput));
    }
    if (tt > data_ready) {
      rec_.set(m.stall, data_ready, static_cast<std::uint64_t>(ArrayStall::kWaitWeights));
    }
  }
  rec_.set(m.stall, tt, static_cast<std::uint64_t>(ArrayStall::kNone));
  rec_.set(m.load, s, 1);
  rec_.set(m.load, s + rows_, 0);
  const auto b = static_cast<std::size_t>(t.bank);
  // The bank was last read by the fold before the previous one; it holds those weights until
  // this load starts (a load may start in the cycle of that last read).
  if (m.pending[b] && m.read_done[b] < s) {
    rec_.set(m.bank[b], m.read_done[b], static_cast<std::uint64_t>(BankState::kLoaded));
  }
  rec_.set(m.bank[b], s, static_cast<std::uint64_t>(BankState::kLoading));
  rec_.set(m.bank[b], s + rows_, static_cast<std::uint64_t>(BankState::kLoaded));
  rec_.set(m.bank[b], tt, static_cast<std::uint64_t>(BankState::kReading));
  m.read_done[b] = t.last_read_cycle(static_cast<int>(rows_), static_cast<int>(latency_)) + 1;
  m.pending[b] = true;
  rec_.set(m.stream, tt, 1);
  rec_.set(m.rows, tt, k);
  rec_.set(m.cols, tt, n);
  rec_.set(m.stream, tt + t.m, 0);
  rec_.set(m.rows, tt + t.m, 0);
  rec_.set(m.cols, tt + t.m, 0);
}

std::uint64_t ChipWaves::to_chip(hbm::Cycle c) const {
  return c * hbm_.core().config().timing.tck_ps / state_.clock().period_ps;
}

void ChipWaves::finish(std::uint64_t end_cycle) {
  for (MxuSignals& m : mxus_) {
    for (std::size_t b = 0; b < 2; ++b) {
      if (m.pending[b]) {
        rec_.set(m.bank[b], m.read_done[b], static_cast<std::uint64_t>(BankState::kLoaded));
      }
      m.pending[b] = false;
    }
  }
  // HBM: per pseudo-channel the banks that saw a command, each a command signal that shows the
  // command for the chip cycle it issued in; and the pseudo-channel's queue occupancy (accepted
  // minus served by a column command).
  const hbm::HbmCore& core = hbm_.core();
  const std::uint32_t bpg = core.config().org.banks_per_group;
  std::map<std::uint32_t, std::map<std::uint32_t, std::vector<const hbm::CommandRecord*>>> banks;
  for (const hbm::CommandRecord& r : core.command_log()) {
    if (r.cmd != hbm::Command::kRefAb) banks[r.pc][r.bank_group * bpg + r.bank];
  }
  std::map<std::uint32_t, std::vector<std::pair<hbm::Cycle, int>>> queue;  // pc -> (cycle, +-1)
  for (const Accept& a : accepts_) queue[a.pc].emplace_back(a.cycle, +1);
  for (const hbm::CommandRecord& r : core.command_log()) {
    if (r.cmd == hbm::Command::kRefAb) {
      for (auto& [bank, cmds] : banks[r.pc]) cmds.push_back(&r);
    } else {
      banks[r.pc][r.bank_group * bpg + r.bank].push_back(&r);
    }
    if (hbm::is_column_command(r.cmd)) queue[r.pc].emplace_back(r.cycle, -1);
  }
  for (auto& [pc, per_bank] : banks) {
    const std::vector<std::string> s = scope("hbm");
    std::vector<std::string> pcs = s;
    pcs.push_back(fmt::format("pch{}", pc));
    if (auto q = queue.find(pc); q != queue.end()) {
      // Accepted requests are visible to commands of their own cycle: +1 before -1.
      std::stable_sort(q->second.begin(), q->second.end(), [](const auto& a, const auto& b) {
        return a.first != b.first ? a.first < b.first : a.second > b.second;
      });
      const waves::SignalId id = rec_.add(pcs, "queue", kQueueBits);
      std::int64_t occ = 0;
      for (const auto& [cycle, d] : q->second) {
        occ += d;
        rec_.set(id, to_chip(cycle), static_cast<std::uint64_t>(std::max<std::int64_t>(occ, 0)));
      }
    }
    for (auto& [bank, cmds] : per_bank) {
      const waves::SignalId id = rec_.add(pcs, fmt::format("bg{}_ba{}", bank / bpg, bank % bpg), 3);
      std::stable_sort(cmds.begin(), cmds.end(),
                       [](const auto* a, const auto* b) { return a->cycle < b->cycle; });
      for (std::size_t i = 0; i < cmds.size(); ++i) {
        const std::uint64_t c = to_chip(cmds[i]->cycle);
        rec_.set(id, c, static_cast<std::uint64_t>(wave_command(cmds[i]->cmd)));
        if (i + 1 == cmds.size() || to_chip(cmds[i + 1]->cycle) > c + 1) {
          rec_.set(id, c + 1, static_cast<std::uint64_t>(HbmCmd::kNone));
        }
      }
    }
  }
  // ICI: each wired port's busy spans (bursts of back-to-back packets), in chip cycles.
  const std::uint64_t period = state_.clock().period_ps;
  for (std::uint32_t p = 0; p < ici::kMaxPorts; ++p) {
    if (router_.spans(p).empty()) continue;
    const waves::SignalId id = rec_.add(scope("ici"), fmt::format("port{}_busy", p), 1);
    for (const ici::BusySpan& sp : router_.spans(p)) {
      const std::uint64_t a = sp.start / period;
      rec_.set(id, a, 1);
      rec_.set(id, std::max(a + 1, (sp.end + period - 1) / period), 0);
    }
  }
  // ICI: each port's link state, its credits on every virtual channel that carried traffic, and
  // its go-back-N resends (a running count), from the router's log.
  for (std::uint32_t p = 0; p < ici::kMaxPorts; ++p) {
    const ici::LinkLog& log = router_.link_log(p);
    if (log.state.empty()) continue;  // never wired
    // Before the port's first wiring its link is down (a spare's ports until it takes over).
    const std::uint64_t first = log.state.front().first == 0
                                    ? static_cast<std::uint64_t>(log.state.front().second)
                                    : static_cast<std::uint64_t>(ici::LinkState::kDown);
    const waves::SignalId link = rec_.add(scope("ici"), fmt::format("port{}_link", p), 2, first);
    for (const auto& [at, st] : log.state) {
      rec_.set(link, at / period, static_cast<std::uint64_t>(st));
    }
    std::map<std::uint32_t, waves::SignalId> vcs;
    for (const ici::CreditSample& c : log.credits) {
      if (c.traffic && vcs.count(c.vc) == 0) vcs[c.vc] = 0;
    }
    for (auto& [vc, id] : vcs) {
      std::uint64_t full = 0;  // the credits of the port's first wiring
      for (const ici::CreditSample& c : log.credits) {
        if (c.vc == vc) {
          full = c.credits;
          break;
        }
      }
      id = rec_.add(scope("ici"), fmt::format("port{}_vc{}_credits", p, vc), kCreditBits, full);
    }
    for (const ici::CreditSample& c : log.credits) {
      if (const auto it = vcs.find(c.vc); it != vcs.end()) {
        rec_.set(it->second, c.at / period, c.credits);
      }
    }
    const waves::SignalId retries =
        rec_.add(scope("ici"), fmt::format("port{}_retries", p), kSeqBits);
    std::uint64_t n = 0;
    for (const ici::Ps at : log.resends) rec_.set(retries, at / period, ++n);
  }
  rec_.set_end_time(end_cycle);
}

}  // namespace mxemu::chip
