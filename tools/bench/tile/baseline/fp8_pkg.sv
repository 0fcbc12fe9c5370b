// FP8 / UE8M0 / FP32 formats for the mxemu arithmetic (DESIGN §3, OCP OFP8 rev 1.0, OCP MX v1.0).
//
// The two FP8 element formats are a typed table (cvfpu style): one `fp8_fmt_t` row per format,
// selected by `fp8_fmt(fmt)`. Every width, bias and special code used by the datapaths is derived
// from a row, so the format is a runtime input (`fp8_fmt_e`) and the hardware is the union of both
// decoders. OCP E4M3 has no Inf and a single NaN magnitude (S.1111.111); E5M2 is IEEE-like.
//
// Written in the SystemVerilog subset that both Verilator 5.006 and Debian's yosys 0.23 read
// (no `return`, no assignment patterns or type casts, package members referenced with `fp8_pkg::`),
// so the same files are simulated, linted and synthesised (tools/synth).
package fp8_pkg;

  // ------------------------------------------------------------------------------------------
  // Formats
  // ------------------------------------------------------------------------------------------
  typedef enum logic [0:0] {
    FmtE4M3 = 1'b0,
    FmtE5M2 = 1'b1
  } fp8_fmt_e;

  typedef struct packed {
    logic [2:0] exp_bits;    // exponent field width
    logic [1:0] man_bits;    // stored mantissa width
    logic [3:0] bias;        // exponent bias
    logic [6:0] max_finite;  // magnitude code of the largest finite value
    logic [6:0] nonsat_ovf;  // magnitude code a non-saturating overflow produces (NaN or Inf)
    logic       has_inf;     // S.11111.00 is Inf (E5M2); otherwise the all-ones code is NaN only
  } fp8_fmt_t;

  //                                   exp_bits man_bits bias   max_finite nonsat_ovf has_inf
  localparam fp8_fmt_t Fp8FmtE4M3 = {3'd4,    2'd3,    4'd7,  7'h7E,     7'h7F,     1'b0};
  localparam fp8_fmt_t Fp8FmtE5M2 = {3'd5,    2'd2,    4'd15, 7'h7B,     7'h7C,     1'b1};

  localparam int unsigned FmtBits = 3 + 2 + 4 + 7 + 7 + 1;  // $bits(fp8_fmt_t)

  // The table lookup (returns an fp8_fmt_t; plain bits for yosys 0.23's sake).
  function automatic logic [FmtBits-1:0] fp8_fmt(fp8_fmt_e fmt);
    fp8_fmt = (fmt == fp8_pkg::FmtE5M2) ? Fp8FmtE5M2 : Fp8FmtE4M3;
  endfunction

  // The decoders widen every format to a common significand of `SigBits` bits (hidden bit and
  // `SigBits - 1` fraction bits; narrower mantissas are padded with zeros at the bottom).
  localparam int unsigned SigBits = 4;

  // Signed exponents inside the datapaths: wide enough for FP8 LSB exponents (-17..12), the
  // scale sum (-254..254), the FP32 range and every intermediate (|x| < 700).
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

  // Unbiased exponent of the smallest normal value, 1 - bias.
  function automatic exp_t fp8_emin(logic [3:0] bias);
    fp8_emin = $signed(ExpBits'(1)) - $signed(ExpBits'(bias));
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
    lzc64 = n;
  endfunction

endpackage
