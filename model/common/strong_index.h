// Strong index types (rows, columns, channels, banks, links): an integer that only compares and
// converts explicitly, so a Bank cannot be passed where a Row is expected.
#pragma once

#include <compare>
#include <cstdint>
#include <functional>

namespace mxemu {

template <typename Tag, typename Rep = std::uint32_t>
class StrongIndex {
 public:
  using rep_type = Rep;
  constexpr StrongIndex() = default;
  constexpr explicit StrongIndex(Rep v) : v_(v) {}
  constexpr Rep value() const { return v_; }
  constexpr explicit operator Rep() const { return v_; }
  constexpr auto operator<=>(const StrongIndex&) const = default;
  constexpr StrongIndex& operator++() {
    ++v_;
    return *this;
  }

 private:
  Rep v_{};
};

}  // namespace mxemu

template <typename Tag, typename Rep>
struct std::hash<mxemu::StrongIndex<Tag, Rep>> {
  std::size_t operator()(const mxemu::StrongIndex<Tag, Rep>& i) const noexcept {
    return std::hash<Rep>{}(i.value());
  }
};
