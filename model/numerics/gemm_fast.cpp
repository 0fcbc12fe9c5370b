// Placeholder until the register-blocked kernel lands: the fast path is the exact path.
#include "model/numerics/gemm.h"

namespace mxemu::num {

GemmIsa detect_best_isa() { return GemmIsa::kPortable; }

void gemm(const GemmProblem& p, std::span<float> c, const GemmOptions& /*opt*/) {
  gemm_exact(p, c);
}

}  // namespace mxemu::num
