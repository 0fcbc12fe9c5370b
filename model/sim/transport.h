// How the processes (ranks) of a distributed pod talk to each other (docs/DISTRIBUTED.md). The
// simulation needs only these few collective operations; the MPI implementation lives in a
// plugin (model/sim/mpi, libmxemu_mpi.so) that mxemu loads when mpirun started it, so the
// binary itself neither links nor needs MPI. Every call is collective: all ranks make it, in the
// same order.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace mxemu::sim {

using Bytes = std::vector<std::uint8_t>;

class PodTransport {
 public:
  virtual ~PodTransport() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // Ranks on this host (for the default number of host threads per rank).
  virtual int local_size() const = 0;
  // Every rank sends out[r] to rank r (out.size() == size()); returns what each rank sent here.
  virtual std::vector<Bytes> exchange(const std::vector<Bytes>& out) = 0;
  // The element-wise minimum over all ranks, in place (the same length on every rank).
  virtual void min(std::vector<std::uint64_t>& v) = 0;
  // Every rank's bytes, on every rank (index = rank).
  virtual std::vector<Bytes> all_gather(const Bytes& mine) = 0;
  // Every rank's bytes on rank 0 (index = rank); other ranks get an empty vector.
  virtual std::vector<Bytes> gather(const Bytes& mine) = 0;
  // Ends every rank of the job now with `code` (MPI_Abort): for an error on one rank that the
  // others, waiting in a collective, would otherwise never hear of.
  [[noreturn]] virtual void abort(int code) = 0;
};

// Whether this process was started by an MPI launcher (mpirun / mpiexec: OpenMPI's or PMI's
// environment variables).
bool launched_by_mpi();

// Loads the MPI plugin and initialises MPI (MPI_Init). The plugin is libmxemu_mpi.so next to
// the mxemu binary, or the file $MXEMU_MPI_PLUGIN names. Throws mxemu::Error (bad input) naming
// the cause when it cannot be loaded: a build without MPI, OpenMPI's libraries missing.
std::unique_ptr<PodTransport> load_mpi_transport();

}  // namespace mxemu::sim
