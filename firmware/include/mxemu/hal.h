/* mxemu accelerator HAL: descriptors, queues, semaphores, fence and the launch block.
 * Everything is built on the generated register map (mxemu/regs.h, from tools/regmap). */
#ifndef MXEMU_HAL_H
#define MXEMU_HAL_H

#include <stdint.h>

#include "mxemu/regs.h"

#ifdef __cplusplus
extern "C" {
#endif

static inline void mx_mmio_write(uint32_t addr, uint32_t v) {
  *(volatile uint32_t*)addr = v;
}
static inline uint32_t mx_mmio_read(uint32_t addr) {
  return *(volatile uint32_t*)addr;
}

/* A descriptor being built: MX_SET(d, MX_DMA_COPY_ROWS, 4) sets one field. */
typedef struct {
  uint32_t w[MX_DESC_WORDS];
} mx_desc_t;

#define MX_SET(d, field, v) ((d)->w[field##_WORD] |= MX_FIELD(field, v))

/* Synchronisation of one descriptor: wait for `wait_count` on semaphore `wait_sem` (if wait_en)
 * before starting, signal `signal_sem` (if signal_en) when done. */
typedef struct {
  uint8_t wait_en, wait_sem, signal_en, signal_sem;
  uint16_t wait_count;
} mx_sync_t;

static inline mx_sync_t mx_sync_none(void) {
  mx_sync_t s = {0, 0, 0, 0, 0};
  return s;
}
static inline mx_sync_t mx_sync(int wait_sem, int wait_count, int signal_sem) {
  mx_sync_t s;
  s.wait_en = wait_sem >= 0;
  s.wait_sem = (uint8_t)(wait_sem >= 0 ? wait_sem : 0);
  s.wait_count = (uint16_t)wait_count;
  s.signal_en = signal_sem >= 0;
  s.signal_sem = (uint8_t)(signal_sem >= 0 ? signal_sem : 0);
  return s;
}

static inline void mx_desc_init(mx_desc_t* d, uint32_t opcode, mx_sync_t s) {
  for (unsigned i = 0; i < MX_DESC_WORDS; ++i) d->w[i] = 0;
  MX_SET(d, MX_HDR_OPCODE, opcode);
  MX_SET(d, MX_HDR_WAIT_EN, s.wait_en);
  MX_SET(d, MX_HDR_WAIT_SEM, s.wait_sem);
  MX_SET(d, MX_HDR_WAIT_COUNT, s.wait_count);
  MX_SET(d, MX_HDR_SIGNAL_EN, s.signal_en);
  MX_SET(d, MX_HDR_SIGNAL_SEM, s.signal_sem);
}

/* Enqueues a descriptor: the engine fetches it from core RAM (one MMIO write; stalls while the
 * queue is full). The staging registers (MX_QREG_DESC + PUSH) do the same word by word. */
static inline void mx_push(uint32_t queue, const mx_desc_t* d) {
  /* The engine reads *d through the bus: the compiler must not drop or delay the stores. */
  __asm__ volatile("" : : "r"(d) : "memory");
  mx_mmio_write(MX_QUEUE_ADDR(queue, MX_QREG_PUSH_ADDR), (uint32_t)(uintptr_t)d);
}

static inline void mx_nop(uint32_t queue, mx_sync_t s) {
  mx_desc_t d;
  mx_desc_init(&d, 0u, s);
  mx_push(queue, &d);
}

/* Hardware loop (docs/CHIP.md "LOOP"): the next `body` descriptors pushed to `queue` are
 * dispatched `count` times; increment i adds floor(iteration / period) * delta to word `word` of
 * body descriptor `desc` (wide: a 64-bit add to words word, word + 1). Build the header with
 * mx_loop_init and mx_loop_inc, push it (mx_push), then push the body. */
static inline void mx_loop_init(mx_desc_t* d, uint32_t count, uint32_t body) {
  mx_desc_init(d, MX_OP_LOOP, mx_sync_none());
  d->w[MX_LOOP_COUNT_WORD] = count;
  d->w[MX_LOOP_BODY_WORD] = body;
}
static inline void mx_loop_inc(mx_desc_t* d, uint32_t i, uint32_t desc, uint32_t word,
                               int32_t delta, uint32_t period, int wide) {
  d->w[MX_LOOP_INC_EN_WORD + 2u * i] =
      MX_FIELD(MX_LOOP_INC_EN, 1u) | MX_FIELD(MX_LOOP_INC_DESC, desc) |
      MX_FIELD(MX_LOOP_INC_WORD, word) | MX_FIELD(MX_LOOP_INC_WIDE, wide ? 1u : 0u) |
      MX_FIELD(MX_LOOP_INC_PERIOD, period);
  d->w[MX_LOOP_INC_DELTA_WORD + 2u * i] = (uint32_t)delta;
}

static inline void mx_sem_set(uint32_t sem, uint32_t value) {
  mx_mmio_write(MX_SEM_BASE + 4u * sem, value);
}
static inline uint32_t mx_sem_get(uint32_t sem) {
  return mx_mmio_read(MX_SEM_BASE + 4u * sem);
}

/* Waits until every queue is empty and idle; returns 0 or the first engine fault code. */
static inline uint32_t mx_fence(void) {
  return mx_mmio_read(MX_CTRL_BASE + MX_CTRL_FENCE);
}
static inline uint32_t mx_ctrl(uint32_t reg) {
  return mx_mmio_read(MX_CTRL_BASE + reg);
}
/* Writes a control register (ICI_EPOCH: acknowledges the epoch after a rewire, docs/ICI.md). */
static inline void mx_ctrl_write(uint32_t reg, uint32_t value) {
  mx_mmio_write(MX_CTRL_BASE + reg, value);
}

/* 3-D strided copy: planes x rows x row_bytes, a row and a plane stride on each side. */
static inline void mx_dma3(uint64_t src, uint64_t dst, uint32_t row_bytes, uint32_t rows,
                           uint32_t planes, uint32_t src_row_stride, uint32_t src_plane_stride,
                           uint32_t dst_row_stride, uint32_t dst_plane_stride, mx_sync_t s) {
  mx_desc_t d;
  mx_desc_init(&d, MX_OP_DMA_COPY, s);
  MX_SET(&d, MX_DMA_COPY_SRC_LO, (uint32_t)src);
  MX_SET(&d, MX_DMA_COPY_SRC_HI, (uint32_t)(src >> 32));
  MX_SET(&d, MX_DMA_COPY_DST_LO, (uint32_t)dst);
  MX_SET(&d, MX_DMA_COPY_DST_HI, (uint32_t)(dst >> 32));
  MX_SET(&d, MX_DMA_COPY_ROW_BYTES, row_bytes);
  MX_SET(&d, MX_DMA_COPY_ROWS, rows);
  MX_SET(&d, MX_DMA_COPY_PLANES, planes);
  MX_SET(&d, MX_DMA_COPY_SRC_ROW_STRIDE, src_row_stride);
  MX_SET(&d, MX_DMA_COPY_DST_ROW_STRIDE, dst_row_stride);
  MX_SET(&d, MX_DMA_COPY_SRC_PLANE_STRIDE, src_plane_stride);
  MX_SET(&d, MX_DMA_COPY_DST_PLANE_STRIDE, dst_plane_stride);
  mx_push(MX_Q_DMA, &d);
}

/* 2-D strided copy: rows x row_bytes. */
static inline void mx_dma(uint64_t src, uint64_t dst, uint32_t row_bytes, uint32_t rows,
                          uint32_t src_stride, uint32_t dst_stride, mx_sync_t s) {
  mx_dma3(src, dst, row_bytes, rows, 1u, src_stride, 0u, dst_stride, 0u, s);
}

/* MXU weight tile: k x n FP8 codes at VMEM w (row stride w_stride), scales (k/block x n) at s. */
static inline void mx_load_w(uint32_t mxu, uint32_t w, uint32_t w_stride, uint32_t k, uint32_t n,
                             uint32_t fmt, int scaled, uint32_t s, uint32_t s_stride,
                             uint32_t block, mx_sync_t sy) {
  mx_desc_t d;
  mx_desc_init(&d, MX_OP_MXU_LOAD_W, sy);
  MX_SET(&d, MX_MXU_LOAD_W_W_ADDR, w);
  MX_SET(&d, MX_MXU_LOAD_W_W_STRIDE, w_stride);
  MX_SET(&d, MX_MXU_LOAD_W_K, k);
  MX_SET(&d, MX_MXU_LOAD_W_N, n);
  MX_SET(&d, MX_MXU_LOAD_W_S_ADDR, s);
  MX_SET(&d, MX_MXU_LOAD_W_S_STRIDE, s_stride);
  MX_SET(&d, MX_MXU_LOAD_W_FMT, fmt);
  MX_SET(&d, MX_MXU_LOAD_W_SCALED, scaled ? 1u : 0u);
  MX_SET(&d, MX_MXU_LOAD_W_BLOCK, block);
  mx_push(MX_Q_MXU(mxu), &d);
}

/* Streams m rows of A (VMEM a, row stride a_stride) through the loaded weights into this MXU's
 * accumulators at acc (row stride acc_stride); accumulate: partial sums come from ACC. */
static inline void mx_matmul(uint32_t mxu, uint32_t a, uint32_t a_stride, uint32_t m, uint32_t fmt,
                             int scaled, uint32_t sa, uint32_t sa_stride, uint32_t acc,
                             uint32_t acc_stride, int accumulate, mx_sync_t sy) {
  mx_desc_t d;
  mx_desc_init(&d, MX_OP_MXU_MATMUL, sy);
  MX_SET(&d, MX_MXU_MATMUL_A_ADDR, a);
  MX_SET(&d, MX_MXU_MATMUL_A_STRIDE, a_stride);
  MX_SET(&d, MX_MXU_MATMUL_M, m);
  MX_SET(&d, MX_MXU_MATMUL_SA_ADDR, sa);
  MX_SET(&d, MX_MXU_MATMUL_SA_STRIDE, sa_stride);
  MX_SET(&d, MX_MXU_MATMUL_ACC_ADDR, acc);
  MX_SET(&d, MX_MXU_MATMUL_ACC_STRIDE, acc_stride);
  MX_SET(&d, MX_MXU_MATMUL_FMT, fmt);
  MX_SET(&d, MX_MXU_MATMUL_SCALED, scaled ? 1u : 0u);
  MX_SET(&d, MX_MXU_MATMUL_ACCUMULATE, accumulate ? 1u : 0u);
  mx_push(MX_Q_MXU(mxu), &d);
}

/* Vector-unit operation over rows x cols elements (docs/VPU.md: every function, its operands and
 * bounds). bcast: the shape of Y for ADD, SUB, MUL, MAX, DIV (MX_VPU_BCAST_*); x_fmt, y_fmt,
 * z_fmt: element formats (MX_VPU_ELEM_FP32 or _BF16). Zero-initialise the struct: 0 is FP32 and
 * no broadcast. */
typedef struct {
  uint32_t func, out_fmt, nonsat, block;
  uint64_t x, y, z;
  uint32_t rows, cols, x_stride, y_stride, z_stride;
  float imm;
  uint32_t bcast, x_fmt, y_fmt, z_fmt;
  int32_t diagonal; /* CAUSAL_MASK's k (sent in the IMM word in place of imm) */
} mx_vpu_args_t;

static inline void mx_vpu(const mx_vpu_args_t* a, mx_sync_t sy) {
  mx_desc_t d;
  union {
    float f;
    uint32_t u;
  } imm;
  imm.f = a->imm;
  if (a->func == MX_VPU_FN_CAUSAL_MASK) imm.u = (uint32_t)a->diagonal;
  mx_desc_init(&d, MX_OP_VPU_OP, sy);
  MX_SET(&d, MX_VPU_OP_FUNC, a->func);
  MX_SET(&d, MX_VPU_OP_OUT_FMT, a->out_fmt);
  MX_SET(&d, MX_VPU_OP_SAT, a->nonsat);
  MX_SET(&d, MX_VPU_OP_BLOCK, a->block);
  MX_SET(&d, MX_VPU_OP_X_LO, (uint32_t)a->x);
  MX_SET(&d, MX_VPU_OP_X_HI, (uint32_t)(a->x >> 32));
  MX_SET(&d, MX_VPU_OP_Y_LO, (uint32_t)a->y);
  MX_SET(&d, MX_VPU_OP_Y_HI, (uint32_t)(a->y >> 32));
  MX_SET(&d, MX_VPU_OP_Z_LO, (uint32_t)a->z);
  MX_SET(&d, MX_VPU_OP_Z_HI, (uint32_t)(a->z >> 32));
  MX_SET(&d, MX_VPU_OP_ROWS, a->rows);
  MX_SET(&d, MX_VPU_OP_COLS, a->cols);
  MX_SET(&d, MX_VPU_OP_X_STRIDE, a->x_stride);
  MX_SET(&d, MX_VPU_OP_Y_STRIDE, a->y_stride);
  MX_SET(&d, MX_VPU_OP_Z_STRIDE, a->z_stride);
  MX_SET(&d, MX_VPU_OP_IMM, imm.u);
  MX_SET(&d, MX_VPU_OP_BCAST, a->bcast);
  MX_SET(&d, MX_VPU_OP_X_FMT, a->x_fmt);
  MX_SET(&d, MX_VPU_OP_Y_FMT, a->y_fmt);
  MX_SET(&d, MX_VPU_OP_Z_FMT, a->z_fmt);
  mx_push(MX_Q_VPU, &d);
}

static inline uint64_t mx_acc_addr(uint32_t mxu, uint32_t offset) {
  return MX_SPACE_ACC + (uint64_t)mxu * MX_SPACE_ACC_STRIDE + offset;
}

/* Launch block: the runner's table of tensors (name, dtype, shape, HBM address) and scalars. */
typedef struct {
  const volatile uint8_t* entry;
} mx_tensor_t;

static inline uint32_t mx_launch_u32(const volatile uint8_t* p, uint32_t off) {
  return *(const volatile uint32_t*)(p + off);
}

/* Finds an entry by name; entry == 0 when absent. */
static inline mx_tensor_t mx_find(const char* name) {
  const volatile uint8_t* lb = (const volatile uint8_t*)MX_LAUNCH_BASE;
  mx_tensor_t t = {0};
  if (mx_launch_u32(lb, MX_LAUNCH_MAGIC_OFFSET) != MX_LAUNCH_MAGIC) return t;
  const uint32_t n = mx_launch_u32(lb, MX_LAUNCH_COUNT_OFFSET);
  for (uint32_t i = 0; i < n && i < MX_LAUNCH_MAX_ENTRIES; ++i) {
    const volatile uint8_t* e = lb + MX_LAUNCH_ENTRIES + i * MX_LAUNCH_ENTRY_BYTES;
    uint32_t j = 0;
    while (j < MX_LAUNCH_NAME_BYTES && name[j] != 0 && e[j] == (uint8_t)name[j]) ++j;
    if (name[j] == 0 && (j == MX_LAUNCH_NAME_BYTES || e[j] == 0)) {
      t.entry = e;
      return t;
    }
  }
  return t;
}
/* A name for mx_find_many, prepared at compile time from a string literal: MX_NAME("fmt_a"). */
typedef struct {
  uint32_t first;  /* the first 4 bytes, NUL-padded as in the launch block */
  uint32_t longer; /* 1: 4 characters or more (the rest is compared byte by byte) */
  const char* name;
} mx_name_t;
#define MX_NAME_BYTE_(s, i)                                                              \
  ((uint32_t)((i) + 1u < sizeof(s) ? (uint8_t)(s)[(i) + 1u < sizeof(s) ? (i) : 0u] : 0u) \
   << (8u * (i)))
#define MX_NAME(s)                                                                             \
  {                                                                                            \
    MX_NAME_BYTE_(s, 0u) | MX_NAME_BYTE_(s, 1u) | MX_NAME_BYTE_(s, 2u) | MX_NAME_BYTE_(s, 3u), \
        sizeof(s) >= 5u, s                                                                     \
  }

/* mx_find for n distinct names in one pass over the launch block, comparing the first word of
 * each (out[i].entry == 0 for a name that is absent). Cheaper than n mx_find calls. */
static inline void mx_find_many(const mx_name_t* names, uint32_t n, mx_tensor_t* out) {
  const volatile uint8_t* lb = (const volatile uint8_t*)MX_LAUNCH_BASE;
  for (uint32_t k = 0; k < n; ++k) out[k].entry = 0;
  if (mx_launch_u32(lb, MX_LAUNCH_MAGIC_OFFSET) != MX_LAUNCH_MAGIC) return;
  const uint32_t count = mx_launch_u32(lb, MX_LAUNCH_COUNT_OFFSET);
  for (uint32_t i = 0; i < count && i < MX_LAUNCH_MAX_ENTRIES; ++i) {
    const volatile uint8_t* e = lb + MX_LAUNCH_ENTRIES + i * MX_LAUNCH_ENTRY_BYTES;
    const uint32_t w = mx_launch_u32(e, 0);
    for (uint32_t k = 0; k < n; ++k) {
      if (names[k].first != w || out[k].entry) continue;
      if (names[k].longer) {
        const char* name = names[k].name;
        uint32_t j = 4;
        while (j < MX_LAUNCH_NAME_BYTES && name[j] != 0 && e[j] == (uint8_t)name[j]) ++j;
        if (name[j] != 0 || (j < MX_LAUNCH_NAME_BYTES && e[j] != 0)) continue;
      }
      out[k].entry = e;
      break;
    }
  }
}
static inline uint32_t mx_dim(mx_tensor_t t, uint32_t i) {
  return mx_launch_u32(t.entry, MX_LAUNCH_E_SHAPE0 + 4u * i);
}
static inline uint64_t mx_addr(mx_tensor_t t) {
  return ((uint64_t)mx_launch_u32(t.entry, MX_LAUNCH_E_ADDR_HI) << 32) |
         mx_launch_u32(t.entry, MX_LAUNCH_E_ADDR_LO);
}
/* A scalar parameter's value, or `fallback` when the runner did not pass it. */
static inline uint32_t mx_scalar(const char* name, uint32_t fallback) {
  mx_tensor_t t = mx_find(name);
  return t.entry ? mx_launch_u32(t.entry, MX_LAUNCH_E_ADDR_LO) : fallback;
}

/* Declares an output tensor the runner reads back by name (`mxemu run --out NAME=FILE.npy`):
 * appends a launch-block entry. dtype: MX_DTYPE_U8 or MX_DTYPE_F32. Returns 0, or -1 when the
 * launch block is full or the name is too long. */
static inline int mx_declare_output(const char* name, uint32_t dtype, uint32_t ndim,
                                    const uint32_t* shape, uint64_t hbm_addr) {
  volatile uint8_t* lb = (volatile uint8_t*)MX_LAUNCH_BASE;
  volatile uint32_t* count = (volatile uint32_t*)(lb + MX_LAUNCH_COUNT_OFFSET);
  if (*count >= MX_LAUNCH_MAX_ENTRIES || ndim == 0 || ndim > 4) return -1;
  volatile uint8_t* e = lb + MX_LAUNCH_ENTRIES + *count * MX_LAUNCH_ENTRY_BYTES;
  uint32_t i = 0, bytes = dtype == MX_DTYPE_F32 ? 4u : 1u;
  for (; name[i] != 0; ++i) {
    if (i >= MX_LAUNCH_NAME_BYTES) return -1;
    e[i] = (uint8_t)name[i];
  }
  for (; i < MX_LAUNCH_NAME_BYTES; ++i) e[i] = 0;
  *(volatile uint32_t*)(e + MX_LAUNCH_E_DTYPE) = dtype;
  *(volatile uint32_t*)(e + MX_LAUNCH_E_NDIM) = ndim;
  for (i = 0; i < 4; ++i) {
    *(volatile uint32_t*)(e + MX_LAUNCH_E_SHAPE0 + 4u * i) = i < ndim ? shape[i] : 0u;
    if (i < ndim) bytes *= shape[i];
  }
  *(volatile uint32_t*)(e + MX_LAUNCH_E_ADDR_LO) = (uint32_t)hbm_addr;
  *(volatile uint32_t*)(e + MX_LAUNCH_E_ADDR_HI) = (uint32_t)(hbm_addr >> 32);
  *(volatile uint32_t*)(e + MX_LAUNCH_E_BYTES) = bytes;
  *count = *count + 1u;
  return 0;
}

/* The first free HBM byte after the runner's tensors (4 KiB aligned): where firmware may put
 * its own buffers and outputs. */
static inline uint64_t mx_hbm_free(void) {
  mx_tensor_t t = mx_find("hbm_free");
  return t.entry ? mx_addr(t) : 0;
}

/* ICI (DESIGN §6, docs/ICI.md): messages to other chips of the pod. SEND completes when its last
 * packet has left this chip (the source may be reused), RECV when every byte has arrived; they
 * match per (peer, tag) in order, and sizes must agree. SIGNAL adds 1 to semaphore `sem` of chip
 * `peer`, after everything this chip sent to it before. */
static inline void mx_ici_send(uint32_t peer, uint32_t tag, uint64_t src, uint32_t bytes,
                               mx_sync_t s) {
  mx_desc_t d;
  mx_desc_init(&d, MX_OP_ICI_SEND, s);
  d.w[MX_ICI_SEND_PEER_WORD] = peer;
  d.w[MX_ICI_SEND_TAG_WORD] = tag;
  d.w[MX_ICI_SEND_ADDR_LO_WORD] = (uint32_t)src;
  d.w[MX_ICI_SEND_ADDR_HI_WORD] = (uint32_t)(src >> 32);
  d.w[MX_ICI_SEND_BYTES_WORD] = bytes;
  mx_push(MX_Q_ICI, &d);
}
static inline void mx_ici_recv(uint32_t peer, uint32_t tag, uint64_t dst, uint32_t bytes,
                               mx_sync_t s) {
  mx_desc_t d;
  mx_desc_init(&d, MX_OP_ICI_RECV, s);
  d.w[MX_ICI_RECV_PEER_WORD] = peer;
  d.w[MX_ICI_RECV_TAG_WORD] = tag;
  d.w[MX_ICI_RECV_ADDR_LO_WORD] = (uint32_t)dst;
  d.w[MX_ICI_RECV_ADDR_HI_WORD] = (uint32_t)(dst >> 32);
  d.w[MX_ICI_RECV_BYTES_WORD] = bytes;
  mx_push(MX_Q_ICI, &d);
}
static inline void mx_ici_signal(uint32_t peer, uint32_t sem, mx_sync_t s) {
  mx_desc_t d;
  mx_desc_init(&d, MX_OP_ICI_SIGNAL, s);
  d.w[MX_ICI_SIGNAL_PEER_WORD] = peer;
  d.w[MX_ICI_SIGNAL_SEM_WORD] = sem;
  mx_push(MX_Q_ICI, &d);
}

/* The MX block size: the "block" scalar if the runner gave one, else the chip's configured
 * [mx] block (DESIGN §3). */
static inline uint32_t mx_block_size(void) {
  return mx_scalar("block", mx_ctrl(MX_CTRL_MX_BLOCK));
}

/* Where this chip sits in its pod (DESIGN §6): index 0 .. mx_num_chips() - 1, coordinates
 * (x fastest). The launch block's header carries the same values. */
static inline uint32_t mx_chip_index(void) {
  return mx_ctrl(MX_CTRL_CHIP_INDEX);
}
static inline uint32_t mx_num_chips(void) {
  return mx_ctrl(MX_CTRL_NUM_CHIPS);
}
static inline uint32_t mx_chip_coord(uint32_t dim) {
  return mx_ctrl(MX_CTRL_CHIP_X + 4u * dim);
}

/* 1 when the chip speaks the register map this firmware was built against (MX_ABI_VERSION). */
static inline int mx_abi_ok(void) {
  return mx_ctrl(MX_CTRL_ABI_VERSION) == MX_ABI_VERSION;
}

#ifdef __cplusplus
}
#endif

#endif /* MXEMU_HAL_H */
