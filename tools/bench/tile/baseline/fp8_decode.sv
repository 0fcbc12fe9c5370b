// Decodes an FP8 code of a runtime format into sign, significand (hidden bit and mantissa padded to
// fp8_pkg::SigBits bits), exponent of the significand's LSB, and the zero / Inf / NaN classes.
// The widths, bias and special codes come from the format's row of the typed table.
module fp8_decode (
  input  fp8_pkg::fp8_fmt_e fmt_i,
  input  logic [7:0]        code_i,
  output fp8_pkg::fp8_dec_t dec_o
);

  localparam int unsigned ExpBits = fp8_pkg::ExpBits;
  localparam int unsigned SigBits = fp8_pkg::SigBits;

  fp8_pkg::fp8_fmt_t f;
  assign f = fp8_pkg::fp8_fmt(fmt_i);

  logic [4:0] e, e_ones, e_eff;
  logic [2:0] m;
  assign e_ones = 5'((6'd1 << f.exp_bits) - 6'd1);
  assign e      = 5'(code_i[6:0] >> f.man_bits) & e_ones;
  assign m      = 3'(code_i[2:0] & ((3'd1 << f.man_bits) - 3'd1));
  assign e_eff  = (e != 5'd0) ? e : 5'd1;  // subnormals share the smallest normal exponent

  assign dec_o.sign    = code_i[7];
  assign dec_o.is_zero = (code_i[6:0] == 7'd0);
  // E5M2: exponent all ones is Inf (mantissa 0) or NaN; E4M3: only S.1111.111 is NaN.
  assign dec_o.is_inf  = f.has_inf && (e == e_ones) && (m == 3'd0);
  assign dec_o.is_nan  = f.has_inf ? ((e == e_ones) && (m != 3'd0)) : (code_i[6:0] == 7'h7F);
  // Hidden bit and mantissa, padded to SigBits - 1 fraction bits.
  assign dec_o.sig = SigBits'(((SigBits'(e != 5'd0) << f.man_bits) | {1'b0, m})
                              << (2'd3 - f.man_bits));
  // Exponent of the padded significand's LSB: max(e, 1) - bias - (SigBits - 1).
  assign dec_o.exp = $signed(ExpBits'(e_eff)) - $signed(ExpBits'(f.bias))
                   - $signed(ExpBits'(SigBits - 1));

  // Waiver-free: the encoder-side fields of the row are not needed to decode.
  logic unused_fields;
  assign unused_fields = ^{f.max_finite, f.nonsat_ovf};

endmodule
