// FP32 -> E4M3 / E5M2 with round-to-nearest-even (DESIGN §3; equals CUDA's
// __nv_cvt_float_to_fp8). sat_i = SatFinite: overflow and +-Inf give +-max finite; NonSat: E4M3
// overflow gives NaN (S.1111.111), E5M2 overflow gives +-Inf. NaN in gives the code 0x7F (sign
// dropped). Works on the integer significand and exponent, so there is exactly one rounding.
// Combinational; the format is a runtime input (both table rows are built, the format selects).
module fp8_from_fp32 import fp8_pkg::*; (
  input  logic [31:0] f32_i,
  input  fp8_fmt_e    fmt_i,
  input  sat_mode_e   sat_i,
  output logic [7:0]  code_o
);

  logic        sign;
  logic [7:0]  e_f;
  logic [22:0] m_f;
  logic        is_nan, is_inf;
  logic [23:0] sig;
  exp_t        p;    // exponent of sig's LSB
  exp_t        top;  // exponent of sig's leading bit
  assign sign   = f32_i[31];
  assign e_f    = f32_i[30:23];
  assign m_f    = f32_i[22:0];
  assign is_nan = (e_f == 8'hFF) && (m_f != 23'd0);
  assign is_inf = (e_f == 8'hFF) && (m_f == 23'd0);
  assign sig    = {e_f != 8'd0, m_f};
  assign p      = (e_f == 8'd0) ? exp_t'(-149) : exp_t'({3'b000, e_f}) - exp_t'(150);
  assign top    = p + exp_t'(63) - exp_t'({4'd0, lzc64({40'd0, sig})});

  // Rounds the finite value under one table row; returns the magnitude code (overflow applied).
  // Waiver: the decoder-side fields of the row (exp_bits, has_inf) are not needed here.
  /* verilator lint_off UNUSEDSIGNAL */
  function automatic logic [6:0] encode_row(fp8_fmt_t f, logic [23:0] s, exp_t pe, exp_t te,
                                            sat_mode_e mode);
  /* verilator lint_on UNUSEDSIGNAL */
    exp_t        q, shift;
    logic [31:0] rounded, rem, half;
    logic [31:0] code;
    q = ((te > exp_t'(emin(f.bias))) ? te : exp_t'(emin(f.bias))) - exp_t'(f.man_bits);
    shift = q - pe;  // > 0 for every FP32 input
    rounded = '0;
    if (shift < exp_t'(25)) begin
      rounded = {8'd0, s} >> shift;
      rem = {8'd0, s} & ((32'd1 << shift) - 32'd1);
      half = 32'd1 << (shift - exp_t'(1));
      if (rem > half || (rem == half && rounded[0])) rounded = rounded + 32'd1;
    end  // else: below half the smallest subnormal, rounds to zero
    // Exponent field and mantissa in one add: a mantissa carry rolls into the exponent.
    code = (32'(exp_t'(q + exp_t'(f.man_bits) - exp_t'(emin(f.bias)))) << f.man_bits) + rounded;
    if (rounded == '0) return 7'd0;
    if (code > {25'd0, f.max_finite}) return (mode == SatFinite) ? f.max_finite : f.nonsat_ovf;
    return code[6:0];
  endfunction

  logic [6:0] mag_e4m3, mag_e5m2, mag;
  assign mag_e4m3 = encode_row(Fp8Formats[int'(FmtE4M3)], sig, p, top, sat_i);
  assign mag_e5m2 = encode_row(Fp8Formats[int'(FmtE5M2)], sig, p, top, sat_i);
  assign mag      = (fmt_i == FmtE5M2) ? mag_e5m2 : mag_e4m3;

  logic [6:0] max_finite, nonsat_ovf;
  assign max_finite = (fmt_i == FmtE5M2) ? Fp8Formats[int'(FmtE5M2)].max_finite
                                         : Fp8Formats[int'(FmtE4M3)].max_finite;
  assign nonsat_ovf = (fmt_i == FmtE5M2) ? Fp8Formats[int'(FmtE5M2)].nonsat_ovf
                                         : Fp8Formats[int'(FmtE4M3)].nonsat_ovf;

  always_comb begin
    if (is_nan) code_o = 8'h7F;
    else if (is_inf) code_o = {sign, (sat_i == SatFinite) ? max_finite : nonsat_ovf};
    else code_o = {sign, mag};
  end

endmodule
