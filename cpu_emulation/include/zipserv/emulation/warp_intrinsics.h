/*! \file warp_intrinsics.h
 *  \brief Plain C++ twins of the CUDA warp intrinsics the fragment decode uses: `__popcll` and
 *         `__shfl_sync`, written as per-lane loops over a 32-entry array (one entry per lane).
 *
 *  The scalar warp emulation (decode_slice_lanes()) keeps one value per lane in a WarpValues
 *  array, the way Highway's EMU128 target keeps one value per SIMD lane in a plain array, and
 *  calls these where the kernel calls the intrinsic. That keeps the kernel's dataflow visible
 *  (for example: the cursor advance is lane 31's count, broadcast to the warp).
 */
#pragma once

#include <array>
#include <bit>
#include <cstdint>

#include "zipserv/reference/fragment_layout.h"

namespace zipserv::emu {

/// \addtogroup stage_lane_fragments
/// \{

/// One value per lane of a warp.  // (T32)
template <typename T>
using WarpValues = std::array<T, kWarpLanes>;

/// returns popcount(x), the number of set bits: the twin of CUDA's `__popcll`.
constexpr int popc(uint64_t x) { return std::popcount(x); }

/// returns r[l] = v[src_lane] for every lane l: the twin of
/// `__shfl_sync(0xffffffff, v, src_lane)` with all 32 lanes active (the only way the decode uses
/// it). `src_lane` is taken modulo 32, as the hardware does.
template <typename T>
constexpr WarpValues<T> shfl_sync(const WarpValues<T>& v, int src_lane) {
  WarpValues<T> r{};
  for (int lane = 0; lane < kWarpLanes; ++lane) r[lane] = v[src_lane & (kWarpLanes - 1)];
  return r;
}

/// \}

}  // namespace zipserv::emu
