/* collective: all-reduce, reduce-scatter and all-gather over the pod's interconnect (ICI), in
 * FP32 or BF16, sum or max, with a ring, a bidirectional ring or a dimension-by-dimension torus.
 * One image runs on every chip; each finds its index and coordinates in the control registers.
 *
 * Scalars: op (0 all-reduce, 1 reduce-scatter, 2 all-gather), algo (0 ring, 1 biring, 2 torus),
 * dtype (0 f32, 1 bf16), reduce (0 sum, 1 max), chunk (bytes per message, default 32768),
 * n (all-gather only, when the runner gives no Y: elements of the gathered vector).
 * Tensors: X in (f32, or u8 holding little-endian BF16 bit patterns), Y out (the same dtype;
 * declared here after the inputs when the runner did not allocate it). The console gets one line,
 * "collective: cycles START END": the chip cycle before the first descriptor and after the fence
 * that ends the collective (what the alpha-beta model of docs/ICI.md predicts).
 *
 * Theory of operation, the partitioning, the exact reduction order and the time formulas:
 * docs/ICI.md ("Collectives"). In short: the plan is built first, then issued; data is staged in
 * VMEM (the whole vector, LOCAL, plus a ring of receive slots per direction); every ring runs as a pipeline of chunks where each descriptor
 * waits on a counting semaphore that an earlier-issued descriptor signals; the VPU reduces a
 * received chunk into LOCAL in place (VPU_FN_ADD / MAX, or ADD_BF16 / MAX_BF16); final chunks
 * go back to HBM by DMA as soon as they are final. The core only issues descriptors. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "mxemu/hal.h"

enum { OP_ALLREDUCE = 0, OP_REDUCE_SCATTER = 1, OP_ALL_GATHER = 2 };
enum { ALGO_RING = 0, ALGO_BIRING = 1, ALGO_TORUS = 2 };
enum { KIND_RS = 0, KIND_AG = 1, KIND_RSAG = 2 };

/* Exit codes (besides 0 and the fence's fault code). */
enum { E_ARGS = 2, E_SIZE = 5, E_VMEM = 6, E_PLAN = 7 };

/* Semaphores. Each has one producer queue and one consumer queue, and the consumer takes the
 * counts in the order the producer gives them (in-order queues), so a count always belongs to
 * the descriptor that waits for it. Per direction d: base + d. */
enum {
  S_LS = 0,   /* DMA load of a step-0 chunk done -> its SEND */
  S_LV = 1,   /* DMA load of the whole input done -> the first VPU reduction */
  S_ST = 2,   /* ICI: a chunk is final -> its DMA store */
  S_VST = 3,  /* VPU: a reduce-scatter result chunk is final -> its DMA store */
  S_BARV = 4, /* VPU NOP after a reduce-scatter phase -> the next phase's first SEND */
  S_BARI = 5, /* ICI NOP after an all-gather phase -> the next phase's first SEND */
  S_R = 8,    /* RS RECV done -> its VPU reduction */
  S_V = 10,   /* VPU reduction done -> the SEND of that chunk */
  S_F = 12,   /* slot free (VPU NOP after the reduction) -> the RECV into that slot */
  S_RA = 14,  /* AG RECV done -> the SEND that forwards it */
};
#define NO_SEM (-1)

/* ---- descriptors: planned first, then issued ----
 * The plan is built in two passes before the collective starts (the first counts, the second
 * fills a malloc'd array), so the timed part only pushes addresses (PUSH_ADDR, a few cycles per
 * descriptor) and the control core never holds the engines back. */

static mx_desc_t g_d;
static mx_desc_t* g_plan;  /* NULL: counting pass */
static uint8_t* g_planq;
static uint32_t g_nplan;

static void emit(uint32_t queue) {
  if (g_plan) {
    g_plan[g_nplan] = g_d;
    g_planq[g_nplan] = (uint8_t)queue;
  }
  ++g_nplan;
}

static inline uint32_t hdr(uint32_t opcode, int wait, int signal) {
  uint32_t w = opcode;
  if (wait >= 0) w |= ((uint32_t)wait << 8) | (1u << 14) | (1u << 22);
  if (signal >= 0) w |= (1u << 15) | ((uint32_t)signal << 16);
  return w;
}

