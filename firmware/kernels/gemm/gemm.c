/* gemm: C = C0 + A . B with FP8 operands and optional MX scales (DESIGN §3), on every MXU.
 * Built with -DLINEAR_RELU it is linear_relu: Y, SY = mx_quantize(relu(A . B + bias)), fused on
 * the vector unit while the accumulators are still on chip.
 *
 * Launch block: A (M x K u8), B (K x N u8), optional SA (M x K/block u8), SB (K/block x N u8),
 * optional C0 (M x N f32), output C (M x N f32); scalars fmt_a, fmt_b (0 E4M3, 1 E5M2), block.
 * linear_relu instead: bias (N f32) and outputs Y (M x N u8 codes), SY (M x N/out_block u8
 * UE8M0); scalars out_fmt (0 E4M3, 1 E5M2) and out_block (divides N and the MXU columns).
 *
 * Tiling (docs/KERNELS.md): K tiles of R rows and N tiles of C columns (the array's shape), M in
 * panels of Mt rows that fit two accumulator buffers and two VMEM panel buffers. A panel of A
 * (and SA) is loaded once and reused by every N tile; N tiles go to the MXUs in groups of one
 * tile per MXU, and within a group the k steps of all MXUs interleave so the single DMA queue
 * feeds them together. Every descriptor only waits on semaphores that earlier descriptors signal:
 *   B ring (P slots per MXU):   DMA B -> BFULL[j] -> LOAD_W -> BFREE[j] -> next DMA into the slot
 *   accumulators (2 buffers):   MATMULs -> ACCFULL[j] -> DMA out -> ACCFREE[j] -> next tile
 *   A panels (2 buffers):       DMA A -> AFULL[j] -> MXU j; MXU j done with panel -> AFREE
 * The DMA of a group's results is issued after the next group's first P k steps, so B tiles
 * for the next group are already in flight while it waits for the accumulators. */
#include <stdint.h>
#include <stdio.h>

#include "mxemu/hal.h"

#define MAX_MXU 4u
#define RING 4u /* B tiles in flight per MXU */

/* Semaphores (tools/regmap: 32 of them). */
#define S_BFULL(j) (0u + (j))
#define S_BFREE(j) (4u + (j))
#define S_ACCFULL(j) (8u + (j))
#define S_ACCFREE(j) (12u + (j))
#define S_AFULL(j) (16u + (j))
#define S_CINIT(j) (20u + (j))
#define S_AFREE 24u
#define S_VPU(j) (25u + (j))

typedef struct {
  uint32_t m, n, k, block, tb, fmt_a, fmt_b, scaled, has_c0;
  uint64_t a, b, sa, sb, c0, c;
  uint32_t R, C, nmx, P, ntn, mt, npanels, nk;
  uint32_t abuf[2], sabuf[2], ring[MAX_MXU], sring[MAX_MXU], b_slot, sb_slot;
  uint32_t acc_buf_bytes;
#ifdef LINEAR_RELU
  uint64_t bias, y, sy;
  uint32_t out_fmt, out_block, bias_v, ystage[MAX_MXU][2], systage[MAX_MXU][2];
#endif
} plan_t;

typedef struct {
  int valid;
  uint32_t j, buf, mt, tn, n0, dst_stride, slot;
  uint64_t dst, dst_codes, dst_scales;
} out_t;

static uint32_t cdiv(uint32_t a, uint32_t b) { return (a + b - 1u) / b; }
static uint32_t umin(uint32_t a, uint32_t b) { return a < b ? a : b; }

static int fail(const char* msg) {
  printf("gemm: error: %s\n", msg);
  return 2;
}

