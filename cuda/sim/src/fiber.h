/*! \file fiber.h
 *  \brief A minimal fiber (a function with a stack of its own that can pause and be resumed) on
 *         Boost.Context's fcontext switch, announced to AddressSanitizer on every switch.
 *
 *  One simulated CUDA thread is one Fiber. The scheduler resume()s it; inside, the thread calls
 *  yield() when it must wait (a barrier, a warp collective) and returns to the scheduler.
 */
#pragma once

#include <boost/context/detail/fcontext.hpp>

#include <cstddef>

namespace zipserv::cuda::sim::detail {

class Fiber {
 public:
  using Entry = void (*)(void* arg);

  explicit Fiber(size_t stack_bytes);
  ~Fiber();
  Fiber(const Fiber&) = delete;
  Fiber& operator=(const Fiber&) = delete;

  /// Prepares the fiber to run entry(arg) from the top of its stack at the next resume().
  void start(Entry entry, void* arg);
  /// Runs the fiber until it yields or its entry returns.
  void resume();
  /// Called on the fiber's own stack: returns to the scheduler that resumed it.
  void yield();
  /// True once the entry has returned.
  bool finished() const { return finished_; }

 private:
  static void trampoline(boost::context::detail::transfer_t from);

  void* stack_ = nullptr;  // mmap'ed, lowest page a guard page
  size_t stack_bytes_ = 0;
  boost::context::detail::fcontext_t fiber_ctx_ = nullptr;
  boost::context::detail::fcontext_t scheduler_ctx_ = nullptr;
  Entry entry_ = nullptr;
  void* arg_ = nullptr;
  bool finished_ = true;
  // AddressSanitizer bookkeeping (unused without it).
  void* fake_stack_ = nullptr;
  const void* scheduler_stack_bottom_ = nullptr;
  size_t scheduler_stack_size_ = 0;
};

}  // namespace zipserv::cuda::sim::detail
