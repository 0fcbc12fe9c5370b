// Verification harness (Verilator only): NumLanes independent combinational fused-step units, so
// one eval() checks NumLanes operand tuples (the exhaustive co-verification uses this).
module fp8_fused_lanes #(
  parameter int unsigned NumLanes = 32
) (
  input  logic [NumLanes-1:0][31:0] acc_i,
  input  logic [NumLanes-1:0]       fmt_a_i,
  input  logic [NumLanes-1:0][7:0]  a_i,
  input  logic [NumLanes-1:0]       fmt_b_i,
  input  logic [NumLanes-1:0][7:0]  b_i,
  input  logic [NumLanes-1:0][7:0]  sa_i,
  input  logic [NumLanes-1:0][7:0]  sb_i,
  output logic [NumLanes-1:0][31:0] res_o
);

  for (genvar i = 0; i < NumLanes; i++) begin : gen_lanes
    logic unused_valid;
    fp8_fused #(
      .NumPipeRegs(0)
    ) u_fused (
      .clk_i   (1'b0),
      .rst_ni  (1'b1),
      .valid_i (1'b1),
      .acc_i   (acc_i[i]),
      .fmt_a_i (fp8_pkg::fp8_fmt_e'(fmt_a_i[i])),
      .a_i     (a_i[i]),
      .fmt_b_i (fp8_pkg::fp8_fmt_e'(fmt_b_i[i])),
      .b_i     (b_i[i]),
      .sa_i    (sa_i[i]),
      .sb_i    (sb_i[i]),
      .valid_o (unused_valid),
      .res_o   (res_o[i])
    );
  end

endmodule