static int plan(plan_t* p) {
  mx_tensor_t ta = mx_find("A"), tb = mx_find("B");
  if (!ta.entry || !tb.entry) return fail("launch block lacks A or B");
  /* Outputs: given by the runner, or allocated after its tensors and declared here. */
  const uint32_t mm = mx_dim(ta, 0), nn = mx_dim(tb, 1);
  const uint64_t free_at = mx_hbm_free();
#ifdef LINEAR_RELU
  mx_tensor_t tbias = mx_find("bias");
  if (!tbias.entry) return fail("launch block lacks bias");
  if (!mx_find("Y").entry || !mx_find("SY").entry) {
    const uint32_t ob = mx_scalar("out_block", 32);
    const uint32_t ys[2] = {mm, nn}, ss[2] = {mm, ob ? nn / ob : 0};
    const uint64_t s_at = free_at + (((uint64_t)mm * nn + 4095u) & ~4095ull);
    if (mx_declare_output("Y", MX_DTYPE_U8, 2, ys, free_at) != 0 ||
        mx_declare_output("SY", MX_DTYPE_U8, 2, ss, s_at) != 0)
      return fail("cannot declare the outputs");
  }
  mx_tensor_t tc = mx_find("Y"), tsy = mx_find("SY");
#else
  if (!mx_find("C").entry) {
    const uint32_t cs[2] = {mm, nn};
    if (mx_declare_output("C", MX_DTYPE_F32, 2, cs, free_at) != 0)
      return fail("cannot declare the output");
  }
  mx_tensor_t tc = mx_find("C");
#endif
  mx_tensor_t tsa = mx_find("SA"), tsb = mx_find("SB"), tc0 = mx_find("C0");
  p->m = mx_dim(ta, 0);
  p->k = mx_dim(ta, 1);
  p->n = mx_dim(tb, 1);
  if (mx_dim(tb, 0) != p->k) return fail("B rows differ from A columns");
  p->a = mx_addr(ta);
  p->b = mx_addr(tb);
  p->c = mx_addr(tc);
  p->scaled = tsa.entry != 0 && tsb.entry != 0;
  p->sa = p->scaled ? mx_addr(tsa) : 0;
  p->sb = p->scaled ? mx_addr(tsb) : 0;
  p->has_c0 = tc0.entry != 0;
  p->c0 = p->has_c0 ? mx_addr(tc0) : 0;
  p->fmt_a = mx_scalar("fmt_a", 0);
  p->fmt_b = mx_scalar("fmt_b", 0);
  p->block = mx_block_size();
  p->R = mx_ctrl(MX_CTRL_MXU_ROWS);
  p->C = mx_ctrl(MX_CTRL_MXU_COLS);
  p->nmx = umin(mx_ctrl(MX_CTRL_NUM_MXU), MAX_MXU);
  p->ntn = cdiv(p->n, p->C);
  p->nmx = umin(p->nmx, p->ntn);
  p->nk = cdiv(p->k, p->R);
  p->P = RING;
  if (p->scaled) {
    if (p->k % p->block != 0) return fail("K is not a multiple of the block");
    if (p->block % p->R != 0 && p->R % p->block != 0)
      return fail("the block must divide the MXU rows or be a multiple of them");
  }
  p->tb = p->scaled ? umin(p->block, p->R) : 0;
  const uint32_t kblocks = p->scaled ? p->k / p->block : 0;
  /* VMEM: B rings first, then two A panel buffers (and two SA panel buffers). */
  p->b_slot = p->R * p->C;
  p->sb_slot = p->scaled ? (p->R / p->tb) * p->C : 0;
  uint32_t at = 0;
  for (uint32_t j = 0; j < p->nmx; ++j) {
    p->ring[j] = at;
    at += p->P * p->b_slot;
    p->sring[j] = at;
    at += p->P * p->sb_slot;
  }
  const uint32_t vmem = mx_ctrl(MX_CTRL_VMEM_BYTES);
  const uint32_t accb = mx_ctrl(MX_CTRL_ACC_BYTES);
  if (at >= vmem) return fail("VMEM too small for the B rings");
  const uint32_t per_row = p->k + kblocks; /* bytes of A + SA per panel row */
  uint32_t mt = (vmem - at) / (2u * per_row);
  mt = umin(mt, accb / (2u * p->C * 4u));
  mt = umin(mt, p->m);
  if (mt == 0) return fail("K is too large for VMEM (no K tiling of A panels)");
  p->mt = mt;
  p->npanels = cdiv(p->m, mt);
  p->abuf[0] = at;
  p->abuf[1] = at + mt * p->k;
  p->sabuf[0] = at + 2u * mt * p->k;
  p->sabuf[1] = p->sabuf[0] + mt * kblocks;
  p->acc_buf_bytes = mt * p->C * 4u;
#ifdef LINEAR_RELU
  p->bias = mx_addr(tbias);
  p->y = mx_addr(tc);
  p->sy = mx_addr(tsy);
  p->out_fmt = mx_scalar("out_fmt", 0);
  p->out_block = mx_scalar("out_block", 32);
  if (p->out_block == 0 || p->n % p->out_block != 0 || p->C % p->out_block != 0)
    return fail("out_block must divide N and the MXU columns");
  /* Bias, then per MXU two staging buffers for the codes and scales of a finished tile. */
  at = p->sabuf[1] + mt * kblocks;
  p->bias_v = at;
  at += p->n * 4u;
  for (uint32_t j = 0; j < p->nmx; ++j) {
    for (uint32_t b = 0; b < 2; ++b) {
      p->ystage[j][b] = at;
      at += mt * p->C;
      p->systage[j][b] = at;
      at += mt * (p->C / p->out_block);
    }
  }
  if (at > vmem) return fail("VMEM too small for the linear_relu staging buffers");
#endif
  return 0;
}

