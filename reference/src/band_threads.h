// Private to the reference: runs work on contiguous bands of block-tile rows, one std::thread
// per band. Block tiles never share bytes once their offsets are known, so the bands need no
// synchronisation beyond the final join.
#pragma once

#include <algorithm>
#include <cstdint>
#include <thread>
#include <vector>

namespace zipserv::detail {

/// The thread count `requested` means: itself if positive, else one per hardware thread; never
/// more than there are bands of work.
inline int resolve_threads(int requested, int64_t work_items) {
  const int64_t n = requested > 0 ? requested : std::max(1u, std::thread::hardware_concurrency());
  return static_cast<int>(std::max<int64_t>(1, std::min(n, work_items)));
}

/// Calls body(band, first, end) for `threads` contiguous, near-equal ranges [first, end)
/// covering [0, items), band = 0 .. threads-1; the calling thread runs band 0 itself.
/// Returns the number of bands used (resolve_threads()).
template <typename Body>
int for_each_band(int64_t items, int threads, Body body) {
  threads = resolve_threads(threads, items);
  if (threads == 1) {
    body(0, int64_t{0}, items);
    return 1;
  }
  std::vector<std::thread> workers;
  workers.reserve(threads - 1);
  for (int b = 1; b < threads; ++b)
    workers.emplace_back(body, b, items * b / threads, items * (b + 1) / threads);
  body(0, int64_t{0}, items / threads);
  for (auto& w : workers) w.join();
  return threads;
}

}  // namespace zipserv::detail
