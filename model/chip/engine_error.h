// A descriptor an engine refuses: the fault code firmware sees (FAULT register) and a message
// naming the field and the value. Plain C++ (no SystemC), shared by the engines' functional
// cores (model/vpu, model/dma) and their SystemC shells (model/chip).
#pragma once

#include <string>

#include "model/chip/regs.h"

namespace mxemu::chip {

struct EngineError {
  regs::Fault code;
  std::string message;
};

}  // namespace mxemu::chip
