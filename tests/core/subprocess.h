// A child process for CLI tests: argv, captured stdout/stderr, bounded waits (the child is killed
// when a deadline passes, so a test never hangs).
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>
#include <csignal>

#include <chrono>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace mxemu::test {

class Child {
 public:
  explicit Child(const std::vector<std::string>& argv) {
    int out[2], err[2];
    if (pipe(out) != 0 || pipe(err) != 0) throw std::runtime_error("pipe failed");
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      dup2(out[1], 1);
      dup2(err[1], 2);
      close(out[0]);
      close(err[0]);
      close(out[1]);
      close(err[1]);
      setpgid(0, 0);  // own process group: signals go to the child only
      setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 1);  // NOLINT(concurrency-mt-unsafe): child
      std::vector<char*> args;
      args.reserve(argv.size() + 1);
      for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      execvp(args[0], args.data());
      _exit(127);
    }
    close(out[1]);
    close(err[1]);
    out_fd_ = out[0];
    err_fd_ = err[0];
  }
  ~Child() {
    if (pid_ > 0 && !exited_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (out_fd_ >= 0) close(out_fd_);
    if (err_fd_ >= 0) close(err_fd_);
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  // Reads output until `done()` holds or `timeout_s` passes; returns done().
  bool wait_until(const std::function<bool()>& done, double timeout_s) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
    while (!done()) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                            end - std::chrono::steady_clock::now())
                            .count();
      if (left <= 0) return false;
      if (!pump(static_cast<int>(std::min<long long>(left, 50)))) {
        if (reap()) return done();
        usleep(10000);
      }
    }
    return true;
  }

  // Waits for the exit (killing the child after `timeout_s`); returns the exit status, or -1
  // when it had to be killed, or 128 + signal.
  int finish(double timeout_s) {
    const bool ok = wait_until([this] { return reap(); }, timeout_s);
    if (!ok) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
      exited_ = true;
      return -1;
    }
    while (pump(0)) {
    }
    return status_;
  }

  void signal(int sig) { kill(pid_, sig); }
  const std::string& out() const { return out_; }
  const std::string& err() const { return err_; }

 private:
  // Reads what is available within `ms`; false when both pipes are at EOF.
  bool pump(int ms) {
    pollfd p[2] = {{out_fd_, POLLIN, 0}, {err_fd_, POLLIN, 0}};
    const int n = out_fd_ < 0 && err_fd_ < 0 ? 0 : poll(p, 2, ms);
    if (n <= 0) return out_fd_ >= 0 || err_fd_ >= 0;
    char buf[4096];
    for (int i = 0; i < 2; ++i) {
      int& fd = i == 0 ? out_fd_ : err_fd_;
      if (fd < 0 || (p[i].revents & (POLLIN | POLLHUP)) == 0) continue;
      const ssize_t r = read(fd, buf, sizeof buf);
      if (r > 0) {
        (i == 0 ? out_ : err_).append(buf, static_cast<std::size_t>(r));
      } else {
        close(fd);
        fd = -1;
      }
    }
    return out_fd_ >= 0 || err_fd_ >= 0;
  }
  bool reap() {
    if (exited_) return true;
    int st = 0;
    if (waitpid(pid_, &st, WNOHANG) == pid_) {
      exited_ = true;
      status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    }
    return exited_;
  }

  pid_t pid_ = -1;
  int out_fd_ = -1, err_fd_ = -1;
  bool exited_ = false;
  int status_ = -1;
  std::string out_, err_;
};

// Path of the mxemu binary of this build.
inline std::string mxemu_binary() {
  const char* build = std::getenv("MXEMU_BUILD_DIR");  // NOLINT(concurrency-mt-unsafe): read-only
  if (build == nullptr) throw std::runtime_error("MXEMU_BUILD_DIR is not set (run through ctest)");
  return std::string(build) + "/mxemu";
}

}  // namespace mxemu::test
