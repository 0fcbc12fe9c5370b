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
#define RING 4u            /* B tiles in flight per MXU */
#define CHUNK_BYTES 32768u /* resident B: bytes per DMA */

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
  uint32_t m, n, k, block, tb, fmt_a, fmt_b, scaled, has_c0, kb;
  uint64_t a, b, sa, sb, c0, c;
  uint32_t R, C, nmx, P, ntn, mt, npanels, nk;
  uint32_t abuf[2], sabuf[2], ring[MAX_MXU], sring[MAX_MXU], b_slot, sb_slot;
  uint32_t acc_buf_bytes;
  /* Resident B (one N tile, one M panel): all of B (and SB) stays in VMEM at bres (sres), the
   * panel's rows are split over nu MXUs in slices of ms rows, B arrives in DMAs of gk k tiles. */
  uint32_t resident, nu, ms, gk, bres, sres;
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

static uint32_t cdiv(uint32_t a, uint32_t b) {
  return (a + b - 1u) / b;
}
static uint32_t umin(uint32_t a, uint32_t b) {
  return a < b ? a : b;
}

static int fail(const char* msg) {
  printf("gemm: error: %s\n", msg);
  return 2;
}

/* The launch-block entries the kernel reads (mx_find with constant names: the compiler
 * specialises each scan). */
enum {
  T_A,
  T_B,
  T_C,
  T_SA,
  T_SB,
  T_C0,
  T_FMT_A,
  T_FMT_B,
  T_BLOCK,
  T_HBM_FREE,
#ifdef LINEAR_RELU
  T_BIAS,
  T_Y,
  T_SY,
  T_OUT_FMT,
  T_OUT_BLOCK,
#endif
  T_COUNT
};

static void find_all(mx_tensor_t* t) {
  const mx_name_t names[T_COUNT] = {
      [T_A] = MX_NAME("A"),
      [T_B] = MX_NAME("B"),
      [T_C] = MX_NAME("C"),
      [T_SA] = MX_NAME("SA"),
      [T_SB] = MX_NAME("SB"),
      [T_C0] = MX_NAME("C0"),
      [T_FMT_A] = MX_NAME("fmt_a"),
      [T_FMT_B] = MX_NAME("fmt_b"),
      [T_BLOCK] = MX_NAME("block"),
      [T_HBM_FREE] = MX_NAME("hbm_free"),
#ifdef LINEAR_RELU
      [T_BIAS] = MX_NAME("bias"),
      [T_Y] = MX_NAME("Y"),
      [T_SY] = MX_NAME("SY"),
      [T_OUT_FMT] = MX_NAME("out_fmt"),
      [T_OUT_BLOCK] = MX_NAME("out_block"),
#endif
  };
  mx_find_many(names, T_COUNT, t);
}

static uint32_t scalar_or(mx_tensor_t t, uint32_t fallback) {
  return t.entry ? mx_launch_u32(t.entry, MX_LAUNCH_E_ADDR_LO) : fallback;
}

#ifdef LINEAR_RELU
/* Bias, then per MXU two staging buffers for the codes and scales of a finished tile of mt
 * rows. Returns the end of the layout. */
static uint32_t layout_lr(plan_t* p, uint32_t at, uint32_t units, uint32_t mt) {
  p->bias_v = at;
  at += p->n * 4u;
  for (uint32_t j = 0; j < units; ++j) {
    for (uint32_t b = 0; b < 2; ++b) {
      p->ystage[j][b] = at;
      at += mt * p->C;
      p->systage[j][b] = at;
      at += mt * (p->C / p->out_block);
    }
  }
  return at;
}
#endif

