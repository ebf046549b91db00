/*! \file simulator.h
 *  \brief cuda-sim: runs the project's CUDA kernels, compiled by the host C++ compiler, on the CPU,
 *         with the semantics of blocks, warps, barriers, `cp.async` and `mma.sync` checked rather
 *         than assumed.
 *
 *  A launch mirrors `kernel<<<grid, block, shared_bytes>>>(args)`:
 *
 *  \code
 *  sim::launch("decode_kernel", grid, block, shared_bytes, options,
 *              [=] { decode_kernel(w, layout, rows, cols, aligned, out); });
 *  \endcode
 *
 *  Every CUDA thread of a block is a fiber (Boost.Context); a block's fibers run on one CPU
 *  thread, blocks are spread over `Options::workers` CPU threads. A fiber runs until it reaches
 *  a point where it must wait for others (`__syncthreads`, a warp's `mma.sync`), so the
 *  interleaving is that of a real GPU at those points, and the order in which warps run between
 *  them is shuffled by a seed. What is checked, and reported as a Hazard:
 *  - barriers: every thread of the block reaches the same `__syncthreads` call site; a thread
 *    that exits while others wait, or a divergent or deadlocked block, is reported;
 *  - `mma.sync`: all 32 lanes of the warp arrive at the same instruction;
 *  - `cp.async`: destination inside the launch's dynamic shared memory, source inside a
 *    registered global allocation, both 16-B aligned; data lands at the covering
 *    `cp.async.wait_group` (until then the destination reads as poison) or, in the other mode,
 *    at issue; non-empty groups still pending when a thread exits;
 *  - shared memory: within one barrier interval, a byte written by one thread and read or written
 *    by another (racecheck); reads of bytes whose cp.async has not landed;
 *  - global memory: reads and writes outside registered allocations.
 *
 *  What it cannot see is listed on the docs page "What cuda-sim cannot see" (compiler-level
 *  problems, `__CUDA_ARCH__`-only code, timing).
 */
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <source_location>
#include <stdexcept>
#include <string>
#include <vector>

#include "zipserv/reference/mma_numerics.h"

namespace zipserv::cuda::sim {

/// \defgroup cuda_sim cuda-sim: the CUDA kernels on the CPU
/// The simulator of blocks and warps that runs the kernels' own source on any machine, and the
/// backend switch of the CUDA host API. See the page \ref simulator.
/// \{

/// CUDA's dim3: x, y, z extents or indices.
struct Dim3 {
  unsigned x = 1;  ///< fastest-varying
  unsigned y = 1;  ///< middle
  unsigned z = 1;  ///< slowest-varying
};

/// When the bytes of a `cp.async` land in shared memory.
enum class CpAsyncLanding {
  at_wait,   ///< at the issuing thread's covering cp.async.wait_group; poison until then (strict)
  at_issue,  ///< immediately, like a synchronous copy (the most forgiving timing)
};

/// How a launch is simulated.
struct Options {
  uint64_t seed = 1;                                     ///< shuffles the warp order; printed in every report
  CpAsyncLanding landing = CpAsyncLanding::at_wait;      ///< see CpAsyncLanding
  MmaNumerics numerics = MmaNumerics::ieee_sequential;   ///< the arithmetic of every mma.sync
  int workers = 0;                                       ///< CPU threads running blocks; 0 = all cores
  bool throw_on_hazard = true;                           ///< launch() throws HazardError after a hazard
};

/// The kinds of problem the simulator reports.
enum class HazardKind {
  shared_race,            ///< two threads touch a shared byte in one barrier interval, one writes
  cp_async_not_landed,    ///< a shared byte read or written while a cp.async to it is in flight
  cp_async_pending_at_exit,  ///< a thread exits with a non-empty cp.async group not waited for
  cp_async_bad_address,   ///< a cp.async outside shared memory / registered global memory, or unaligned
  shared_out_of_bounds,   ///< a shared access outside the launch's dynamic shared memory
  global_out_of_bounds,   ///< a global access outside every registered allocation
  divergent_barrier,      ///< threads of a block wait at different __syncthreads call sites
  exit_before_barrier,    ///< a thread exits while other threads of its block wait at a barrier
  divergent_warp_collective,  ///< lanes of a warp at different mma.sync, or some lanes elsewhere
  deadlock,               ///< no thread can run and the block has not finished
  kernel_exception,       ///< the kernel's code threw a C++ exception
};

/// The name of a hazard kind ("shared_race", ...).
const char* hazard_kind_name(HazardKind kind);

/// One reported problem (identical ones, same kind and source locations, are counted once).
struct Hazard {
  HazardKind kind;                  ///< what went wrong
  std::string kernel;               ///< the launch's kernel name
  Dim3 block;                       ///< blockIdx
  int thread = -1;                  ///< threadIdx.x of the thread that found it
  int other_thread = -1;            ///< the other thread involved, or -1
  std::source_location where;       ///< the access or call of `thread`
  std::source_location other_where; ///< the access or call of `other_thread`
  int64_t offset = -1;              ///< shared-memory byte offset (or -1)
  uint64_t seed = 0;                ///< Options::seed of the launch
  int64_t occurrences = 1;          ///< how many times this same hazard was seen in the launch
  std::string paragraph;            ///< the readable report: what, where, which threads, the seed
};

/// What one launch did.
struct LaunchStats {
  int64_t blocks = 0;          ///< blocks run
  int64_t threads = 0;         ///< threads run (blocks x block size)
  int64_t barriers = 0;        ///< barrier releases, summed over blocks
  int64_t mma = 0;             ///< warp-level mma.sync executed
  int64_t cp_async = 0;        ///< 16-B cp.async issued
  int64_t shared_bytes_checked = 0;  ///< shared bytes whose accesses went through the race check
  std::vector<Hazard> hazards; ///< distinct hazards, in block order
};

/// Thrown by launch() when the launch reported hazards (Options::throw_on_hazard).
class HazardError : public std::runtime_error {
 public:
  /// what() lists one paragraph per distinct hazard of `stats`.
  explicit HazardError(LaunchStats stats);
  /// The launch's statistics and hazards.
  const LaunchStats& stats() const { return stats_; }

 private:
  LaunchStats stats_;
};

/// Runs `thread_body` once for every thread of every block of `grid` x `block`, with
/// `shared_bytes` of dynamic shared memory per block, and returns what happened. Only
/// one-dimensional blocks (block.y = block.z = 1) of at most 1024 threads are supported.
LaunchStats launch(const char* kernel_name, Dim3 grid, Dim3 block, size_t shared_bytes, const Options& options,
                   const std::function<void()>& thread_body);

/// The statistics of the last launch() made by this CPU thread.
const LaunchStats& last_launch_stats();

/// Registers [base, base + bytes) as device (global) memory that kernels may access.
void register_global(const void* base, size_t bytes);
/// Removes a registration made by register_global().
void unregister_global(const void* base);
/// True when [p, p + bytes) lies inside one registered allocation.
bool is_registered_global(const void* p, size_t bytes);

/// \}

}  // namespace zipserv::cuda::sim
