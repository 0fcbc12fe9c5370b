// A waveform recorder: a registry of signals (a scope path, a name, a width in bits) and the log
// of their value changes, in integer time units (the chip's cycles). Plain C++, no SystemC: the
// chip's probe (model/chip/chip_waves.h) feeds it, the writers (writer.h) turn one or more
// recorders into a VCD or FST file after the run.
//
// Only changes inside the window [start, end) are kept: a change before `start` becomes the
// signal's value at `start` (what the file's initial dump shows), a change at or after `end` is
// dropped. So memory grows with the window, not with the run.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mxemu::waves {

// The cycles a waveform covers: [start, end); end 0: to the end of the run.
struct Window {
  std::uint64_t start = 0, end = 0;
  bool before(std::uint64_t t) const { return t < start; }
  bool after(std::uint64_t t) const { return end != 0 && t >= end; }
};

using SignalId = std::uint32_t;

struct Signal {
  std::vector<std::string> scope;  // outermost first: {"pod", "chip0", "mxu0"}
  std::string name;
  std::uint32_t width = 1;    // bits (1..64)
  std::uint64_t initial = 0;  // the value at the window's start
  std::uint64_t current = 0;  // the last value set (for dropping repeats)
};

struct Change {
  std::uint64_t time = 0;
  SignalId signal = 0;
  std::uint64_t value = 0;
};

class Recorder {
 public:
  explicit Recorder(Window window) : window_(window) {}

  // Declares a signal; `initial` is its value before the first change. Signals may be added at
  // any time (e.g. after the run, from a log).
  SignalId add(std::vector<std::string> scope, std::string name, std::uint32_t width,
               std::uint64_t initial = 0);
  // The value of `s` from `time` on. Per signal, times must not decrease; a value equal to the
  // last one set is not recorded; several changes at one time: the last one holds.
  void set(SignalId s, std::uint64_t time, std::uint64_t value) {
    Signal& sig = signals_[s];
    if (sig.current == value) return;
    sig.current = value;
    if (window_.before(time)) {
      sig.initial = value;
    } else if (!window_.after(time)) {
      changes_.push_back(Change{time, s, value});
    }
  }

  const Window& window() const { return window_; }
  const std::vector<Signal>& signals() const { return signals_; }
  // In the order recorded (by signal, time does not decrease; across signals it may).
  const std::vector<Change>& changes() const { return changes_; }
  // The last cycle of the recorded run (for the file's end time).
  void set_end_time(std::uint64_t t) { end_time_ = t; }
  std::uint64_t end_time() const { return end_time_; }

 private:
  Window window_;
  std::vector<Signal> signals_;
  std::vector<Change> changes_;
  std::uint64_t end_time_ = 0;
};

}  // namespace mxemu::waves
