// Work items over std::threads (see parallel_items.h).
#include "parallel_items.h"

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

namespace zipserv::emu {

int resolve_threads(int threads) {
  if (threads > 0) return threads;
  return std::max(1u, std::thread::hardware_concurrency());
}

void parallel_for_items(int64_t count, int threads, const std::function<void(int64_t)>& body) {
  if (count <= 0) return;
  const int workers = static_cast<int>(std::min<int64_t>(resolve_threads(threads), count));
  std::atomic<int64_t> next{0};
  auto worker = [&] {
    for (int64_t i = next.fetch_add(1); i < count; i = next.fetch_add(1)) body(i);
  };
  std::vector<std::thread> pool;
  pool.reserve(static_cast<size_t>(workers - 1));
  for (int w = 1; w < workers; ++w) pool.emplace_back(worker);
  worker();
  for (std::thread& t : pool) t.join();
}

}  // namespace zipserv::emu