static void issue_panel_a(const plan_t* p, uint32_t panel) {
  const uint32_t m0 = panel * p->mt, mt = umin(p->mt, p->m - m0), b = panel & 1u;
  mx_dma(MX_SPACE_HBM + p->a + (uint64_t)m0 * p->k, MX_SPACE_VMEM + p->abuf[b], p->k, mt, p->k,
         p->k, mx_sync((int)S_AFREE, (int)p->nmx, -1));
  if (p->scaled) {
    const uint32_t kb = p->k / p->block;
    mx_dma(MX_SPACE_HBM + p->sa + (uint64_t)m0 * kb, MX_SPACE_VMEM + p->sabuf[b], kb, mt, kb, kb,
           mx_sync_none());
  }
  for (uint32_t j = 0; j < p->nmx; ++j) mx_nop(MX_Q_DMA, mx_sync(-1, 0, (int)S_AFULL(j)));
}

#ifdef LINEAR_RELU
/* The epilogue on the vector unit: bias, ReLU and MX quantisation of the tile in the
 * accumulators, then the codes and scales go to HBM. */
static void flush_outputs(const plan_t* p, out_t* outs, uint32_t n) {
  for (uint32_t i = 0; i < n; ++i) {
    if (!outs[i].valid) continue;
    const out_t* o = &outs[i];
    const uint64_t acc = mx_acc_addr(o->j, o->buf);
    const uint32_t ys = p->ystage[o->j][o->slot], ss = p->systage[o->j][o->slot];
    const uint32_t nb = o->tn / p->out_block;
    mx_vpu_args_t v = {0};
    v.rows = o->mt;
    v.cols = o->tn;
    v.x = acc;
    v.x_stride = o->tn * 4u;
    v.z = acc;
    v.z_stride = o->tn * 4u;
    v.func = MX_VPU_FN_ADD_ROW;
    v.y = MX_SPACE_VMEM + p->bias_v + o->n0 * 4u;
    mx_vpu(&v, mx_sync((int)S_ACCFULL(o->j), 1, -1));
    v.func = MX_VPU_FN_RELU;
    mx_vpu(&v, mx_sync_none());
    v.func = MX_VPU_FN_MX_QUANT;
    v.out_fmt = p->out_fmt ? MX_VPU_FMT_E5M2 : MX_VPU_FMT_E4M3;
    v.block = p->out_block;
    v.z = MX_SPACE_VMEM + ys;
    v.z_stride = o->tn;
    v.y = MX_SPACE_VMEM + ss;
    v.y_stride = nb;
    mx_vpu(&v, mx_sync(-1, 0, (int)S_VPU(o->j)));
    mx_dma(MX_SPACE_VMEM + ys, MX_SPACE_HBM + p->y + o->dst_codes, o->tn, o->mt, o->tn, p->n,
           mx_sync((int)S_VPU(o->j), 1, -1));
    mx_dma(MX_SPACE_VMEM + ss, MX_SPACE_HBM + p->sy + o->dst_scales, nb, o->mt, nb,
           p->n / p->out_block, mx_sync(-1, 0, (int)S_ACCFREE(o->j)));
    outs[i].valid = 0;
  }
}
#else
static void flush_outputs(const plan_t* p, out_t* outs, uint32_t n) {
  (void)p;
  for (uint32_t i = 0; i < n; ++i) {
    if (!outs[i].valid) continue;
    const out_t* o = &outs[i];
    mx_dma(mx_acc_addr(o->j, o->buf), MX_SPACE_HBM + o->dst, o->tn * 4u, o->mt, o->tn * 4u,
           o->dst_stride, mx_sync((int)S_ACCFULL(o->j), 1, (int)S_ACCFREE(o->j)));
    outs[i].valid = 0;
  }
}
#endif

