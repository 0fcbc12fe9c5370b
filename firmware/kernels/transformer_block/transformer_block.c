/* transformer_block: one pre-LN MXFP8 transformer block on the chip (docs/KERNELS.md
 * "transformer_block"), built from the bundled kernels. Each kernel's main is a function here
 * (part_*.c); for every step this firmware writes a launch block naming that step's tensors in
 * HBM, calls the kernel, and fences:
 *
 *   H   = layernorm(X; G1, B1)                          FP32
 *   QF  = quant(H) . WQ,  KF = quant(H) . WK,  VF = quant(H) . WV      MXFP8 GEMMs, FP32 out
 *   O_h = attention(Q_h, K_h, V_h) for every head h     flash attention, one launch per head
 *   X1  = X + quant(O) . WO                             one FP32 addition per element (VPU)
 *   Y   = X1 + mlp(quant(layernorm(X1; G2, B2)))        GELU (form), W1, W2
 *
 * quant() is the quantize kernel (floor scales, blocks along rows). Per-head operands: Q_h are
 * columns h*dh .. of quant(QF); attention wants K transposed (KT, scales along d) and V with
 * scales along the sequence, so K's codes and scales are transposed after quantisation, and VF
 * is transposed before it (quantised along the sequence) and back after. Transposes go through
 * VMEM: a DMA in, a VMEM-to-VMEM DMA with one-element segments, a DMA out (the chip has no
 * transpose unit; the DMA charges on-chip copies by bytes). Heads are split and merged by one
 * 3-D DMA each.
 *
 * Launch block: X (S x D f32); G1, B1, G2, B2 (D f32, 1-D or 1 x D); WQ, WK, WV, WO (D x D u8
 * codes) with SWQ, SWK, SWV, SWO (D/block x D UE8M0); W1 (D x F), SW1 (D/block x F), W2 (F x D),
 * SW2 (F/block x D). Outputs Y (S x D f32) and X1 (S x D f32, after the attention residual),
 * declared at the end when the runner has not allocated them. Scalars: heads (required), form
 * (GELU: 0 tanh, 1 erf; default 0), fmt_a (activations, 0 E4M3 / 1 E5M2, default 0), fmt_w
 * (weights, default 0), eps (FP32 bits, default 1e-5), scale (FP32 bits, default 1/sqrt(dh)),
 * kv_tile (attention's, default its own), causal (1: each query attends only the positions up
 * to its own, attention's causal mask; default 0), block (default the chip's [mx] block),
 * verbose (1: print the cycles per kind of step at the end). */
#include <stdint.h>
#include <stdio.h>

#include "../attention/inv_sqrt.h"
#include "mxemu/hal.h"

int tb_layernorm(void);
int tb_quantize(void);
int tb_gemm(void);
int tb_attention(void);
int tb_mlp(void);

#define KERNEL "transformer_block"
#define UNSET 0xFFFFFFFFu
#define S_CHAIN 0u  /* the block's own DMA chains: each descriptor waits for the one before */
#define S_LOADED 1u /* residual: both operands in VMEM */
#define S_ADDED 2u  /* residual: the sum in VMEM */

/* A 2-D tensor in HBM (offset from the start of HBM). */
typedef struct {
  uint64_t at;
  uint32_t rows, cols, dtype;
} tensor_t;

typedef struct {
  uint32_t s, d, f, heads, dh, block, form, fmt_a, fmt_w, eps, scale, kv_tile, causal;
  uint64_t free; /* next free HBM byte of the scratch */
} plan_t;

/* Cycles per kind of step (scalar verbose = 1 prints them at the end, after the last step, so
 * the printing does not move the steps' cycles). */
enum { K_LN, K_QUANT, K_GEMM, K_MOVE, K_ATTN, K_RES, K_MLP, K_N };
static const char* const kind_name[K_N] = {
    "layernorm", "quantize", "gemm (QKV, O)", "transposes, heads", "attention", "residuals", "mlp"};
