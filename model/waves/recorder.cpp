#include "model/waves/recorder.h"

#include <utility>

namespace mxemu::waves {

SignalId Recorder::add(std::vector<std::string> scope, std::string name, std::uint32_t width,
                       std::uint64_t initial) {
  signals_.push_back(Signal{std::move(scope), std::move(name), width, initial, initial});
  return static_cast<SignalId>(signals_.size() - 1);
}

}  // namespace mxemu::waves
