// One direction of a link in SystemC: timestamped flights (data packets) and control messages
// in arrival order. This is the only thing that joins two chips: a sender pushes into the lane
// with an arrival time later than now (the link's latency is > 0), the receiving router takes
// what has arrived. Never a call into the other chip, so a pod can be cut between processes at
// any lane, with the lane's latency as lookahead (the MPI issue).
#pragma once

#include <systemc>

#include <deque>
#include <utility>
#include <vector>

#include "model/ici/link.h"

namespace mxemu::ici {

class Lane {
 public:
  // The receiving router's wake-up event (it waits for the earliest arrival it knows of).
  void set_receiver(sc_core::sc_event* kick) { kick_ = kick; }

  void push(Flight f, Ps now) {
    if (dark_) return;  // lost: the sender's go-back-N timeout will resend
    if (remote_) {
      out_flights_.push_back(std::move(f));
      return;
    }
    wake(f.arrival, now);
    flights_.push_back(std::move(f));
  }
  void push(Control c, Ps now) {
    if (dark_) return;
    if (remote_) {
      out_controls_.push_back(c);
      return;
    }
    wake(c.arrival, now);
    controls_.push_back(c);
  }

  // A lane whose receiver runs in another process (a distributed pod, docs/DISTRIBUTED.md):
  // what is pushed waits here until the end of the simulation window, when the simulation
  // takes it and sends it to the receiver's process, which pushes it into its copy of the lane.
  // Every arrival lies beyond the window (the window is shorter than any lane's latency), so the
  // receiver sees each flight and control at the same simulated time as in one process.
  void set_remote(bool remote) { remote_ = remote; }
  bool remote() const { return remote_; }
  bool has_outgoing() const { return !out_flights_.empty() || !out_controls_.empty(); }
  std::vector<Flight> take_outgoing_flights() { return std::exchange(out_flights_, {}); }
  std::vector<Control> take_outgoing_controls() { return std::exchange(out_controls_, {}); }

  bool flight_ready(Ps now) const { return !flights_.empty() && flights_.front().arrival <= now; }
  Flight pop_flight() {
    Flight f = std::move(flights_.front());
    flights_.pop_front();
    return f;
  }
  bool control_ready(Ps now) const {
    return !controls_.empty() && controls_.front().arrival <= now;
  }
  Control pop_control() {
    const Control c = controls_.front();
    controls_.pop_front();
    return c;
  }
  // The earliest arrival still to come (~0: none).
  Ps next_arrival() const {
    Ps t = ~Ps{0};
    if (!flights_.empty()) t = flights_.front().arrival;
    if (!controls_.empty()) t = std::min(t, controls_.front().arrival);
    return t;
  }

  // A dark lane (failed link, OCS reprogramming) loses everything on it and all it is given.
  bool dark() const { return dark_; }
  void set_dark(bool dark) {
    dark_ = dark;
    if (dark) {
      lost_ += flights_.size() + out_flights_.size();
      flights_.clear();
      controls_.clear();
      out_flights_.clear();
      out_controls_.clear();
    }
  }
  std::uint64_t lost() const { return lost_; }
  // Flights another process's copy of this lane lost (the distributed pod's statistics).
  void add_lost(std::uint64_t n) { lost_ += n; }

 private:
  void wake(Ps arrival, Ps now) {
    if (kick_ != nullptr) {
      kick_->notify(sc_core::sc_time(static_cast<double>(arrival - now), sc_core::SC_PS));
    }
  }

  std::deque<Flight> flights_;
  std::deque<Control> controls_;
  std::vector<Flight> out_flights_;  // remote_: pushed in this window, not yet sent
  std::vector<Control> out_controls_;
  bool remote_ = false;
  sc_core::sc_event* kick_ = nullptr;
  bool dark_ = false;
  std::uint64_t lost_ = 0;
};

}  // namespace mxemu::ici
