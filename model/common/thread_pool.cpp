#include "model/common/thread_pool.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace mxemu {

unsigned ThreadPool::host_threads() {
  return std::max(1u, std::thread::hardware_concurrency());
}

ThreadPool::ThreadPool(unsigned threads) {
  const unsigned n = threads == 0 ? host_threads() : threads;
  workers_.reserve(n - 1);
  for (unsigned i = 1; i < n; ++i) workers_.emplace_back([this, i] { worker(i); });
}

ThreadPool::~ThreadPool() {
  {
    const std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  start_cv_.notify_all();
  for (std::thread& t : workers_) t.join();
}

void ThreadPool::worker(std::size_t index) {
  std::uint64_t seen = 0;
  for (;;) {
    const std::function<void(std::size_t)>* fn = nullptr;
    {
      std::unique_lock<std::mutex> lock(mu_);
      start_cv_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
      if (index >= tasks_) continue;
      fn = fn_;
    }
    try {
      (*fn)(index);
    } catch (...) {
      const std::lock_guard<std::mutex> lock(mu_);
      if (!error_) error_ = std::current_exception();
    }
    {
      const std::lock_guard<std::mutex> lock(mu_);
      --remaining_;
    }
    done_cv_.notify_one();
  }
}

void ThreadPool::run(std::size_t n, const std::function<void(std::size_t)>& fn) {
  if (n == 0 || n > size()) {
    throw std::invalid_argument("ThreadPool::run: " + std::to_string(n) + " tasks on a pool of " +
                                std::to_string(size()) + " threads");
  }
  if (n > 1) {
    {
      const std::lock_guard<std::mutex> lock(mu_);
      fn_ = &fn;
      tasks_ = n;
      remaining_ = n - 1;
      error_ = nullptr;
      ++generation_;
    }
    start_cv_.notify_all();
  }
  std::exception_ptr mine;
  try {
    fn(0);
  } catch (...) {
    mine = std::current_exception();
  }
  if (n > 1) {
    std::unique_lock<std::mutex> lock(mu_);
    done_cv_.wait(lock, [&] { return remaining_ == 0; });
    fn_ = nullptr;
    if (!mine) mine = error_;
    error_ = nullptr;
  }
  if (mine) std::rethrow_exception(mine);
}

}  // namespace mxemu
