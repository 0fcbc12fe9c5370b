// One processing element of the weight-stationary systolic tile.
//
// - Weights: two banks (double buffering). While w_valid_i, bank w_bank_i shifts down the column:
//   it takes {w_fmt_i, w_i, ws_i} from the PE above and its old content leaves on w_*_o. The B
//   (weight) scale and the B format are stationary with the weight.
// - Activations travel left to right with their A scale, A format and the bank to multiply with;
//   one register per PE.
// - Partial sums travel top to bottom: psum_o = fused(psum_i, a, w[bank], sa, sb) (DESIGN §3)
//   after Latency = NumPipeRegs + 1 cycles (the last stage is the PE's output register).
module mxu_pe #(
  parameter int unsigned NumPipeRegs = 0
) (
  input  logic        clk_i,
  input  logic        rst_ni,
  // weight shift chain (w_valid_i / w_bank_i are broadcast to the whole tile)
  input  logic        w_valid_i,
  input  logic        w_bank_i,
  input  fp8_pkg::fp8_fmt_e    w_fmt_i,
  input  logic [7:0]  w_i,
  input  logic [7:0]  ws_i,
  output fp8_pkg::fp8_fmt_e    w_fmt_o,
  output logic [7:0]  w_o,
  output logic [7:0]  ws_o,
  // activation from the left, registered to the right
  input  logic        a_valid_i,
  input  logic        a_bank_i,
  input  fp8_pkg::fp8_fmt_e    a_fmt_i,
  input  logic [7:0]  a_i,
  input  logic [7:0]  as_i,
  output logic        a_valid_o,
  output logic        a_bank_o,
  output fp8_pkg::fp8_fmt_e    a_fmt_o,
  output logic [7:0]  a_o,
  output logic [7:0]  as_o,
  // partial sum from the top, result to the bottom
  input  logic [31:0] psum_i,
  output logic        psum_valid_o,
  output logic [31:0] psum_o
);

  // ------------------------------------------------------------------------------------------
  // Weight banks
  // ------------------------------------------------------------------------------------------
  fp8_pkg::fp8_fmt_e   w_fmt_q [2];
  logic [7:0] w_q     [2];
  logic [7:0] ws_q    [2];

  always_ff @(posedge clk_i) begin
    if (w_valid_i) begin
      w_fmt_q[w_bank_i] <= w_fmt_i;
      w_q[w_bank_i]     <= w_i;
      ws_q[w_bank_i]    <= ws_i;
    end
  end

  assign w_fmt_o = w_fmt_q[w_bank_i];
  assign w_o     = w_q[w_bank_i];
  assign ws_o    = ws_q[w_bank_i];

  // ------------------------------------------------------------------------------------------
  // Activation register
  // ------------------------------------------------------------------------------------------
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) a_valid_o <= 1'b0;
    else a_valid_o <= a_valid_i;
  end

  always_ff @(posedge clk_i) begin
    a_bank_o <= a_bank_i;
    a_fmt_o  <= a_fmt_i;
    a_o      <= a_i;
    as_o     <= as_i;
  end

  // ------------------------------------------------------------------------------------------
  // Fused step; its last pipeline stage is the PE's output register.
  // ------------------------------------------------------------------------------------------
  fp8_fused #(
    .NumPipeRegs(NumPipeRegs + 1)
  ) u_fused (
    .clk_i,
    .rst_ni,
    .valid_i (a_valid_i),
    .acc_i   (psum_i),
    .fmt_a_i (a_fmt_i),
    .a_i     (a_i),
    .fmt_b_i (w_fmt_q[a_bank_i]),
    .b_i     (w_q[a_bank_i]),
    .sa_i    (as_i),
    .sb_i    (ws_q[a_bank_i]),
    .valid_o (psum_valid_o),
    .res_o   (psum_o)
  );

endmodule
