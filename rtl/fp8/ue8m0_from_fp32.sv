// FP32 -> UE8M0 (OCP MX scale; equals CUDA's __nv_cvt_float_to_e8m0). The sign is ignored (the
// magnitude converts); NaN -> 0xFF; zero and values at or below 2^-127 -> 0x00 (round up takes
// values above 2^-127 to 0x01). saturate_i: +-Inf and round-up beyond 2^127 give 0xFE; otherwise
// 0xFF. Combinational.
module ue8m0_from_fp32 (
  input  logic [31:0]           f32_i,
  input  fp8_pkg::ue8m0_round_e round_i,
  input  logic                  saturate_i,
  output logic [7:0]            code_o
);

  logic [7:0]  e_f;
  logic [22:0] m_f;
  logic        up;
  logic [8:0]  code;
  assign e_f  = f32_i[30:23];
  assign m_f  = f32_i[22:0];
  assign up   = (round_i == fp8_pkg::RoundUp);
  assign code = {1'b0, e_f} + {8'd0, up && (m_f != 23'd0)};

  logic [7:0] overflow_code;
  assign overflow_code = saturate_i ? 8'hFE : fp8_pkg::Ue8m0Nan;

  always_comb begin : p_out
    if (e_f == 8'hFF) begin
      code_o = (m_f != 23'd0) ? fp8_pkg::Ue8m0Nan : overflow_code;
    end else if (e_f == 8'd0) begin
      // Subnormal or zero: 0x00 is 2^-127 (mantissa 0x400000); toward zero clamps to it.
      code_o = (up && (m_f > 23'h40_0000)) ? 8'h01 : 8'h00;
    end else if (code > 9'h0FE) begin
      code_o = overflow_code;
    end else begin
      code_o = code[7:0];
    end
  end

  // The sign bit is ignored by definition (the scale of a magnitude).
  logic unused_sign;
  assign unused_sign = f32_i[31];

endmodule
