// FP32 -> E4M3 / E5M2 with round-to-nearest-even (DESIGN §3; equals CUDA's
// __nv_cvt_float_to_fp8). sat_i = SatFinite: overflow and +-Inf give +-max finite; NonSat: E4M3
// overflow gives NaN (S.1111.111), E5M2 overflow gives +-Inf. NaN in gives the code 0x7F (sign
// dropped). Works on the integer significand and exponent, so there is exactly one rounding.
// Combinational; the format is a runtime input selecting a row of the format table.
module fp8_from_fp32 (
  input  logic [31:0]         f32_i,
  input  fp8_pkg::fp8_fmt_e   fmt_i,
  input  fp8_pkg::sat_mode_e  sat_i,
  output logic [7:0]          code_o
);

  localparam int unsigned ExpBits = fp8_pkg::ExpBits;

  fp8_pkg::fp8_fmt_t f;
  assign f = fp8_pkg::fp8_fmt(fmt_i);

  logic          sign;
  logic [7:0]    e_f, e_eff;
  logic [22:0]   m_f;
  logic          is_nan, is_inf;
  logic [23:0]   sig;
  fp8_pkg::exp_t p;     // exponent of sig's LSB
  fp8_pkg::exp_t top;   // exponent of sig's leading bit
  fp8_pkg::exp_t emin;  // smallest normal exponent of the format
  assign sign   = f32_i[31];
  assign e_f    = f32_i[30:23];
  assign m_f    = f32_i[22:0];
  assign is_nan = (e_f == 8'hFF) && (m_f != 23'd0);
  assign is_inf = (e_f == 8'hFF) && (m_f == 23'd0);
  assign sig    = {e_f != 8'd0, m_f};
  assign e_eff  = (e_f == 8'd0) ? 8'd1 : e_f;
  assign p      = $signed(ExpBits'(e_eff)) - 11'sd150;
  assign top    = p + 11'sd63 - $signed(ExpBits'(fp8_pkg::lzc64({40'd0, sig})));
  assign emin   = fp8_pkg::fp8_emin(f.bias);

  // Rounding: quantum q = max(top, emin) - man_bits; shift = q - p > 0 for every FP32 input.
  fp8_pkg::exp_t q, shift;
  logic [31:0]   rounded, code;
  always_comb begin : p_round
    logic [31:0]        rem, half;
    logic [ExpBits-1:0] code_exp;
    q = ((top > emin) ? top : emin) - $signed(ExpBits'(f.man_bits));
    shift = q - p;
    rounded = '0;
    rem = '0;
    half = '0;
    if (shift < 11'sd25) begin
      rounded = {8'd0, sig} >> shift;
      rem = {8'd0, sig} & ((32'd1 << shift) - 32'd1);
      half = 32'd1 << (shift - 11'sd1);
      if (rem > half || (rem == half && rounded[0])) rounded = rounded + 32'd1;
    end  // else: below half the smallest subnormal, rounds to zero
    // Exponent field and mantissa in one add: a mantissa carry rolls into the exponent.
    code_exp = ExpBits'(q + $signed(ExpBits'(f.man_bits)) - emin);  // >= 0
    code = (32'(code_exp) << f.man_bits) + rounded;
  end

  logic [6:0] ovf_code;
  assign ovf_code = (sat_i == fp8_pkg::SatFinite) ? f.max_finite : f.nonsat_ovf;

  always_comb begin : p_out
    if (is_nan) code_o = 8'h7F;
    else if (is_inf) code_o = {sign, ovf_code};
    else if (rounded == '0) code_o = {sign, 7'd0};
    else if (code > {25'd0, f.max_finite}) code_o = {sign, ovf_code};
    else code_o = {sign, code[6:0]};
  end

  // The decoder-side fields of the row are not needed to encode.
  logic unused_fields;
  assign unused_fields = ^{f.exp_bits, f.has_inf};

endmodule
