/*! \file shared_shadow.h
 *  \brief Shadow state of every byte of one block's shared memory: who last wrote it and who read
 *         it in which barrier interval, and whether a cp.async to it is still in flight. The race
 *         check of cuda-sim (like compute-sanitizer's racecheck) reads and updates it.
 *
 *  Intervals are numbered globally per CPU worker (a new number at every block start and every
 *  barrier release), so the shadow never needs clearing: an entry from another interval simply
 *  does not conflict.
 */
#pragma once

#include <cstdint>
#include <source_location>
#include <vector>

namespace zipserv::cuda::sim::detail {

inline constexpr uint16_t kNoThread = 0xFFFF;

/// One shared byte's history inside the current barrier interval.
struct ByteShadow {
  uint32_t write_interval = 0;
  uint32_t read_interval = 0;
  uint32_t pending_block = 0;  ///< block serial while a cp.async to this byte is in flight, else 0
  uint16_t writer = kNoThread;
  uint16_t reader1 = kNoThread;  ///< first reader in read_interval
  uint16_t reader2 = kNoThread;  ///< first reader different from reader1
  uint16_t pending_thread = kNoThread;
  std::source_location write_at, read1_at, read2_at, pending_at;
};

/// The shadow of one worker's shared memory (sized for the largest launch it ran).
using SharedShadow = std::vector<ByteShadow>;

}  // namespace zipserv::cuda::sim::detail