static int plan(plan_t* p) {
  mx_tensor_t t[T_COUNT];
  find_all(t);
  mx_tensor_t ta = t[T_A], tb = t[T_B];
  if (!ta.entry || !tb.entry) return fail("launch block lacks A or B");
  /* Outputs: given by the runner, or allocated after its tensors and declared here. */
  const uint32_t mm = mx_dim(ta, 0), nn = mx_dim(tb, 1);
  const uint64_t free_at = t[T_HBM_FREE].entry ? mx_addr(t[T_HBM_FREE]) : 0;
#ifdef LINEAR_RELU
  mx_tensor_t tbias = t[T_BIAS];
  if (!tbias.entry) return fail("launch block lacks bias");
  if (!t[T_Y].entry || !t[T_SY].entry) {
    const uint32_t ob = scalar_or(t[T_OUT_BLOCK], 32);
    const uint32_t ys[2] = {mm, nn}, ss[2] = {mm, ob ? nn / ob : 0};
    const uint64_t s_at = free_at + (((uint64_t)mm * nn + 4095u) & ~4095ull);
    if (mx_declare_output("Y", MX_DTYPE_U8, 2, ys, free_at) != 0 ||
        mx_declare_output("SY", MX_DTYPE_U8, 2, ss, s_at) != 0)
      return fail("cannot declare the outputs");
    t[T_Y] = mx_find("Y");
    t[T_SY] = mx_find("SY");
  }
  mx_tensor_t tc = t[T_Y], tsy = t[T_SY];
#else
  if (!t[T_C].entry) {
    const uint32_t cs[2] = {mm, nn};
    if (mx_declare_output("C", MX_DTYPE_F32, 2, cs, free_at) != 0)
      return fail("cannot declare the output");
    t[T_C] = mx_find("C");
  }
  mx_tensor_t tc = t[T_C];
#endif
  mx_tensor_t tsa = t[T_SA], tsb = t[T_SB], tc0 = t[T_C0];
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
  p->fmt_a = scalar_or(t[T_FMT_A], 0);
  p->fmt_b = scalar_or(t[T_FMT_B], 0);
  p->block = t[T_BLOCK].entry ? scalar_or(t[T_BLOCK], 0) : mx_ctrl(MX_CTRL_MX_BLOCK);
  p->R = mx_ctrl(MX_CTRL_MXU_ROWS);
  p->C = mx_ctrl(MX_CTRL_MXU_COLS);
  const uint32_t hw_mxus = umin(mx_ctrl(MX_CTRL_NUM_MXU), MAX_MXU);
  p->ntn = cdiv(p->n, p->C);
  p->nmx = umin(hw_mxus, p->ntn);
  p->nk = cdiv(p->k, p->R);
  p->P = RING;
  if (p->scaled) {
    if (p->k % p->block != 0) return fail("K is not a multiple of the block");
    if (p->block % p->R != 0 && p->R % p->block != 0)
      return fail("the block must divide the MXU rows or be a multiple of them");
  }
  p->tb = p->scaled ? umin(p->block, p->R) : 0;
  const uint32_t kblocks = p->scaled ? p->k / p->block : 0;
  p->kb = kblocks;
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
  p->out_fmt = scalar_or(t[T_OUT_FMT], 0);
  p->out_block = scalar_or(t[T_OUT_BLOCK], 32);
  if (p->out_block == 0 || p->n % p->out_block != 0 || p->C % p->out_block != 0)
    return fail("out_block must divide N and the MXU columns");
  if (layout_lr(p, p->sabuf[1] + mt * kblocks, p->nmx, mt) > vmem)
    return fail("VMEM too small for the linear_relu staging buffers");
#endif
  /* Resident B: with one N tile (N <= MXU columns) the N tiling leaves all MXUs but one idle
   * and a K split would change the rounding (the fused steps of an output run in increasing k,
   * DESIGN §3), so the rows are split instead: MXU j streams rows [j ms, (j + 1) ms) through the
   * same weights, which are loaded once into VMEM (K x N bytes) and not ring-buffered. */
  p->resident = 0;
#ifdef LINEAR_RELU
  const int resident_ok = 0; /* measured slower with the epilogue (docs/PERFORMANCE.md) */
#else
  const int resident_ok = 1;
#endif
  if (resident_ok && p->ntn == 1 && p->npanels == 1 && p->nk >= 4 &&
      p->n * p->R <= CHUNK_BYTES) {
    const uint32_t ms = cdiv(p->m, umin(hw_mxus, p->m)), nu = cdiv(p->m, ms);
    const uint32_t sres = p->k * p->n, a0 = sres + kblocks * p->n, sa0 = a0 + p->m * p->k;
    uint32_t end = sa0 + p->m * kblocks;
    int fits = end <= vmem && ms * p->n * 4u <= accb;
#ifdef LINEAR_RELU
    plan_t q = *p;
    end = layout_lr(&q, end, nu, ms);
    fits = fits && end <= vmem;
    if (fits) *p = q;
#endif
    if (fits) {
      p->resident = 1;
      p->nu = nu;
      p->ms = ms;
      p->bres = 0;
      p->sres = sres;
      p->abuf[0] = a0;
      p->sabuf[0] = sa0;
      /* k tiles per B chunk: 32 KiB, but at most 4 chunks (each costs the core a DMA and,
       * per MXU, a NOP and a LOOP). */
      p->gk = CHUNK_BYTES / (p->R * p->n);
      p->gk = umin(p->gk > cdiv(p->nk, 4u) ? p->gk : cdiv(p->nk, 4u), p->nk);
    }
  }
  return 0;
}

