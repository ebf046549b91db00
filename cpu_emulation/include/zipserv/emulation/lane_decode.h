/*! \file lane_decode.h
 *  \brief One warp lane's fragment decode, in plain scalar C++ with the lane passed in: the
 *         definition the SIMD emulation (and the CUDA kernel) are tested against.
 *
 *  What a warp holds while it decodes one k16 slice of its strip (spec section C):
 *
 *      SliceBitmaps     the 3 bitmap words of each of the slice's 4 FragTiles (a0, a1, a2, a3)
 *      StreamCursors    where the slice's first high-frequency byte and first fallback value
 *                       sit in the block tile's staged stream segments
 *      StagedStreams    the block tile's two stream segments, "in shared memory"
 *
 *  Lane l decodes bits 2l and 2l+1 of every FragTile: a high-frequency element (code != 0) is
 *  sign_mantissa[hf + before], where `before` counts the indicator bits below it; a fallback
 *  element is full[fb + (bit - before)]. Example, FragTile indicator 0b...0111 (bits 0-2 set),
 *  hf = 10, fb = 4: lane 0 reads bytes 10 and 11, lane 1 reads byte 12 (bit 2) and full[4]
 *  (bit 3: 3 bits below it, 3 of them set, so 0 fallback elements before it).
 *  After each FragTile both cursors advance: hf by popcount(indicator), fb by the rest of 64.
 *  Every lane computes that count itself, as the CUDA kernel does (advance_past_fragtile() in
 *  zipserv/cuda/fragment_decode.h): the cursors are equal in all lanes without a shuffle.
 */
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "zipserv/reference/compressed_matrix.h"
#include "zipserv/reference/fragment_layout.h"
#include "zipserv/reference/tile_layout.h"

namespace zipserv::emu {

/// \addtogroup stage_lane_fragments
/// \{

/// The three bitmap words of one 8x8 FragTile (bit k = element 8r + c).
struct FragTileBitmaps {
  uint64_t b1 = 0;  ///< bit 0 of every element's code
  uint64_t b2 = 0;  ///< bit 1
  uint64_t b3 = 0;  ///< bit 2
};

/// The bitmaps of one k16 slice's four FragTiles, in register order a0, a1, a2, a3.
using SliceBitmaps = std::array<FragTileBitmaps, kFragTilesPerSlice>;

/// Positions in the staged stream segments of one block tile (element indices, not bytes).
struct StreamCursors {
  int32_t hf = 0;    ///< next high-frequency byte in the sign_mantissa segment
  int32_t full = 0;  ///< next fallback value in the full segment
};

/// Elements the SIMD decoder may read past the end of each staged segment: it reads a whole
/// window of 16-byte tables (up to 64 bytes) from the first index a vector of lanes needs, and
/// computes both candidate indices for every lane before it selects one, so a staged segment
/// must be followed by this much readable memory.
inline constexpr int kStagingSlack = 64;

/// One block tile's stream segments as a decoder reads them (the kernel's shared-memory copy).
struct StagedStreams {
  const uint8_t* sign_mantissa = nullptr;  ///< the block tile's high-frequency bytes
  const uint16_t* full = nullptr;          ///< the block tile's fallback BF16 patterns
  uint8_t start_exp = 0;                   ///< the matrix's window byte
};

/// Owns a staged copy of one block tile's segments, each followed by kStagingSlack zeros.
struct BlockTileStage {
  std::vector<uint8_t> sign_mantissa;  ///< (<= 4096 + slack) bytes
  std::vector<uint16_t> full;          ///< (<= 4096 + slack) BF16 patterns
  uint8_t start_exp = 0;               ///< copied from the matrix
  /// The view decoders read.
  StagedStreams view() const { return {sign_mantissa.data(), full.data(), start_exp}; }
};

/// Copies block tile `t`'s two segments into `stage` (the kernel's cp.async into shared memory).
/// Expects a validated matrix (validate()); reuses the stage's storage.
void stage_block_tile(const CompressedMatrix& m, int64_t t, BlockTileStage& stage);

/// Returns block tile `t`'s segments for a decoder: read in place when at least kStagingSlack
/// elements follow both segments in the matrix's arrays (every block tile but the last few),
/// else copied into `stage` first. On a CPU the caches play the role of the kernel's shared
/// memory, so copying every tile would only add a pass over the compressed bytes.
/// Expects a validated matrix.
StagedStreams block_tile_streams(const CompressedMatrix& m, int64_t t, BlockTileStage& stage);

/// Returns the bitmaps of slice `q` of strip `s` of block tile `t`.
SliceBitmaps slice_bitmaps(const CompressedMatrix& m, int64_t t, int s, int q);

/// Returns the cursors at the start of strip `s` of block tile `t`: its median offsets.
StreamCursors strip_cursors(const CompressedMatrix& m, int64_t t, int s);

/// Returns the cursors after one FragTile: hf + popcount(indicator), full + the rest of 64.
StreamCursors advance_cursors(const FragTileBitmaps& b, StreamCursors c);

/// Returns the cursors after a whole slice (four FragTiles).
StreamCursors advance_cursors(const SliceBitmaps& b, StreamCursors c);

/// One lane's decode of one slice: regs[i] = the two BF16 values of bits 2*lane and 2*lane+1 of
/// FragTile i, lower bit in the low half. `cursors` are the slice's starting cursors.
/// REFERENCE for the SIMD decode_slice() and for the CUDA kernel's per-lane code.
void decode_lane(const SliceBitmaps& bitmaps, StreamCursors cursors, const StagedStreams& streams,
                 int lane, uint32_t (&regs)[kARegsPerLane]);

/// The whole warp's decode of one slice as the kernel runs it, lanes as a WarpValues loop, one
/// FragTile at a time: each lane popcounts the indicator bits below each of its two elements and
/// then the whole indicator to advance its own copy of the cursors (the kernel's
/// decode_fragment_popcount() and advance_past_fragtile(); no lane reads another's value).
/// Fills regs[reg][lane]; equals decode_lane() for every lane.
void decode_slice_lanes(const SliceBitmaps& bitmaps, StreamCursors cursors, const StagedStreams& streams,
                        uint32_t (&regs)[kARegsPerLane][kWarpLanes]);

/// \}

}  // namespace zipserv::emu