int main(void) {
  plan_t p;
  int rc = plan(&p);
  if (rc != 0) return rc;
  for (uint32_t j = 0; j < MAX_MXU; ++j) {
    mx_sem_set(S_BFULL(j), 0);
    mx_sem_set(S_BFREE(j), p.P);
    mx_sem_set(S_ACCFULL(j), 0);
    mx_sem_set(S_ACCFREE(j), 2);
    mx_sem_set(S_AFULL(j), 0);
    mx_sem_set(S_CINIT(j), 0);
    mx_sem_set(S_VPU(j), 0);
  }
#ifdef LINEAR_RELU
  mx_dma(MX_SPACE_HBM + p.bias, MX_SPACE_VMEM + p.bias_v, p.n * 4u, 1, p.n * 4u, p.n * 4u,
         mx_sync_none());
#endif
  mx_sem_set(S_AFREE, 2u * p.nmx);

  out_t pending[MAX_MXU], current[MAX_MXU];
  for (uint32_t j = 0; j < MAX_MXU; ++j) pending[j].valid = current[j].valid = 0;
  uint32_t ring_pos[MAX_MXU] = {0}, acc_pos[MAX_MXU] = {0};
  const uint32_t ngroups = cdiv(p.ntn, p.nmx);
  const uint32_t flush_at = umin(p.P, p.nk) - 1u;

  issue_panel_a(&p, 0);
  for (uint32_t panel = 0; panel < p.npanels; ++panel) {
    const uint32_t m0 = panel * p.mt, mt = umin(p.mt, p.m - m0), pb = panel & 1u;
    for (uint32_t g = 0; g < ngroups; ++g) {
      uint32_t tile_n0[MAX_MXU], tile_tn[MAX_MXU], used = 0;
      for (uint32_t j = 0; j < p.nmx; ++j) {
        const uint32_t t = g * p.nmx + j;
        if (t >= p.ntn) break;
        ++used;
        tile_n0[j] = t * p.C;
        tile_tn[j] = umin(p.C, p.n - tile_n0[j]);
        const uint32_t slot = acc_pos[j]++ & 1u, buf = slot * p.acc_buf_bytes;
        if (g == 0) mx_nop(MX_Q_MXU(j), mx_sync((int)S_AFULL(j), 1, -1));
        if (p.has_c0) {
          mx_dma(MX_SPACE_HBM + p.c0 + ((uint64_t)m0 * p.n + tile_n0[j]) * 4u, mx_acc_addr(j, buf),
                 tile_tn[j] * 4u, mt, p.n * 4u, tile_tn[j] * 4u,
                 mx_sync((int)S_ACCFREE(j), 1, (int)S_CINIT(j)));
          mx_nop(MX_Q_MXU(j), mx_sync((int)S_CINIT(j), 1, -1));
        } else {
          mx_nop(MX_Q_MXU(j), mx_sync((int)S_ACCFREE(j), 1, -1));
        }
        current[j].valid = 1;
        current[j].j = j;
        current[j].buf = buf;
        current[j].mt = mt;
        current[j].tn = tile_tn[j];
        current[j].dst_stride = p.n * 4u;
        current[j].slot = slot;
        current[j].n0 = tile_n0[j];
        current[j].dst_codes = (uint64_t)m0 * p.n + tile_n0[j];
#ifdef LINEAR_RELU
        current[j].dst_scales = (uint64_t)m0 * (p.n / p.out_block) + tile_n0[j] / p.out_block;
#endif
        current[j].dst = p.c + ((uint64_t)m0 * p.n + tile_n0[j]) * 4u;
      }
      for (uint32_t kt = 0; kt < p.nk; ++kt) {
        const uint32_t k0 = kt * p.R, tk = umin(p.R, p.k - k0);
        for (uint32_t j = 0; j < used; ++j) {
          const uint32_t slot = ring_pos[j]++ % p.P;
          const uint32_t bw = p.ring[j] + slot * p.b_slot, sw = p.sring[j] + slot * p.sb_slot;
          const uint32_t tn = tile_tn[j];
          mx_dma(MX_SPACE_HBM + p.b + (uint64_t)k0 * p.n + tile_n0[j], MX_SPACE_VMEM + bw, tn, tk,
                 p.n, tn, mx_sync((int)S_BFREE(j), 1, p.scaled ? -1 : (int)S_BFULL(j)));
          uint32_t srows = 0;
          if (p.scaled) {
            srows = p.block <= p.R ? tk / p.block : 1u;
            mx_dma(MX_SPACE_HBM + p.sb + (uint64_t)(k0 / p.block) * p.n + tile_n0[j],
                   MX_SPACE_VMEM + sw, tn, srows, p.n, tn, mx_sync(-1, 0, (int)S_BFULL(j)));
          }
          mx_load_w(j, bw, tn, tk, tn, p.fmt_b, (int)p.scaled, sw, tn, p.tb,
                    mx_sync((int)S_BFULL(j), 1, (int)S_BFREE(j)));
          const uint32_t kb = p.scaled ? p.k / p.block : 0;
          mx_matmul(j, p.abuf[pb] + k0, p.k, mt, p.fmt_a, (int)p.scaled,
                    p.scaled ? p.sabuf[pb] + k0 / p.block : 0, kb, current[j].buf, tn * 4u,
                    kt > 0 || p.has_c0,
                    mx_sync(-1, 0, kt + 1 == p.nk ? (int)S_ACCFULL(j) : -1));
        }
        if (kt == flush_at) {
          flush_outputs(&p, pending, MAX_MXU);
          if (g == 0 && panel + 1 < p.npanels) issue_panel_a(&p, panel + 1);
        }
      }
      for (uint32_t j = 0; j < MAX_MXU; ++j) {
        pending[j] = current[j];
        current[j].valid = 0;
      }
    }
    /* Each MXU is done reading this panel's A buffer once its queued work completes. */
    for (uint32_t j = 0; j < p.nmx; ++j) mx_nop(MX_Q_MXU(j), mx_sync(-1, 0, (int)S_AFREE));
  }
  flush_outputs(&p, pending, MAX_MXU);
  const uint32_t fault = mx_fence();
  if (fault != 0) {
    printf("gemm: engine fault %u\n", (unsigned)fault);
    return 3;
  }
  return 0;
}