/* Descriptor templates: built once, then only the words that change are written before each
 * push (PUSH_ADDR copies the 16 words at the store). */
static uint32_t hdr(uint32_t opcode, mx_sync_t s) {
  return MX_FIELD(MX_HDR_OPCODE, opcode) | MX_FIELD(MX_HDR_WAIT_EN, s.wait_en) |
         MX_FIELD(MX_HDR_WAIT_SEM, s.wait_sem) | MX_FIELD(MX_HDR_WAIT_COUNT, s.wait_count) |
         MX_FIELD(MX_HDR_SIGNAL_EN, s.signal_en) | MX_FIELD(MX_HDR_SIGNAL_SEM, s.signal_sem);
}

/* Zeroes a template with plain stores (the HAL's loop becomes a byte-wise memset call). */
static void tpl_init(mx_desc_t* d, uint32_t opcode) {
  volatile uint32_t* w = d->w;
#pragma GCC unroll 16
  for (uint32_t i = 0; i < MX_DESC_WORDS; ++i) w[i] = 0;
  MX_SET(d, MX_HDR_OPCODE, opcode);
}

static void tpl_dma(mx_desc_t* d) {
  tpl_init(d, MX_OP_DMA_COPY);
  MX_SET(d, MX_DMA_COPY_PLANES, 1u);
}

static inline void push_dma(mx_desc_t* d, uint32_t h, uint64_t src, uint64_t dst,
                            uint32_t row_bytes, uint32_t rows, uint32_t src_stride,
                            uint32_t dst_stride) {
  d->w[0] = h;
  d->w[MX_DMA_COPY_SRC_LO_WORD] = (uint32_t)src;
  d->w[MX_DMA_COPY_SRC_HI_WORD] = (uint32_t)(src >> 32);
  d->w[MX_DMA_COPY_DST_LO_WORD] = (uint32_t)dst;
  d->w[MX_DMA_COPY_DST_HI_WORD] = (uint32_t)(dst >> 32);
  d->w[MX_DMA_COPY_ROW_BYTES_WORD] = row_bytes;
  d->w[MX_DMA_COPY_ROWS_WORD] = rows;
  d->w[MX_DMA_COPY_SRC_ROW_STRIDE_WORD] = src_stride;
  d->w[MX_DMA_COPY_DST_ROW_STRIDE_WORD] = dst_stride;
  mx_push(MX_Q_DMA, d);
}

/* A NOP on the DMA queue that signals sem once everything before it is done. */
static inline void push_nop(mx_desc_t* d, uint32_t sem) {
  d->w[0] = hdr(0u, mx_sync(-1, 0, (int)sem));
  mx_push(MX_Q_DMA, d);
}

static void tpl_load_w(const plan_t* p, mx_desc_t* d) {
  tpl_init(d, MX_OP_MXU_LOAD_W);
  MX_SET(d, MX_MXU_LOAD_W_FMT, p->fmt_b);
  MX_SET(d, MX_MXU_LOAD_W_SCALED, p->scaled);
  MX_SET(d, MX_MXU_LOAD_W_BLOCK, p->tb);
}

static inline void push_load_w(uint32_t j, mx_desc_t* d, uint32_t h, uint32_t w, uint32_t tk,
                               uint32_t tn, uint32_t s) {
  d->w[0] = h;
  d->w[MX_MXU_LOAD_W_W_ADDR_WORD] = w;
  d->w[MX_MXU_LOAD_W_W_STRIDE_WORD] = tn;
  d->w[MX_MXU_LOAD_W_K_WORD] = MX_FIELD(MX_MXU_LOAD_W_K, tk) | MX_FIELD(MX_MXU_LOAD_W_N, tn);
  d->w[MX_MXU_LOAD_W_S_ADDR_WORD] = s;
  d->w[MX_MXU_LOAD_W_S_STRIDE_WORD] = tn;
  mx_push(MX_Q_MXU(j), d);
}