static uint32_t kind_cycles[K_N], kind_steps[K_N];

static inline uint32_t mcycle(void) {
  uint32_t c;
  __asm__ volatile("csrr %0, mcycle" : "=r"(c));
  return c;
}

#define LB_BYTES (MX_LAUNCH_ENTRIES + MX_LAUNCH_MAX_ENTRIES * MX_LAUNCH_ENTRY_BYTES)
static uint8_t saved_lb[LB_BYTES]; /* the runner's launch block while the steps run */

static void copy_lb(volatile uint8_t* dst, const volatile uint8_t* src) {
  for (uint32_t i = 0; i < LB_BYTES; ++i) dst[i] = src[i];
}

static const char* dtype_name(uint32_t dtype) {
  return dtype == MX_DTYPE_F32 ? "float32" : dtype == MX_DTYPE_U8 ? "uint8" : "a scalar";
}

/* A runner tensor: present, of the dtype, 2-D (or, with vec, 1-D / 1 x cols) of the shape. */
static int need(const char* name, uint32_t dtype, uint32_t rows, uint32_t cols, int vec,
                tensor_t* out) {
  mx_tensor_t t = mx_find(name);
  if (!t.entry) {
    printf(KERNEL ": error: launch block lacks %s\n", name);
    return 0;
  }
  const uint32_t dt = mx_launch_u32(t.entry, MX_LAUNCH_E_DTYPE);
  const uint32_t ndim = mx_launch_u32(t.entry, MX_LAUNCH_E_NDIM);
  const uint32_t r = ndim == 1 ? 1u : mx_dim(t, 0), c = ndim == 1 ? mx_dim(t, 0) : mx_dim(t, 1);
  if (dt != dtype || !(ndim == 2 || (vec && ndim == 1))) {
    printf(KERNEL ": error: %s must be a %s %s array (got %s, %u dimensions)\n", name,
           vec ? "1-D" : "2-D", dtype_name(dtype), dtype_name(dt), (unsigned)ndim);
    return 0;
  }
  if ((rows && r != rows) || (cols && c != cols)) {
    printf(KERNEL ": error: %s is %u x %u, expected %u x %u\n", name, (unsigned)r, (unsigned)c,
           (unsigned)(rows ? rows : r), (unsigned)(cols ? cols : c));
    return 0;
  }
  out->at = mx_addr(t), out->rows = r, out->cols = c, out->dtype = dtype;
  return 1;
}

static uint32_t esize(const tensor_t* t) {
  return t->dtype == MX_DTYPE_F32 ? 4u : 1u;
}

/* Scratch tensor in HBM after the runner's tensors (4 KiB aligned). */
static tensor_t alloc(plan_t* p, uint32_t rows, uint32_t cols, uint32_t dtype) {
  tensor_t t = {p->free, rows, cols, dtype};
  p->free += ((uint64_t)rows * cols * esize(&t) + 4095u) & ~4095ull;
  return t;
}

/* ---- one step: a launch block for a kernel, the call, the fence ---- */

static int lb_ok; /* cleared when an entry does not fit (never with the block's few entries) */

static void lb_begin(const plan_t* p) {
  *(volatile uint32_t*)(MX_LAUNCH_BASE + MX_LAUNCH_COUNT_OFFSET) = 0;
  lb_ok = 1;
  const uint32_t one = 1;
  if (mx_declare_output("block", MX_DTYPE_SCALAR, 1, &one, p->block) != 0 ||
      mx_declare_output("hbm_free", MX_DTYPE_SCALAR, 1, &one, p->free) != 0)
    lb_ok = 0;
}
static void put(const char* name, tensor_t t) {
  const uint32_t shape[2] = {t.rows, t.cols};
  if (mx_declare_output(name, t.dtype, 2, shape, t.at) != 0) lb_ok = 0;
}
static void put_scalar(const char* name, uint32_t v) {
  const uint32_t one = 1;
  if (mx_declare_output(name, MX_DTYPE_SCALAR, 1, &one, v) != 0) lb_ok = 0;
}

