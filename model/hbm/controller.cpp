#include "model/hbm/controller.h"

#include <algorithm>
#include <bit>
#include <limits>
#include <span>

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
  write_wait_cycles_ = config_.write_max_wait_cycles();
  starvation_age_cycles_ = config_.starvation_age_cycles();
  write_high_ = config_.write_high_count();
  write_low_ = config_.write_low_count();
  pcs_.reserve(o.pc_count());
  for (std::uint32_t i = 0; i < o.pc_count(); ++i) {
    pcs_.emplace_back(Checker(config_.timing, o.bank_groups, o.banks_per_group, o.sids), nbanks);
    Pc& pc = pcs_.back();
    pc.reads.reserve(config_.read_queue_depth);
    pc.writes.reserve(config_.write_queue_depth);
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

bool HbmCore::write_aged(const Pc& pc, Cycle now) const {
  return write_wait_cycles_ != 0 && !pc.writes.empty() &&
         now >= pc.writes.front().arrival + write_wait_cycles_;
}

// The drain state machine, evaluated before every decision. Idempotent at a given state and
// cycle (entry and exit conditions exclude each other), so a cached decision stays valid.
void HbmCore::update_drain(Pc& pc, Cycle now) {
  const std::size_t rq = pc.reads.size(), wq = pc.writes.size();
  const bool aged = write_aged(pc, now);
  const bool full = wq >= write_high_;
  if (pc.drain == Drain::kNone) {
    const Drain start = full || aged        ? Drain::kBatch
                        : rq == 0 && wq > 0 ? Drain::kIdle
                                            : Drain::kNone;
    if (start != Drain::kNone) {
      pc.drain = start;
      pc.drain_since = now;
      ++stats_.drains;
    }
    return;
  }
  if (full || aged) pc.drain = Drain::kBatch;  // an idle drain that filled up becomes a batch
  const bool stop = wq == 0 || (rq > 0 && !aged && (pc.drain == Drain::kIdle || wq <= write_low_));
  if (stop) {
    stats_.closed_drain_cycles += now - pc.drain_since;
    pc.drain = Drain::kNone;
  }
}

const std::optional<Decision>& HbmCore::pick(Pc& pc) {
  if (pc.next_valid) return pc.next;
  const Cycle now = pc.cursor;
  update_drain(pc, now);
  const bool write_mode = pc.drain != Drain::kNone;
  const std::vector<QueuedRequest>& q = write_mode ? pc.writes : pc.reads;
  Cycle force_time = kNever;
  const RefreshDemand demand = refresh_demand(pc, now, &force_time);
  // Starvation of the oldest request of the served queue: by age (a write past the drain bound
  // is overdue too), or by the count of younger requests served first.
  Cycle age_limit = starvation_age_cycles_;
  if (write_mode && write_wait_cycles_ != 0 && (age_limit == 0 || write_wait_cycles_ < age_limit)) {
    age_limit = write_wait_cycles_;
  }
  bool starving = false;
  Cycle starve_time = kNever;
  if (!q.empty()) {
    const QueuedRequest& o = q.front();
    starving = config_.starvation_cap != 0 && o.bypassed >= config_.starvation_cap;
    if (age_limit != 0) {
      if (now >= o.arrival + age_limit) {
        starving = true;
      } else if (!starving) {
        starve_time = o.arrival + age_limit;
      }
    }
  }
  const PickKey key{demand, write_mode, starving};
  const SchedulerInput in{pc.checker, q, now, demand, config_.page_policy, starving};
  if (incremental_ && pc.arrival_only && key == pc.key) {
    // Only a request was appended since `raw`: to the served queue, the scheduler updates its
    // answer; to the other queue, the answer stands (the scheduler does not see that queue).
    if (pc.arrival_write == write_mode) pc.raw = scheduler_->pick_after_arrival(in, pc.raw);
  } else {
    pc.raw = scheduler_->pick(in);
  }
  pc.arrival_only = false;
  pc.key = key;
  pc.next = pc.raw;
  // Re-decide when time alone changes the inputs: refresh becomes forced, the oldest request
  // starts starving, or the oldest write reaches the drain bound.
  Cycle again = std::min(force_time, starve_time);
  if (!write_mode && write_wait_cycles_ != 0 && !pc.writes.empty()) {
    again = std::min(again, pc.writes.front().arrival + write_wait_cycles_);
  }
  if (again != kNever && again > now && (!pc.next || pc.next->at > again)) {
    Decision re;
    re.kind = Decision::Kind::kReevaluate;
    re.at = again;
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
      const bool is_write = d.cmd == Command::kWr;
      std::vector<QueuedRequest>& q = is_write ? pc.writes : pc.reads;
      const QueuedRequest r = q[static_cast<std::size_t>(d.queue_index)];
      column = r.column;
      pc.last_access[d.bank] = d.at;
      const bool hit = pc.accesses_since_act[d.bank]++ > 0;
      const Cycle data_start = d.at + (is_write ? t.nCWL : t.nCL);
      const Cycle done = data_start + t.nBL + config_.phy_latency_cycles;
      if (pc.any_column && pc.last_column_write != is_write) {
        // Data-bus cycles a direction change costs at least: RD -> WR leaves nRTW + nCWL - nCL -
        // nBL idle, WR -> RD tWTR + nCL (tWTR_L in the same bank group); idle time beyond that
        // (no request, a row switch) is not turnaround.
        const Cycle needed =
            is_write ? (t.nRTW + t.nCWL > t.nCL + t.nBL ? t.nRTW + t.nCWL - t.nCL - t.nBL : 0)
                     : Cycle{d.bank / bpg == pc.last_column_group ? t.nWTRL : t.nWTRS} + t.nCL;
        const Cycle gap = data_start > pc.last_data_end ? data_start - pc.last_data_end : 0;
        ++stats_.turnarounds;
        stats_.turnaround_cycles += std::min(gap, needed);
      }
      pc.any_column = true;
      pc.last_column_write = is_write;
      pc.last_column_group = d.bank / bpg;
      pc.last_data_end = std::max(pc.last_data_end, data_start + t.nBL);
      for (int j = 0; j < d.queue_index; ++j) ++q[static_cast<std::size_t>(j)].bypassed;
      q.erase(q.begin() + d.queue_index);
      if (--pc.queued_per_bank[d.bank] == 0) pc.queued_mask &= ~(std::uint64_t{1} << d.bank);
      --pending_;
      if (!pc.served_any) {
        pc.served_any = true;
        ++stats_.active_pcs;
      }
      (is_write ? cs.writes : cs.reads)++;
      (is_write ? stats_.writes : stats_.reads)++;
      if (hit) {
        ++cs.row_hits;
        ++stats_.row_hits;
        ++(is_write ? stats_.write_row_hits : stats_.read_row_hits);
      }
      const Cycle latency = done - r.accepted;
      cs.latency_sum_cycles += latency;
      stats_.latencies_cycles.push_back(static_cast<std::uint32_t>(latency));
      (is_write ? stats_.write_latency : stats_.read_latency).add(latency);
      stats_.last_done = std::max(stats_.last_done, done);
      if (keep_completions_) completions_.push(Completion{r.id, done, r.accepted, is_write});
      break;
    }
    case Command::kRefAb:
      ++pc.refreshes_issued;
      ++cs.refreshes;
      ++stats_.refreshes;
      stats_.refresh_bank_cycles += std::uint64_t{t.nRFC} * pc.checker.bank_count();
      break;
    case Command::kRefPb:
      ++pc.refreshes_issued;
      ++cs.refreshes;
      ++stats_.refreshes;
      stats_.refresh_bank_cycles += t.nRFCpb;
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
  const std::uint32_t limit = config_.accept_per_cycle;
  if (limit != 0) {
    arrival = std::max(arrival, accept_cycle_);
    if (arrival == accept_cycle_ && accepted_in_cycle_ >= limit) ++arrival;
  }
  std::vector<QueuedRequest>& q = r.is_write ? pc.writes : pc.reads;
  const std::size_t depth = r.is_write ? config_.write_queue_depth : config_.read_queue_depth;
  const Command frees = r.is_write ? Command::kWr : Command::kRd;
  // The pseudo-channels that share the request's queue: its own, or every one of its channel.
  // They are brought to the arrival; while the queue is full their commands are committed in
  // time order until one of this kind frees a slot (they are independent otherwise, so the order
  // only decides which frees first).
  const std::uint32_t per = config_.org.pseudo_channels;
  const std::span<Pc> sharing = config_.queue_scope == QueueScope::kChannel
                                    ? std::span<Pc>(&pcs_[std::size_t{pc.channel} * per], per)
                                    : std::span<Pc>(&pc, 1);
  for (Pc& p : sharing) run(p, arrival);
  const auto occupancy = [&] {
    std::size_t n = 0;
    for (const Pc& p : sharing) n += r.is_write ? p.writes.size() : p.reads.size();
    return n;
  };
  while (occupancy() >= depth) {
    Pc* first = nullptr;
    Decision d;
    for (Pc& p : sharing) {
      const std::optional<Decision>& next = pick(p);
      if (next && (first == nullptr || next->at < d.at)) {
        first = &p;
        d = *next;
      }
    }
    if (first == nullptr)
      throw Error(ExitCode::kInternal, "hbm: full queue but nothing to schedule");
    commit(*first, d);
    if (d.kind == Decision::Kind::kCommand && d.cmd == frees) arrival = std::max(arrival, d.at + 1);
  }
  for (Pc& p : sharing) run(p, arrival);
  // Nothing issues before the arrival any more (run committed it all): decisions from here on
  // are taken at the arrival, as a cycle-by-cycle controller would.
  pc.cursor = std::max(pc.cursor, arrival);
  if (limit != 0) {
    accepted_in_cycle_ = arrival == accept_cycle_ ? accepted_in_cycle_ + 1 : 1;
    accept_cycle_ = arrival;
  }
  QueuedRequest e;
  e.id = r.id;
  e.seq = pc.next_seq++;
  e.arrival = e.accepted = arrival;
  e.bank = a.flat_bank;
  e.row = a.row.value();
  e.column = a.column.value();
  e.is_write = r.is_write;
  pc.arrival_only = pc.next_valid;  // the cached decision saw everything but this request
  pc.arrival_write = r.is_write;
  q.push_back(e);
  ++pc.queued_per_bank[e.bank];
  pc.queued_mask |= std::uint64_t{1} << e.bank;
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
    while (queued(pc) != 0) {
      const std::optional<Decision>& d = pick(pc);
      if (!d) throw Error(ExitCode::kInternal, "hbm: queued requests but nothing to schedule");
      commit(pc, *d);
    }
  }
  return stats_.last_done;
}

std::optional<Cycle> HbmCore::next_decision() {
  std::optional<Cycle> best;
  for (Pc& pc : pcs_) {
    if (queued(pc) == 0) continue;
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

Cycle HbmCore::drain_cycles() const {
  Cycle c = stats_.closed_drain_cycles;
  for (const Pc& pc : pcs_) {
    if (pc.drain != Drain::kNone && pc.cursor > pc.drain_since) c += pc.cursor - pc.drain_since;
  }
  return c;
}

}  // namespace mxemu::hbm
