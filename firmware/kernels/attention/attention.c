/* attention: O = softmax(scale . Q . K^T) . V for one head, MXFP8 on the chip, flash-attention
 * style (docs/KERNELS.md "attention").
 *
 * Launch block (uint8 unless noted): Q (Lq x d codes), SQ (Lq x d/block UE8M0 scales along d),
 * KT (d x Lk: K transposed, the gemm kernel's B layout), SKT (d/block x Lk), V (Lk x dv),
 * SV (Lk/block x dv: scales along the sequence, gemm's B layout); output O (Lq x dv float32),
 * declared by the kernel after the inputs when the runner has not allocated it; optional output
 * S (Lq x Lk float32, the raw scores Q . K^T), written when the runner allocates it or the
 * scalar scores is 1 (then declared after O).
 * Scalars: scale (FP32 bits; default 1/sqrt(d) rounded to nearest), block (default the chip's
 * [mx] block), fmt_q, fmt_k, fmt_v, fmt_p (0 E4M3, 1 E5M2; default 0; fmt_p is the format P is
 * quantised to before P . V), kv_tile (K/V rows per tile, a multiple of the block; default 512),
 * verbose (1: print the plan, "kv_tile N", on the console; default 0, printf costs core cycles),
 * causal (1: query i attends key j only when j <= i + causal_offset; default 0), causal_offset
 * (a signed 32-bit integer, default 0: PyTorch's is_causal, the mask aligned top left; Lk - Lq
 * aligns it bottom right as FlashAttention does). A query row with no key left is NaN.
 *
 * Q is cut into panels of mt rows, one per MXU (a group of panels runs together, a fence between
 * groups). For every K/V tile t of Tk sequence positions, per MXU j:
 *   MXU   S_t = Q_panel . KT[:, tile]      (into accumulator buffer t & 1; K tiles of R rows,
 *                                           N tiles of C columns, KT tiles through a B ring)
 *   VPU   SCALE S_t by scale (in place)
 *         t = 0: ROW_MAX S_0 -> m, SCALE m by 0 -> s      (the running state starts at m_0, 0)
 *         ONLINE_SOFTMAX S_t, (m, s, alpha) -> P_t in place; m, s updated, alpha = exp(m - m')
 *         t > 0: MUL O by alpha (BCAST COL)              (O lives in the accumulators)
 *         MX_QUANT P_t -> PQ, PS in VMEM (floor scales, blocks along the sequence, satfinite)
 *   MXU   O += PQ . V[tile]                (accumulate onto the rescaled O; overwrite at t = 0)
 * With causal, CAUSAL_MASK sets the scores of masked keys to -Inf after SCALE on every tile that
 * the mask reaches, and the tiles wholly masked for a panel are not computed (unless the scores
 * S are an output: S is raw Q . K^T everywhere), at least one tile per panel.
 * At the end DIV O by s (BCAST COL), DMA O to HBM. S_{t+1} is computed while the VPU works
 * on S_t (two S buffers, two PQ buffers). Every wait is on a semaphore that an earlier-issued
 * descriptor signals, so the in-order queues cannot deadlock. */
#include <stdint.h>
#include <stdio.h>

#include "inv_sqrt.h"
#include "mxemu/hal.h"

#define MAX_MXU 4u
#define RING 4u /* B tiles in flight per MXU */

#define S_BFULL(j) (0u + (j))   /* B ring slot filled */
#define S_BFREE(j) (4u + (j))   /* B ring slot free */
#define S_SFULL(j) (8u + (j))   /* S tile computed */
#define S_PREADY(j) (12u + (j)) /* P tile quantised, O rescaled */
#define S_OREADY(j) (16u + (j)) /* P . V of a tile accumulated */
#define S_ODONE(j) (20u + (j))  /* O normalised */
#define S_QFULL(j) (24u + (j))  /* Q panel in VMEM */
#define S_SOUT(j) (28u + (j))   /* S tile written to HBM (optional output S) */

#define UNSET 0xFFFFFFFFu

