#!/bin/sh
# Synthesises the FP8 arithmetic RTL with Debian's yosys (generic `synth`, no technology library)
# and prints the cell count of each block: the PE datapath (fp8_fused, combinational,
# NumPipeRegs = 0), the FP8 decoder it uses twice, and the two converters.
# Usage: tools/synth/synth.sh [OUTDIR]   (per-block yosys `stat` reports are kept in OUTDIR)
# `-noshare` skips yosys 0.23's SAT-based resource sharing, which does not finish in reasonable
# time on the fused step's 64-bit window; generic cell counts are an area proxy, not gates.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$(mktemp -d)}
mkdir -p "$out"
command -v yosys >/dev/null || { echo "synth.sh: error: yosys not found (apt-get install yosys)" >&2; exit 2; }
rtl=$root/rtl/fp8
printf '%-18s %8s   %s\n' block cells "largest cell types"
for top in fp8_decode fp8_fused fp8_from_fp32 ue8m0_from_fp32; do
  srcs="$rtl/fp8_pkg.sv $rtl/fp8_decode.sv"
  [ "$top" = fp8_decode ] || srcs="$srcs $rtl/$top.sv"
  yosys -q -l "$out/$top.log" -p "read_verilog -sv $srcs; \
    synth -flatten -noshare -top $top; tee -q -o $out/$top.stat stat" >/dev/null
  cells=$(awk '/Number of cells:/ {print $4; exit}' "$out/$top.stat")
  kinds=$(awk '/\$_/ {print $2, $1}' "$out/$top.stat" | sort -nr | head -4 | awk '{printf "%s %s  ", $2, $1}')
  printf '%-18s %8s   %s\n' "$top" "$cells" "$kinds"
done
echo "reports: $out"