static void push_ici(uint32_t opcode, uint32_t peer, uint32_t tag, uint32_t vmem, uint32_t bytes,
                     int wait, int signal) {
  g_d.w[0] = hdr(opcode, wait, signal);
  g_d.w[1] = peer;
  g_d.w[2] = tag;
  g_d.w[3] = vmem;
  g_d.w[4] = 0;
  g_d.w[5] = bytes;
  g_d.w[6] = g_d.w[7] = g_d.w[8] = g_d.w[9] = g_d.w[10] = g_d.w[11] = g_d.w[12] = g_d.w[13] = 0;
  emit(MX_Q_ICI);
}

static void push_nop(uint32_t queue, int wait, int signal) {
  g_d.w[0] = hdr(0, wait, signal);
  emit(queue);
}

static void push_dma(uint64_t src, uint64_t dst, uint32_t bytes, int wait, int signal) {
  g_d.w[0] = hdr(MX_OP_DMA_COPY, wait, signal);
  g_d.w[1] = (uint32_t)src;
  g_d.w[2] = (uint32_t)(src >> 32);
  g_d.w[3] = (uint32_t)dst;
  g_d.w[4] = (uint32_t)(dst >> 32);
  g_d.w[5] = bytes;
  g_d.w[6] = 1;
  g_d.w[7] = 1;
  g_d.w[8] = g_d.w[9] = g_d.w[10] = g_d.w[11] = g_d.w[12] = g_d.w[13] = 0;
  emit(MX_Q_DMA);
}

/* z = x (op) y over `cols` elements, one row (VMEM addresses). */
static void push_vpu(uint32_t func, uint32_t x, uint32_t y, uint32_t z, uint32_t cols, int wait,
                     int signal) {
  g_d.w[0] = hdr(MX_OP_VPU_OP, wait, signal);
  g_d.w[1] = func;
  g_d.w[2] = x;
  g_d.w[3] = 0;
  g_d.w[4] = y;
  g_d.w[5] = 0;
  g_d.w[6] = z;
  g_d.w[7] = 0;
  g_d.w[8] = 1;
  g_d.w[9] = cols;
  g_d.w[10] = g_d.w[11] = g_d.w[12] = g_d.w[13] = 0;
  emit(MX_Q_VPU);
}

/* ---- the plan ---- */

/* A range of elements of the whole vector. */
typedef struct {
  uint32_t off, len;
} span_t;

/* One ring: `n` members; member p is chip member[p]... computed by a function of the ring. */
typedef struct {
  uint32_t n;      /* members */
  uint32_t pos;    /* this chip's position */
  uint32_t gray;   /* 1: the whole pod in reflected Gray-code order; 0: the line along `dim` */
  uint32_t dim;    /* torus: the dimension */
} ring_t;

/* One pipeline: a ring collective over a block of the vector, in one or two directions. */
typedef struct {
  uint32_t kind;
  ring_t ring;
  span_t block;
  uint32_t ndir;
  uint32_t tag;  /* direction d uses tag + d */
  uint32_t base, rem;  /* block.len = base * n + rem: shard q has base + (q < rem) elements */
} pipe_t;

static uint32_t g_shape[3], g_coord[3], g_me, g_chips;

/* The chip at position p of a ring. */
static uint32_t ring_chip(const ring_t* r, uint32_t p) {
  if (r->gray) {
    /* Reflected mixed-radix Gray code, digits (z, y, x) most significant first: consecutive
     * positions are neighbours on the torus. */
    const uint32_t X = g_shape[0], Y = g_shape[1];
    const uint32_t dz = p / (X * Y), rem = p % (X * Y), dy = rem / X, dx = rem % X;
    const uint32_t y = (dz & 1u) ? Y - 1u - dy : dy;
    const uint32_t x = ((dz * Y + dy) & 1u) ? X - 1u - dx : dx;
    return x + X * (y + Y * dz);
  }
  uint32_t c[3] = {g_coord[0], g_coord[1], g_coord[2]};
  c[r->dim] = p;
  return c[0] + g_shape[0] * (c[1] + g_shape[1] * c[2]);
}