typedef struct {
  uint32_t lq, d, lk, dv, block, tb, tk, nt;
  uint32_t fmt_q, fmt_k, fmt_v, fmt_p;
  float scale;
  int causal;
  int32_t causal_offset;
  uint64_t q, sq, kt, skt, v, sv, o, s; /* HBM offsets; s = UNSET64 when absent */
  int has_s;
  uint32_t R, C, nmx, mt;
  /* VMEM offsets per MXU */
  uint32_t ring[MAX_MXU], sring[MAX_MXU], b_slot, sb_slot;
  uint32_t qbuf[MAX_MXU], sqbuf[MAX_MXU], pq[MAX_MXU][2], ps[MAX_MXU][2], state[MAX_MXU];
  /* accumulator offsets (the same in every MXU) */
  uint32_t sacc[2], oacc;
} plan_t;

static uint32_t cdiv(uint32_t a, uint32_t b) {
  return (a + b - 1u) / b;
}
static uint32_t umin(uint32_t a, uint32_t b) {
  return a < b ? a : b;
}
static uint32_t align64(uint32_t a) {
  return (a + 63u) & ~63u;
}

static const char* dtype_name(uint32_t d) {
  return d == MX_DTYPE_F32 ? "float32" : d == MX_DTYPE_U8 ? "uint8" : "a scalar";
}

/* A tensor that must be present, 2-D, of dtype `dtype` and the given shape (0: any). */
static int need(mx_tensor_t t, const char* name, uint32_t dtype, uint32_t rows, uint32_t cols) {
  if (!t.entry) {
    printf("attention: error: launch block lacks %s\n", name);
    return 0;
  }
  const uint32_t dt = mx_launch_u32(t.entry, MX_LAUNCH_E_DTYPE);
  const uint32_t ndim = mx_launch_u32(t.entry, MX_LAUNCH_E_NDIM);
  if (dt != dtype || ndim != 2) {
    printf("attention: error: %s must be a 2-D %s array (got %s, %u dimensions)\n", name,
           dtype_name(dtype), dtype_name(dt), (unsigned)ndim);
    return 0;
  }
  if ((rows && mx_dim(t, 0) != rows) || (cols && mx_dim(t, 1) != cols)) {
    printf("attention: error: %s is %u x %u, expected %u x %u\n", name, (unsigned)mx_dim(t, 0),
           (unsigned)mx_dim(t, 1), (unsigned)(rows ? rows : mx_dim(t, 0)),
           (unsigned)(cols ? cols : mx_dim(t, 1)));
    return 0;
  }
  return 1;
}

static int fail(const char* msg) {
  printf("attention: error: %s\n", msg);
  return 2;
}

/* Q rows per MXU panel that the accumulators (two S buffers of tk columns and O, FP32) and
 * VMEM (per MXU a B ring, the Q panel and its scales, two PQ / PS buffers, the state) hold with
 * K/V tiles of tk rows. */
static uint32_t panel_rows(const plan_t* p, uint32_t tk) {
  const uint32_t vmem = mx_ctrl(MX_CTRL_VMEM_BYTES), accb = mx_ctrl(MX_CTRL_ACC_BYTES);
  const uint32_t rings = p->nmx * RING * (p->b_slot + p->sb_slot), slack = 64u * 8u * p->nmx;
  const uint32_t per_row = p->d + p->d / p->block + 2u * tk + 2u * (tk / p->block) + 12u;
  if (rings + slack >= vmem) return 0;
  const uint32_t mt =
      umin(accb / (4u * (2u * tk + p->dv)), (vmem - rings - slack) / (p->nmx * per_row));
  return umin(mt, cdiv(p->lq, p->nmx));
}

