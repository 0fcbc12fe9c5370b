#include "model/chip/engine.h"

#include <fmt/format.h>
#include <algorithm>

namespace mxemu::chip {

Engine::Engine(const sc_core::sc_module_name& name, ChipState& state, std::uint32_t queue_index,
               std::string queue_name)
    : sc_core::sc_module(name),
      state_(state),
      queue_index_(queue_index),
      queue_name_(std::move(queue_name)) {
  SC_HAS_PROCESS(Engine);
  SC_THREAD(dispatch_thread);
  SC_THREAD(retire_thread);
}

bool Engine::push(const Desc& d) {
  if (full()) return false;
  queue_.push_back(d);
  state_.notify_changed();
  return true;
}

void Engine::wait_until(std::uint64_t cycle) {
  const sc_core::sc_time at = state_.cycles(cycle);
  if (at > sc_core::sc_time_stamp()) sc_core::wait(at - sc_core::sc_time_stamp());
}

nlohmann::json Engine::stats_json() const {
  nlohmann::json s = {{"descriptors", stats_.descriptors}, {"busy_cycles", stats_.busy_cycles}};
  nlohmann::json st = nlohmann::json::object();
  for (const auto& [cause, n] : stats_.stall_cycles) st[cause] = n;
  s["stall_cycles"] = st;
  s["loops"] = loops_;
  s["loop_descriptors"] = loop_generated_;
  extra_stats(s);
  return s;
}

void Engine::fault(std::uint64_t seq, std::uint32_t opcode, std::uint64_t cycle, regs::Fault code,
                   std::string message) {
  if (!state_.fault) {
    state_.fault = EngineFault{queue_name_, seq, opcode, cycle, code, std::move(message)};
  }
  state_.raise_fault();
}

void Engine::complete_async(std::uint64_t seq, std::uint64_t cycle) {
  async_done_[seq] = cycle;
  retire_event_.notify(sc_core::SC_ZERO_TIME);
}

void Engine::raise(std::uint64_t seq, std::uint32_t opcode, const EngineError& e) {
  fault(seq, opcode, state_.now_cycle(), e.code, e.message);
}

std::pair<Desc, bool> Engine::next_descriptor() {
  if (loop_) {
    while (state_.halted) sc_core::wait(state_.changed);
    wait_until(loop_ready_at_);
    const Desc d = loop_->generate();
    if (loop_->remaining() == 0) loop_.reset();
    loop_ready_at_ = state_.now_cycle() + state_.cfg.queue.loop_issue_cycles;
    ++loop_generated_;
    return {d, true};
  }
  while (queue_.empty() || state_.halted) sc_core::wait(state_.changed);
  const Desc d = queue_.front();
  queue_.pop_front();
  state_.notify_changed();  // a queue slot is free
  return {d, false};
}

bool Engine::start_loop(const Desc& d, std::uint64_t seq) {
  const auto bad = [&](const std::string& message) {
    fault(seq, regs::kOpLoop, state_.now_cycle(), regs::Fault::kBadField, message);
    return false;
  };
  LoopSpec spec;
  try {
    spec = decode_loop(d);
  } catch (const EngineError& e) {
    return bad(e.message);
  }
  // The body: the next BODY descriptors pushed to this queue, taken one by one as they arrive
  // (a queue shorter than the body still works).
  // The body is a member, not a local: a run can end with this thread waiting for it, and a
  // SystemC thread's stack is never unwound (its heap would leak).
  std::vector<Desc>& body = loop_body_;
  body.clear();
  while (body.size() < spec.body) {
    loop_body_pending_ = spec.body - static_cast<std::uint32_t>(body.size());
    while (queue_.empty() || state_.halted) sc_core::wait(state_.changed);
    body.push_back(queue_.front());
    queue_.pop_front();
    state_.notify_changed();
    if (regs::hdr::kOpcode.get(body.back().data()) == regs::kOpLoop) {
      loop_body_pending_ = 0;
      return bad(
          fmt::format("LOOP: body descriptor {} is a LOOP (loops do not nest)", body.size() - 1));
    }
  }
  loop_body_pending_ = 0;
  ++loops_;
  loop_.emplace(std::move(spec), body);
  body.clear();
  loop_ready_at_ = state_.now_cycle() + state_.cfg.queue.loop_issue_cycles;
  return true;
}

void Engine::note_waiting(std::uint32_t sem, bool waits) {
  const std::uint32_t me = 1u << queue_index_;
  std::uint32_t& w = state_.sem_waiters[sem];
  if (!waits) {
    w &= ~me;
    return;
  }
  if ((w & ~me) != 0) {
    const bool seen = std::any_of(state_.sem_shared.begin(), state_.sem_shared.end(),
                                  [&](const ChipState::SemShared& x) { return x.sem == sem; });
    if (!seen) state_.sem_shared.push_back({sem, w | me, state_.now_cycle()});
  }
  w |= me;
}

void Engine::dispatch_thread() {
  using regs::hdr::kOpcode;
  for (;;) {
    const auto [d, generated] = next_descriptor();
    ++in_flight_;
    const std::uint64_t seq = next_seq_++;
    dispatching_.emplace(seq, d);
    last_taken_.emplace(seq, kOpcode.get(d.data()));
    if (kOpcode.get(d.data()) == regs::kOpLoop) {
      if (generated) {
        fault(seq, regs::kOpLoop, state_.now_cycle(), regs::Fault::kBadField,
              "LOOP: an increment of word 0 made a body descriptor a LOOP (loops do not nest)");
        return;
      }
      if (!start_loop(d, seq)) return;  // then it retires like a NOP (it neither waits nor signals)
    }

    if (regs::hdr::kWaitEn.get(d.data()) != 0) {
      const std::uint32_t sem = regs::hdr::kWaitSem.get(d.data());
      const std::uint32_t count = regs::hdr::kWaitCount.get(d.data());
      const std::uint64_t t0 = state_.now_cycle();
      if (sem >= regs::kNumSemaphores) {
        fault(seq, kOpcode.get(d.data()), t0, regs::Fault::kBadField,
              "WAIT_SEM " + std::to_string(sem) + " does not exist");
        return;
      }
      if (state_.sems[sem] < count) note_waiting(sem, true);
      while (state_.sems[sem] < count) {
        blocked_on_ = std::make_pair(sem, count);
        sc_core::wait(state_.changed);
      }
      if (blocked_on_) note_waiting(sem, false);
      blocked_on_.reset();
      state_.sems[sem] -= count;
      state_.notify_changed();
      stats_.stall_cycles["semaphore"] += state_.now_cycle() - t0;
    }

    const std::uint64_t now = state_.now_cycle();
    const std::uint32_t opcode = kOpcode.get(d.data());
    Timing t{now, now};
    if (regs::hdr::kSignalEn.get(d.data()) != 0 &&
        regs::hdr::kSignalSem.get(d.data()) >= regs::kNumSemaphores) {
      fault(
          seq, opcode, now, regs::Fault::kBadField,
          "SIGNAL_SEM " + std::to_string(regs::hdr::kSignalSem.get(d.data())) + " does not exist");
      return;
    }
    if (opcode != 0 && opcode != regs::kOpLoop) {  // NOP (0 on every engine): waits and signals
      executing_ = true;
      current_seq_ = seq;
      try {
        t = execute(d, now);
      } catch (const EngineError& e) {
        executing_ = false;
        fault(seq, opcode, now, e.code, e.message);
        return;
      }
      executing_ = false;
    }
    ++stats_.descriptors;
    if (t.complete != kAsync) {
      t.complete = std::max(t.complete, last_complete_);  // retire in order
      last_complete_ = t.complete;
    }
    retire_.push_back(Pending{t.complete, d, seq, now});
    dispatching_.reset();
    retire_event_.notify(sc_core::SC_ZERO_TIME);
    // Absolute: execute() may itself have spent time (the DMA over TLM-2.0).
    wait_until(t.dispatch_next);
  }
}

void Engine::retire_thread() {
  for (;;) {
    while (retire_.empty()) sc_core::wait(retire_event_);
    Pending p = retire_.front();
    if (p.complete == kAsync) {
      while (!async_done_.contains(p.seq)) sc_core::wait(retire_event_);
      p.complete = async_done_[p.seq];
      async_done_.erase(p.seq);
    }
    p.complete = std::max(p.complete, retired_at_);  // in order, after an async one too
    retired_at_ = p.complete;
    wait_until(p.complete);
    retire_.pop_front();
    if (regs::hdr::kSignalEn.get(p.desc.data()) != 0) {
      const std::uint32_t sem = regs::hdr::kSignalSem.get(p.desc.data());
      ++state_.sems[sem];  // checked at dispatch
      ++state_.sem_events;
    }
    if (state_.record_timeline) {
      const std::uint32_t opcode = regs::hdr::kOpcode.get(p.desc.data());
      const std::string label = descriptor_label(p.desc);
      state_.timeline.push_back(TimelineEvent{
          queue_index_, opcode == 0 || opcode == regs::kOpLoop ? label : op_name(opcode), p.start,
          p.complete, p.seq, label});
    }
    --in_flight_;
    ++done_;
    state_.notify_changed();
  }
}

std::string Engine::descriptor_label(const Desc& d) const {
  const std::uint32_t opcode = regs::hdr::kOpcode.get(d.data());
  if (opcode == 0) return "NOP";
  if (opcode == regs::kOpLoop) {
    return fmt::format("LOOP {} x {}", regs::loop::kCount.get(d.data()),
                       regs::loop::kBody.get(d.data()));
  }
  return slice_name(d);
}

std::vector<Engine::DescriptorView> Engine::debug_view() const {
  const auto label = [this](const Desc& d) {
    try {  // a descriptor still in the queue has not been checked: it may not decode
      return descriptor_label(d);
    } catch (const EngineError&) {
      return op_name(regs::hdr::kOpcode.get(d.data()));
    } catch (const std::exception&) {
      return op_name(regs::hdr::kOpcode.get(d.data()));
    }
  };
  std::vector<DescriptorView> v;
  for (const Pending& p : retire_) {
    v.push_back({p.seq, p.desc, label(p.desc),
                 p.complete == kAsync
                     ? std::string("in flight, completes with its transfer")
                     : fmt::format("in flight, completes at cycle {}", p.complete)});
  }
  if (dispatching_) {
    std::string st = "dispatching";
    if (state_.fault && state_.fault->queue == queue_name_ &&
        state_.fault->seq == dispatching_->first) {
      st = "faulted";
    } else if (loop_body_pending_ > 0) {
      st = fmt::format("takes its body: {} descriptor(s) not pushed yet", loop_body_pending_);
    } else if (blocked_on_) {
      st = fmt::format("waits for {} on semaphore {} (value {})", blocked_on_->second,
                       blocked_on_->first, state_.sems[blocked_on_->first]);
    } else if (executing_) {
      st = "executing";
    }
    v.push_back({dispatching_->first, dispatching_->second, label(dispatching_->second), st});
  }
  std::uint64_t seq = next_seq_;
  if (loop_) {
    v.push_back({seq, loop_->next_template(), label(loop_->next_template()),
                 fmt::format("LOOP: iteration {} of {}; {} descriptor(s) still to generate",
                             loop_->iteration() + 1, loop_->count(), loop_->remaining())});
    seq += loop_->remaining();
  }
  for (const Desc& d : queue_) v.push_back({seq++, d, label(d), "queued"});
  return v;
}

std::string Engine::slice_name(const Desc& d) const {
  return op_name(regs::hdr::kOpcode.get(d.data()));
}

std::string size_label(std::uint64_t bytes) {
  if (bytes >= (1u << 20) && bytes % (1u << 20) == 0) return fmt::format("{} MiB", bytes >> 20);
  if (bytes >= 1024 && bytes % 1024 == 0) return fmt::format("{} KiB", bytes >> 10);
  return fmt::format("{} B", bytes);
}

}  // namespace mxemu::chip
