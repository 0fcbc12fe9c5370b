#include "model/waves/fst_file.h"

#include <fstapi.h>

#include <cerrno>
#include <system_error>

#include "model/common/error.h"

namespace mxemu::waves {

FstFile::FstFile(const std::string& path, const std::string& timescale, const std::string& comment)
    : ctx_(fstWriterCreate(path.c_str(), 1)), path_(path) {
  if (ctx_ == nullptr) {
    throw_bad_input("cannot write waveform file '{}': {}", path,
                    std::generic_category().message(errno));
  }
  fstWriterSetPackType(ctx_, FST_WR_PT_ZLIB);
  fstWriterSetParallelMode(ctx_, 0);
  fstWriterSetDate(ctx_, "");  // no wall-clock date: two runs give the same bytes
  fstWriterSetVersion(ctx_, "mxemu");
  fstWriterSetTimescaleFromString(ctx_, timescale.c_str());
  if (!comment.empty()) fstWriterSetComment(ctx_, comment.c_str());
}

FstFile::~FstFile() {
  if (ctx_ != nullptr) fstWriterClose(ctx_);
}

void FstFile::scope(const std::string& name) {
  fstWriterSetScope(ctx_, FST_ST_VCD_MODULE, name.c_str(), nullptr);
}

void FstFile::upscope() {
  fstWriterSetUpscope(ctx_);
}

FstFile::Handle FstFile::var(const std::string& name, std::uint32_t width) {
  return fstWriterCreateVar(ctx_, FST_VT_VCD_WIRE, FST_VD_IMPLICIT, width, name.c_str(), 0);
}

void FstFile::time(std::uint64_t t) {
  fstWriterEmitTimeChange(ctx_, t);
}

void FstFile::value(Handle h, const std::string& bits) {
  fstWriterEmitValueChange(ctx_, h, bits.c_str());
}

void FstFile::close() {
  const bool seek_failed = fstWriterGetFseekFailed(ctx_) != 0;
  fstWriterClose(ctx_);
  ctx_ = nullptr;
  if (seek_failed) throw_bad_input("could not write the whole waveform file '{}'", path_);
}

}  // namespace mxemu::waves