/* Tiles and the VMEM / accumulator layout; tk_given: the kv_tile scalar (UNSET: choose). */
static int make_plan(plan_t* p, uint32_t tk_given) {
  p->R = mx_ctrl(MX_CTRL_MXU_ROWS);
  p->C = mx_ctrl(MX_CTRL_MXU_COLS);
  p->nmx = umin(mx_ctrl(MX_CTRL_NUM_MXU), MAX_MXU);
  p->tb = umin(p->block, p->R);
  p->b_slot = align64(p->R * p->C);
  p->sb_slot = align64((p->R / p->tb) * p->C);
  if (tk_given == UNSET) {
    /* Default: 512 positions (at most Lk), fewer while a panel would hold fewer than
     * min(R, Lq / MXUs) rows. */
    uint32_t tk = umin(512u, p->lk) / p->block * p->block;
    if (tk == 0) tk = p->block;
    const uint32_t want = umin(p->R, cdiv(p->lq, p->nmx));
    while (tk > p->block && panel_rows(p, tk) < want) tk -= p->block;
    p->tk = tk;
  } else {
    if (tk_given == 0 || tk_given % p->block != 0) {
      printf("attention: error: kv_tile %u must be a positive multiple of the block %u\n",
             (unsigned)tk_given, (unsigned)p->block);
      return 2;
    }
    p->tk = umin(tk_given, p->lk);
  }
  p->nt = cdiv(p->lk, p->tk);
  const uint32_t db = p->d / p->block, tkb = p->tk / p->block;
  const uint32_t mt = panel_rows(p, p->tk);
  if (mt == 0) {
    printf(
        "attention: error: kv_tile %u (with d %u, dv %u) leaves no room for a Q row in the "
        "accumulators and VMEM\n",
        (unsigned)p->tk, (unsigned)p->d, (unsigned)p->dv);
    return 2;
  }
  p->mt = mt;
  p->nmx = umin(p->nmx, cdiv(p->lq, mt));
  uint32_t at = 0;
  for (uint32_t j = 0; j < p->nmx; ++j) {
    p->ring[j] = at;
    at += RING * p->b_slot;
    p->sring[j] = at;
    at += RING * p->sb_slot;
  }
  for (uint32_t j = 0; j < p->nmx; ++j) {
    p->qbuf[j] = at;
    at = align64(at + mt * p->d);
    p->sqbuf[j] = at;
    at = align64(at + mt * db);
    for (uint32_t b = 0; b < 2; ++b) {
      p->pq[j][b] = at;
      at = align64(at + mt * p->tk);
      p->ps[j][b] = at;
      at = align64(at + mt * tkb);
    }
    p->state[j] = at;
    at = align64(at + mt * 12u);
  }
  p->sacc[0] = 0;
  p->sacc[1] = mt * p->tk * 4u;
  p->oacc = 2u * mt * p->tk * 4u;
  return 0;
}

/* Streams the B operand (rows k0.. of a K x N matrix at HBM b, scales sb) through MXU j's ring
 * against A in VMEM: acc[:, c0..] (+)= A[:, k0..] . B. One LOAD_W + MATMUL per K tile of R rows
 * and N tile of C columns; `first_wait` goes on the first MATMUL, `last_signal` on the last. */
typedef struct {
  uint64_t b, sb;        /* HBM offsets of B's row 0 (of this tile) and of its scale row 0 */
  uint32_t b_stride;     /* B's row bytes in HBM (= N of the full matrix) */
  uint32_t krows, ncols; /* this tile: K rows, N columns */
  uint32_t krow0;        /* B's global row of krows' first row (for the scale row index) */
  uint32_t fmt_b, fmt_a;
  uint32_t a, a_stride, sa, sa_stride, m;
  uint32_t acc, acc_stride;
  int accumulate; /* accumulate onto what is in acc from the first K tile on */
  int first_wait, last_signal;
} mm_t;

static void stream_matmul(const plan_t* p, uint32_t j, uint32_t* ring_pos, const mm_t* mm) {
  const uint32_t nk = cdiv(mm->krows, p->R), nn = cdiv(mm->ncols, p->C);
  for (uint32_t ni = 0; ni < nn; ++ni) {
    const uint32_t c0 = ni * p->C, cn = umin(p->C, mm->ncols - c0);
    for (uint32_t ki = 0; ki < nk; ++ki) {
      const uint32_t k0 = ki * p->R, tk = umin(p->R, mm->krows - k0);
      const uint32_t slot = (*ring_pos)++ % RING;
      const uint32_t bw = p->ring[j] + slot * p->b_slot, sw = p->sring[j] + slot * p->sb_slot;
      const uint32_t srows = p->block <= p->R ? tk / p->block : 1u;
      const uint32_t grow = mm->krow0 + k0; /* global row of B */
      mx_dma(MX_SPACE_HBM + mm->b + (uint64_t)k0 * mm->b_stride + c0, MX_SPACE_VMEM + bw, cn, tk,
             mm->b_stride, cn, mx_sync((int)S_BFREE(j), 1, -1));
      mx_dma(MX_SPACE_HBM + mm->sb + (uint64_t)(grow / p->block) * mm->b_stride + c0,
             MX_SPACE_VMEM + sw, cn, srows, mm->b_stride, cn, mx_sync(-1, 0, (int)S_BFULL(j)));
      mx_load_w(j, bw, cn, tk, cn, mm->fmt_b, 1, sw, cn, p->tb,
                mx_sync((int)S_BFULL(j), 1, (int)S_BFREE(j)));
      const int first = ni == 0 && ki == 0, last = ni + 1 == nn && ki + 1 == nk;
      mx_matmul(j, mm->a + k0, mm->a_stride, mm->m, mm->fmt_a, 1, mm->sa + k0 / p->block,
                mm->sa_stride, mm->acc + c0 * 4u, mm->acc_stride, mm->accumulate || ki > 0,
                mx_sync(first ? mm->first_wait : -1, first && mm->first_wait >= 0 ? 1 : 0,
                        last ? mm->last_signal : -1));
    }
  }
}

