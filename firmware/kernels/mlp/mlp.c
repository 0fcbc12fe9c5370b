/* mlp: Y = quant(GELU(X . W1)) . W2, an MXFP8 transformer MLP on the chip (docs/KERNELS.md).
 *
 * Launch block: X (M x K u8 codes), SX (M x K/block u8 UE8M0), W1 (K x H), SW1 (K/block x H),
 * W2 (H x N), SW2 (H/block x N); output Y (M x N f32) and the intermediate HQ (M x H codes) and
 * HS (M x H/block scales), declared by the kernel after the inputs when the runner has not
 * allocated them (so `--out HQ=...` reads them back). Scalars: form (required: 0 GELU_TANH,
 * 1 GELU_ERF), fmt_x, fmt_w1, fmt_w2, fmt_h (0 E4M3, 1 E5M2; default 0), block (default: the
 * chip's [mx] block; it must divide the MXU columns and be a divisor or multiple of its rows).
 *
 * Two passes of the gemm kernel's pipeline (firmware/kernels/gemm/gemm.c, whose tiling and
 * semaphore scheme this file repeats; see docs/KERNELS.md "gemm"):
 *   1. X . W1 on every MXU. Per finished accumulator tile (mt rows x 128 columns of H) the
 *      vector unit computes GELU in place in the accumulators (FP64 evaluation, one rounding),
 *      then MX_QUANT (floor scales, block along H, satfinite) into VMEM staging, and the DMA
 *      writes codes and scales to HQ / HS. The accumulators never go to HBM in FP32.
 *   2. After a fence, HQ (with HS) . W2 -> Y in FP32, the plain gemm pipeline.
 * The GEMMs follow DESIGN §3 exactly (one FP32 rounding per k step, k increasing); GELU is the
 * VPU's (<= 0.501 ulp); the quantisation is num::mx_quantize's. */
#include <stdint.h>
#include <stdio.h>

#include "mxemu/hal.h"

#define MAX_MXU 4u
#define RING 4u /* B tiles in flight per MXU */

/* Semaphores (tools/regmap: 32 of them), as in gemm.c. */
#define S_BFULL(j) (0u + (j))
#define S_BFREE(j) (4u + (j))
#define S_ACCFULL(j) (8u + (j))
#define S_ACCFREE(j) (12u + (j))
#define S_AFULL(j) (16u + (j))
#define S_AFREE 24u
#define S_VPU(j) (25u + (j))

#define UNSET 0xFFFFFFFFu

/* One GEMM pass: C = A . B with scales (both operands always scaled here). */
typedef struct {
  uint32_t m, n, k, block, tb, fmt_a, fmt_b;
  uint64_t a, b, sa, sb, c; /* HBM offsets */
  /* The epilogue of pass 1: GELU function and intermediate format; 0 = write FP32 C. */
  uint32_t gelu_fn, out_fmt;
  uint64_t hq, hs;
  uint32_t R, C, nmx, P, ntn, mt, npanels, nk;
  uint32_t abuf[2], sabuf[2], ring[MAX_MXU], sring[MAX_MXU], b_slot, sb_slot;
  uint32_t acc_buf_bytes;
  uint32_t ystage[MAX_MXU][2], systage[MAX_MXU][2];
} pass_t;

typedef struct {
  int valid;
  uint32_t j, buf, mt, tn, slot;
  uint64_t dst, dst_codes, dst_scales;
} out_t;

static uint32_t cdiv(uint32_t a, uint32_t b) { return (a + b - 1u) / b; }
static uint32_t umin(uint32_t a, uint32_t b) { return a < b ? a : b; }

/* A u8 tensor that must be present, 2-D, of the given shape (0: any). */
static int need_u8(mx_tensor_t t, const char* name, uint32_t rows, uint32_t cols) {
  if (!t.entry) {
    printf("mlp: error: launch block lacks %s\n", name);
    return 0;
  }
  const uint32_t dtype = mx_launch_u32(t.entry, MX_LAUNCH_E_DTYPE);
  const uint32_t ndim = mx_launch_u32(t.entry, MX_LAUNCH_E_NDIM);
  if (dtype != MX_DTYPE_U8 || ndim != 2) {
    printf("mlp: error: %s must be a 2-D uint8 array (got %s, %u dimensions)\n", name,
           dtype == MX_DTYPE_F32 ? "float32" : dtype == MX_DTYPE_U8 ? "uint8" : "a scalar",
           (unsigned)ndim);
    return 0;
  }
  if ((rows && mx_dim(t, 0) != rows) || (cols && mx_dim(t, 1) != cols)) {
    printf("mlp: error: %s is %u x %u, expected %u x %u\n", name, (unsigned)mx_dim(t, 0),
           (unsigned)mx_dim(t, 1), (unsigned)(rows ? rows : mx_dim(t, 0)),
           (unsigned)(cols ? cols : mx_dim(t, 1)));
    return 0;
  }
  return 1;
}

