#!/usr/bin/env bash
# Builds the libFuzzer harnesses (tools/fuzz/CMakeLists.txt, own build directory) and runs each
# in turn on a working copy of its seed corpus, then prints a Markdown table per harness:
# executions, coverage (libFuzzer's cov: edges and ft: features at the end), corpus size,
# findings (crash-/leak-/oom-/timeout- artifacts) and the command that ran.
#
#   tools/fuzz/run.sh [--time SECONDS | --runs N] [--build-dir DIR] [--report FILE] [HARNESS...]
#
#   --time S     run each harness for S seconds (default 30)
#   --runs N     run each harness for N executions instead
#   --build-dir  default build-fuzz (corpora in DIR/corpus/<harness>, logs in DIR/logs,
#                findings in DIR/artifacts/<harness>/)
#   --report     also write the table to FILE
#   HARNESS      npy elf trace_dramsys trace_ramulator gdb_packet config desc desc_mxu
#                desc_ici (default: all)
#
# Environment: CC/CXX (default clang-14/clang++-14), JOBS (build jobs, default 2), NICE (default
# 19: campaigns run at the lowest priority on shared machines), FUZZ_FLAGS (more libFuzzer flags).
# Exit status: 0 when no harness found anything, 1 otherwise, 2 on a usage or build error.
set -euo pipefail

top="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build_dir="$top/build-fuzz"
time_s=30
runs=""
report=""
harnesses=()
while [ $# -gt 0 ]; do
  case "$1" in
    --time) time_s="$2"; runs=""; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --build-dir) build_dir="$(realpath -m "$2")"; shift 2 ;;
    --report) report="$(realpath -m "$2")"; shift 2 ;;
    -h|--help) sed -n '2,19p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "fuzz: error: unknown option '$1'" >&2; exit 2 ;;
    *) harnesses+=("$1"); shift ;;
  esac
done
all=(npy elf trace_dramsys trace_ramulator gdb_packet config desc desc_mxu desc_ici)
[ ${#harnesses[@]} -eq 0 ] && harnesses=("${all[@]}")
for h in "${harnesses[@]}"; do
  [ -d "$top/tools/fuzz/corpus/$h" ] || { echo "fuzz: error: unknown harness '$h'" >&2; exit 2; }
done

cc="${CC:-clang-14}"
cxx="${CXX:-clang++-14}"
if [ ! -f "$build_dir/build.ninja" ]; then
  cmake -S "$top/tools/fuzz" -B "$build_dir" -G Ninja -DCMAKE_C_COMPILER="$cc" \
    -DCMAKE_CXX_COMPILER="$cxx" -DMXEMU_FUZZ=ON >/dev/null || exit 2
fi
targets=()
for h in "${harnesses[@]}"; do targets+=("fuzz_$h"); done
nice -n "${NICE:-19}" cmake --build "$build_dir" -j "${JOBS:-2}" --target "${targets[@]}" || exit 2

# Per-harness libFuzzer options: a unit that takes 10 s is a hang (a finding), 2 GiB an OOM.
common=(-timeout=10 -rss_limit_mb=2048 -print_final_stats=1)
if [ -n "$runs" ]; then
  limit=(-runs="$runs")
else
  limit=(-max_total_time="$time_s")
fi

table="| harness | executions | exec/s | coverage (cov / ft) | corpus | findings | command |
|---|---:|---:|---:|---:|---:|---|"
status=0
for h in "${harnesses[@]}"; do
  work="$build_dir/corpus/$h"
  art="$build_dir/artifacts/$h"
  log="$build_dir/logs/$h.log"
  mkdir -p "$work" "$art" "$(dirname "$log")"
  rel_work="${work#"$top"/}"
  # gdb streams: 1 kB holds dozens of packets, and the harness reaches the packet-size path with
  # short inputs (see its header); the 20 kB seed would otherwise make every input that long.
  extra=()
  [ "$h" = gdb_packet ] && extra=(-max_len=1024)
  cmd=("$build_dir/fuzz_$h" "${common[@]}" "${limit[@]}" "${extra[@]}" -artifact_prefix="$art/"
       ${FUZZ_FLAGS:-}
       "$work" "$top/tools/fuzz/corpus/$h")
  echo "fuzz: $h: ${cmd[*]}" >&2
  set +e
  (cd "$build_dir" && nice -n "${NICE:-19}" "${cmd[@]}") >"$log" 2>&1
  rc=$?
  set -e
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  last=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -1 || true)
  cov=$(echo "$last" | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
  ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
  corp=$(echo "$last" | sed -n 's/.* corp: \([0-9]*\/[0-9A-Za-z]*\).*/\1/p')
  findings=$(find "$art" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'oom-*' \
    -o -name 'timeout-*' \) | wc -l)
  if [ "$rc" -ne 0 ] && [ "$findings" -eq 0 ]; then findings="rc $rc"; fi
  [ "$findings" != "0" ] && status=1
  if [ -n "$runs" ]; then short="tools/fuzz/run.sh --runs $runs $h"; else
    short="tools/fuzz/run.sh --time $time_s $h"; fi
  table+="
| $h | ${execs:-?} | ${rate:-?} | ${cov:-?} / ${ft:-?} | ${corp:-?} | $findings | \`$short\` |"
  echo "fuzz: $h: ${execs:-?} executions, cov ${cov:-?}, ft ${ft:-?}, findings $findings (log $log)" >&2
  if [ "$findings" != "0" ]; then
    grep -E 'ERROR|SUMMARY|fuzz property failed|Test unit written' "$log" | head -5 >&2 || true
  fi
done
echo "$table"
[ -n "$report" ] && echo "$table" >"$report"
exit $status