/* S_t = Q_panel . KT[:, tile t] on MXU j. */
static void issue_qk(const plan_t* p, uint32_t j, uint32_t t, uint32_t rows, uint32_t* ring_pos,
                     int first_of_group) {
  const uint32_t col0 = t * p->tk, tkt = umin(p->tk, p->lk - col0);
  mm_t mm = {0};
  mm.b = p->kt + col0;
  mm.sb = p->skt + col0;
  mm.b_stride = p->lk;
  mm.krows = p->d;
  mm.ncols = tkt;
  mm.krow0 = 0;
  mm.fmt_b = p->fmt_k;
  mm.fmt_a = p->fmt_q;
  mm.a = p->qbuf[j];
  mm.a_stride = p->d;
  mm.sa = p->sqbuf[j];
  mm.sa_stride = p->d / p->block;
  mm.m = rows;
  mm.acc = p->sacc[t & 1u];
  mm.acc_stride = p->tk * 4u;
  mm.accumulate = 0;
  mm.first_wait = first_of_group ? (int)S_QFULL(j) : -1;
  mm.last_signal = (int)S_SFULL(j);
  stream_matmul(p, j, ring_pos, &mm);
}

/* O (+)= PQ_t . V[tile t] on MXU j. */
static void issue_pv(const plan_t* p, uint32_t j, uint32_t t, uint32_t rows, uint32_t* ring_pos) {
  const uint32_t row0 = t * p->tk, tkt = umin(p->tk, p->lk - row0);
  mm_t mm = {0};
  mm.b = p->v + (uint64_t)row0 * p->dv;
  mm.sb = p->sv;
  mm.b_stride = p->dv;
  mm.krows = tkt;
  mm.ncols = p->dv;
  mm.krow0 = row0;
  mm.fmt_b = p->fmt_v;
  mm.fmt_a = p->fmt_p;
  mm.a = p->pq[j][t & 1u];
  mm.a_stride = p->tk;
  mm.sa = p->ps[j][t & 1u];
  mm.sa_stride = p->tk / p->block;
  mm.m = rows;
  mm.acc = p->oacc;
  mm.acc_stride = p->dv * 4u;
  mm.accumulate = t > 0;
  mm.first_wait = (int)S_PREADY(j);
  mm.last_signal = (int)S_OREADY(j);
  stream_matmul(p, j, ring_pos, &mm);
}

/* Tiles of K/V that the panel of `rows` query rows from m0 computes: all, or with a causal mask
 * those holding a key some row attends (at least one, so that O is written). */
static uint32_t panel_tiles(const plan_t* p, uint32_t m0, uint32_t rows) {
  if (!p->causal || p->has_s) return p->nt;
  const int64_t last_key = (int64_t)m0 + rows - 1 + p->causal_offset;
  if (last_key < 0) return 1;
  const int64_t tiles = last_key / p->tk + 1;
  return tiles < p->nt ? (uint32_t)tiles : p->nt;
}