static int fail(const char* msg) {
  printf("mlp: error: %s\n", msg);
  return 2;
}

/* Tiles and VMEM layout of one pass (as gemm.c's plan, with the epilogue's staging buffers
 * reserved before the A panels are sized). */
static int plan(pass_t* p) {
  p->R = mx_ctrl(MX_CTRL_MXU_ROWS);
  p->C = mx_ctrl(MX_CTRL_MXU_COLS);
  p->nmx = umin(mx_ctrl(MX_CTRL_NUM_MXU), MAX_MXU);
  p->ntn = cdiv(p->n, p->C);
  p->nmx = umin(p->nmx, p->ntn);
  p->nk = cdiv(p->k, p->R);
  p->P = RING;
  p->tb = umin(p->block, p->R);
  const uint32_t kblocks = p->k / p->block;
  p->b_slot = p->R * p->C;
  p->sb_slot = (p->R / p->tb) * p->C;
  uint32_t at = 0;
  for (uint32_t j = 0; j < p->nmx; ++j) {
    p->ring[j] = at;
    at += p->P * p->b_slot;
    p->sring[j] = at;
    at += p->P * p->sb_slot;
  }
  const uint32_t vmem = mx_ctrl(MX_CTRL_VMEM_BYTES);
  const uint32_t accb = mx_ctrl(MX_CTRL_ACC_BYTES);
  if (at >= vmem) return fail("VMEM too small for the weight rings");
  /* Bytes per panel row: A + SA (two buffers), and the epilogue's two staging buffers of codes
   * and scales per MXU. */
  const uint32_t stage_row = p->gelu_fn ? p->C + p->C / p->block : 0;
  const uint32_t per_row = 2u * (p->k + kblocks) + 2u * p->nmx * stage_row;
  uint32_t mt = (vmem - at) / per_row;
  mt = umin(mt, accb / (2u * p->C * 4u));
  mt = umin(mt, p->m);
  if (mt == 0) return fail("K is too large for VMEM (no K tiling of A panels)");
  p->mt = mt;
  p->npanels = cdiv(p->m, mt);
  p->abuf[0] = at;
  p->abuf[1] = at + mt * p->k;
  p->sabuf[0] = at + 2u * mt * p->k;
  p->sabuf[1] = p->sabuf[0] + mt * kblocks;
  at = p->sabuf[1] + mt * kblocks;
  p->acc_buf_bytes = mt * p->C * 4u;
  if (p->gelu_fn) {
    for (uint32_t j = 0; j < p->nmx; ++j) {
      for (uint32_t b = 0; b < 2; ++b) {
        p->ystage[j][b] = at;
        at += mt * p->C;
        p->systage[j][b] = at;
        at += mt * (p->C / p->block);
      }
    }
  }
  return 0;
}

static void issue_panel_a(const pass_t* p, uint32_t panel) {
  const uint32_t m0 = panel * p->mt, mt = umin(p->mt, p->m - m0), b = panel & 1u;
  const uint32_t kb = p->k / p->block;
  mx_dma(MX_SPACE_HBM + p->a + (uint64_t)m0 * p->k, MX_SPACE_VMEM + p->abuf[b], p->k, mt, p->k,
         p->k, mx_sync((int)S_AFREE, (int)p->nmx, -1));
  mx_dma(MX_SPACE_HBM + p->sa + (uint64_t)m0 * kb, MX_SPACE_VMEM + p->sabuf[b], kb, mt, kb, kb,
         mx_sync_none());
  for (uint32_t j = 0; j < p->nmx; ++j) mx_nop(MX_Q_DMA, mx_sync(-1, 0, (int)S_AFULL(j)));
}

