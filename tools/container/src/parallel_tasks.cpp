// The thread pool over tensors and the progress line (see parallel_tasks.h).
#include "parallel_tasks.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <exception>
#include <thread>
#include <vector>

namespace zipserv::st::detail {

int worker_count(int threads, size_t tasks) {
  size_t n = threads > 0 ? static_cast<size_t>(threads) : std::max(1u, std::thread::hardware_concurrency());
  return static_cast<int>(std::max<size_t>(1, std::min(n, tasks)));
}

void run_parallel(size_t count, int threads, const std::function<void(size_t)>& task) {
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr first_error;
  std::mutex error_mutex;
  auto worker = [&] {
    for (size_t i; !failed.load() && (i = next.fetch_add(1)) < count;) {
      try {
        task(i);
      } catch (...) {
        std::lock_guard lock(error_mutex);
        if (!first_error) first_error = std::current_exception();
        failed.store(true);
      }
    }
  };
  const int n = worker_count(threads, count);
  std::vector<std::thread> pool;
  for (int w = 1; w < n; ++w) pool.emplace_back(worker);
  worker();  // the calling thread works too
  for (std::thread& t : pool) t.join();
  if (first_error) std::rethrow_exception(first_error);
}

ProgressLine::ProgressLine(std::string label, size_t total, bool enabled)
    : label_(std::move(label)), total_(total), enabled_(enabled && isatty(STDERR_FILENO)) {}

ProgressLine::~ProgressLine() {
  if (enabled_ && done_ > 0) std::fputc('\n', stderr);
}

void ProgressLine::step(uint64_t bytes) {
  std::lock_guard lock(mutex_);
  ++done_;
  bytes_ += bytes;
  if (enabled_)
    std::fprintf(stderr, "\r%s: %zu/%zu tensors, %.1f MiB", label_.c_str(), done_, total_,
                 static_cast<double>(bytes_) / (1 << 20));
}

}  // namespace zipserv::st::detail
