/* Isolated MXU timing: A (M x K) and B (K x N, N <= MXU cols) go to VMEM first; then every fold
 * (one per K tile) is queued on MXU0 behind a semaphore, released at once, and the result read
 * back as C. The timeline of this run is checked against the closed form of docs/TIMING.md. */
#include <stdint.h>
#include <stdio.h>

#include "mxemu/hal.h"

#define S_GO 0u

int main(void) {
  mx_tensor_t ta = mx_find("A"), tb = mx_find("B"), tc = mx_find("C");
  if (!ta.entry || !tb.entry || !tc.entry) return 2;
  const uint32_t m = mx_dim(ta, 0), k = mx_dim(ta, 1), n = mx_dim(tb, 1);
  const uint32_t R = mx_ctrl(MX_CTRL_MXU_ROWS), C = mx_ctrl(MX_CTRL_MXU_COLS);
  if (n > C || mx_dim(tb, 0) != k) return 2;
  const uint32_t a_v = 0, b_v = m * k;
  mx_dma(MX_SPACE_HBM + mx_addr(ta), MX_SPACE_VMEM + a_v, k, m, k, k, mx_sync_none());
  mx_dma(MX_SPACE_HBM + mx_addr(tb), MX_SPACE_VMEM + b_v, n, k, n, n, mx_sync_none());
  if (mx_fence() != 0) return 3;
  mx_sem_set(S_GO, 0);
  mx_nop(MX_Q_MXU(0), mx_sync((int)S_GO, 1, -1));
  const uint32_t nk = (k + R - 1) / R;
  for (uint32_t kt = 0; kt < nk; ++kt) {
    const uint32_t k0 = kt * R, tk = k - k0 < R ? k - k0 : R;
    mx_load_w(0, b_v + k0 * n, n, tk, n, 0, 0, 0, 0, 0, mx_sync_none());
    mx_matmul(0, a_v + k0, k, m, 0, 0, 0, 0, 0, n * 4u, kt > 0, mx_sync_none());
  }
  mx_sem_set(S_GO, 1);
  if (mx_fence() != 0) return 3;
  mx_dma(mx_acc_addr(0, 0), MX_SPACE_HBM + mx_addr(tc), n * 4u, m, n * 4u, n * 4u, mx_sync_none());
  return mx_fence() == 0 ? 0 : 3;
}
