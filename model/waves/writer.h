// Writes recorders (one per chip) into one waveform file: VCD (written here) or FST (through
// GTKWave's fstapi, shipped with Debian's Verilator). Time is in the recorders' units (chip
// cycles); the file covers the window's start to its end (or the last recorded cycle), with every
// signal's value at the start in the initial dump. The file appears only once complete: it is
// written under "FILE.partial" and renamed; on any error nothing named FILE is left.
#pragma once

#include <string>
#include <vector>

#include "model/waves/recorder.h"

namespace mxemu::waves {

struct FileInfo {
  std::string timescale = "1ns";  // one time unit: "1ns", "10ps", ... (VCD $timescale)
  std::string comment;            // e.g. what one time unit is
};

// True for "*.fst", false for "*.vcd"; throws bad input naming `option` for anything else.
bool is_fst(const std::string& path, const std::string& option);
// Throws bad input when `path` cannot be created (checked before a run; leaves no file).
void check_writable(const std::string& path, const std::string& option);
// Throws bad input when the file cannot be written (nothing named `path` is left then).
void write_waves(const std::string& path, const std::vector<const Recorder*>& recorders,
                 const FileInfo& info);

// The timescale text for a clock period in picoseconds when it is 1, 10 or 100 of a unit
// ("1ns" for 1000 ps), or "" when the period is not such a value.
std::string timescale_for_period_ps(std::uint64_t period_ps);

}  // namespace mxemu::waves