/* The position of this chip in a Gray ring. */
static uint32_t gray_pos(void) {
  const uint32_t X = g_shape[0], Y = g_shape[1];
  const uint32_t x = g_coord[0], y = g_coord[1], z = g_coord[2];
  const uint32_t dy = (z & 1u) ? Y - 1u - y : y;
  const uint32_t dx = ((z * Y + dy) & 1u) ? X - 1u - x : x;
  return dx + X * (dy + Y * z);
}

/* Shard q (by shard index) of a pipeline's block. */
static span_t shard(const pipe_t* pp, uint32_t q) {
  span_t s;
  s.off = pp->block.off + q * pp->base + (q < pp->rem ? q : pp->rem);
  s.len = pp->base + (q < pp->rem ? 1u : 0u);
  return s;
}

/* The shard index that the segment labelled q (ring positions) stands for. */
static uint32_t shard_index(const pipe_t* pp, uint32_t position) {
  return pp->ring.gray ? ring_chip(&pp->ring, position) : position;
}

/* Segment `label` of direction d: the first (d = 0) or second (d = 1) half of a shard. Direction
 * 1 runs the ring backwards: its label q is ring position (n - q) mod n. */
static span_t segment(const pipe_t* pp, uint32_t d, uint32_t label) {
  const uint32_t n = pp->ring.n;
  const uint32_t position = d == 0 ? label : (n - label) % n;
  span_t s = shard(pp, shard_index(pp, position));
  if (pp->ndir == 1) return s;
  const uint32_t a = (s.len + 1u) / 2u;
  if (d == 0) {
    s.len = a;
  } else {
    s.off += a;
    s.len -= a;
  }
  return s;
}

/* ---- the issue loop ---- */

typedef struct {
  uint32_t op, ebytes, chunk_elems, vfunc;
  uint32_t local;    /* VMEM address of element 0 of the whole vector */
  uint32_t slot[2];  /* VMEM address of direction d's slot ring */
  uint32_t nslot, slot_bytes;
  uint64_t x_hbm, y_hbm;  /* space addresses */
  uint32_t x_base, y_base; /* element index of X[0] and of Y[0] in the whole vector */
  uint32_t vpu_count[2], rs_recv_count[2];
  int first_vpu_waits_lv;
} ctx_t;

static uint32_t mod(int32_t a, uint32_t n) {
  const int32_t r = a % (int32_t)n;
  return (uint32_t)(r < 0 ? r + (int32_t)n : r);
}

static uint32_t nchunks(const ctx_t* c, span_t s) {
  return (s.len + c->chunk_elems - 1u) / c->chunk_elems;
}

/* Chunk j of a span. */
static span_t chunk_of(const ctx_t* c, span_t s, uint32_t j) {
  span_t r;
  r.off = s.off + j * c->chunk_elems;
  r.len = s.len - j * c->chunk_elems;
  if (r.len > c->chunk_elems) r.len = c->chunk_elems;
  return r;
}

static uint32_t vmem_of(const ctx_t* c, uint32_t elem) {
  return c->local + elem * c->ebytes;
}

/* Stores a final chunk of LOCAL to Y. */
static void store(const ctx_t* c, span_t ch, int wait) {
  push_dma(MX_SPACE_VMEM + vmem_of(c, ch.off),
           c->y_hbm + (uint64_t)(ch.off - c->y_base) * c->ebytes, ch.len * c->ebytes, wait,
           NO_SEM);
}

/* The reduction of received chunk `ch` (direction d) into LOCAL, and the slot's release. */
static void reduce(ctx_t* c, uint32_t d, span_t ch, int signal) {
  if (c->first_vpu_waits_lv) {
    push_nop(MX_Q_VPU, S_LV, NO_SEM);
    c->first_vpu_waits_lv = 0;
  }
  const uint32_t slot = c->slot[d] + (c->vpu_count[d]++ % c->nslot) * c->slot_bytes;
  const uint32_t at = vmem_of(c, ch.off);
  push_vpu(c->vfunc, at, slot, at, ch.len, S_R + (int)d, signal);
  push_nop(MX_Q_VPU, NO_SEM, S_F + (int)d);
}

