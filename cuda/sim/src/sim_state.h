/*! \file sim_state.h
 *  \brief The simulator's state of one block while it runs: its threads (fibers), warps, shared
 *         memory, shadow and the hazards found. Internal to cuda-sim.
 */
#pragma once

#include <array>
#include <cstring>
#include <cstdint>
#include <exception>
#include <memory>
#include <random>
#include <source_location>
#include <string>
#include <vector>

#include "fiber.h"
#include "shared_shadow.h"
#include "zipserv/cuda/sim/simulator.h"

namespace zipserv::cuda::sim::detail {

/// Thrown inside a simulated thread after a hazard that makes going on unsafe (an access outside
/// every allocation): the thread's entry catches it and stops the block.
struct StopBlock {};

/// What a simulated thread is doing when it is not running.
enum class ThreadWait { runnable, barrier, mma, finished };

/// One 16-B cp.async not yet landed.
struct PendingCopy {
  unsigned char* dst;
  std::array<unsigned char, 16> data;
  std::source_location at;
};

struct BlockState;

/// One simulated CUDA thread.
struct ThreadState {
  BlockState* block = nullptr;
  int tid = 0, warp = 0;  // lane = tid % 32
  ThreadWait wait = ThreadWait::runnable;
  std::source_location wait_at;              ///< the barrier or mma it waits at
  std::vector<PendingCopy> open_group;       ///< issued since the last commit
  std::vector<std::vector<PendingCopy>> committed;  ///< oldest first
  // mma operands while waiting at a collective (point into the fiber's stack)
  float (*mma_c)[4] = nullptr;
  const uint32_t (*mma_a)[4] = nullptr;
  const uint32_t (*mma_b)[2] = nullptr;
  Fiber* fiber = nullptr;
};

/// One warp's collective in progress.
struct WarpState {
  int arrived = 0;
  std::source_location site;
};

/// Everything about the block being run by one worker.
struct BlockState {
  const char* kernel = "";
  const Options* options = nullptr;
  Dim3 grid, block_dim, block_idx;
  uint32_t block_serial = 0;  ///< worker-unique, never 0
  uint64_t block_serial_for_seed = 0;  ///< the block's linear index: seeds its schedule
  uint32_t interval = 0;      ///< current barrier interval (worker-unique numbering)
  unsigned char* shared = nullptr;
  size_t shared_bytes = 0;
  SharedShadow* shadow = nullptr;
  std::vector<ThreadState> threads;
  std::vector<WarpState> warps;
  int finished = 0;
  bool fatal = false;          ///< a hazard that stops the block (deadlock, divergence, exception)
  LaunchStats stats;           ///< this block's counts and hazards
  const std::function<void()>* body = nullptr;
  std::exception_ptr exception;
};

/// True when two source locations name the same file, line and column (a barrier or mma call
/// site, or the place of a hazard).
inline bool same_location(const std::source_location& x, const std::source_location& y) {
  return x.line() == y.line() && x.column() == y.column() && std::strcmp(x.file_name(), y.file_name()) == 0;
}

/// Adds a hazard to the block's list (merging identical ones) and writes its paragraph.
void report(BlockState& b, HazardKind kind, int thread, const std::source_location& where, int other_thread,
            const std::source_location& other_where, int64_t offset, const std::string& detail);

/// Runs the block's threads to completion (or to a fatal hazard).
void run_block(BlockState& b, std::vector<std::unique_ptr<Fiber>>& fibers, uint32_t& worker_interval);

/// Stack of each simulated thread.
inline constexpr size_t kFiberStackBytes = 256 * 1024;

/// The mma collective of warp `warp`, once all 32 lanes have arrived.
void complete_mma(BlockState& b, int warp);

}  // namespace zipserv::cuda::sim::detail