/* The vector unit's part of tile t on MXU j's panel of query rows m0.. (docs at the top). */
static void issue_vpu(const plan_t* p, uint32_t j, uint32_t t, uint32_t m0, uint32_t rows) {
  const uint32_t tkt = umin(p->tk, p->lk - t * p->tk);
  const uint64_t s = mx_acc_addr(j, p->sacc[t & 1u]), o = mx_acc_addr(j, p->oacc);
  const uint64_t st = MX_SPACE_VMEM + p->state[j];
  mx_vpu_args_t v = {0};
  v.func = MX_VPU_FN_SCALE;
  v.rows = rows, v.cols = tkt;
  v.x = v.z = s;
  v.x_stride = v.z_stride = p->tk * 4u;
  v.imm = p->scale;
  mx_vpu(&v, mx_sync(p->has_s ? (int)S_SOUT(j) : (int)S_SFULL(j), 1, -1));
  /* Row r (query m0 + r) keeps column c (key t * tk + c) when c <= r + k. */
  const int64_t k = (int64_t)m0 + p->causal_offset - (int64_t)t * p->tk;
  if (p->causal && (int64_t)tkt - 1 > k) {
    mx_vpu_args_t c = {0};
    c.func = MX_VPU_FN_CAUSAL_MASK;
    c.rows = rows, c.cols = tkt;
    c.x = c.z = s;
    c.x_stride = c.z_stride = p->tk * 4u;
    c.diagonal = k < INT32_MIN ? INT32_MIN : (int32_t)k; /* rows < 2^31: all masked */
    mx_vpu(&c, mx_sync_none());
  }
  if (t == 0) {
    mx_vpu_args_t m = {0};
    m.func = MX_VPU_FN_ROW_MAX;
    m.rows = rows, m.cols = tkt;
    m.x = s, m.x_stride = p->tk * 4u;
    m.z = st, m.z_stride = 12u;
    mx_vpu(&m, mx_sync_none());
    mx_vpu_args_t z = {0};
    z.func = MX_VPU_FN_SCALE;
    z.rows = rows, z.cols = 1;
    z.x = st, z.x_stride = 12u;
    z.z = st + 4u, z.z_stride = 12u;
    z.imm = 0.0f;
    mx_vpu(&z, mx_sync_none());
  }
  mx_vpu_args_t os = {0};
  os.func = MX_VPU_FN_ONLINE_SOFTMAX;
  os.rows = rows, os.cols = tkt;
  os.x = os.z = s;
  os.x_stride = os.z_stride = p->tk * 4u;
  os.y = st, os.y_stride = 12u;
  mx_vpu(&os, mx_sync_none());
  if (t > 0) {
    mx_vpu_args_t a = {0};
    a.func = MX_VPU_FN_MUL;
    a.bcast = MX_VPU_BCAST_COL;
    a.rows = rows, a.cols = p->dv;
    a.x = a.z = o;
    a.x_stride = a.z_stride = p->dv * 4u;
    a.y = st + 8u, a.y_stride = 12u;
    mx_vpu(&a, mx_sync((int)S_OREADY(j), 1, -1));
  }
  mx_vpu_args_t q = {0};
  q.func = MX_VPU_FN_MX_QUANT;
  q.out_fmt = p->fmt_p ? MX_VPU_FMT_E5M2 : MX_VPU_FMT_E4M3;
  q.block = p->block;
  q.rows = rows, q.cols = tkt;
  q.x = s, q.x_stride = p->tk * 4u;
  q.z = MX_SPACE_VMEM + p->pq[j][t & 1u], q.z_stride = p->tk;
  q.y = MX_SPACE_VMEM + p->ps[j][t & 1u], q.y_stride = p->tk / p->block;
  mx_vpu(&q, mx_sync(-1, 0, (int)S_PREADY(j)));
}