/* Issues one pipeline. first: its step-0 sends wait for the loads; else the first one waits on
 * `barrier`. last: its final chunks are stored to Y. */
static void run_pipe(ctx_t* c, const pipe_t* pp, int first, int barrier, int last) {
  const uint32_t n = pp->ring.n, r = pp->ring.pos;
  const uint32_t rs_steps = pp->kind == KIND_AG ? 0u : n - 1u;
  const uint32_t steps = pp->kind == KIND_RSAG ? 2u * (n - 1u) : n - 1u;
  uint32_t next[2], prev[2], pos[2];
  for (uint32_t d = 0; d < pp->ndir; ++d) {
    pos[d] = d == 0 ? r : (n - r) % n;
    /* Direction 0 sends to position r + 1, direction 1 to r - 1. */
    next[d] = ring_chip(&pp->ring, d == 0 ? (r + 1u) % n : (r + n - 1u) % n);
    prev[d] = ring_chip(&pp->ring, d == 0 ? (r + n - 1u) % n : (r + 1u) % n);
  }
  int pending_barrier = first ? NO_SEM : barrier;
  for (uint32_t m = 0; m <= steps; ++m) {
    /* Step m: the reduction of what step m - 1 received (RS), the receive of step m, the send of
     * step m. m == steps: only the reductions of the last step's receives. */
    span_t snd[2], rcv[2], red[2];
    uint32_t ks[2] = {0, 0}, kr[2] = {0, 0}, kv[2] = {0, 0}, kmax = 0;
    const int rs_send = m < rs_steps;                 /* step m sends an RS partial (or m = 0) */
    const int rs_recv = m < rs_steps;                 /* step m receives an RS partial */
    const int reduce_prev = m >= 1 && m - 1u < rs_steps; /* step m - 1 received an RS partial */
    for (uint32_t d = 0; d < pp->ndir; ++d) {
      if (m < steps) {
        const uint32_t sl = rs_send ? mod((int32_t)pos[d] - (int32_t)m - 1, n)
                                    : mod((int32_t)pos[d] - (int32_t)(m - rs_steps), n);
        const uint32_t rl = rs_recv ? mod((int32_t)pos[d] - (int32_t)m - 2, n)
                                    : mod((int32_t)pos[d] - (int32_t)(m - rs_steps) - 1, n);
        snd[d] = segment(pp, d, sl);
        rcv[d] = segment(pp, d, rl);
        ks[d] = nchunks(c, snd[d]);
        kr[d] = nchunks(c, rcv[d]);
      }
      if (reduce_prev) {
        const uint32_t pl = mod((int32_t)pos[d] - (int32_t)(m - 1u) - 2, n);
        red[d] = segment(pp, d, pl);
        kv[d] = nchunks(c, red[d]);
      }
      if (ks[d] > kmax) kmax = ks[d];
      if (kr[d] > kmax) kmax = kr[d];
      if (kv[d] > kmax) kmax = kv[d];
    }
    for (uint32_t j = 0; j < kmax; ++j) {
      /* 1. Reductions (VPU) of step m - 1's chunk j. */
      for (uint32_t d = 0; d < pp->ndir; ++d) {
        if (j >= kv[d]) continue;
        const span_t ch = chunk_of(c, red[d], j);
        int signal = S_V + (int)d; /* the send of step m forwards it */
        if (m == steps) signal = (last && c->op == OP_REDUCE_SCATTER) ? S_VST : NO_SEM;
        reduce(c, d, ch, signal);
        if (signal == S_VST) store(c, ch, S_VST);
      }
      if (m == steps) continue;
      /* 2. Receives of step m's chunk j. */
      for (uint32_t d = 0; d < pp->ndir; ++d) {
        if (j >= kr[d]) continue;
        const span_t ch = chunk_of(c, rcv[d], j);
        const uint32_t bytes = ch.len * c->ebytes;
        if (rs_recv) {
          const uint32_t slot = c->slot[d] + (c->rs_recv_count[d]++ % c->nslot) * c->slot_bytes;
          push_ici(MX_OP_ICI_RECV, prev[d], pp->tag + d, slot, bytes, S_F + (int)d, S_R + (int)d);
        } else {
          const uint32_t t = m - rs_steps; /* all-gather step */
          const int forwarded = t + 2u < n;
          push_ici(MX_OP_ICI_RECV, prev[d], pp->tag + d, vmem_of(c, ch.off), bytes, NO_SEM,
                   forwarded ? S_RA + (int)d : NO_SEM);
          if (last) {
            push_nop(MX_Q_ICI, NO_SEM, S_ST);  /* retires with the RECV */
            store(c, ch, S_ST);
          }
        }
      }
      /* 3. Sends of step m's chunk j. */
      for (uint32_t d = 0; d < pp->ndir; ++d) {
        if (j >= ks[d]) continue;
        const span_t ch = chunk_of(c, snd[d], j);
        int wait;
        if (m == 0) {
          wait = first ? S_LS : pending_barrier;
          pending_barrier = NO_SEM;
        } else if (m <= rs_steps) {
          wait = S_V + (int)d; /* reduced at step m - 1 */
        } else {
          wait = S_RA + (int)d; /* received at step m - 1 */
        }
        const int own_final = last && c->op != OP_REDUCE_SCATTER && m == rs_steps;
        push_ici(MX_OP_ICI_SEND, next[d], pp->tag + d, vmem_of(c, ch.off), ch.len * c->ebytes,
                 wait, own_final ? S_ST : NO_SEM);
        if (own_final) store(c, ch, S_ST);
      }
    }
  }
}

