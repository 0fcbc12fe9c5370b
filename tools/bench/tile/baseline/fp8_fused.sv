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
module fp8_fused #(
  parameter int unsigned NumPipeRegs = 0
) (
  input  logic              clk_i,
  input  logic              rst_ni,
  input  logic              valid_i,
  input  logic [31:0]       acc_i,    // FP32 partial sum
  input  fp8_pkg::fp8_fmt_e fmt_a_i,
  input  logic [7:0]        a_i,
  input  fp8_pkg::fp8_fmt_e fmt_b_i,
  input  logic [7:0]        b_i,
  input  logic [7:0]        sa_i,     // UE8M0 scale of a
  input  logic [7:0]        sb_i,     // UE8M0 scale of b
  output logic              valid_o,
  output logic [31:0]       res_o
);

  localparam int unsigned ExpBits = fp8_pkg::ExpBits;
  localparam int unsigned SigBits = fp8_pkg::SigBits;
  localparam int unsigned WinBits = 64;   // bit 63 spare, bit 62 carry, bit 0 sticky slot
  localparam int unsigned TopBit = 62;    // window LSB weight 2^(E - TopBit), E = max top

  // Signed constants of the exponent datapath.
  localparam fp8_pkg::exp_t ExpTopBit = $signed(ExpBits'(TopBit));
  localparam fp8_pkg::exp_t ExpScaleBias = $signed(ExpBits'(2 * fp8_pkg::Ue8m0Bias));

  // ------------------------------------------------------------------------------------------
  // Decode
  // ------------------------------------------------------------------------------------------
  fp8_pkg::fp8_dec_t da, db;
  fp8_decode u_dec_a (
    .fmt_i (fmt_a_i),
    .code_i(a_i),
    .dec_o (da)
  );
  fp8_decode u_dec_b (
    .fmt_i (fmt_b_i),
    .code_i(b_i),
    .dec_o (db)
  );

  logic          acc_sign;
  logic [7:0]    acc_e;
  logic [22:0]   acc_m;
  logic          acc_nan, acc_inf, acc_zero;
  logic [23:0]   acc_sig;
  fp8_pkg::exp_t acc_exp;   // -149 .. 104
  logic [7:0]    acc_e_eff; // subnormals share the exponent of the smallest normal
  assign acc_sign = acc_i[31];
  assign acc_e    = acc_i[30:23];
  assign acc_m    = acc_i[22:0];
  assign acc_nan  = (acc_e == 8'hFF) && (acc_m != 23'd0);
  assign acc_inf  = (acc_e == 8'hFF) && (acc_m == 23'd0);
  assign acc_zero = (acc_i[30:0] == 31'd0);
  assign acc_sig  = {acc_e != 8'd0, acc_m};
  assign acc_e_eff = (acc_e == 8'd0) ? 8'd1 : acc_e;
  assign acc_exp  = $signed(ExpBits'(acc_e_eff)) - 11'sd150;

  // Exact term: sig_a * sig_b * 2^(ea + eb + sa + sb - 254); exponent -288 .. 278.
  logic                 t_sign;
  logic [2*SigBits-1:0] t_sig;
  fp8_pkg::exp_t        t_exp;
  assign t_sign = da.sign ^ db.sign;
  assign t_sig  = da.sig * db.sig;
  assign t_exp  = da.exp + db.exp + $signed(ExpBits'(sa_i)) + $signed(ExpBits'(sb_i))
                - ExpScaleBias;

  // ------------------------------------------------------------------------------------------
  // Align into the window
  // ------------------------------------------------------------------------------------------
  fp8_pkg::exp_t top_c, top_t, win_e, win_lsb, off_c, off_t;
  assign top_c   = acc_exp + 11'sd24;
  assign top_t   = t_exp + $signed(ExpBits'(2 * SigBits));
  assign win_e   = (top_c > top_t) ? top_c : top_t;
  assign win_lsb = win_e - ExpTopBit;  // exponent of window bit 0
  assign off_c   = acc_exp - win_lsb;  // <= 38
  assign off_t   = t_exp - win_lsb;    // <= 54

  // Places mag (bit width <= 24) at bit `off`, or shifts it right into bits >= 1 with the lost
  // bits ORed into the sticky slot (bit 0).
  function automatic logic [WinBits-1:0] place(logic [23:0] mag, fp8_pkg::exp_t off);
    logic [WinBits-1:0] wide;
    logic [ExpBits-1:0] r;
    wide = {40'd0, mag};
    r = ExpBits'(11'sd1 - off);  // right shift when off < 1
    if (off >= 11'sd1) begin
      place = wide << off;
    end else if (r >= ExpBits'(25)) begin
      place = {63'd0, mag != 24'd0};
    end else begin
      place = ((wide >> r) << 1) | {63'd0, (wide & ((64'd1 << r) - 64'd1)) != 64'd0};
    end
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
  logic [6:0]    lz;
  fp8_pkg::exp_t lead_e, q_e, rq;
  assign lz     = fp8_pkg::lzc64(sum);
  // Exponent of the leading bit; weight of window bit i is 2^(win_lsb + i).
  assign lead_e = win_lsb + 11'sd63 - $signed(ExpBits'(lz));
  assign q_e    = (lead_e >= -11'sd126) ? lead_e - 11'sd23 : -11'sd149;
  assign rq     = q_e - win_lsb;  // window bit of the result's LSB

  logic [WinBits-1:0] q_mag;   // rounded significand (<= 2^24)
  always_comb begin : p_round
    logic [WinBits-1:0] rem, half;
    q_mag = '0;
    rem = '0;
    half = '0;
    if (rq <= 11'sd0) begin
      q_mag = sum << (-rq);  // exact: only reached after cancellation, no sticky
    end else if (rq < $signed(ExpBits'(WinBits))) begin
      q_mag = sum >> rq;
      rem   = sum & ((64'd1 << rq) - 64'd1);
      half  = 64'd1 << (rq - 11'sd1);
      if (rem > half || (rem == half && q_mag[0])) q_mag = q_mag + 64'd1;
    end
  end

  logic [WinBits-1:0] packed_mag;  // biased exponent and mantissa in one add (carry rolls over)
  logic [31:0]        rounded;
  assign packed_mag = ({53'd0, ExpBits'(q_e + 11'sd149)} << 23) + q_mag;
  always_comb begin : p_pack
    if (q_mag == '0) rounded = {sum_sign, 31'd0};
    else if (packed_mag >= {33'd0, fp8_pkg::F32InfMag}) rounded = {sum_sign, fp8_pkg::F32InfMag};
    else rounded = {sum_sign, packed_mag[30:0]};
  end

  // ------------------------------------------------------------------------------------------
  // Special cases
  // ------------------------------------------------------------------------------------------
  logic        any_nan, t_inf, t_zero;
  logic [31:0] res_d;
  assign any_nan = acc_nan || da.is_nan || db.is_nan || (sa_i == fp8_pkg::Ue8m0Nan)
                || (sb_i == fp8_pkg::Ue8m0Nan);
  assign t_inf   = da.is_inf || db.is_inf;
  assign t_zero  = da.is_zero || db.is_zero;
  always_comb begin : p_special
    if (any_nan) begin
      res_d = fp8_pkg::F32CanonicalNan;
    end else if (t_inf) begin
      if (t_zero || (acc_inf && (acc_sign != t_sign))) res_d = fp8_pkg::F32CanonicalNan;
      else res_d = {t_sign, fp8_pkg::F32InfMag};
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
    logic [NumPipeRegs-1:0]    valid_q;
    logic [32*NumPipeRegs-1:0] res_q;  // stage i in bits [32i+31:32i]
    always_ff @(posedge clk_i or negedge rst_ni) begin
      if (!rst_ni) valid_q <= '0;
      else valid_q <= NumPipeRegs'({valid_q, valid_i});
    end
    always_ff @(posedge clk_i) begin
      res_q <= (32*NumPipeRegs)'({res_q, res_d});
    end
    assign valid_o = valid_q[NumPipeRegs-1];
    assign res_o   = res_q[32*NumPipeRegs-1 -: 32];
  end

endmodule