static uint32_t run(const plan_t* p) {
  const uint32_t panels = cdiv(p->lq, p->mt), groups = cdiv(panels, p->nmx);
  const uint32_t db = p->d / p->block;
  for (uint32_t g = 0; g < groups; ++g) {
    for (uint32_t j = 0; j < MAX_MXU; ++j) {
      mx_sem_set(S_BFULL(j), 0);
      mx_sem_set(S_BFREE(j), RING);
      mx_sem_set(S_SFULL(j), 0);
      mx_sem_set(S_PREADY(j), 0);
      mx_sem_set(S_OREADY(j), 0);
      mx_sem_set(S_ODONE(j), 0);
      mx_sem_set(S_QFULL(j), 0);
      mx_sem_set(S_SOUT(j), 0);
    }
    uint32_t rows[MAX_MXU], m0[MAX_MXU], nt[MAX_MXU], used = 0, ring_pos[MAX_MXU] = {0};
    for (uint32_t j = 0; j < p->nmx; ++j) {
      const uint32_t panel = g * p->nmx + j;
      if (panel >= panels) break;
      m0[j] = panel * p->mt;
      rows[j] = umin(p->mt, p->lq - m0[j]);
      nt[j] = panel_tiles(p, m0[j], rows[j]);
      ++used;
      mx_dma(MX_SPACE_HBM + p->q + (uint64_t)m0[j] * p->d, MX_SPACE_VMEM + p->qbuf[j], p->d,
             rows[j], p->d, p->d, mx_sync_none());
      mx_dma(MX_SPACE_HBM + p->sq + (uint64_t)m0[j] * db, MX_SPACE_VMEM + p->sqbuf[j], db, rows[j],
             db, db, mx_sync(-1, 0, (int)S_QFULL(j)));
    }
    for (uint32_t t = 0; t <= p->nt; ++t) {
      if (t < p->nt) {
        for (uint32_t j = 0; j < used; ++j) {
          if (t < nt[j]) issue_qk(p, j, t, rows[j], &ring_pos[j], t == 0);
        }
        if (p->has_s) {
          const uint32_t tkt = umin(p->tk, p->lk - t * p->tk);
          for (uint32_t j = 0; j < used; ++j) {
            mx_dma(mx_acc_addr(j, p->sacc[t & 1u]),
                   MX_SPACE_HBM + p->s + ((uint64_t)m0[j] * p->lk + (uint64_t)t * p->tk) * 4u,
                   tkt * 4u, rows[j], p->tk * 4u, p->lk * 4u,
                   mx_sync((int)S_SFULL(j), 1, (int)S_SOUT(j)));
          }
        }
      }
      for (uint32_t j = 0; j < used; ++j) {
        if (t > 0 && t <= nt[j]) issue_pv(p, j, t - 1u, rows[j], &ring_pos[j]);
      }
      for (uint32_t j = 0; j < used; ++j) {
        if (t < nt[j]) issue_vpu(p, j, t, m0[j], rows[j]);
      }
    }
    for (uint32_t j = 0; j < used; ++j) {
      const uint64_t o = mx_acc_addr(j, p->oacc);
      mx_vpu_args_t dv = {0};
      dv.func = MX_VPU_FN_DIV;
      dv.bcast = MX_VPU_BCAST_COL;
      dv.rows = rows[j], dv.cols = p->dv;
      dv.x = dv.z = o;
      dv.x_stride = dv.z_stride = p->dv * 4u;
      dv.y = MX_SPACE_VMEM + p->state[j] + 4u, dv.y_stride = 12u;
      mx_vpu(&dv, mx_sync((int)S_OREADY(j), 1, (int)S_ODONE(j)));
      mx_dma(o, MX_SPACE_HBM + p->o + (uint64_t)m0[j] * p->dv * 4u, p->dv * 4u, rows[j], p->dv * 4u,
             p->dv * 4u, mx_sync((int)S_ODONE(j), 1, -1));
    }
    const uint32_t fault = mx_fence();
    if (fault != 0) return fault;
  }
  return 0;
}

