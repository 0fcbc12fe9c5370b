// An independent exact model of the fused step for tests: every value is a signed fixed-point
// integer of 704 bits with its last bit at 2^-320 (wide enough for every FP32 accumulator and
// every scaled FP8 product), summed exactly, then rounded to FP32 by inspecting bits. It shares no
// code with model/numerics (no sticky bits, no alignment shortcuts).
#pragma once

#include <array>
#include <cstdint>

namespace mxemu::test {

class Fixed {
 public:
  static constexpr int kWords = 22;
  static constexpr int kLsbExp = -320;

  // (-1)^neg * mag * 2^exp, mag < 2^32.
  static Fixed from(bool neg, std::uint64_t mag, int exp) {
    Fixed f;
    f.neg_ = neg;
    const int pos = exp - kLsbExp;  // bit position of mag's bit 0
    for (int i = 0; i < 64; ++i) {
      if ((mag >> i) & 1u) f.set_bit(pos + i);
    }
    return f;
  }

  bool is_zero() const {
    for (auto w : w_)
      if (w != 0) return false;
    return true;
  }
  bool neg() const { return neg_; }

  // Exact sum.
  friend Fixed operator+(const Fixed& x, const Fixed& y) {
    if (x.neg_ == y.neg_) {
      Fixed r = add_mag(x, y);
      r.neg_ = x.neg_;
      return r;
    }
    const int c = cmp_mag(x, y);
    if (c == 0) return Fixed{};
    Fixed r = c > 0 ? sub_mag(x, y) : sub_mag(y, x);
    r.neg_ = c > 0 ? x.neg_ : y.neg_;
    return r;
  }

  int top_bit() const {
    for (int i = kWords * 32 - 1; i >= 0; --i)
      if (bit(i)) return i;
    return -1;
  }
  bool bit(int i) const {
    if (i < 0 || i >= kWords * 32) return false;
    return ((w_[static_cast<std::size_t>(i / 32)] >> (i % 32)) & 1u) != 0;
  }
  bool any_below(int i) const {  // any bit set strictly below position i
    for (int j = 0; j < i && j < kWords * 32; ++j)
      if (bit(j)) return true;
    return false;
  }

  // Round to FP32 (RNE, gradual underflow, overflow to Inf). Zero keeps the sign given.
  std::uint32_t to_f32_bits() const {
    const std::uint32_t sign = neg_ ? 0x80000000u : 0u;
    const int t = top_bit();
    if (t < 0) return sign;
    const int top_exp = t + kLsbExp;
    // The quantum (value of the last kept bit) as a bit position.
    const int q_exp = top_exp >= -126 ? top_exp - 23 : -149;
    const int q = q_exp - kLsbExp;
    std::uint64_t kept = 0;
    for (int i = t; i >= q; --i) kept = (kept << 1) | (bit(i) ? 1u : 0u);
    const bool round_bit = bit(q - 1);
    const bool sticky = any_below(q - 1);
    if (round_bit && (sticky || (kept & 1u))) ++kept;
    if (kept == 0) return sign;
    // Now value = kept * 2^q_exp with kept <= 2^24.
    int e = q_exp;
    while (kept >= (1u << 24)) {
      kept >>= 1;
      ++e;
    }
    if (kept < (1u << 23)) return sign | static_cast<std::uint32_t>(kept);  // subnormal (e=-149)
    const int biased = e + 23 + 127;
    if (biased >= 255) return sign | 0x7F800000u;
    return sign | (static_cast<std::uint32_t>(biased) << 23) |
           (static_cast<std::uint32_t>(kept) & 0x7FFFFFu);
  }

 private:
  void set_bit(int i) { w_[static_cast<std::size_t>(i / 32)] |= 1u << (i % 32); }
  static int cmp_mag(const Fixed& x, const Fixed& y) {
    for (int i = kWords - 1; i >= 0; --i) {
      const auto a = x.w_[static_cast<std::size_t>(i)], b = y.w_[static_cast<std::size_t>(i)];
      if (a != b) return a > b ? 1 : -1;
    }
    return 0;
  }
  static Fixed add_mag(const Fixed& x, const Fixed& y) {
    Fixed r;
    std::uint64_t carry = 0;
    for (std::size_t i = 0; i < kWords; ++i) {
      const std::uint64_t s = std::uint64_t{x.w_[i]} + y.w_[i] + carry;
      r.w_[i] = static_cast<std::uint32_t>(s);
      carry = s >> 32;
    }
    return r;
  }
  static Fixed sub_mag(const Fixed& x, const Fixed& y) {  // |x| >= |y|
    Fixed r;
    std::int64_t borrow = 0;
    for (std::size_t i = 0; i < kWords; ++i) {
      std::int64_t d = std::int64_t{x.w_[i]} - y.w_[i] - borrow;
      borrow = d < 0 ? 1 : 0;
      if (d < 0) d += std::int64_t{1} << 32;
      r.w_[i] = static_cast<std::uint32_t>(d);
    }
    return r;
  }

  std::array<std::uint32_t, kWords> w_{};
  bool neg_ = false;
};

}  // namespace mxemu::test
