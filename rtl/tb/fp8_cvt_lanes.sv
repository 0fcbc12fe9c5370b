// Verification harness (Verilator only): NumLanes copies of the FP32 -> FP8 and FP32 -> UE8M0
// converters. Every lane converts its input to E4M3 and E5M2 (satfinite and nonsat) and to
// UE8M0 (toward zero and up, saturating and not), so one eval() covers every mode.
module fp8_cvt_lanes #(
  parameter int unsigned NumLanes = 32
) (
  input  logic [NumLanes-1:0][31:0] f32_i,
  output logic [NumLanes-1:0][7:0]  e4m3_sat_o,
  output logic [NumLanes-1:0][7:0]  e4m3_nonsat_o,
  output logic [NumLanes-1:0][7:0]  e5m2_sat_o,
  output logic [NumLanes-1:0][7:0]  e5m2_nonsat_o,
  output logic [NumLanes-1:0][7:0]  ue8m0_rz_sat_o,
  output logic [NumLanes-1:0][7:0]  ue8m0_rz_nonsat_o,
  output logic [NumLanes-1:0][7:0]  ue8m0_rp_sat_o,
  output logic [NumLanes-1:0][7:0]  ue8m0_rp_nonsat_o
);

  for (genvar i = 0; i < NumLanes; i++) begin : gen_lanes
    fp8_from_fp32 u_e4m3_sat (
      .f32_i(f32_i[i]), .fmt_i(fp8_pkg::FmtE4M3), .sat_i(fp8_pkg::SatFinite), .code_o(e4m3_sat_o[i])
    );
    fp8_from_fp32 u_e4m3_nonsat (
      .f32_i(f32_i[i]), .fmt_i(fp8_pkg::FmtE4M3), .sat_i(fp8_pkg::NonSat), .code_o(e4m3_nonsat_o[i])
    );
    fp8_from_fp32 u_e5m2_sat (
      .f32_i(f32_i[i]), .fmt_i(fp8_pkg::FmtE5M2), .sat_i(fp8_pkg::SatFinite), .code_o(e5m2_sat_o[i])
    );
    fp8_from_fp32 u_e5m2_nonsat (
      .f32_i(f32_i[i]), .fmt_i(fp8_pkg::FmtE5M2), .sat_i(fp8_pkg::NonSat), .code_o(e5m2_nonsat_o[i])
    );
    ue8m0_from_fp32 u_rz_sat (
      .f32_i(f32_i[i]), .round_i(fp8_pkg::RoundTowardZero), .saturate_i(1'b1), .code_o(ue8m0_rz_sat_o[i])
    );
    ue8m0_from_fp32 u_rz_nonsat (
      .f32_i(f32_i[i]), .round_i(fp8_pkg::RoundTowardZero), .saturate_i(1'b0),
      .code_o(ue8m0_rz_nonsat_o[i])
    );
    ue8m0_from_fp32 u_rp_sat (
      .f32_i(f32_i[i]), .round_i(fp8_pkg::RoundUp), .saturate_i(1'b1), .code_o(ue8m0_rp_sat_o[i])
    );
    ue8m0_from_fp32 u_rp_nonsat (
      .f32_i(f32_i[i]), .round_i(fp8_pkg::RoundUp), .saturate_i(1'b0), .code_o(ue8m0_rp_nonsat_o[i])
    );
  end

endmodule