static void tpl_matmul(const plan_t* p, mx_desc_t* d) {
  tpl_init(d, MX_OP_MXU_MATMUL);
  MX_SET(d, MX_MXU_MATMUL_A_STRIDE, p->k);
  MX_SET(d, MX_MXU_MATMUL_SA_STRIDE, p->kb);
}

/* flags: matmul_flags(p, accumulate). */
static uint32_t matmul_flags(const plan_t* p, int accumulate) {
  return MX_FIELD(MX_MXU_MATMUL_FMT, p->fmt_a) | MX_FIELD(MX_MXU_MATMUL_SCALED, p->scaled) |
         MX_FIELD(MX_MXU_MATMUL_ACCUMULATE, accumulate ? 1u : 0u);
}

static inline void push_matmul(uint32_t j, mx_desc_t* d, uint32_t h, uint32_t a, uint32_t m,
                               uint32_t sa, uint32_t acc, uint32_t acc_stride, uint32_t flags) {
  d->w[0] = h;
  d->w[MX_MXU_MATMUL_A_ADDR_WORD] = a;
  d->w[MX_MXU_MATMUL_M_WORD] = m;
  d->w[MX_MXU_MATMUL_SA_ADDR_WORD] = sa;
  d->w[MX_MXU_MATMUL_ACC_ADDR_WORD] = acc;
  d->w[MX_MXU_MATMUL_ACC_STRIDE_WORD] = acc_stride;
  d->w[MX_MXU_MATMUL_FMT_WORD] = flags;
  mx_push(MX_Q_MXU(j), d);
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

/* Resident B: the k steps of one MXU. A step is a LOAD_W and a MATMUL; a run of full k tiles
 * goes to the MXU as one hardware LOOP (docs/CHIP.md "LOOP") over the run's first step, whose
 * increments advance the weight and A addresses (and the scale rows: by srow_inc every
 * srow_every tiles), so the core issues three descriptors for any number of steps. */
typedef struct {
  const plan_t* p;
  mx_desc_t lw, mm, loop, nop;
  uint32_t j, a_at, sa_at, mr, h_lw, h_mm, flags_acc, srow_inc, srow_every;
} ksteps_t;

static void ksteps_init(ksteps_t* s, const plan_t* p, uint32_t j) {
  const uint32_t r0 = j * p->ms, tn = p->n;
  s->p = p;
  s->j = j;
  s->a_at = p->abuf[0] + r0 * p->k;
  s->sa_at = p->scaled ? p->sabuf[0] + r0 * p->kb : 0;
  s->mr = umin(p->ms, p->m - r0);
  s->h_lw = hdr(MX_OP_MXU_LOAD_W, mx_sync_none());
  s->h_mm = hdr(MX_OP_MXU_MATMUL, mx_sync_none());
  s->flags_acc = matmul_flags(p, 1);
  s->srow_inc = p->scaled && p->block <= p->R ? p->R / p->block : 1u;
  s->srow_every = p->scaled && p->block > p->R ? p->block / p->R : 1u;
  tpl_load_w(p, &s->lw);
  tpl_matmul(p, &s->mm);
  tpl_init(&s->nop, 0u);
  mx_loop_init(&s->loop, 1u, 2u);
  mx_loop_inc(&s->loop, 0, 0, MX_MXU_LOAD_W_W_ADDR_WORD, (int32_t)(p->R * tn), 1, 0);
  mx_loop_inc(&s->loop, 1, 1, MX_MXU_MATMUL_A_ADDR_WORD, (int32_t)p->R, 1, 0);
  if (p->scaled) {
    mx_loop_inc(&s->loop, 2, 0, MX_MXU_LOAD_W_S_ADDR_WORD, (int32_t)(s->srow_inc * tn),
                s->srow_every, 0);
    mx_loop_inc(&s->loop, 3, 1, MX_MXU_MATMUL_SA_ADDR_WORD, (int32_t)s->srow_inc, s->srow_every,
                0);
  }
}

/* k tile kt with the given headers and MATMUL flags (tk rows). */
static void kstep(ksteps_t* s, uint32_t kt, uint32_t h_lw, uint32_t h_mm, uint32_t flags,
                  uint32_t tk) {
  const plan_t* p = s->p;
  const uint32_t tn = p->n, k0 = kt * p->R;
  uint32_t srow = 0;
  if (p->scaled) srow = (s->srow_every == 1u ? kt : kt / s->srow_every) * s->srow_inc;
  push_load_w(s->j, &s->lw, h_lw, p->bres + k0 * tn, tk, tn, p->scaled ? p->sres + srow * tn : 0);
  push_matmul(s->j, &s->mm, h_mm, s->a_at + k0, s->mr, p->scaled ? s->sa_at + srow : 0, 0,
              tn * 4u, flags);
}

/* The accumulating steps of full k tiles [from, to). */
static void ksteps(ksteps_t* s, uint32_t from, uint32_t to) {
  /* A LOOP's PERIOD counts from its first iteration: start it on a scale-row boundary. */
  while (from < to && s->srow_every > 1u && from % s->srow_every != 0) {
    kstep(s, from++, s->h_lw, s->h_mm, s->flags_acc, s->p->R);
  }
  if (to - from >= 2u) {
    s->loop.w[MX_LOOP_COUNT_WORD] = to - from;
    mx_push(MX_Q_MXU(s->j), &s->loop);
  }
  if (from < to) kstep(s, from, s->h_lw, s->h_mm, s->flags_acc, s->p->R);
}

static void mxu_nop(ksteps_t* s, mx_sync_t sync) {
  s->nop.w[0] = hdr(0u, sync);
  mx_push(MX_Q_MXU(s->j), &s->nop);
}

/* Resident B (plan): B and SB in VMEM once, the panel's rows split over nu MXUs; per MXU and B
 * chunk a few descriptors: the first step, a LOOP over the rest, the partial last tile. */
static void run_resident(const plan_t* p) {
  const uint32_t tn = p->n, nu = p->nu;
  mx_desc_t dma, nop;
  ksteps_t ks[MAX_MXU];
  const uint32_t h_plain = hdr(MX_OP_DMA_COPY, mx_sync_none());
  const uint32_t h_chunk = hdr(MX_OP_DMA_COPY, mx_sync(-1, 0, (int)S_BFULL(0)));
  tpl_dma(&dma);
  tpl_init(&nop, 0u);
  for (uint32_t j = 0; j < nu; ++j) ksteps_init(&ks[j], p, j);
  /* DMA queue (in order): SB, B chunk 0 (-> BFULL), A, SA, C0 of each slice, then a NOP per
   * MXU (-> AFULL: A and C0 are there); later B chunks as the k loop reaches them. */
  if (p->scaled)
    push_dma(&dma, h_plain, MX_SPACE_HBM + p->sb, MX_SPACE_VMEM + p->sres, p->kb * tn, 1,
             p->kb * tn, p->kb * tn);
  {
    const uint32_t rows = umin(p->gk * p->R, p->k);
    push_dma(&dma, h_chunk, MX_SPACE_HBM + p->b, MX_SPACE_VMEM + p->bres, rows * tn, 1, rows * tn,
             rows * tn);
    for (uint32_t j = 1; j < nu; ++j) push_nop(&nop, S_BFULL(j));
  }
  const uint32_t abytes = p->m * p->k;
  push_dma(&dma, h_plain, MX_SPACE_HBM + p->a, MX_SPACE_VMEM + p->abuf[0], abytes, 1, abytes,
           abytes);
  if (p->scaled)
    push_dma(&dma, h_plain, MX_SPACE_HBM + p->sa, MX_SPACE_VMEM + p->sabuf[0], p->m * p->kb, 1,
             p->m * p->kb, p->m * p->kb);
  for (uint32_t j = 0; j < nu; ++j) {
    const uint32_t r0 = j * p->ms, mr = umin(p->ms, p->m - r0);
    if (p->has_c0)
      push_dma(&dma, h_plain, MX_SPACE_HBM + p->c0 + (uint64_t)r0 * tn * 4u, mx_acc_addr(j, 0),
               mr * tn * 4u, 1, mr * tn * 4u, mr * tn * 4u);
    push_nop(&nop, S_AFULL(j));
  }
  /* Per chunk of gk k tiles: its DMA (the first is above), then per MXU the first step (tile 0:
   * waits for B and A, accumulates from C0 or +0) or a NOP waiting for the chunk, the LOOP
   * over the chunk's full tiles, and at the end the partial last tile or a NOP that signals
   * ACCFULL after the last MATMUL. */
  const uint32_t nk = p->nk, last_partial = p->k % p->R != 0;
  const uint32_t kend = last_partial ? nk - 1u : nk; /* the full tiles */
  for (uint32_t t0 = 0; t0 < nk; t0 += p->gk) {
    const uint32_t t1 = umin(t0 + p->gk, nk);
    if (t0 > 0) {
      const uint32_t k0 = t0 * p->R, rows = umin(p->gk * p->R, p->k - k0);
      push_dma(&dma, h_chunk, MX_SPACE_HBM + p->b + (uint64_t)k0 * tn,
               MX_SPACE_VMEM + p->bres + k0 * tn, rows * tn, 1, rows * tn, rows * tn);
      for (uint32_t j = 1; j < nu; ++j) push_nop(&nop, S_BFULL(j));
    }
    for (uint32_t j = 0; j < nu; ++j) {
      ksteps_t* s = &ks[j];
      uint32_t from = t0;
      if (t0 == 0) {
        const uint32_t h_mm0 = hdr(MX_OP_MXU_MATMUL, mx_sync((int)S_AFULL(j), 1,
                                                             nk == 1 ? (int)S_ACCFULL(j) : -1));
        kstep(s, 0, hdr(MX_OP_MXU_LOAD_W, mx_sync((int)S_BFULL(j), 1, -1)), h_mm0,
              matmul_flags(p, p->has_c0), umin(p->R, p->k));
        from = 1;
      } else {
        mxu_nop(s, mx_sync((int)S_BFULL(j), 1, -1));
      }
      ksteps(s, from, umin(t1, kend));
      if (t1 == nk && nk > 1) {
        if (last_partial) {
          kstep(s, nk - 1u, s->h_lw, hdr(MX_OP_MXU_MATMUL, mx_sync(-1, 0, (int)S_ACCFULL(j))),
                s->flags_acc, p->k - (nk - 1u) * p->R);
        } else {
          mxu_nop(s, mx_sync(-1, 0, (int)S_ACCFULL(j)));
        }
      }
    }
  }
  out_t outs[MAX_MXU];
  for (uint32_t j = 0; j < nu; ++j) {
    const uint32_t r0 = j * p->ms;
    outs[j].valid = 1;
    outs[j].j = j;
    outs[j].buf = 0;
    outs[j].mt = umin(p->ms, p->m - r0);
    outs[j].tn = tn;
    outs[j].n0 = 0;
    outs[j].dst_stride = tn * 4u;
    outs[j].slot = 0;
    outs[j].dst = p->c + (uint64_t)r0 * tn * 4u;
    outs[j].dst_codes = (uint64_t)r0 * tn;
#ifdef LINEAR_RELU
    outs[j].dst_scales = (uint64_t)r0 * (tn / p->out_block);
#endif
  }
  flush_outputs(p, outs, nu);
}

int main(void) {
  plan_t p;
  int rc = plan(&p);
  if (rc != 0) return rc;
  const uint32_t units = p.resident ? p.nu : p.nmx;
  for (uint32_t j = 0; j < units; ++j) {
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
  if (p.resident) {
    run_resident(&p);
  } else {
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
            mx_dma(MX_SPACE_HBM + p.c0 + ((uint64_t)m0 * p.n + tile_n0[j]) * 4u,
                   mx_acc_addr(j, buf), tile_tn[j] * 4u, mt, p.n * 4u, tile_tn[j] * 4u,
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
                      kt > 0 || p.has_c0, mx_sync(-1, 0, kt + 1 == p.nk ? (int)S_ACCFULL(j) : -1));
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
  }
  const uint32_t fault = mx_fence();
  if (fault != 0) {
    printf("gemm: engine fault %u\n", (unsigned)fault);
    return 3;
  }
  return 0;
}
