#!/bin/sh
# A user RTL directory build (-DMXEMU_RTL_DIR, docs/RTL.md "Your own RTL"): a fresh configure of
# the tree with a directory holding its own mxu/mxu_pe.sv must announce the replacement, put that
# file (not the bundled one) into the Verilated models' sources, and build the SystemC tile with
# it; a directory that does not exist or replaces nothing must stop the configure, naming it.
# Usage: user_rtl_dir.sh SOURCE_DIR WORK_DIR
set -eu
src=$1
work=$2
rm -rf "$work"
mkdir -p "$work/mine/mxu" "$work/empty"
# The user's PE: the bundled one with a comment of its own (same module, same ports).
{ echo "// my PE"; cat "$src/rtl/mxu/mxu_pe.sv"; } >"$work/mine/mxu/mxu_pe.sv"
# CMake wraps long messages: match on the log with its lines joined.
has() { tr '\n' ' ' <"$1" | tr -s ' ' | grep -qF "$2"; }
configure() {
  cmake -S "$src" -B "$work/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    "-DMXEMU_SKIP_AREAS=firmware;testbench;tools;python" -DMXEMU_TEST_AREAS= "$@"
}
configure -DMXEMU_RTL_DIR="$work/mine" >"$work/ok.log" 2>&1 || { cat "$work/ok.log"; exit 1; }
has "$work/ok.log" "MXEMU_RTL_DIR: your RTL replaces mxu/mxu_pe.sv in every Verilated model"
# The generated build reads the user's file and not the bundled one.
grep -rq "$work/mine/mxu/mxu_pe.sv" "$work/build/rtl/CMakeFiles"
if grep -rq "$src/rtl/mxu/mxu_pe.sv" "$work/build/rtl/CMakeFiles"; then
  echo "the bundled mxu_pe.sv is still in the build" >&2
  exit 1
fi
cmake --build "$work/build" --target mxemu_vl_sc >"$work/build.log" 2>&1 || { tail -20 "$work/build.log"; exit 1; }
rm -rf "$work/build"
if configure -DMXEMU_RTL_DIR="$work/missing" >"$work/bad1.log" 2>&1; then exit 1; fi
has "$work/bad1.log" "MXEMU_RTL_DIR=$work/missing: not a directory"
rm -rf "$work/build"
if configure -DMXEMU_RTL_DIR="$work/empty" >"$work/bad2.log" 2>&1; then exit 1; fi
has "$work/bad2.log" "none of its .sv files replaces a bundled one"
rm -rf "$work"
echo "user RTL directory: configured, built and refused as expected"
