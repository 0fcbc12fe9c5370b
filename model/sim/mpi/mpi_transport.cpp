// The MPI implementation of PodTransport (model/sim/transport.h), built as the plugin
// libmxemu_mpi.so that mxemu loads at run time under mpirun. Plain MPI-1 collectives on
// MPI_COMM_WORLD; byte counts above 2 GiB per window are refused (MPI's int counts).
#include <mpi.h>

#include <cstdio>
#include <cstdlib>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "model/sim/transport.h"

namespace {

using mxemu::sim::Bytes;

int to_int(std::size_t n) {
  if (n > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
    throw std::length_error("more than 2 GiB in one MPI message");
  }
  return static_cast<int>(n);
}

class MpiTransport final : public mxemu::sim::PodTransport {
 public:
  MpiTransport() {
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
    MPI_Comm local = MPI_COMM_NULL;
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &local);
    MPI_Comm_size(local, &local_size_);
    MPI_Comm_free(&local);
  }
  ~MpiTransport() override { MPI_Finalize(); }
  MpiTransport(const MpiTransport&) = delete;
  MpiTransport& operator=(const MpiTransport&) = delete;
  MpiTransport(MpiTransport&&) = delete;
  MpiTransport& operator=(MpiTransport&&) = delete;

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  int local_size() const override { return local_size_; }

  std::vector<Bytes> exchange(const std::vector<Bytes>& out) override {
    const auto n = static_cast<std::size_t>(size_);
    std::vector<int> send_counts(n), recv_counts(n), send_displs(n), recv_displs(n);
    Bytes send;
    for (std::size_t r = 0; r < n; ++r) {
      send_displs[r] = to_int(send.size());
      send_counts[r] = to_int(out[r].size());
      send.insert(send.end(), out[r].begin(), out[r].end());
    }
    MPI_Alltoall(send_counts.data(), 1, MPI_INT, recv_counts.data(), 1, MPI_INT, MPI_COMM_WORLD);
    std::size_t total = 0;
    for (std::size_t r = 0; r < n; ++r) {
      recv_displs[r] = to_int(total);
      total += static_cast<std::size_t>(recv_counts[r]);
    }
    Bytes recv(total);
    MPI_Alltoallv(send.data(), send_counts.data(), send_displs.data(), MPI_BYTE, recv.data(),
                  recv_counts.data(), recv_displs.data(), MPI_BYTE, MPI_COMM_WORLD);
    std::vector<Bytes> in(n);
    for (std::size_t r = 0; r < n; ++r) {
      const auto* b = recv.data() + recv_displs[r];
      in[r].assign(b, b + recv_counts[r]);
    }
    return in;
  }

  void min(std::vector<std::uint64_t>& v) override {
    MPI_Allreduce(MPI_IN_PLACE, v.data(), to_int(v.size()), MPI_UINT64_T, MPI_MIN, MPI_COMM_WORLD);
  }

  std::vector<Bytes> all_gather(const Bytes& mine) override { return collect(mine, true); }
  std::vector<Bytes> gather(const Bytes& mine) override { return collect(mine, false); }

  [[noreturn]] void abort(int code) override {
    std::fflush(stdout);
    std::fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, code);
    std::_Exit(code);  // MPI_Abort does not return; should it, leave anyway
  }

 private:
  std::vector<Bytes> collect(const Bytes& mine, bool everyone) {
    const auto n = static_cast<std::size_t>(size_);
    int count = to_int(mine.size());
    std::vector<int> counts(n), displs(n);
    if (everyone) {
      MPI_Allgather(&count, 1, MPI_INT, counts.data(), 1, MPI_INT, MPI_COMM_WORLD);
    } else {
      MPI_Gather(&count, 1, MPI_INT, counts.data(), 1, MPI_INT, 0, MPI_COMM_WORLD);
    }
    std::size_t total = 0;
    for (std::size_t r = 0; r < n; ++r) {
      displs[r] = to_int(total);
      total += static_cast<std::size_t>(counts[r]);
    }
    Bytes all(total);
    if (everyone) {
      MPI_Allgatherv(mine.data(), count, MPI_BYTE, all.data(), counts.data(), displs.data(),
                     MPI_BYTE, MPI_COMM_WORLD);
    } else {
      MPI_Gatherv(mine.data(), count, MPI_BYTE, all.data(), counts.data(), displs.data(), MPI_BYTE,
                  0, MPI_COMM_WORLD);
      if (rank_ != 0) return {};
    }
    std::vector<Bytes> out(n);
    for (std::size_t r = 0; r < n; ++r) {
      const auto* b = all.data() + displs[r];
      out[r].assign(b, b + counts[r]);
    }
    return out;
  }

  int rank_ = 0, size_ = 1, local_size_ = 1;
};

}  // namespace

// The plugin's one entry point (model/sim/transport_loader.cpp): initialises MPI and returns
// the transport, or nullptr with the reason in `error`.
extern "C" mxemu::sim::PodTransport* mxemu_mpi_transport_create(char* error,
                                                                std::size_t error_bytes) {
  int initialised = 0;
  MPI_Initialized(&initialised);
  if (initialised == 0 && MPI_Init(nullptr, nullptr) != MPI_SUCCESS) {
    std::snprintf(error, error_bytes, "MPI_Init failed");
    return nullptr;
  }
  // Errors in MPI calls end the job (the default, stated): a rank never waits for a dead peer.
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL);
  return new MpiTransport();  // NOLINT(cppcoreguidelines-owning-memory): owned by the caller
}
