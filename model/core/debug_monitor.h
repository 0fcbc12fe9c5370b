// What the machine around the core (model/chip's ChipDebug) adds to the GDB stub: `monitor`
// commands. Its memories the core cannot address reach the debugger as debug windows on the
// core's bus (Bus::map_debug), so the stub needs no other hook.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace mxemu::core {

class DebugMonitor {
 public:
  virtual ~DebugMonitor() = default;
  // Runs one `monitor` command line (without the word `monitor`): the text to show, or nullopt
  // when the command is not one of this monitor's. Called from the core's SystemC thread while
  // the core is stopped; reading state must not change it.
  virtual std::optional<std::string> command(std::string_view line) = 0;
  // Lines for `monitor help`, each "name ARGS  what it does\n".
  virtual std::string help() const = 0;
};

}  // namespace mxemu::core
