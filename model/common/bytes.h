// Little-endian byte records: what a distributed pod's ranks send one another (ICI flights per
// window, chip results at the end; docs/DISTRIBUTED.md). A reader that runs past the end throws
// mxemu::Error (internal): a short record is a bug, never silently wrong data.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "model/common/error.h"

namespace mxemu {

class ByteWriter {
 public:
  template <typename T>
  void put(T v) {
    static_assert(std::is_trivially_copyable_v<T>);
    const std::size_t at = out_.size();
    out_.resize(at + sizeof(T));
    std::memcpy(out_.data() + at, &v, sizeof(T));
  }
  void put_bytes(const std::uint8_t* p, std::size_t n) {
    put<std::uint64_t>(n);
    out_.insert(out_.end(), p, p + n);
  }
  void put_bytes(const std::vector<std::uint8_t>& b) { put_bytes(b.data(), b.size()); }
  void put_string(const std::string& s) {
    put_bytes(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
  }
  std::vector<std::uint8_t>& bytes() { return out_; }

 private:
  std::vector<std::uint8_t> out_;
};

class ByteReader {
 public:
  explicit ByteReader(const std::vector<std::uint8_t>& in) : in_(in) {}
  bool done() const { return at_ == in_.size(); }
  template <typename T>
  T get() {
    static_assert(std::is_trivially_copyable_v<T>);
    need(sizeof(T));
    T v;
    std::memcpy(&v, in_.data() + at_, sizeof(T));
    at_ += sizeof(T);
    return v;
  }
  std::vector<std::uint8_t> get_bytes() {
    const auto n = get<std::uint64_t>();
    need(n);
    std::vector<std::uint8_t> b(in_.begin() + static_cast<std::ptrdiff_t>(at_),
                                in_.begin() + static_cast<std::ptrdiff_t>(at_ + n));
    at_ += n;
    return b;
  }
  std::string get_string() {
    const std::vector<std::uint8_t> b = get_bytes();
    return {b.begin(), b.end()};
  }

 private:
  void need(std::uint64_t n) const {
    if (n > in_.size() - at_) {
      throw Error(ExitCode::kInternal, "a record from another rank ends early (" +
                                           std::to_string(in_.size()) + " bytes, " +
                                           std::to_string(at_ + n) + " needed)");
    }
  }
  const std::vector<std::uint8_t>& in_;
  std::size_t at_ = 0;
};

}  // namespace mxemu