static int step(int (*fn)(void), const char* what) {
  if (!lb_ok) {
    printf(KERNEL ": error: the launch block of step %s does not fit\n", what);
    return 2;
  }
  for (uint32_t i = 0; i < MX_NUM_SEMAPHORES; ++i) mx_sem_set(i, 0);
  int rc = fn();
  if (rc == 0 && mx_fence() != 0) rc = 3;
  if (rc != 0) printf(KERNEL ": error: step %s failed (exit %d)\n", what, rc);
  return rc;
}

static int layernorm(const plan_t* p, tensor_t x, tensor_t g, tensor_t b, tensor_t y) {
  lb_begin(p);
  put("X", x), put("gamma", g), put("beta", b), put("Y", y), put_scalar("eps", p->eps);
  return step(tb_layernorm, "layernorm");
}

static int quantize(const plan_t* p, tensor_t x, tensor_t q, tensor_t s) {
  lb_begin(p);
  put("X", x), put("Q", q), put("S", s), put_scalar("fmt", p->fmt_a);
  return step(tb_quantize, "quantize");
}

static int gemm(const plan_t* p, tensor_t a, tensor_t sa, tensor_t b, tensor_t sb, tensor_t c) {
  lb_begin(p);
  put("A", a), put("SA", sa), put("B", b), put("SB", sb), put("C", c);
  put_scalar("fmt_a", p->fmt_a), put_scalar("fmt_b", p->fmt_w);
  return step(tb_gemm, "gemm");
}

static int attention(const plan_t* p, const tensor_t* in, tensor_t o) {
  static const char* const names[6] = {"Q", "SQ", "KT", "SKT", "V", "SV"};
  lb_begin(p);
  for (int i = 0; i < 6; ++i) put(names[i], in[i]);
  put("O", o), put_scalar("scale", p->scale);
  put_scalar("fmt_q", p->fmt_a), put_scalar("fmt_k", p->fmt_a), put_scalar("fmt_v", p->fmt_a);
  put_scalar("fmt_p", p->fmt_a);
  if (p->kv_tile != UNSET) put_scalar("kv_tile", p->kv_tile);
  if (p->causal) put_scalar("causal", 1);
  return step(tb_attention, "attention");
}

static int mlp(const plan_t* p, const tensor_t* in, tensor_t y, tensor_t hq, tensor_t hs) {
  static const char* const names[6] = {"X", "SX", "W1", "SW1", "W2", "SW2"};
  lb_begin(p);
  for (int i = 0; i < 6; ++i) put(names[i], in[i]);
  put("Y", y), put("HQ", hq), put("HS", hs), put_scalar("form", p->form);
  put_scalar("fmt_x", p->fmt_a), put_scalar("fmt_w1", p->fmt_w), put_scalar("fmt_w2", p->fmt_w);
  put_scalar("fmt_h", p->fmt_a);
  return step(tb_mlp, "mlp");
}

/* ---- the block's own data movement: transposes, head split / merge, residual adds ---- */

static mx_sync_t chain(int first) {
  return mx_sync(first ? -1 : (int)S_CHAIN, first ? 0 : 1, (int)S_CHAIN);
}

static int chain_done(const char* what) {
  if (mx_fence() == 0) return 0;
  printf(KERNEL ": error: %s: engine fault\n", what);
  return 3;
}

/* dst (cols x rows, contiguous) = src (rows x cols, contiguous) transposed, through VMEM in
 * chunks of rows: DMA in, a VMEM-to-VMEM DMA with one-element segments, DMA out. */
