// The MXU's fused step (DESIGN §3): res = RNE_fp32(acc + a * b * 2^(sa + sb - 254)).
//
// The product of the two FP8 significands and the scaling are exact; the sum with the FP32
// partial sum is formed exactly in a 63-bit window (plus a sticky bit) and rounded once to FP32
// with gradual underflow and overflow to +-Inf. NaN in (any NaN element, NaN scale 0xFF, NaN
// partial sum, Inf * 0, Inf - Inf) gives the canonical NaN 0x7FC00000. No flush to zero.
//
// Why the window is enough: the larger operand is placed with its top at bit 61, so the rounding
// point of any result whose leading bit is within the window's upper half lies >= 36 bits above
// the sticky slot (bit 0). An operand shifted below bit 1 only contributes a sticky bit, which
// stands in for any value strictly between two multiples of the slot; that never changes an RNE
// decision that sits >= 2 bits higher. Exact cancellation can only occur without sticky.
//
// NumPipeRegs output register stages follow the combinational datapath (synthesis retiming may
// distribute them); the latency is NumPipeRegs cycles and valid_i travels along.
module fp8_fused import fp8_pkg::*; #(
  parameter int unsigned NumPipeRegs = 0
) (
  input  logic        clk_i,
  input  logic        rst_ni,
  input  logic        valid_i,
  input  logic [31:0] acc_i,    // FP32 partial sum
  input  fp8_fmt_e    fmt_a_i,
  input  logic [7:0]  a_i,
  input  fp8_fmt_e    fmt_b_i,
  input  logic [7:0]  b_i,
  input  logic [7:0]  sa_i,     // UE8M0 scale of a
  input  logic [7:0]  sb_i,     // UE8M0 scale of b
  output logic        valid_o,
  output logic [31:0] res_o
);

  localparam int unsigned WinBits = 64;   // bit 63 spare, bit 62 carry, bit 0 sticky slot
  localparam int unsigned TopBit = 62;    // window LSB weight 2^(E - TopBit), E = max top

  // ------------------------------------------------------------------------------------------
  // Decode
  // ------------------------------------------------------------------------------------------
  fp8_dec_t da, db;
  assign da = fp8_decode(fmt_a_i, a_i);
  assign db = fp8_decode(fmt_b_i, b_i);

  logic        acc_sign;
  logic [7:0]  acc_e;
  logic [22:0] acc_m;
  logic        acc_nan, acc_inf, acc_zero;
  logic [23:0] acc_sig;
  exp_t        acc_exp;   // -149 .. 104
  assign acc_sign = acc_i[31];
  assign acc_e    = acc_i[30:23];
  assign acc_m    = acc_i[22:0];
  assign acc_nan  = (acc_e == 8'hFF) && (acc_m != 23'd0);
  assign acc_inf  = (acc_e == 8'hFF) && (acc_m == 23'd0);
  assign acc_zero = (acc_i[30:0] == 31'd0);
  assign acc_sig  = {acc_e != 8'd0, acc_m};
  assign acc_exp  = (acc_e == 8'd0) ? exp_t'(-149) : exp_t'({3'b000, acc_e}) - exp_t'(150);

  // Exact term: sig_a * sig_b * 2^(ea + eb + sa + sb - 254); exponent -288 .. 278.
  logic                 t_sign;
  logic [2*SigBits-1:0] t_sig;
  exp_t                 t_exp;
  assign t_sign = da.sign ^ db.sign;
  assign t_sig  = da.sig * db.sig;
  assign t_exp  = da.exp + db.exp + exp_t'({3'b000, sa_i}) + exp_t'({3'b000, sb_i})
                - exp_t'(2 * Ue8m0Bias);

  // ------------------------------------------------------------------------------------------
  // Align into the window
  // ------------------------------------------------------------------------------------------
  exp_t top_c, top_t, win_e, off_c, off_t;
  assign top_c = acc_exp + exp_t'(24);
  assign top_t = t_exp + exp_t'(2 * SigBits);
  assign win_e = (top_c > top_t) ? top_c : top_t;
  assign off_c = acc_exp - (win_e - exp_t'(TopBit));  // <= 38
  assign off_t = t_exp - (win_e - exp_t'(TopBit));    // <= 54

  // Places mag (bit width <= 24) at bit `off`, or shifts it right into bits >= 1 with the lost
  // bits ORed into the sticky slot (bit 0).
  function automatic logic [WinBits-1:0] place(logic [23:0] mag, exp_t off);
    logic [WinBits-1:0] wide;
    int                 r;
    wide = {40'd0, mag};
    if (off >= exp_t'(1)) return wide << off;
    r = 1 - int'(off);
    if (r >= 25) return {63'd0, mag != 24'd0};
    return ((wide >> r) << 1) | {63'd0, (wide & ((64'd1 << r) - 64'd1)) != 64'd0};
  endfunction

  logic [WinBits-1:0] mc, mt;
  assign mc = place(acc_sig, off_c);
  assign mt = place({16'd0, t_sig}, off_t);

  // ------------------------------------------------------------------------------------------
  // Add / subtract
  // ------------------------------------------------------------------------------------------
  logic               eff_sub, t_big;
  logic [WinBits-1:0] sum;
  logic               sum_sign;
  assign eff_sub  = acc_sign ^ t_sign;
  assign t_big    = mt > mc;
  assign sum      = !eff_sub ? (mc + mt) : (t_big ? (mt - mc) : (mc - mt));
  assign sum_sign = !eff_sub ? acc_sign : (t_big ? t_sign : acc_sign);

  // ------------------------------------------------------------------------------------------
  // Normalise and round (RNE) to FP32
  // ------------------------------------------------------------------------------------------
  logic [6:0] lz;
  exp_t       lead_e, q_e, rq;
  assign lz     = lzc64(sum);
  // Exponent of the leading bit; weight of window bit i is 2^(win_e - TopBit + i).
  assign lead_e = win_e - exp_t'(TopBit) + exp_t'(63) - exp_t'({4'd0, lz});
  assign q_e    = (lead_e >= exp_t'(-126)) ? lead_e - exp_t'(23) : exp_t'(-149);
  assign rq     = q_e - (win_e - exp_t'(TopBit));  // window bit of the result's LSB

  logic [WinBits-1:0] q_mag;   // rounded significand (<= 2^24)
  always_comb begin
    logic [WinBits-1:0] rem, half;
    q_mag = '0;
    rem = '0;
    half = '0;
    if (rq <= exp_t'(0)) begin
      q_mag = sum << (-rq);  // exact: only reached after cancellation, no sticky
    end else if (rq < exp_t'(WinBits)) begin
      q_mag = sum >> rq;
      rem   = sum & ((64'd1 << rq) - 64'd1);
      half  = 64'd1 << (rq - exp_t'(1));
      if (rem > half || (rem == half && q_mag[0])) q_mag = q_mag + 64'd1;
    end
  end

  logic [WinBits-1:0] packed_mag;  // biased exponent and mantissa in one add (carry rolls over)
  logic [31:0]        rounded;
  assign packed_mag = ({53'd0, 11'(q_e + exp_t'(149))} << 23) + q_mag;
  always_comb begin
    if (q_mag == '0) rounded = {sum_sign, 31'd0};
    else if (packed_mag >= {33'd0, 31'h7F80_0000}) rounded = {sum_sign, 31'h7F80_0000};
    else rounded = {sum_sign, packed_mag[30:0]};
  end

  // ------------------------------------------------------------------------------------------
  // Special cases
  // ------------------------------------------------------------------------------------------
  logic        any_nan, t_inf, t_zero;
  logic [31:0] res_d;
  assign any_nan = acc_nan || da.is_nan || db.is_nan || (sa_i == Ue8m0Nan) || (sb_i == Ue8m0Nan);
  assign t_inf   = da.is_inf || db.is_inf;
  assign t_zero  = da.is_zero || db.is_zero;
  always_comb begin
    if (any_nan) begin
      res_d = F32CanonicalNan;
    end else if (t_inf) begin
      if (t_zero || (acc_inf && (acc_sign != t_sign))) res_d = F32CanonicalNan;
      else res_d = {t_sign, F32InfMag};
    end else if (acc_inf) begin
      res_d = acc_i;
    end else if (t_zero) begin
      // acc + (+-0): the IEEE sum; two zeros give -0 only if both are -0.
      res_d = acc_zero ? {acc_sign & t_sign, 31'd0} : acc_i;
    end else if (sum == '0) begin
      res_d = 32'd0;  // exact cancellation -> +0
    end else begin
      res_d = rounded;
    end
  end

  // ------------------------------------------------------------------------------------------
  // Output pipeline
  // ------------------------------------------------------------------------------------------
  if (NumPipeRegs == 0) begin : gen_comb
    assign valid_o = valid_i;
    assign res_o   = res_d;
    // clk_i/rst_ni are only used by the registered variants.
    logic unused_clk;
    assign unused_clk = clk_i ^ rst_ni;
  end else begin : gen_pipe
    logic [NumPipeRegs-1:0]       valid_q;
    logic [NumPipeRegs-1:0][31:0] res_q;
    always_ff @(posedge clk_i or negedge rst_ni) begin
      if (!rst_ni) valid_q <= '0;
      else valid_q <= NumPipeRegs'({valid_q, valid_i});
    end
    always_ff @(posedge clk_i) begin
      res_q[0] <= res_d;
      for (int unsigned i = 1; i < NumPipeRegs; i++) res_q[i] <= res_q[i-1];
    end
    assign valid_o = valid_q[NumPipeRegs-1];
    assign res_o   = res_q[NumPipeRegs-1];
  end

endmodule