/* The whole collective's descriptors, in issue order (emit). */
static void plan(ctx_t* c, const pipe_t* pipes, uint32_t npipes, uint32_t ndir, uint32_t x_elems,
                 uint32_t x_bytes) {
  c->vpu_count[0] = c->vpu_count[1] = 0;
  c->rs_recv_count[0] = c->rs_recv_count[1] = 0;
  c->first_vpu_waits_lv = 0;
  g_nplan = 0;
  if (npipes == 0) {
    /* One chip (or nothing to exchange): the result is the input. */
    if (x_elems > 0) push_dma(c->x_hbm, c->y_hbm, x_elems * c->ebytes, NO_SEM, NO_SEM);
  } else {
    /* Loads: the first pipeline's step-0 chunks first (each releases its SEND), then the rest
     * of the input (the reductions wait for it). */
    const pipe_t* p0 = &pipes[0];
    const uint32_t rs0 = p0->kind == KIND_AG ? 0u : 1u;
    span_t s0[2];
    uint32_t k0[2] = {0, 0}, k0max = 0;
    for (uint32_t d = 0; d < ndir; ++d) {
      const uint32_t pos = d == 0 ? p0->ring.pos : (p0->ring.n - p0->ring.pos) % p0->ring.n;
      s0[d] = segment(p0, d, mod((int32_t)pos - (int32_t)rs0, p0->ring.n));
      k0[d] = nchunks(c, s0[d]);
      if (k0[d] > k0max) k0max = k0[d];
    }
    for (uint32_t j = 0; j < k0max; ++j) {
      for (uint32_t d = 0; d < ndir; ++d) {
        if (j >= k0[d]) continue;
        const span_t ch = chunk_of(c, s0[d], j);
        push_dma(c->x_hbm + (uint64_t)(ch.off - c->x_base) * c->ebytes,
                 MX_SPACE_VMEM + vmem_of(c, ch.off), ch.len * c->ebytes, NO_SEM, S_LS);
      }
    }
    if (c->op != OP_ALL_GATHER) {
      push_dma(c->x_hbm, MX_SPACE_VMEM + c->local, x_bytes, NO_SEM, S_LV);
      c->first_vpu_waits_lv = 1;
    }
    for (uint32_t i = 0; i < npipes; ++i) {
      const pipe_t* p = &pipes[i];
      int barrier = NO_SEM;
      if (i > 0) {
        /* The previous phase's results are this phase's data: wait until they are all there
         * (in-order queues: a NOP after its last reduction or receive). */
        if (pipes[i - 1u].kind == KIND_RS) {
          push_nop(MX_Q_VPU, NO_SEM, S_BARV);
          barrier = S_BARV;
        } else {
          push_nop(MX_Q_ICI, NO_SEM, S_BARI);
          barrier = S_BARI;
        }
      }
      run_pipe(c, p, i == 0, barrier, i + 1u == npipes);
    }
  }
}

