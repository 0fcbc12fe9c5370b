// Where the firmware ELFs built by firmware/CMakeLists.txt are: $MXEMU_BUILD_DIR/firmware.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace mxemu::test {

inline std::string firmware_elf(const std::string& name) {
  const char* build = std::getenv("MXEMU_BUILD_DIR");  // NOLINT(concurrency-mt-unsafe): read-only
  if (build == nullptr) throw std::runtime_error("MXEMU_BUILD_DIR is not set (run through ctest)");
  std::string path = std::string(build) + "/firmware/" + name + ".elf";
  if (!std::filesystem::exists(path)) {
    throw std::runtime_error("firmware " + path +
                             " is missing: build target mxemu_firmware (needs "
                             "riscv64-unknown-elf-gcc)");
  }
  return path;
}

}  // namespace mxemu::test
