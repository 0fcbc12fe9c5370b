#include "model/hbm/controller.h"

#include <algorithm>
#include <bit>
#include <limits>

#include "model/common/error.h"

namespace mxemu::hbm {

namespace {
constexpr Cycle kNever = std::numeric_limits<Cycle>::max();
}

HbmCore::HbmCore(const HbmConfig& config)
    : config_((validate(config), config)),
      map_(config.org, config.mapping),
      storage_(config.org.capacity_bytes()),
      scheduler_(make_frfcfs_scheduler()) {
  const Organisation& o = config_.org;
  const std::uint32_t nbanks = o.banks_per_pc();
  refresh_interval_ = config_.refresh == RefreshPolicy::kPerBank
                          ? Cycle{config_.timing.nREFI / nbanks}
                          : Cycle{config_.timing.nREFI};
  pcs_.reserve(o.pc_count());
  for (std::uint32_t i = 0; i < o.pc_count(); ++i) {
    pcs_.emplace_back(Checker(config_.timing, o.bank_groups, o.banks_per_group), nbanks);
    Pc& pc = pcs_.back();
    pc.queue.reserve(config_.queue_depth);
    pc.index = i;
    pc.channel = i / o.pseudo_channels;
  }
  stats_.channels.resize(o.channel_count());
}

double HbmCore::peak_bytes_per_cycle() const {
  return static_cast<double>(config_.org.pc_count()) * config_.org.access_bytes /
         config_.timing.nBL;
}

RefreshDemand HbmCore::refresh_demand(const Pc& pc, Cycle now, Cycle* force_time) const {
  RefreshDemand d;
  *force_time = kNever;
  if (config_.refresh == RefreshPolicy::kNone) return d;
  d.due = (pc.refreshes_issued + 1) * refresh_interval_;
  if (config_.refresh == RefreshPolicy::kAllBank) {
    // All-bank refresh goes when due: close every bank, then REFab.
    if (now < d.due) {
      *force_time = d.due;
      return d;
    }
    d.active = d.forced = true;
    d.cmd = Command::kRefAb;
    return d;
  }
  // Per-bank: each bank once per round of nREFI, one command per nREFI / banks on average. An
  // idle bank (nothing queued for it) is refreshed when one is owed; when refresh_postpone_max
  // are owed, a bank with queued requests is closed and refreshed regardless.
  const Cycle owed = now >= d.due ? (now - d.due) / refresh_interval_ + 1 : 0;
  d.forced = owed >= config_.refresh_postpone_max;
  if (!d.forced) *force_time = d.due + (config_.refresh_postpone_max - 1) * refresh_interval_;
  d.cmd = Command::kRefPb;
  const std::uint32_t nbanks = pc.checker.bank_count();
  const std::uint64_t queued = pc.queued_mask;  // banks_per_pc <= 64 (validated)
  // Of the idle banks (nothing queued for them; an open one is precharged first), the one
  // accessed most recently: a stream that just left it is the least likely to come back within
  // tRFCpb.
  // Banks not yet refreshed in this round (banks_per_pc <= 64).
  const std::uint64_t all = nbanks == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << nbanks) - 1;
  const std::uint64_t pending = all & ~pc.refreshed_mask;
  int idle = -1, closed = -1, any = -1;
  for (std::uint64_t m = pending & ~queued; m != 0; m &= m - 1) {
    const int b = std::countr_zero(m);
    if (idle < 0 || pc.last_access[static_cast<std::uint32_t>(b)] >
                        pc.last_access[static_cast<std::uint32_t>(idle)]) {
      idle = b;
    }
  }
  if (idle < 0 && d.forced && pending != 0) {
    any = std::countr_zero(pending);
    for (std::uint64_t m = pending; m != 0; m &= m - 1) {
      if (!pc.checker.is_open(static_cast<std::uint32_t>(std::countr_zero(m)))) {
        closed = std::countr_zero(m);
        break;
      }
    }
  }
  const int target = idle >= 0 ? idle : d.forced ? (closed >= 0 ? closed : any) : -1;
  if (target >= 0) {
    d.active = true;
    d.bank = static_cast<std::uint32_t>(target);
  }
  return d;
}

const std::optional<Decision>& HbmCore::pick(Pc& pc) {
  if (pc.next_valid) return pc.next;
  Cycle force_time = kNever;
  const RefreshDemand demand = refresh_demand(pc, pc.cursor, &force_time);
  const SchedulerInput in{
      pc.checker, pc.queue, pc.cursor, demand, config_.page_policy, config_.starvation_cap};
  pc.raw = pc.arrival_only && demand == pc.demand ? scheduler_->pick_after_arrival(in, pc.raw)
                                                  : scheduler_->pick(in);
  pc.arrival_only = false;
  pc.demand = demand;
  pc.next = pc.raw;
  if (force_time != kNever && force_time > pc.cursor && (!pc.next || pc.next->at > force_time)) {
    Decision re;
    re.kind = Decision::Kind::kReevaluate;
    re.at = force_time;
    pc.next = re;
  }
  pc.next_valid = true;
  return pc.next;
}

