// FP8 / UE8M0 / FP32 formats for the mxemu arithmetic (DESIGN §3, OCP OFP8 rev 1.0, OCP MX v1.0).
//
// The two FP8 element formats are a typed table (cvfpu style): every width, bias and special code
// used by the datapaths is derived from a row of `Fp8Formats` through the functions below, so the
// format is a runtime input (`fp8_fmt_e`) and the hardware is the union of both decoders.
// OCP E4M3 has no Inf and a single NaN magnitude (S.1111.111); E5M2 is IEEE-like.
package fp8_pkg;

  // ------------------------------------------------------------------------------------------
  // Formats
  // ------------------------------------------------------------------------------------------
  typedef enum logic [0:0] {
    FmtE4M3 = 1'b0,
    FmtE5M2 = 1'b1
  } fp8_fmt_e;

  localparam int unsigned NumFp8Formats = 2;

  typedef struct packed {
    int unsigned exp_bits;   // exponent field width
    int unsigned man_bits;   // stored mantissa width
    int unsigned bias;       // exponent bias
    logic [6:0]  max_finite; // magnitude code of the largest finite value
    logic [6:0]  nonsat_ovf; // magnitude code a non-saturating overflow produces (NaN or Inf)
    logic        has_inf;    // S.11111.00 is Inf (E5M2); otherwise the all-ones code is NaN only
  } fp8_fmt_t;

  localparam fp8_fmt_t Fp8Formats [NumFp8Formats] = '{
    '{exp_bits: 4, man_bits: 3, bias: 7,  max_finite: 7'h7E, nonsat_ovf: 7'h7F, has_inf: 1'b0},
    '{exp_bits: 5, man_bits: 2, bias: 15, max_finite: 7'h7B, nonsat_ovf: 7'h7C, has_inf: 1'b1}
  };

  // The decoders widen every format to a common significand of `SigBits` bits (hidden bit and
  // `SigBits - 1` fraction bits; narrower mantissas are padded with zeros at the bottom).
  localparam int unsigned SigBits = 4;

  // Signed exponents inside the datapaths: wide enough for FP8 LSB exponents (-17..12), the
  // scale sum (-254..254), the FP32 range and every intermediate; checked in the comments below.
  localparam int unsigned ExpBits = 11;
  typedef logic signed [ExpBits-1:0] exp_t;

  // UE8M0 (MX scale): value 2^(code - 127); 0xFF is NaN.
  localparam int unsigned Ue8m0Bias = 127;
  localparam logic [7:0] Ue8m0Nan = 8'hFF;

  // FP32 constants.
  localparam logic [31:0] F32CanonicalNan = 32'h7FC0_0000;
  localparam logic [30:0] F32InfMag = 31'h7F80_0000;

  // FP32 -> FP8 overflow handling.
  typedef enum logic [0:0] {
    SatFinite = 1'b0,  // overflow and +-Inf -> +-max finite, NaN -> 0x7F
    NonSat    = 1'b1   // overflow -> E4M3 NaN (S.1111.111) / E5M2 +-Inf
  } sat_mode_e;

  // FP32 -> UE8M0 rounding.
  typedef enum logic [0:0] {
    RoundTowardZero = 1'b0,
    RoundUp         = 1'b1
  } ue8m0_round_e;

  // A decoded FP8 operand: value = (-1)^sign * sig * 2^exp (exp of the significand's LSB).
  typedef struct packed {
    logic               sign;
    logic [SigBits-1:0] sig;
    exp_t               exp;
    logic               is_zero;
    logic               is_inf;
    logic               is_nan;
  } fp8_dec_t;

  // ------------------------------------------------------------------------------------------
  // Derived values (functions of a table row)
  // ------------------------------------------------------------------------------------------
  function automatic int unsigned exp_all_ones(int unsigned exp_bits);
    return (1 << exp_bits) - 1;
  endfunction

  // Unbiased exponent of the smallest normal value.
  function automatic int emin(int unsigned bias);
    return 1 - int'(bias);
  endfunction

  // Decodes `code` under one table row. Used with constant rows; the runtime format selects.
  // Waiver: decoding needs only the field layout; the encoder-side fields of the row are unused.
  /* verilator lint_off UNUSEDSIGNAL */
  function automatic fp8_dec_t decode_row(fp8_fmt_t f, logic [7:0] code);
  /* verilator lint_on UNUSEDSIGNAL */
    fp8_dec_t    d;
    int unsigned e;
    int unsigned m;
    e = (int'(code[6:0]) >> f.man_bits) & exp_all_ones(f.exp_bits);
    m = int'(code[6:0]) & ((1 << f.man_bits) - 1);
    d.sign = code[7];
    d.is_zero = (code[6:0] == 7'd0);
    if (f.has_inf) begin
      d.is_inf = (e == exp_all_ones(f.exp_bits)) && (m == 0);
      d.is_nan = (e == exp_all_ones(f.exp_bits)) && (m != 0);
    end else begin
      d.is_inf = 1'b0;
      d.is_nan = (code[6:0] == 7'h7F);
    end
    // Pad the mantissa to SigBits - 1 fraction bits.
    d.sig = SigBits'(((e != 0 ? (1 << f.man_bits) : 0) | m) << (SigBits - 1 - f.man_bits));
    d.exp = exp_t'((e != 0 ? int'(e) : 1) - int'(f.bias) - int'(SigBits - 1));
    return d;
  endfunction

  function automatic fp8_dec_t fp8_decode(fp8_fmt_e fmt, logic [7:0] code);
    return (fmt == FmtE5M2) ? decode_row(Fp8Formats[int'(FmtE5M2)], code)
                            : decode_row(Fp8Formats[int'(FmtE4M3)], code);
  endfunction

  // Count of leading zeros of a 64-bit word (64 for zero).
  function automatic logic [6:0] lzc64(logic [63:0] v);
    logic [6:0] n;
    logic       found;
    n = 7'd64;
    found = 1'b0;
    for (int i = 63; i >= 0; i--) begin
      if (!found && v[i]) begin
        n = 7'(63 - i);
        found = 1'b1;
      end
    end
    return n;
  endfunction

endpackage
