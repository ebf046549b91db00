// The one parallel loop (see parallel_for.h).
#include "zipserv/reference/parallel_for.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

namespace zipserv {

int resolve_threads(int threads, int64_t items) {
  const int64_t wanted = threads > 0 ? threads : std::max(1u, std::thread::hardware_concurrency());
  return static_cast<int>(std::max<int64_t>(1, std::min(wanted, items)));
}

void parallel_for(int64_t count, int threads, const std::function<void(int64_t)>& body) {
  if (count <= 0) return;
  std::atomic<int64_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex error_mutex;
  std::exception_ptr first_error;  // guarded by error_mutex
  auto worker = [&] {
    // The failed flag is checked before taking an item, so after an exception no thread starts
    // a new one; the items already running finish.
    while (!failed.load(std::memory_order_relaxed)) {
      const int64_t i = next.fetch_add(1, std::memory_order_relaxed);
      if (i >= count) return;
      try {
        body(i);
      } catch (...) {
        std::lock_guard lock(error_mutex);
        if (!first_error) first_error = std::current_exception();
        failed.store(true, std::memory_order_relaxed);
      }
    }
  };
  const int workers = resolve_threads(threads, count);
  std::vector<std::thread> pool;
  pool.reserve(static_cast<size_t>(workers - 1));
  for (int w = 1; w < workers; ++w) {
    try {
      pool.emplace_back(worker);
    } catch (const std::system_error&) {
      break;  // no more threads available: the ones running (and this one) take every item
    }
  }
  worker();  // the calling thread works too
  for (std::thread& t : pool) t.join();
  if (first_error) std::rethrow_exception(first_error);  // joined: no thread writes it any more
}

}  // namespace zipserv
