#include "model/sim/partition.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>

#include "model/common/error.h"

namespace mxemu::sim {

namespace {

std::uint32_t parse_chip(const std::string& s, const std::string& spec) {
  std::uint32_t v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size()) {
    throw_bad_input("--partition {}: '{}' is not a chip number", spec, s);
  }
  return v;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t at = s.find(sep, start);
    out.push_back(s.substr(start, at == std::string::npos ? std::string::npos : at - start));
    if (at == std::string::npos) return out;
    start = at + 1;
  }
}

Partition from_list(std::uint32_t n, std::uint32_t ranks, const std::string& spec) {
  const std::vector<std::string> groups = split(spec, '/');
  if (groups.size() != ranks) {
    throw_bad_input(
        "--partition {}: {} groups of chips for {} ranks (one group per rank, "
        "separated by '/')",
        spec, groups.size(), ranks);
  }
  constexpr std::uint32_t kNone = ~std::uint32_t{0};
  Partition p{"list", std::vector<std::uint32_t>(n, kNone)};
  for (std::uint32_t r = 0; r < ranks; ++r) {
    for (const std::string& item : split(groups[r], ',')) {
      const std::size_t dash = item.find('-');
      const std::uint32_t lo = parse_chip(item.substr(0, dash), spec);
      const std::uint32_t hi =
          dash == std::string::npos ? lo : parse_chip(item.substr(dash + 1), spec);
      if (hi < lo) throw_bad_input("--partition {}: range {} runs backwards", spec, item);
      if (hi >= n) {
        throw_bad_input("--partition {}: names chip {}, but the pod has {} chips (0..{})", spec, hi,
                        n, n - 1);
      }
      for (std::uint32_t c = lo; c <= hi; ++c) {
        if (p.rank_of[c] != kNone) {
          throw_bad_input(
              "--partition {}: chip {} is given to rank {} and to rank {}: a chip runs whole on "
              "one rank and cannot be cut",
              spec, c, p.rank_of[c], r);
        }
        p.rank_of[c] = r;
      }
    }
  }
  for (std::uint32_t c = 0; c < n; ++c) {
    if (p.rank_of[c] == kNone) throw_bad_input("--partition {}: chip {} is on no rank", spec, c);
  }
  return p;
}

}  // namespace

std::string Partition::describe() const {
  std::string s;
  std::uint32_t ranks = 0;
  for (const std::uint32_t r : rank_of) ranks = std::max(ranks, r + 1);
  for (std::uint32_t r = 0; r < ranks; ++r) {
    std::string chips;
    std::uint32_t count = 0;
    for (std::uint32_t c = 0; c < rank_of.size(); ++c) {
      if (rank_of[c] != r) continue;
      ++count;
      std::uint32_t e = c;
      while (e + 1 < rank_of.size() && rank_of[e + 1] == r) ++e;
      chips += fmt::format("{}{}", chips.empty() ? "" : ",",
                           e == c ? std::to_string(c) : fmt::format("{}-{}", c, e));
      count += e - c;
      c = e;
    }
    s += fmt::format("{}rank {}: {} chip{} ({})", r == 0 ? "" : "; ", r, count,
                     count == 1 ? "" : "s", chips);
  }
  return s;
}

Partition make_partition(const PodConfig& pod, std::uint32_t ranks, const std::string& spec) {
  const std::uint32_t n = pod.chips();
  if (ranks == 0) throw_bad_input("no ranks");
  if (ranks > n) {
    throw_bad_input(
        "{} ranks for a pod of {} chips: more ranks than chips (each rank runs at "
        "least one whole chip)",
        ranks, n);
  }
  std::array<std::uint32_t, 3> shape{}, cube{}, cubes{};
  bool whole_cubes = true;
  std::uint32_t cube_count = 1;
  for (std::size_t d = 0; d < 3; ++d) {
    shape[d] = d < pod.shape.size() ? pod.shape[d] : 1;
    cube[d] = std::min(d < pod.cube.size() ? pod.cube[d] : 1, shape[d]);
    whole_cubes = whole_cubes && shape[d] % cube[d] == 0;
    cubes[d] = shape[d] / cube[d];
    cube_count *= cubes[d];
  }
  std::string kind = spec;
  if (spec == "auto")
    kind = whole_cubes && cube_count >= ranks && cube_count > 1 ? "cubes" : "slabs";
  if (kind == "cubes") {
    if (!whole_cubes) {
      throw_bad_input("--partition cubes: the pod {}x{}x{} is not made of whole {}x{}x{} cubes",
                      shape[0], shape[1], shape[2], cube[0], cube[1], cube[2]);
    }
    if (ranks > cube_count) {
      throw_bad_input(
          "{} ranks for a pod of {} cube{}: more ranks than cubes (use --partition "
          "slabs to share a cube out)",
          ranks, cube_count, cube_count == 1 ? "" : "s");
    }
    Partition p{"cubes", std::vector<std::uint32_t>(n)};
    for (std::uint32_t c = 0; c < n; ++c) {
      const std::uint32_t x = c % shape[0], y = c / shape[0] % shape[1],
                          z = c / (shape[0] * shape[1]);
      const std::uint32_t id =
          x / cube[0] + cubes[0] * (y / cube[1] + cubes[1] * (z / cube[2]));  // x fastest
      p.rank_of[c] = static_cast<std::uint32_t>(std::uint64_t{id} * ranks / cube_count);
    }
    return p;
  }
  if (kind == "slabs") {
    Partition p{"slabs", std::vector<std::uint32_t>(n)};
    for (std::uint32_t c = 0; c < n; ++c) {
      p.rank_of[c] = static_cast<std::uint32_t>(std::uint64_t{c} * ranks / n);
    }
    return p;
  }
  return from_list(n, ranks, spec);
}

}  // namespace mxemu::sim
