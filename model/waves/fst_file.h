// A small RAII wrapper over GTKWave's fstapi writer (C, compiled from Debian's Verilator copy into
// the build tree: model/waves/CMakeLists.txt). Errors are mxemu bad-input errors naming the file.
#pragma once

#include <cstdint>
#include <string>

namespace mxemu::waves {

class FstFile {
 public:
  using Handle = std::uint32_t;
  FstFile(const std::string& path, const std::string& timescale, const std::string& comment);
  ~FstFile();
  FstFile(const FstFile&) = delete;
  FstFile& operator=(const FstFile&) = delete;

  void scope(const std::string& name);
  void upscope();
  Handle var(const std::string& name, std::uint32_t width);
  void time(std::uint64_t t);
  void value(Handle h, const std::string& bits);  // width characters of '0' / '1', MSB first
  void close();  // finishes the file; throws when it could not be written

 private:
  void* ctx_ = nullptr;
  std::string path_;
};

}  // namespace mxemu::waves
