/*! \file parallel_tasks.h
 *  \brief Internal: the thread pool over tensors and the terminal progress line (not installed API).
 */
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>

namespace zipserv::st::detail {

/// Number of workers for a request of `threads` (0 = every hardware thread), never more than
/// `tasks`, never less than 1.
int worker_count(int threads, size_t tasks);

/// Runs task(i) for every i in [0, count) on worker_count(threads, count) threads, each taking
/// the next index when it is done, so at most that many tasks (tensors) are in progress at once.
/// The first exception stops the others from starting new tasks and is rethrown.
void run_parallel(size_t count, int threads, const std::function<void(size_t)>& task);

/// A one-line progress report on stderr, redrawn in place; silent unless enabled and stderr is a
/// terminal, so logs and pipes stay clean.
class ProgressLine {
 public:
  /// A line headed `label` counting up to `total` tasks; prints only if `enabled` and stderr is a terminal.
  ProgressLine(std::string label, size_t total, bool enabled);
  /// Ends the line, if one was drawn.
  ~ProgressLine();
  /// Marks one more task done, `bytes` of input handled.
  void step(uint64_t bytes);

 private:
  std::string label_;
  size_t total_, done_ = 0;
  uint64_t bytes_ = 0;
  bool enabled_;
  std::mutex mutex_;
};

}  // namespace zipserv::st::detail
