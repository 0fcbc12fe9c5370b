// How a distributed pod's chips are shared out among the ranks (docs/DISTRIBUTED.md,
// "Partition"): whole cubes (the OCS's units), contiguous slabs of chip indices (x fastest, so a
// slab of a 2-D torus is a band of whole rows when the rank count divides the rows), or a list
// the user gives. Every chip goes to exactly one rank; each rank gets at least one.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/sim/sim_config.h"

namespace mxemu::sim {

struct Partition {
  std::string kind;                    // "cubes", "slabs" or "list"
  std::vector<std::uint32_t> rank_of;  // per chip of the pod (logical = physical before a run)
  std::string describe() const;        // "rank 0: chips 0-3; rank 1: chips 4-7"
};

// spec: "auto" (cubes when the pod has at least as many whole cubes as ranks, else slabs),
// "cubes", "slabs", or a list: one group of chips per rank, groups separated by '/', chips
// and ranges by ',' ("0-3,8/4-7,9"). Throws bad input naming the problem: more ranks than chips
// or cubes, a pod not made of whole cubes, a list that gives a chip to two ranks (it would cut
// the chip in two), leaves one out, names a chip the pod lacks, or has the wrong group count.
Partition make_partition(const PodConfig& pod, std::uint32_t ranks, const std::string& spec);

}  // namespace mxemu::sim