static int transpose(tensor_t src, tensor_t dst) {
  const uint32_t e = esize(&src), rows = src.rows, cols = src.cols, row = cols * e;
  const uint32_t half = mx_ctrl(MX_CTRL_VMEM_BYTES) / 2u;
  uint32_t chunk = half / row;
  if (chunk == 0) {
    printf(KERNEL ": error: a row of %u bytes does not fit in half of VMEM\n", (unsigned)row);
    return 2;
  }
  if (chunk > rows) chunk = rows;
  if ((uint64_t)chunk * cols > (1u << 24)) chunk = (1u << 24) / cols;
  const uint64_t va = MX_SPACE_VMEM, vb = MX_SPACE_VMEM + half;
  mx_sem_set(S_CHAIN, 0);
  for (uint32_t r0 = 0; r0 < rows; r0 += chunk) {
    const uint32_t n = rows - r0 < chunk ? rows - r0 : chunk;
    mx_dma(MX_SPACE_HBM + src.at + (uint64_t)r0 * row, va, row, n, row, row, chain(r0 == 0));
    mx_dma3(va, vb, e, n, cols, row, e, e, n * e, chain(0));
    mx_dma(vb, MX_SPACE_HBM + dst.at + (uint64_t)r0 * e, n * e, cols, n * e, rows * e, chain(0));
  }
  return chain_done("transpose");
}

/* Heads: whole (rows x heads*dh) <-> split (heads planes of rows x dh), one 3-D DMA. */
static int heads_copy(const plan_t* p, tensor_t whole, tensor_t split, uint32_t dh, int merge) {
  const uint32_t e = esize(&whole), rb = dh * e;
  const uint64_t w = MX_SPACE_HBM + whole.at, s = MX_SPACE_HBM + split.at;
  const uint32_t wrow = whole.cols * e, splane = whole.rows * rb;
  if (merge)
    mx_dma3(s, w, rb, whole.rows, p->heads, rb, splane, wrow, rb, mx_sync_none());
  else
    mx_dma3(w, s, rb, whole.rows, p->heads, wrow, rb, rb, splane, mx_sync_none());
  return chain_done(merge ? "merging heads" : "splitting heads");
}

/* Head h of a split tensor (rows x dh each). */
static tensor_t head(tensor_t split, uint32_t h, uint32_t rows, uint32_t dh) {
  tensor_t t = {split.at + (uint64_t)h * rows * dh * esize(&split), rows, dh, split.dtype};
  return t;
}

/* y = x + r (FP32, one rounding per element) on the vector unit, in chunks of rows. Each wait
 * has its own semaphore, so no engine can take a signal meant for another. */
static int residual(tensor_t x, tensor_t r, tensor_t y) {
  const uint32_t row = x.cols * 4u, half = mx_ctrl(MX_CTRL_VMEM_BYTES) / 2u;
  uint32_t chunk = half / row;
  if (chunk == 0) {
    printf(KERNEL ": error: a row of %u bytes does not fit in half of VMEM\n", (unsigned)row);
    return 2;
  }
  if (chunk > x.rows) chunk = x.rows;
  const uint64_t va = MX_SPACE_VMEM, vb = MX_SPACE_VMEM + half;
  mx_sem_set(S_LOADED, 0), mx_sem_set(S_ADDED, 0), mx_sem_set(S_CHAIN, 0);
  for (uint32_t r0 = 0; r0 < x.rows; r0 += chunk) {
    const uint32_t n = x.rows - r0 < chunk ? x.rows - r0 : chunk;
    const uint64_t off = (uint64_t)r0 * row;
    /* Both loads, then the addition (the DMA queue completes in order), then the store; the
     * next chunk's loads wait for the store to have read the buffers. */
    mx_dma(MX_SPACE_HBM + x.at + off, va, row, n, row, row,
           mx_sync(r0 == 0 ? -1 : (int)S_CHAIN, r0 == 0 ? 0 : 1, -1));
    mx_dma(MX_SPACE_HBM + r.at + off, vb, row, n, row, row, mx_sync(-1, 0, (int)S_LOADED));
    mx_vpu_args_t a = {0};
    a.func = MX_VPU_FN_ADD, a.x = a.z = va, a.y = vb, a.rows = n, a.cols = x.cols;
    a.x_stride = a.y_stride = a.z_stride = row;
    mx_vpu(&a, mx_sync((int)S_LOADED, 1, (int)S_ADDED));
    mx_dma(va, MX_SPACE_HBM + y.at + off, row, n, row, row, mx_sync((int)S_ADDED, 1, (int)S_CHAIN));
  }
  return chain_done("residual");
}