/* Results of finished tiles: pass 1 runs GELU and MX_QUANT on the vector unit while the tile
 * is still in the accumulators, then writes codes and scales; pass 2 writes FP32. */
static void flush_outputs(const pass_t* p, out_t* outs) {
  for (uint32_t i = 0; i < MAX_MXU; ++i) {
    if (!outs[i].valid) continue;
    const out_t* o = &outs[i];
    const uint64_t acc = mx_acc_addr(o->j, o->buf);
    if (!p->gelu_fn) {
      mx_dma(acc, MX_SPACE_HBM + o->dst, o->tn * 4u, o->mt, o->tn * 4u, p->n * 4u,
             mx_sync((int)S_ACCFULL(o->j), 1, (int)S_ACCFREE(o->j)));
      outs[i].valid = 0;
      continue;
    }
    const uint32_t ys = p->ystage[o->j][o->slot], ss = p->systage[o->j][o->slot];
    const uint32_t nb = o->tn / p->block;
    mx_vpu_args_t v = {0};
    v.rows = o->mt;
    v.cols = o->tn;
    v.x = v.z = acc;
    v.x_stride = v.z_stride = o->tn * 4u;
    v.func = p->gelu_fn;
    mx_vpu(&v, mx_sync((int)S_ACCFULL(o->j), 1, -1));
    v.func = MX_VPU_FN_MX_QUANT;
    v.out_fmt = p->out_fmt ? MX_VPU_FMT_E5M2 : MX_VPU_FMT_E4M3;
    v.block = p->block;
    v.z = MX_SPACE_VMEM + ys;
    v.z_stride = o->tn;
    v.y = MX_SPACE_VMEM + ss;
    v.y_stride = nb;
    mx_vpu(&v, mx_sync(-1, 0, (int)S_VPU(o->j)));
    mx_dma(MX_SPACE_VMEM + ys, MX_SPACE_HBM + p->hq + o->dst_codes, o->tn, o->mt, o->tn, p->n,
           mx_sync((int)S_VPU(o->j), 1, -1));
    mx_dma(MX_SPACE_VMEM + ss, MX_SPACE_HBM + p->hs + o->dst_scales, nb, o->mt, nb,
           p->n / p->block, mx_sync(-1, 0, (int)S_ACCFREE(o->j)));
    outs[i].valid = 0;
  }
}

