// A NumRows x NumCols weight-stationary systolic tile of mxu_pe (PE(k,n) holds W[k][n]).
//
// Interface (one matrix row per cycle; the tile skews internally):
// - Weight load: R cycles with w_valid_i, bank w_bank_i; the rows enter at the top and shift
//   down, so row W[R-1][*] is given first and W[0][*] last. Each weight carries its B scale and
//   the B format. Loading one bank while the other computes is the double buffering.
// - Stream: a cycle with a_valid_i presents A[m][0..R-1] (with per-element A scales, the A format
//   and the bank to use) and the partial sums P[m][0..C-1] that enter the top of the columns.
//   Row k of the activations is delayed k * Latency cycles and column n of the partial sums n
//   cycles, so that column n computes acc = fused(acc, A[m][k], W[k][n], sA, sB) for k = 0..R-1
//   in increasing k (the contract order).
// - Result: out_o[n] is valid (out_valid_o[n]) exactly R * Latency + n cycles after the cycle the
//   row was presented, Latency = NumPipeRegs + 1 (docs/TIMING.md gives the full schedule).
// The caller keeps the bank hazards apart (model/mxu's scheduler computes the legal cycles).
module mxu_tile #(
  parameter int unsigned NumRows     = 4,
  parameter int unsigned NumCols     = 4,
  parameter int unsigned NumPipeRegs = 0
) (
  input  logic                       clk_i,
  input  logic                       rst_ni,
  // weight load
  input  logic                       w_valid_i,
  input  logic                       w_bank_i,
  input  fp8_pkg::fp8_fmt_e                   w_fmt_i,
  input  logic [NumCols-1:0][7:0]    w_i,
  input  logic [NumCols-1:0][7:0]    ws_i,
  // activation rows and partial sums
  input  logic                       a_valid_i,
  input  logic                       a_bank_i,
  input  fp8_pkg::fp8_fmt_e                   a_fmt_i,
  input  logic [NumRows-1:0][7:0]    a_i,
  input  logic [NumRows-1:0][7:0]    as_i,
  input  logic [NumCols-1:0][31:0]   psum_i,
  // results at the bottom of each column
  output logic [NumCols-1:0]         out_valid_o,
  output logic [NumCols-1:0][31:0]   out_o
);

  localparam int unsigned Latency = NumPipeRegs + 1;
  localparam int unsigned ActBits = 1 + 1 + 1 + 8 + 8;  // valid, bank, fmt, code, scale

  // Inter-PE wires. split_var makes Verilator keep each element a variable of its own. Kept as
  // one variable per array, the few elements that depend combinationally on the ports (row 0
  // and column 0 enter with no skew; the weight chain's bank select is w_bank_i) made every PE
  // reading the array input-dependent, and all R*C fused steps were re-evaluated at every eval()
  // (docs/RTL.md, "Verilator builds"). The arrays are indexed only with constants (generate
  // loops), which split_var needs.
  // Activations [row][col] enter PE(row,col); the extra column is the right edge.
  logic              act_valid [NumRows][NumCols+1] /*verilator split_var*/;
  logic              act_bank  [NumRows][NumCols+1] /*verilator split_var*/;
  fp8_pkg::fp8_fmt_e act_fmt   [NumRows][NumCols+1] /*verilator split_var*/;
  logic [7:0]        act       [NumRows][NumCols+1] /*verilator split_var*/;
  logic [7:0]        act_s     [NumRows][NumCols+1] /*verilator split_var*/;
  // Partial sums [row][col] enter PE(row,col) from the top; row NumRows is the bottom edge.
  logic [31:0]       psum      [NumRows+1][NumCols] /*verilator split_var*/;
  logic              psum_v    [NumRows+1][NumCols] /*verilator split_var*/;
  // Weight shift chain [row][col] enters PE(row,col) from the top.
  fp8_pkg::fp8_fmt_e wch_fmt   [NumRows+1][NumCols] /*verilator split_var*/;
  logic [7:0]        wch       [NumRows+1][NumCols] /*verilator split_var*/;
  logic [7:0]        wch_s     [NumRows+1][NumCols] /*verilator split_var*/;

  // ------------------------------------------------------------------------------------------
  // Edges: skew the activations (row k by k * Latency) and the partial sums (column n by n).
  // ------------------------------------------------------------------------------------------
  for (genvar k = 0; k < NumRows; k++) begin : gen_act_skew
    logic [ActBits-1:0] skew_q;
    mxu_delay #(
      .Width(ActBits),
      .Depth(k * Latency)
    ) u_skew (
      .clk_i,
      .rst_ni,
      .d_i({a_valid_i, a_bank_i, a_fmt_i, a_i[k], as_i[k]}),
      .q_o(skew_q)
    );
    assign act_valid[k][0] = skew_q[18];
    assign act_bank[k][0]  = skew_q[17];
    assign act_fmt[k][0]   = fp8_pkg::fp8_fmt_e'(skew_q[16]);
    assign act[k][0]       = skew_q[15:8];
    assign act_s[k][0]     = skew_q[7:0];
  end

  for (genvar n = 0; n < NumCols; n++) begin : gen_col_edges
    mxu_delay #(
      .Width(32),
      .Depth(n)
    ) u_skew (
      .clk_i,
      .rst_ni,
      .d_i(psum_i[n]),
      .q_o(psum[0][n])
    );
    assign psum_v[0][n]  = 1'b0;  // the top row's valid comes from its activation
    assign wch_fmt[0][n] = w_fmt_i;
    assign wch[0][n]     = w_i[n];
    assign wch_s[0][n]   = ws_i[n];
    assign out_valid_o[n] = psum_v[NumRows][n];
    assign out_o[n]       = psum[NumRows][n];
  end

  // ------------------------------------------------------------------------------------------
  // The PE array
  // ------------------------------------------------------------------------------------------
  for (genvar k = 0; k < NumRows; k++) begin : gen_rows
    for (genvar n = 0; n < NumCols; n++) begin : gen_cols
      mxu_pe #(
        .NumPipeRegs(NumPipeRegs)
      ) u_pe (
        .clk_i,
        .rst_ni,
        .w_valid_i    (w_valid_i),
        .w_bank_i     (w_bank_i),
        .w_fmt_i      (wch_fmt[k][n]),
        .w_i          (wch[k][n]),
        .ws_i         (wch_s[k][n]),
        .w_fmt_o      (wch_fmt[k+1][n]),
        .w_o          (wch[k+1][n]),
        .ws_o         (wch_s[k+1][n]),
        .a_valid_i    (act_valid[k][n]),
        .a_bank_i     (act_bank[k][n]),
        .a_fmt_i      (act_fmt[k][n]),
        .a_i          (act[k][n]),
        .as_i         (act_s[k][n]),
        .a_valid_o    (act_valid[k][n+1]),
        .a_bank_o     (act_bank[k][n+1]),
        .a_fmt_o      (act_fmt[k][n+1]),
        .a_o          (act[k][n+1]),
        .as_o         (act_s[k][n+1]),
        .psum_i       (psum[k][n]),
        .psum_valid_o (psum_v[k+1][n]),
        .psum_o       (psum[k+1][n])
      );
    end
  end

  // The right edge of the activations, the bottom of the weight chain and the top valid row
  // (psum_v[0]) are not consumed: activations and weights fall off the array's edges.
  for (genvar k = 0; k < NumRows; k++) begin : gen_right_edge
    logic unused_act;
    assign unused_act = act_valid[k][NumCols] ^ act_bank[k][NumCols] ^ act_fmt[k][NumCols]
                      ^ (^act[k][NumCols]) ^ (^act_s[k][NumCols]);
  end
  for (genvar n = 0; n < NumCols; n++) begin : gen_bottom_edge
    logic unused_w;
    assign unused_w = wch_fmt[NumRows][n] ^ (^wch[NumRows][n]) ^ (^wch_s[NumRows][n])
                    ^ psum_v[0][n];
  end

endmodule