static int fail(const char* msg) {
  printf(KERNEL ": error: %s\n", msg);
  return 2;
}

/* Runs a step, adds its cycles to its kind, returns from main on failure. */
#define TRY(kind, x)                     \
  do {                                   \
    const uint32_t t0_ = mcycle();       \
    const int rc_ = (x);                 \
    kind_cycles[kind] += mcycle() - t0_; \
    ++kind_steps[kind];                  \
    if (rc_ != 0) return rc_;            \
  } while (0)

int main(void) {
  plan_t p = {0};
  tensor_t x, g1, b1, g2, b2, wq, swq, wk, swk, wv, swv, wo, swo, w1, sw1, w2, sw2;
  if (!need("X", MX_DTYPE_F32, 0, 0, 0, &x)) return 2;
  p.s = x.rows, p.d = x.cols;
  p.block = mx_block_size();
  p.heads = mx_scalar("heads", 0);
  if (p.heads == 0) return fail("missing scalar heads (the number of attention heads)");
  if (p.s == 0 || p.d == 0) return fail("X is empty");
  if (p.block == 0 || p.d % p.heads != 0 || (p.d / p.heads) % p.block != 0 || p.s % p.block != 0) {
    printf(KERNEL
           ": error: d_model (%u) must be heads (%u) x a multiple of the block (%u), and the "
           "sequence (%u) a multiple of the block\n",
           (unsigned)p.d, (unsigned)p.heads, (unsigned)p.block, (unsigned)p.s);
    return 2;
  }
  p.dh = p.d / p.heads;
  const uint32_t nb = p.d / p.block;
  if (!need("G1", MX_DTYPE_F32, 1, p.d, 1, &g1) || !need("B1", MX_DTYPE_F32, 1, p.d, 1, &b1) ||
      !need("G2", MX_DTYPE_F32, 1, p.d, 1, &g2) || !need("B2", MX_DTYPE_F32, 1, p.d, 1, &b2) ||
      !need("WQ", MX_DTYPE_U8, p.d, p.d, 0, &wq) || !need("SWQ", MX_DTYPE_U8, nb, p.d, 0, &swq) ||
      !need("WK", MX_DTYPE_U8, p.d, p.d, 0, &wk) || !need("SWK", MX_DTYPE_U8, nb, p.d, 0, &swk) ||
      !need("WV", MX_DTYPE_U8, p.d, p.d, 0, &wv) || !need("SWV", MX_DTYPE_U8, nb, p.d, 0, &swv) ||
      !need("WO", MX_DTYPE_U8, p.d, p.d, 0, &wo) || !need("SWO", MX_DTYPE_U8, nb, p.d, 0, &swo) ||
      !need("W1", MX_DTYPE_U8, p.d, 0, 0, &w1))
    return 2;
  p.f = w1.cols;
  if (p.f % p.block != 0)
    return fail("the MLP width F (W1's columns) must be a multiple of the block");
  const uint32_t fb = p.f / p.block;
  if (!need("SW1", MX_DTYPE_U8, nb, p.f, 0, &sw1) || !need("W2", MX_DTYPE_U8, p.f, p.d, 0, &w2) ||
      !need("SW2", MX_DTYPE_U8, fb, p.d, 0, &sw2))
    return 2;
  p.form = mx_scalar("form", 0), p.fmt_a = mx_scalar("fmt_a", 0), p.fmt_w = mx_scalar("fmt_w", 0);
  if (p.form > 1) return fail("form must be 0 (GELU tanh) or 1 (GELU erf)");
  if (p.fmt_a > 1 || p.fmt_w > 1) return fail("fmt_a and fmt_w must be 0 (E4M3) or 1 (E5M2)");
  union {
    uint32_t u;
    float f;
  } v;
  v.f = 1e-5f;
  p.eps = mx_scalar("eps", v.u);
  v.u = mx_scalar("scale", UNSET);
  if (v.u == UNSET) v.f = inv_sqrt(p.dh);
  p.scale = v.u;
  p.kv_tile = mx_scalar("kv_tile", UNSET);
  p.causal = mx_scalar("causal", 0);
  if (p.causal > 1) return fail("causal must be 0 or 1");
  p.free = mx_hbm_free();
  const uint32_t verbose = mx_scalar("verbose", 0);
  const uint32_t start = mcycle();

  /* Outputs: the runner's when it allocated them, else scratch declared at the end. */
  tensor_t y, x1;
  mx_tensor_t ty = mx_find("Y"), tx1 = mx_find("X1");
  const int y_given = ty.entry != 0, x1_given = tx1.entry != 0;
  if (y_given && !need("Y", MX_DTYPE_F32, p.s, p.d, 0, &y)) return 2;
  if (x1_given && !need("X1", MX_DTYPE_F32, p.s, p.d, 0, &x1)) return 2;
  if (!y_given) y = alloc(&p, p.s, p.d, MX_DTYPE_F32);
  if (!x1_given) x1 = alloc(&p, p.s, p.d, MX_DTYPE_F32);
  copy_lb((volatile uint8_t*)saved_lb, (const volatile uint8_t*)MX_LAUNCH_BASE);

  const uint32_t F32 = MX_DTYPE_F32, U8 = MX_DTYPE_U8, sb = p.s / p.block;
  const tensor_t h = alloc(&p, p.s, p.d, F32), hq = alloc(&p, p.s, p.d, U8),
                 hs = alloc(&p, p.s, nb, U8);
  const tensor_t qf = alloc(&p, p.s, p.d, F32), kf = alloc(&p, p.s, p.d, F32),
                 vf = alloc(&p, p.s, p.d, F32);
  const tensor_t qq = alloc(&p, p.s, p.d, U8), qs = alloc(&p, p.s, nb, U8);
  const tensor_t kq = alloc(&p, p.s, p.d, U8), ks = alloc(&p, p.s, nb, U8);
  const tensor_t kt = alloc(&p, p.d, p.s, U8), kst = alloc(&p, nb, p.s, U8);
  const tensor_t vft = alloc(&p, p.d, p.s, F32), vtq = alloc(&p, p.d, p.s, U8),
                 vts = alloc(&p, p.d, sb, U8);
  const tensor_t vq = alloc(&p, p.s, p.d, U8), vs = alloc(&p, sb, p.d, U8);
  const tensor_t qh = alloc(&p, p.s, p.d, U8), qsh = alloc(&p, p.s, nb, U8);
  const tensor_t vh = alloc(&p, p.s, p.d, U8), vsh = alloc(&p, sb, p.d, U8);
  const tensor_t oh = alloc(&p, p.s, p.d, F32), oc = alloc(&p, p.s, p.d, F32);
  const tensor_t oq = alloc(&p, p.s, p.d, U8), os = alloc(&p, p.s, nb, U8);
  const tensor_t pr = alloc(&p, p.s, p.d, F32);
  const tensor_t h2 = alloc(&p, p.s, p.d, F32), h2q = alloc(&p, p.s, p.d, U8),
                 h2s = alloc(&p, p.s, nb, U8);
  const tensor_t mq = alloc(&p, p.s, p.f, U8), ms = alloc(&p, p.s, fb, U8);
  const tensor_t m = alloc(&p, p.s, p.d, F32);

  /* Attention half. */
  TRY(K_LN, layernorm(&p, x, g1, b1, h));
  TRY(K_QUANT, quantize(&p, h, hq, hs));
  TRY(K_GEMM, gemm(&p, hq, hs, wq, swq, qf));
  TRY(K_GEMM, gemm(&p, hq, hs, wk, swk, kf));
  TRY(K_GEMM, gemm(&p, hq, hs, wv, swv, vf));
  TRY(K_QUANT, quantize(&p, qf, qq, qs));
  TRY(K_QUANT, quantize(&p, kf, kq, ks));
  TRY(K_MOVE, transpose(kq, kt));
  TRY(K_MOVE, transpose(ks, kst));
  TRY(K_MOVE, transpose(vf, vft));
  TRY(K_QUANT, quantize(&p, vft, vtq, vts));
  TRY(K_MOVE, transpose(vtq, vq));
  TRY(K_MOVE, transpose(vts, vs));
  TRY(K_MOVE, heads_copy(&p, qq, qh, p.dh, 0));
  TRY(K_MOVE, heads_copy(&p, qs, qsh, p.dh / p.block, 0));
  TRY(K_MOVE, heads_copy(&p, vq, vh, p.dh, 0));
  TRY(K_MOVE, heads_copy(&p, vs, vsh, p.dh, 0));
  for (uint32_t i = 0; i < p.heads; ++i) {
    const tensor_t in[6] = {
        head(qh, i, p.s, p.dh),
        head(qsh, i, p.s, p.dh / p.block),
        {kt.at + (uint64_t)i * p.dh * p.s, p.dh, p.s, U8},
        {kst.at + (uint64_t)i * (p.dh / p.block) * p.s, p.dh / p.block, p.s, U8},
        head(vh, i, p.s, p.dh),
        head(vsh, i, sb, p.dh)};
    TRY(K_ATTN, attention(&p, in, head(oh, i, p.s, p.dh)));
  }
  TRY(K_MOVE, heads_copy(&p, oc, oh, p.dh, 1));
  TRY(K_QUANT, quantize(&p, oc, oq, os));
  TRY(K_GEMM, gemm(&p, oq, os, wo, swo, pr));
  TRY(K_RES, residual(x, pr, x1));
  /* MLP half. */
  TRY(K_LN, layernorm(&p, x1, g2, b2, h2));
  TRY(K_QUANT, quantize(&p, h2, h2q, h2s));
  const tensor_t mlp_in[6] = {h2q, h2s, w1, sw1, w2, sw2};
  TRY(K_MLP, mlp(&p, mlp_in, m, mq, ms));
  TRY(K_RES, residual(x1, m, y));

  const uint32_t total = mcycle() - start;
  copy_lb((volatile uint8_t*)MX_LAUNCH_BASE, (const volatile uint8_t*)saved_lb);
  if (verbose) {
    printf(KERNEL ": S %u, d_model %u, heads %u, F %u: %u cycles\n", (unsigned)p.s, (unsigned)p.d,
           (unsigned)p.heads, (unsigned)p.f, (unsigned)total);
    for (int i = 0; i < K_N; ++i) {
      const uint32_t pm = (uint32_t)((uint64_t)kind_cycles[i] * 1000u / (total ? total : 1u));
      printf("  %-18s %3u steps %10u cycles %3u.%u %%\n", kind_name[i], (unsigned)kind_steps[i],
             (unsigned)kind_cycles[i], (unsigned)(pm / 10u), (unsigned)(pm % 10u));
    }
  }
  const uint32_t shape[2] = {p.s, p.d};
  if ((!y_given && mx_declare_output("Y", MX_DTYPE_F32, 2, shape, y.at) != 0) ||
      (!x1_given && mx_declare_output("X1", MX_DTYPE_F32, 2, shape, x1.at) != 0))
    return fail("cannot declare the outputs (the launch block is full)");
  return 0;
}
