/*! \file warp_intrinsics.h
 *  \brief Plain C++ twins of what the fragment decode needs from a warp: one value per lane
 *         (WarpValues) and `__popcll`.
 *
 *  The scalar warp emulation (decode_slice_lanes()) keeps one value per lane in a WarpValues
 *  array, the way Highway's EMU128 target keeps one value per SIMD lane in a plain array, and
 *  calls these where the kernel calls the intrinsic. The decode needs no warp collective: every
 *  lane counts the bits it needs itself (zipserv/cuda/fragment_decode.h), so there is no
 *  `__shfl_sync` twin here.
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

/// \}

}  // namespace zipserv::emu
