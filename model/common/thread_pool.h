// A fixed set of host threads that run one parallel region at a time: run(n, fn) calls fn(t) for
// t in [0, n) concurrently, each t on its own thread (the caller runs t = 0), and returns when all
// are done. Tasks of one region may wait for each other (a barrier), which is why each gets its own
// thread. Owned by the simulation and shared by every chip (SystemC runs one process at a time, so
// regions never overlap); results must not depend on the thread count.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace mxemu {

class ThreadPool {
 public:
  // threads: total threads including the caller; 0 = one per host hardware thread.
  explicit ThreadPool(unsigned threads = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  unsigned size() const { return static_cast<unsigned>(workers_.size()) + 1; }
  // n must be in [1, size()]. The first exception any task throws is rethrown here.
  void run(std::size_t n, const std::function<void(std::size_t)>& fn);

  static unsigned host_threads();

 private:
  void worker(std::size_t index);

  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable start_cv_, done_cv_;
  std::uint64_t generation_ = 0;
  std::size_t tasks_ = 0;      // tasks of the current region
  std::size_t remaining_ = 0;  // worker tasks of the current region not yet finished
  const std::function<void(std::size_t)>* fn_ = nullptr;
  std::exception_ptr error_;
  bool stop_ = false;
};

}  // namespace mxemu
