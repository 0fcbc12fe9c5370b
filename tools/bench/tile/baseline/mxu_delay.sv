// A Depth-cycle delay line (Depth = 0: a wire). Resets to zero so valid bits start inactive.
module mxu_delay #(
  parameter int unsigned Width = 1,
  parameter int unsigned Depth = 1
) (
  input  logic             clk_i,
  input  logic             rst_ni,
  input  logic [Width-1:0] d_i,
  output logic [Width-1:0] q_o
);

  if (Depth == 0) begin : gen_wire
    assign q_o = d_i;
    logic unused_clk;
    assign unused_clk = clk_i ^ rst_ni;
  end else begin : gen_regs
    logic [Depth-1:0][Width-1:0] q_q;
    always_ff @(posedge clk_i or negedge rst_ni) begin
      if (!rst_ni) begin
        q_q <= '0;
      end else begin
        q_q[0] <= d_i;
        for (int unsigned i = 1; i < Depth; i++) q_q[i] <= q_q[i-1];
      end
    end
    assign q_o = q_q[Depth-1];
  end

endmodule