/* A dissemination barrier over the ICI: in round k each chip signals chip (me + 2^k) mod n and
 * waits for chip (me - 2^k) mod n; after ceil(log2 n) rounds every chip has heard, directly or
 * not, from every other. Four-byte messages on tags 100 + k (the pipelines use 1 .. 16), into
 * LOCAL's first bytes (the collective is over: its results are in Y). */
static void barrier(void) {
  const uint32_t n = g_chips, me = g_me;
  for (uint32_t k = 0, step = 1; step < n; ++k, step *= 2u) {
    mx_ici_send((me + step) % n, 100u + k, MX_SPACE_VMEM, 4, mx_sync_none());
    mx_ici_recv((me + n - step) % n, 100u + k, MX_SPACE_VMEM + 64u, 4, mx_sync_none());
    if (mx_fence() != 0) return;
  }
}

static uint64_t cycle(void) {
  uint32_t hi, lo;
  do {
    hi = mx_ctrl(MX_CTRL_CYCLE_HI);
    lo = mx_ctrl(MX_CTRL_CYCLE_LO);
  } while (hi != mx_ctrl(MX_CTRL_CYCLE_HI));
  return ((uint64_t)hi << 32) | lo;
}

int main(void) {
  if (!mx_abi_ok()) return E_ARGS;
  ctx_t c = {0};
  c.op = mx_scalar("op", OP_ALLREDUCE);
  const uint32_t algo = mx_scalar("algo", ALGO_RING), dtype = mx_scalar("dtype", 0),
                 red = mx_scalar("reduce", 0);
  uint32_t chunk = mx_scalar("chunk", 32768);
  if (c.op > OP_ALL_GATHER || algo > ALGO_TORUS || dtype > 1 || red > 1) {
    printf("collective: error: op %u algo %u dtype %u reduce %u: out of range\n", (unsigned)c.op,
           (unsigned)algo, (unsigned)dtype, (unsigned)red);
    return E_ARGS;
  }
  c.ebytes = dtype ? 2u : 4u;
  chunk &= ~63u;
  if (chunk < 64u) chunk = 64u;
  c.chunk_elems = chunk / c.ebytes;
  c.vfunc = dtype ? (red ? MX_VPU_FN_MAX_BF16 : MX_VPU_FN_ADD_BF16)
                  : (red ? MX_VPU_FN_MAX : MX_VPU_FN_ADD);
  g_me = mx_chip_index();
  g_chips = mx_num_chips();
  for (uint32_t i = 0; i < 3; ++i) {
    g_shape[i] = mx_ctrl(MX_CTRL_POD_X + 4u * i);
    g_coord[i] = mx_chip_coord(i);
  }
  const mx_tensor_t tx = mx_find("X");
  if (!tx.entry) {
    printf("collective: error: launch block lacks X\n");
    return E_ARGS;
  }
  const uint32_t x_dtype = mx_launch_u32(tx.entry, MX_LAUNCH_E_DTYPE);
  const uint32_t x_bytes = mx_launch_u32(tx.entry, MX_LAUNCH_E_BYTES);
  if (x_dtype != (dtype ? MX_DTYPE_U8 : MX_DTYPE_F32) || x_bytes % c.ebytes != 0) {
    printf("collective: error: X must be %s\n",
           dtype ? "uint8 holding BF16 bit patterns (even bytes)" : "float32");
    return E_ARGS;
  }
  const uint32_t x_elems = x_bytes / c.ebytes;

  /* The pipelines: the dimensions used, the blocks they work on. */
  pipe_t pipes[8];
  uint32_t npipes = 0;
  ring_t rings[3];
  uint32_t nrings = 0;
  if (algo == ALGO_TORUS) {
    for (uint32_t d = 0; d < 3; ++d) {
      if (g_shape[d] < 2) continue;
      ring_t* rg = &rings[nrings++];
      rg->n = g_shape[d];
      rg->pos = g_coord[d];
      rg->gray = 0;
      rg->dim = d;
    }
  } else if (g_chips > 1) {
    ring_t* rg = &rings[nrings++];
    rg->n = g_chips;
    rg->pos = gray_pos();
    rg->gray = 1;
    rg->dim = 0;
  }
  const uint32_t ndir = algo == ALGO_RING ? 1u : 2u;
  /* Blocks: B0 = the whole vector, B(i+1) = this chip's shard of Bi along ring i. For all-gather
   * the whole vector's length is Y's (or the scalar n). */
  uint32_t total = x_elems;
  mx_tensor_t ty = mx_find("Y");
  if (c.op == OP_ALL_GATHER) {
    if (ty.entry) {
      total = mx_launch_u32(ty.entry, MX_LAUNCH_E_BYTES) / c.ebytes;
    } else {
      total = mx_scalar("n", 0);
    }
  }
  span_t blocks[4];
  blocks[0].off = 0;
  blocks[0].len = total;
  for (uint32_t i = 0; i < nrings; ++i) {
    pipe_t tmp = {0};
    tmp.ring = rings[i];
    tmp.block = blocks[i];
    tmp.base = blocks[i].len / rings[i].n;
    tmp.rem = blocks[i].len % rings[i].n;
    blocks[i + 1] = shard(&tmp, shard_index(&tmp, rings[i].pos));
  }
  const span_t own = blocks[nrings];
  const uint32_t y_elems = c.op == OP_REDUCE_SCATTER ? own.len : total;
  if (c.op == OP_ALL_GATHER && x_elems != own.len) {
    printf("collective: error: all-gather of %u elements: X has %u, this chip's shard is %u\n",
           (unsigned)total, (unsigned)x_elems, (unsigned)own.len);
    return E_SIZE;
  }
  if (ty.entry && mx_launch_u32(ty.entry, MX_LAUNCH_E_BYTES) != y_elems * c.ebytes) {
    printf("collective: error: Y holds %u bytes, the result %u\n",
           (unsigned)mx_launch_u32(ty.entry, MX_LAUNCH_E_BYTES), (unsigned)(y_elems * c.ebytes));
    return E_SIZE;
  }
  /* Outputs the runner did not allocate: after its tensors. */
  const uint64_t free_at = mx_hbm_free();
  if (!ty.entry) {
    const uint32_t shape[1] = {dtype ? y_elems * 2u : y_elems};
    if (mx_declare_output("Y", dtype ? MX_DTYPE_U8 : MX_DTYPE_F32, 1, shape, free_at) != 0) {
      return E_ARGS;
    }
    ty = mx_find("Y");
  }
  /* The sequence of pipelines. */
  const uint32_t D = nrings;
  for (uint32_t i = 0; i < D; ++i) {
    if (c.op == OP_ALL_GATHER) break;
    if (c.op == OP_ALLREDUCE && i + 1u == D) break;
    pipe_t* p = &pipes[npipes++];
    p->kind = KIND_RS;
    p->ring = rings[i];
    p->block = blocks[i];
  }
  if (c.op == OP_ALLREDUCE && D > 0) {
    pipe_t* p = &pipes[npipes++];
    p->kind = KIND_RSAG;
    p->ring = rings[D - 1u];
    p->block = blocks[D - 1u];
  }
  for (uint32_t i = D; i-- > 0;) {
    if (c.op == OP_REDUCE_SCATTER) break;
    if (c.op == OP_ALLREDUCE && i + 1u == D) continue;
    pipe_t* p = &pipes[npipes++];
    p->kind = KIND_AG;
    p->ring = rings[i];
    p->block = blocks[i];
  }
  uint32_t kmax = 0;
  for (uint32_t i = 0; i < npipes; ++i) {
    pipe_t* p = &pipes[i];
    p->ndir = ndir;
    p->tag = 1u + 2u * i;
    p->base = p->block.len / p->ring.n;
    p->rem = p->block.len % p->ring.n;
    if (p->kind != KIND_AG) {
      /* The longest segment has base + 1 elements (a half of it, rounded up, in two directions). */
      const uint32_t longest = ndir == 1 ? p->base + 1u : (p->base + 2u) / 2u;
      const uint32_t k = (longest + c.chunk_elems - 1u) / c.chunk_elems;
      if (k > kmax) kmax = k;
    }
  }

  /* VMEM: LOCAL (the whole vector), then the slot rings. A slot is reused one step later at the
   * earliest only when there are more slots than chunks in a step (deadlock freedom: every RECV
   * waits for a slot that an already issued reduction frees); twice that keeps a step's receives
   * from waiting on the previous step's reductions. */
  const uint32_t vmem = mx_ctrl(MX_CTRL_VMEM_BYTES);
  c.local = 0;
  const uint32_t local_bytes = (total * c.ebytes + 255u) & ~255u;
  c.slot_bytes = (c.chunk_elems * c.ebytes + 255u) & ~255u;
  if (kmax > 0) {
    const uint32_t room = local_bytes < vmem ? (vmem - local_bytes) / (ndir * c.slot_bytes) : 0;
    c.nslot = 2u * kmax + 2u;
    if (c.nslot > room) c.nslot = room;
    if (c.nslot < kmax + 1u) {
      printf("collective: error: %u elements do not fit in VMEM with %u-byte chunks\n",
             (unsigned)total, (unsigned)chunk);
      return E_VMEM;
    }
  } else if (local_bytes > vmem) {
    return E_VMEM;
  }
  for (uint32_t d = 0; d < 2; ++d) c.slot[d] = local_bytes + d * c.nslot * c.slot_bytes;

  c.x_hbm = MX_SPACE_HBM + mx_addr(tx);
  c.y_hbm = MX_SPACE_HBM + mx_addr(ty);
  c.x_base = c.op == OP_ALL_GATHER ? own.off : 0;
  c.y_base = c.op == OP_REDUCE_SCATTER ? own.off : 0;

  /* Plan (count, allocate, fill), then issue. */
  g_plan = 0;
  plan(&c, pipes, npipes, ndir, x_elems, x_bytes);
  const uint32_t n = g_nplan;
  g_plan = (mx_desc_t*)malloc((size_t)n * sizeof(mx_desc_t));
  g_planq = (uint8_t*)malloc(n);
  if (!g_plan || !g_planq) {
    printf("collective: error: a plan of %u descriptors does not fit in core RAM (use a larger "
           "chunk)\n",
           (unsigned)n);
    return E_PLAN;
  }
  plan(&c, pipes, npipes, ndir, x_elems, x_bytes);
  /* Issue, and start over from the inputs (never overwritten) whenever the pod was rewired around
   * a failed chip meanwhile (docs/ICI.md, "Faults"): the epoch changed, the ICI engine aborted
   * what was under way and completes every later descriptor without doing it until the new epoch
   * is acknowledged, so the fence returns with the queues drained. A spare that took a failed
   * chip's place starts here too. The barrier keeps every chip from leaving before all are done. */
  uint64_t t0 = 0, t1 = 0;
  uint32_t fault = 0, restarts = 0;
  for (;;) {
    while (mx_ctrl(MX_CTRL_ICI_STATE) != 0) {
      /* the pod is being rewired */
    }
    const uint32_t epoch = mx_ctrl(MX_CTRL_ICI_EPOCH);
    mx_ctrl_write(MX_CTRL_ICI_EPOCH, epoch); /* acknowledge it: the ICI engine works again */
    static const uint32_t kSems[] = {S_LS, S_LV, S_ST, S_VST, S_BARV, S_BARI, S_R, S_R + 1, S_V,
                                     S_V + 1, S_RA, S_RA + 1};
    for (uint32_t i = 0; i < sizeof kSems / sizeof kSems[0]; ++i) mx_sem_set(kSems[i], 0);
    mx_sem_set(S_F, c.nslot);
    mx_sem_set(S_F + 1, c.nslot);
    t0 = cycle();
    for (uint32_t i = 0; i < n; ++i) mx_push(g_planq[i], &g_plan[i]);
    fault = mx_fence();
    t1 = cycle();
    if (fault == 0 && g_chips > 1) barrier();
    if (mx_ctrl(MX_CTRL_ICI_EPOCH) == epoch) break;
    ++restarts;
  }
  if (restarts != 0) printf("collective: restarted %u times (the pod was rewired)\n", (unsigned)restarts);
  printf("collective: cycles %lu %lu\n", (unsigned long)t0, (unsigned long)t1);
  return (int)fault;
}