int main(void) {
  const uint32_t block = mx_block_size();
  const uint32_t R = mx_ctrl(MX_CTRL_MXU_ROWS), C = mx_ctrl(MX_CTRL_MXU_COLS);
  if (block == 0 || C % block != 0 || (block % R != 0 && R % block != 0)) {
    printf(
        "attention: error: block %u must divide the MXU columns (%u) and divide or be a "
        "multiple of its rows (%u)\n",
        (unsigned)block, (unsigned)C, (unsigned)R);
    return 2;
  }
  mx_tensor_t tq = mx_find("Q");
  if (!need(tq, "Q", MX_DTYPE_U8, 0, 0)) return 2;
  const uint32_t lq = mx_dim(tq, 0), d = mx_dim(tq, 1);
  mx_tensor_t tk = mx_find("KT");
  if (!need(tk, "KT", MX_DTYPE_U8, d, 0)) return 2;
  const uint32_t lk = mx_dim(tk, 1);
  mx_tensor_t tv = mx_find("V");
  if (!need(tv, "V", MX_DTYPE_U8, lk, 0)) return 2;
  const uint32_t dv = mx_dim(tv, 1);
  if (lq == 0 || d == 0 || lk == 0 || dv == 0) return fail("empty dimension");
  if (d % block != 0 || lk % block != 0) {
    printf(
        "attention: error: d (%u) and the sequence length Lk (%u) must be multiples of the "
        "block %u\n",
        (unsigned)d, (unsigned)lk, (unsigned)block);
    return 2;
  }
  mx_tensor_t tsq = mx_find("SQ"), tsk = mx_find("SKT"), tsv = mx_find("SV");
  if (!need(tsq, "SQ", MX_DTYPE_U8, lq, d / block) ||
      !need(tsk, "SKT", MX_DTYPE_U8, d / block, lk) ||
      !need(tsv, "SV", MX_DTYPE_U8, lk / block, dv))
    return 2;
  plan_t p = {0};
  p.lq = lq, p.d = d, p.lk = lk, p.dv = dv, p.block = block;
  p.fmt_q = mx_scalar("fmt_q", 0), p.fmt_k = mx_scalar("fmt_k", 0);
  p.fmt_v = mx_scalar("fmt_v", 0), p.fmt_p = mx_scalar("fmt_p", 0);
  if (p.fmt_q > 1 || p.fmt_k > 1 || p.fmt_v > 1 || p.fmt_p > 1)
    return fail("fmt_q, fmt_k, fmt_v and fmt_p must be 0 (E4M3) or 1 (E5M2)");
  union {
    uint32_t u;
    float f;
  } sc;
  sc.u = mx_scalar("scale", UNSET);
  if (sc.u == UNSET) sc.f = inv_sqrt(d); /* 0xFFFFFFFF is a NaN: never a valid scale */
  p.scale = sc.f;
  p.causal = (int)mx_scalar("causal", 0);
  p.causal_offset = (int32_t)mx_scalar("causal_offset", 0);
  if (p.causal != 0 && p.causal != 1) return fail("causal must be 0 or 1");
  if (!p.causal && mx_find("causal_offset").entry) return fail("causal_offset needs causal = 1");
  if (!(p.scale == p.scale) || p.scale - p.scale != 0.0f)
    return fail("scale must be a finite FP32 value");
  p.q = mx_addr(tq), p.sq = mx_addr(tsq), p.kt = mx_addr(tk), p.skt = mx_addr(tsk);
  p.v = mx_addr(tv), p.sv = mx_addr(tsv);
  uint64_t at = mx_hbm_free(); /* where the kernel's own outputs go */
  mx_tensor_t to = mx_find("O");
  if (!to.entry) {
    const uint32_t s[2] = {lq, dv};
    if (mx_declare_output("O", MX_DTYPE_F32, 2, s, at) != 0) return fail("cannot declare O");
    at += ((uint64_t)lq * dv * 4u + 4095u) & ~4095ull;
    to = mx_find("O");
  } else if (mx_launch_u32(to.entry, MX_LAUNCH_E_DTYPE) != MX_DTYPE_F32 ||
             mx_launch_u32(to.entry, MX_LAUNCH_E_NDIM) != 2 || mx_dim(to, 0) != lq ||
             mx_dim(to, 1) != dv) {
    printf("attention: error: O must be a %u x %u float32 array\n", (unsigned)lq, (unsigned)dv);
    return 2;
  }
  p.o = mx_addr(to);
  mx_tensor_t ts = mx_find("S");
  if (!ts.entry && mx_scalar("scores", 0) != 0) {
    const uint32_t s[2] = {lq, lk};
    if (mx_declare_output("S", MX_DTYPE_F32, 2, s, at) != 0) return fail("cannot declare S");
    ts = mx_find("S");
  }
  if (ts.entry) {
    if (!need(ts, "S", MX_DTYPE_F32, lq, lk)) return 2;
    p.has_s = 1;
    p.s = mx_addr(ts);
  }
  const int rc = make_plan(&p, mx_scalar("kv_tile", UNSET));
  if (rc != 0) return rc;
  if (mx_scalar("verbose", 0) != 0)
    printf(
        "attention: Lq %u, d %u, Lk %u, dv %u: kv_tile %u (%u tiles), panels of %u rows on %u "
        "MXUs\n",
        (unsigned)lq, (unsigned)d, (unsigned)lk, (unsigned)dv, (unsigned)p.tk, (unsigned)p.nt,
        (unsigned)p.mt, (unsigned)p.nmx);
  const uint32_t fault = run(&p);
  if (fault != 0) {
    printf("attention: engine fault %u\n", (unsigned)fault);
    return 3;
  }
  return 0;
}