/* One pass of gemm.c's pipeline; returns 0 or the engine fault code of the closing fence. */
static uint32_t run_pass(const pass_t* p) {
  for (uint32_t j = 0; j < MAX_MXU; ++j) {
    mx_sem_set(S_BFULL(j), 0);
    mx_sem_set(S_BFREE(j), p->P);
    mx_sem_set(S_ACCFULL(j), 0);
    mx_sem_set(S_ACCFREE(j), 2);
    mx_sem_set(S_AFULL(j), 0);
    mx_sem_set(S_VPU(j), 0);
  }
  mx_sem_set(S_AFREE, 2u * p->nmx);

  out_t pending[MAX_MXU], current[MAX_MXU];
  for (uint32_t j = 0; j < MAX_MXU; ++j) pending[j].valid = current[j].valid = 0;
  uint32_t ring_pos[MAX_MXU] = {0}, acc_pos[MAX_MXU] = {0};
  const uint32_t ngroups = cdiv(p->ntn, p->nmx);
  const uint32_t flush_at = umin(p->P, p->nk) - 1u;
  const uint32_t kb = p->k / p->block;

  issue_panel_a(p, 0);
  for (uint32_t panel = 0; panel < p->npanels; ++panel) {
    const uint32_t m0 = panel * p->mt, mt = umin(p->mt, p->m - m0), pb = panel & 1u;
    for (uint32_t g = 0; g < ngroups; ++g) {
      uint32_t tile_n0[MAX_MXU], tile_tn[MAX_MXU], used = 0;
      for (uint32_t j = 0; j < p->nmx; ++j) {
        const uint32_t t = g * p->nmx + j;
        if (t >= p->ntn) break;
        ++used;
        tile_n0[j] = t * p->C;
        tile_tn[j] = umin(p->C, p->n - tile_n0[j]);
        const uint32_t slot = acc_pos[j]++ & 1u, buf = slot * p->acc_buf_bytes;
        if (g == 0) mx_nop(MX_Q_MXU(j), mx_sync((int)S_AFULL(j), 1, -1));
        mx_nop(MX_Q_MXU(j), mx_sync((int)S_ACCFREE(j), 1, -1));
        current[j].valid = 1;
        current[j].j = j;
        current[j].buf = buf;
        current[j].mt = mt;
        current[j].tn = tile_tn[j];
        current[j].slot = slot;
        current[j].dst_codes = (uint64_t)m0 * p->n + tile_n0[j];
        current[j].dst_scales = (uint64_t)m0 * (p->n / p->block) + tile_n0[j] / p->block;
        current[j].dst = p->c + ((uint64_t)m0 * p->n + tile_n0[j]) * 4u;
      }
      for (uint32_t kt = 0; kt < p->nk; ++kt) {
        const uint32_t k0 = kt * p->R, tk = umin(p->R, p->k - k0);
        for (uint32_t j = 0; j < used; ++j) {
          const uint32_t slot = ring_pos[j]++ % p->P;
          const uint32_t bw = p->ring[j] + slot * p->b_slot, sw = p->sring[j] + slot * p->sb_slot;
          const uint32_t tn = tile_tn[j];
          const uint32_t srows = p->block <= p->R ? tk / p->block : 1u;
          mx_dma(MX_SPACE_HBM + p->b + (uint64_t)k0 * p->n + tile_n0[j], MX_SPACE_VMEM + bw, tn,
                 tk, p->n, tn, mx_sync((int)S_BFREE(j), 1, -1));
          mx_dma(MX_SPACE_HBM + p->sb + (uint64_t)(k0 / p->block) * p->n + tile_n0[j],
                 MX_SPACE_VMEM + sw, tn, srows, p->n, tn, mx_sync(-1, 0, (int)S_BFULL(j)));
          mx_load_w(j, bw, tn, tk, tn, p->fmt_b, 1, sw, tn, p->tb,
                    mx_sync((int)S_BFULL(j), 1, (int)S_BFREE(j)));
          mx_matmul(j, p->abuf[pb] + k0, p->k, mt, p->fmt_a, 1, p->sabuf[pb] + k0 / p->block, kb,
                    current[j].buf, tn * 4u, kt > 0,
                    mx_sync(-1, 0, kt + 1 == p->nk ? (int)S_ACCFULL(j) : -1));
        }
        if (kt == flush_at) {
          flush_outputs(p, pending);
          if (g == 0 && panel + 1 < p->npanels) issue_panel_a(p, panel + 1);
        }
      }
      for (uint32_t j = 0; j < MAX_MXU; ++j) {
        pending[j] = current[j];
        current[j].valid = 0;
      }
    }
    for (uint32_t j = 0; j < p->nmx; ++j) mx_nop(MX_Q_MXU(j), mx_sync(-1, 0, (int)S_AFREE));
  }
  flush_outputs(p, pending);
  return mx_fence();
}

