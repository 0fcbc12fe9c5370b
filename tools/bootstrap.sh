#!/usr/bin/env bash
# One entry point for a fresh Debian 12 machine:
#   tools/bootstrap.sh run  [mxemu run arguments...]   install, configure, build, run `mxemu run`
#   tools/bootstrap.sh test [ctest arguments...]       install, configure, build, run the test suite
#   tools/bootstrap.sh build                           install, configure, build only
# Idempotent: apt-get runs only when a package is missing, and is quiet otherwise.
# Environment: BUILD_DIR (default build), JOBS (default: nproc), CMAKE_BUILD_TYPE (default Release).
set -euo pipefail

top="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${BUILD_DIR:-$top/build}"
jobs="${JOBS:-$(nproc)}"
build_type="${CMAKE_BUILD_TYPE:-Release}"

packages=(
  build-essential cmake ninja-build pkg-config git python3
  libsystemc-dev verilator libfmt-dev catch2 libcli11-dev libtomlplusplus-dev nlohmann-json3-dev
  libopenblas-dev gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf binutils-riscv64-unknown-elf
  gdb-multiarch yosys clang-format zlib1g-dev chromium
  # The Python package (python/, ctest -L python): pybind11 against Debian's Python and NumPy.
  pybind11-dev python3-dev python3-numpy python3-matplotlib
  # CI's reliability checks (.ci/run): libFuzzer harnesses (tools/fuzz), the ASan + UBSan build of
  # the test suite, clang-tidy over every project source.
  clang-14 clang-tidy-14 libclang-rt-14-dev libfuzzer-14-dev
  # Distributed pods (docs/DISTRIBUTED.md): mpirun and the MPI plugin's library.
  openmpi-bin libopenmpi-dev
)

install_missing() {
  local missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "bootstrap: installing ${missing[*]}" >&2
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

configure_and_build() {
  if [ ! -f "$build_dir/build.ninja" ]; then
    cmake -S "$top" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE="$build_type" >/dev/null
  fi
  cmake --build "$build_dir" -j "$jobs"
}

mode="${1:-run}"
[ $# -gt 0 ] && shift
case "$mode" in
  run)
    install_missing
    configure_and_build
    exec "$build_dir/mxemu" run "$@"
    ;;
  test)
    install_missing
    configure_and_build
    cd "$build_dir"
    exec ctest --output-on-failure -j "$jobs" "$@"
    ;;
  build)
    install_missing
    configure_and_build
    ;;
  *)
    echo "bootstrap: error: unknown mode '$mode' (expected run, test or build)" >&2
    exit 2
    ;;
esac