void HbmCore::commit(Pc& pc, const Decision& d) {
  pc.next_valid = false;
  pc.arrival_only = false;
  pc.cursor = d.at;
  if (d.kind == Decision::Kind::kReevaluate) return;
  pc.floor = std::max(pc.floor, d.at + 1);
  const TimingSet& t = config_.timing;
  const std::uint32_t bpg = config_.org.banks_per_group;
  std::uint32_t row = d.row, column = 0;
  ChannelStats& cs = stats_.channels[pc.channel];
  switch (d.cmd) {
    case Command::kAct:
      pc.accesses_since_act[d.bank] = 0;
      ++cs.activates;
      ++stats_.activates;
      break;
    case Command::kPre:
      ++cs.precharges;
      break;
    case Command::kRd:
    case Command::kWr: {
      const QueuedRequest r = pc.queue[static_cast<std::size_t>(d.queue_index)];
      column = r.column;
      pc.last_access[d.bank] = d.at;
      const bool hit = pc.accesses_since_act[d.bank]++ > 0;
      const Cycle done = d.at + (r.is_write ? t.nCWL : t.nCL) + t.nBL;
      for (int j = 0; j < d.queue_index; ++j) ++pc.queue[static_cast<std::size_t>(j)].bypassed;
      pc.queue.erase(pc.queue.begin() + d.queue_index);
      if (--pc.queued_per_bank[d.bank] == 0) pc.queued_mask &= ~(std::uint64_t{1} << d.bank);
      --pending_;
      (r.is_write ? cs.writes : cs.reads)++;
      (r.is_write ? stats_.writes : stats_.reads)++;
      if (hit) {
        ++cs.row_hits;
        ++stats_.row_hits;
      }
      const Cycle latency = done - r.accepted;
      cs.latency_sum_cycles += latency;
      stats_.latencies_cycles.push_back(static_cast<std::uint32_t>(latency));
      stats_.last_done = std::max(stats_.last_done, done);
      if (keep_completions_) completions_.push(Completion{r.id, done, r.accepted, r.is_write});
      break;
    }
    case Command::kRefAb:
      ++pc.refreshes_issued;
      ++cs.refreshes;
      ++stats_.refreshes;
      break;
    case Command::kRefPb:
      ++pc.refreshes_issued;
      ++cs.refreshes;
      ++stats_.refreshes;
      pc.refreshed_mask |= std::uint64_t{1} << d.bank;
      if (++pc.refreshed_count == pc.checker.bank_count()) {
        pc.refreshed_mask = 0;
        pc.refreshed_count = 0;
      }
      break;
  }
  pc.checker.issue(d.cmd, d.bank, d.row, d.at);
  if (config_.record_commands) {
    log_.push_back(CommandRecord{d.at, d.cmd, pc.index, d.bank / bpg, d.bank % bpg, row, column});
  }
}

void HbmCore::run(Pc& pc, Cycle until) {
  for (;;) {
    const std::optional<Decision>& d = pick(pc);
    if (!d || d->at >= until) break;
    commit(pc, *d);
  }
  pc.floor = std::max(pc.floor, until);
}

Cycle HbmCore::submit(const Request& r) {
  if (!map_.contains(r.address)) {
    throw_bad_input("hbm: address 0x{:x} is beyond the capacity of 0x{:x} bytes", r.address,
                    map_.capacity_bytes());
  }
  const DecodedAddress a = map_.decode(r.address);
  Pc& pc = pcs_[a.flat_pc];
  Cycle arrival = std::max(r.arrival, pc.floor);
  run(pc, arrival);
  while (pc.queue.size() >= config_.queue_depth) {  // full: wait for a column command
    const Decision d = *pick(pc);
    commit(pc, d);
    if (d.kind == Decision::Kind::kCommand && is_column_command(d.cmd)) {
      arrival = std::max(arrival, d.at + 1);
    }
  }
  run(pc, arrival);
  QueuedRequest q;
  q.id = r.id;
  q.seq = pc.next_seq++;
  q.arrival = q.accepted = arrival;
  q.bank = a.bank_group.value() * config_.org.banks_per_group + a.bank.value();
  q.row = a.row.value();
  q.column = a.column.value();
  q.is_write = r.is_write;
  pc.arrival_only = pc.next_valid;  // the cached decision saw everything but this request
  pc.queue.push_back(q);
  ++pc.queued_per_bank[q.bank];
  pc.queued_mask |= std::uint64_t{1} << q.bank;
  pc.next_valid = false;
  ++pending_;
  if (!any_arrival_ || arrival < stats_.first_arrival) stats_.first_arrival = arrival;
  any_arrival_ = true;
  return arrival;
}

void HbmCore::advance(Cycle until) {
  for (Pc& pc : pcs_) run(pc, until);
}

Cycle HbmCore::drain() {
  for (Pc& pc : pcs_) {
    while (!pc.queue.empty()) commit(pc, *pick(pc));
  }
  return stats_.last_done;
}

std::optional<Cycle> HbmCore::next_decision() {
  std::optional<Cycle> best;
  for (Pc& pc : pcs_) {
    if (pc.queue.empty()) continue;
    const std::optional<Decision>& d = pick(pc);
    if (d && (!best || d->at < *best)) best = d->at;
  }
  return best;
}

std::optional<Cycle> HbmCore::next_completion() const {
  if (completions_.empty()) return std::nullopt;
  return completions_.top().done;
}

std::vector<Completion> HbmCore::pop_completions(Cycle through) {
  std::vector<Completion> out;
  while (!completions_.empty() && completions_.top().done <= through) {
    out.push_back(completions_.top());
    completions_.pop();
  }
  return out;
}

}  // namespace mxemu::hbm