int main(void) {
  const uint32_t form = mx_scalar("form", UNSET);
  if (form > 1u) {
    if (form == UNSET)
      printf("mlp: error: missing scalar form: 0 (tanh) or 1 (erf)\n");
    else
      printf("mlp: error: scalar form must be 0 (tanh) or 1 (erf), got %u\n", (unsigned)form);
    return 2;
  }
  const uint32_t block = mx_block_size();
  const uint32_t R = mx_ctrl(MX_CTRL_MXU_ROWS), C = mx_ctrl(MX_CTRL_MXU_COLS);
  if (block == 0 || C % block != 0 || (block % R != 0 && R % block != 0)) {
    printf("mlp: error: block %u must divide the MXU columns (%u) and divide or be a multiple "
           "of its rows (%u)\n",
           (unsigned)block, (unsigned)C, (unsigned)R);
    return 2;
  }
  mx_tensor_t tx = mx_find("X");
  if (!need_u8(tx, "X", 0, 0)) return 2;
  const uint32_t M = mx_dim(tx, 0), K = mx_dim(tx, 1);
  mx_tensor_t tw1 = mx_find("W1");
  if (!need_u8(tw1, "W1", K, 0)) return 2;
  const uint32_t H = mx_dim(tw1, 1);
  mx_tensor_t tw2 = mx_find("W2");
  if (!need_u8(tw2, "W2", H, 0)) return 2;
  const uint32_t N = mx_dim(tw2, 1);
  if (K % block != 0 || H % block != 0) {
    printf("mlp: error: K (%u) and H (%u) must be multiples of the block %u\n", (unsigned)K,
           (unsigned)H, (unsigned)block);
    return 2;
  }
  if (M == 0 || K == 0 || H == 0 || N == 0) return fail("empty dimension");
  mx_tensor_t tsx = mx_find("SX"), tsw1 = mx_find("SW1"), tsw2 = mx_find("SW2");
  if (!need_u8(tsx, "SX", M, K / block) || !need_u8(tsw1, "SW1", K / block, H) ||
      !need_u8(tsw2, "SW2", H / block, N))
    return 2;
  /* Outputs: given by the runner, or allocated after its tensors and declared here. */
  uint64_t at = mx_hbm_free();
  mx_tensor_t ty = mx_find("Y");
  if (!ty.entry) {
    const uint32_t s[2] = {M, N};
    if (mx_declare_output("Y", MX_DTYPE_F32, 2, s, at) != 0) return fail("cannot declare Y");
    at += ((uint64_t)M * N * 4u + 4095u) & ~4095ull;
    ty = mx_find("Y");
  } else if (mx_launch_u32(ty.entry, MX_LAUNCH_E_DTYPE) != MX_DTYPE_F32 ||
             mx_launch_u32(ty.entry, MX_LAUNCH_E_NDIM) != 2 || mx_dim(ty, 0) != M ||
             mx_dim(ty, 1) != N) {
    printf("mlp: error: Y must be a %u x %u float32 array\n", (unsigned)M, (unsigned)N);
    return 2;
  }
  mx_tensor_t thq = mx_find("HQ"), ths = mx_find("HS");
  if (!thq.entry) {
    const uint32_t s[2] = {M, H};
    if (mx_declare_output("HQ", MX_DTYPE_U8, 2, s, at) != 0) return fail("cannot declare HQ");
    at += ((uint64_t)M * H + 4095u) & ~4095ull;
    thq = mx_find("HQ");
  } else if (!need_u8(thq, "HQ", M, H)) {
    return 2;
  }
  if (!ths.entry) {
    const uint32_t s[2] = {M, H / block};
    if (mx_declare_output("HS", MX_DTYPE_U8, 2, s, at) != 0) return fail("cannot declare HS");
    ths = mx_find("HS");
  } else if (!need_u8(ths, "HS", M, H / block)) {
    return 2;
  }

  pass_t p1 = {0}, p2 = {0};
  p1.m = M, p1.k = K, p1.n = H, p1.block = block;
  p1.fmt_a = mx_scalar("fmt_x", 0), p1.fmt_b = mx_scalar("fmt_w1", 0);
  p1.a = mx_addr(tx), p1.sa = mx_addr(tsx), p1.b = mx_addr(tw1), p1.sb = mx_addr(tsw1);
  p1.gelu_fn = form == 0 ? MX_VPU_FN_GELU_TANH : MX_VPU_FN_GELU_ERF;
  p1.out_fmt = mx_scalar("fmt_h", 0);
  p1.hq = mx_addr(thq), p1.hs = mx_addr(ths);
  p2.m = M, p2.k = H, p2.n = N, p2.block = block;
  p2.fmt_a = p1.out_fmt, p2.fmt_b = mx_scalar("fmt_w2", 0);
  p2.a = p1.hq, p2.sa = p1.hs, p2.b = mx_addr(tw2), p2.sb = mx_addr(tsw2);
  p2.c = mx_addr(ty);
  if (p1.fmt_a > 1 || p1.fmt_b > 1 || p1.out_fmt > 1 || p2.fmt_b > 1)
    return fail("fmt_x, fmt_w1, fmt_w2 and fmt_h must be 0 (E4M3) or 1 (E5M2)");
  int rc = plan(&p1);
  if (rc == 0) rc = plan(&p2);
  if (rc != 0) return rc;
  uint32_t fault = run_pass(&p1);
  if (fault == 0) fault = run_pass(&p2);
  if (fault != 0) {
    printf("mlp: engine fault %u\n", (unsigned)fault);
    return 3;
  }
  return 0;
}
