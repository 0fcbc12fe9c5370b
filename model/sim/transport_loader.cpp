#include <dlfcn.h>
#include <unistd.h>

#include <array>
#include <cstdlib>
#include <string>

#include "model/common/error.h"
#include "model/sim/transport.h"

namespace mxemu::sim {

namespace {

// The directory of the running binary (the plugin is built next to it).
std::string exe_dir() {
  std::array<char, 4096> buf{};
  const ssize_t n = readlink("/proc/self/exe", buf.data(), buf.size() - 1);
  if (n <= 0) return ".";
  std::string p(buf.data(), static_cast<std::size_t>(n));
  const std::size_t slash = p.rfind('/');
  return slash == std::string::npos ? std::string(".") : p.substr(0, slash);
}

}  // namespace

bool launched_by_mpi() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"}) {
    if (std::getenv(v) != nullptr) return true;  // NOLINT(concurrency-mt-unsafe): start-up only
  }
  return false;
}

std::unique_ptr<PodTransport> load_mpi_transport() {
  const char* env = std::getenv("MXEMU_MPI_PLUGIN");  // NOLINT(concurrency-mt-unsafe)
  const std::string path = env != nullptr ? std::string(env) : exe_dir() + "/libmxemu_mpi.so";
  // RTLD_GLOBAL: OpenMPI's own components, which it loads in turn, resolve libmpi's symbols.
  void* lib = dlopen(path.c_str(), RTLD_NOW | RTLD_GLOBAL);
  if (lib == nullptr) {
    const char* why = dlerror();  // NOLINT(concurrency-mt-unsafe): start-up, one thread
    throw_bad_input(
        "started by mpirun, but MPI is not available: cannot load the MPI plugin '{}' ({}); "
        "build mxemu with Debian's libopenmpi-dev installed (tools/bootstrap.sh installs it)",
        path, why != nullptr ? why : "unknown reason");
  }
  using Create = PodTransport* (*)(char* error, std::size_t error_bytes);
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): dlsym's result is untyped
  const auto create = reinterpret_cast<Create>(dlsym(lib, "mxemu_mpi_transport_create"));
  if (create == nullptr) {
    throw_bad_input("'{}' is not mxemu's MPI plugin (no mxemu_mpi_transport_create)", path);
  }
  std::array<char, 512> error{};
  PodTransport* t = create(error.data(), error.size());
  if (t == nullptr) throw_bad_input("MPI could not start: {}", error.data());
  return std::unique_ptr<PodTransport>(t);
}

}  // namespace mxemu::sim
