/*! \file fragment_loads.h
 *  \brief Filling one warp's mma registers from a staged K step: the A registers of one slice
 *         (decoded from the compressed block tile, or read from a dense W tile) and the B
 *         registers of one 8-column group (read from the swizzled X tile).
 *
 *  ZIPSERV_HD and `lane` passed in, like fragment_decode.h: the fused kernel calls these, and the
 *  host emulation test calls them for lane = 0..31 on a stage staged by block_tile_staging.h.
 *
 *  B fragments use two 32-bit shared loads at the positions b_frag_coord() names, not ldmatrix:
 *  the index math is then literally the lane map the host tests check, and with the XOR swizzle
 *  a warp's 32 loads hit 32 different banks (tested). ldmatrix.x4 would issue 4x fewer load
 *  instructions; the kernel is bound by weight bytes at decode batch sizes, so clarity wins.
 */
#pragma once

#include <cstdint>

#include "zipserv/cuda/fragment_decode.h"
#include "zipserv/cuda/primitives.h"
#include "zipserv/cuda/launch_plan.h"
#include "zipserv/reference/fragment_layout.h"
#include "zipserv/reference/host_device.h"
#include "zipserv/reference/tile_layout.h"

namespace zipserv::cuda {
inline namespace ZIPSERV_CUDA_TARGET {  // on_gpu or on_sim: see primitives.h

/// \addtogroup stage_lane_fragments
/// \{

/// The strip cursor at the start of a K step: the staged median offsets of strip `strip`.
ZIPSERV_HD inline StripCursor strip_cursor_from_stage(const unsigned char* stage, const SharedLayout& l, int strip) {
  const int32_t* median = reinterpret_cast<const int32_t*>(stage + l.median_offset);  // (4, 2) smem
  return StripCursor{dev::ld_shared<int32_t>(median + 2 * strip), dev::ld_shared<int32_t>(median + 2 * strip + 1)};
}

/// Fills warp `strip`'s A registers for slice `slice` of the staged K step.
/// Compressed: one decode_fragment_popcount per register, the strip cursor advancing FragTile by
/// FragTile in storage order (4 slice + reg), so slices must be loaded in order 0, 1, 2, 3.
/// Dense: the same registers read from the swizzled W tile at a_frag_coord().
template <WeightFormat kFormat>
ZIPSERV_HD inline void load_a_slice(const unsigned char* stage, const SharedLayout& l, uint8_t start_exp, int strip,
                                    int slice, int lane, StripCursor& cursor, uint32_t (&a)[kARegsPerLane]) {
  if constexpr (kFormat == WeightFormat::kCompressed) {
    const uint64_t* bitmaps = reinterpret_cast<const uint64_t*>(stage + l.bitmap_offset);  // (3, 64) smem
    const uint8_t* hf = stage + l.hf_offset;                                                // (max_hf) smem
    const uint16_t* full = reinterpret_cast<const uint16_t*>(stage + l.full_offset);       // (max_full) smem
#if defined(__CUDA_ARCH__)
#pragma unroll
#endif
    for (int reg = 0; reg < kARegsPerLane; ++reg) {
      const int f = strip * kFragTilesPerStrip + slice * kFragTilesPerSlice + a_frag_fragtile(reg);
      const uint64_t b1 = dev::ld_shared<uint64_t>(bitmaps + f);  // broadcast reads: every lane, same word
      const uint64_t b2 = dev::ld_shared<uint64_t>(bitmaps + 64 + f);
      const uint64_t b3 = dev::ld_shared<uint64_t>(bitmaps + 128 + f);
      a[reg] = decode_fragment_popcount(b1, b2, b3, lane, cursor, hf, full, start_exp);
      cursor = advance_past_fragtile(cursor, b1, b2, b3);
    }
  } else {
    (void)start_exp;
    (void)cursor;
    const uint16_t* tile = reinterpret_cast<const uint16_t*>(stage + l.dense_offset);  // (64, 64) smem, swizzled
#if defined(__CUDA_ARCH__)
#pragma unroll
#endif
    for (int reg = 0; reg < kARegsPerLane; ++reg) {
      const FragCoord lo = a_frag_coord(lane, reg, 0);  // (lo.row, lo.col + 1) is the high half
      a[reg] = dev::ld_shared<uint32_t>(tile + swizzled_offset(16 * strip + lo.row, 16 * slice + lo.col));
      // REFERENCE: equals W[row][col] | W[row][col + 1] << 16 of the tile
    }
  }
}

/// Sets to +0 every A value of slice `slice` whose column in the K step is `k_valid` or more
/// (`k_valid` = K - 64 kb, the columns of this K step inside the logical K; only the last K step
/// of a K that is not a multiple of 64 has k_valid < 64).
///
/// Why (spec B.6 / encode.h padding): a padding column of a compressed W decodes to code 1 with
/// byte 0, i.e. +2^(start_exp + 1 - 127). That is finite only while start_exp != 254; with
/// start_exp = 254 it is +Inf, and +Inf x 0 (X is zero-filled beyond K) = NaN would poison every
/// output. And even when finite, the padding value differs from the dense twin's zero padding,
/// so the two kernels' A operands would differ at those positions. After this call both kernels
/// hand the tensor cores bit-identical A, B and C registers (see the kernel's Step 6 note).
/// REFERENCE: A[row][16 slice + c] = (16 slice + c < k_valid) ? A[row][16 slice + c] : +0.
ZIPSERV_HD inline void zero_a_beyond_k(int slice, int lane, int k_valid, uint32_t (&a)[kARegsPerLane]) {
#if defined(__CUDA_ARCH__)
#pragma unroll
#endif
  for (int reg = 0; reg < kARegsPerLane; ++reg) {
    const int col = 16 * slice + a_frag_coord(lane, reg, 0).col;  // low half; high half is col + 1
    const uint32_t keep = (col < k_valid ? 0x0000FFFFu : 0u) | (col + 1 < k_valid ? 0xFFFF0000u : 0u);
    a[reg] &= keep;
  }
}

/// Fills the B registers of slice `slice`, 8-column group `n8` from the swizzled X tile.
/// REFERENCE: b[reg] = X[8 n8 + n][16 slice + k] | X[8 n8 + n][16 slice + k + 1] << 16 with
/// (k, n) = b_frag_coord(lane, reg, 0).
ZIPSERV_HD inline void load_b_fragment(const uint16_t* x_tile, int slice, int n8, int lane,
                                       uint32_t (&b)[kBRegsPerLane]) {
#if defined(__CUDA_ARCH__)
#pragma unroll
#endif
  for (int reg = 0; reg < kBRegsPerLane; ++reg) {
    const FragCoord kn = b_frag_coord(lane, reg, 0);  // row = k, col = n
    b[reg] = dev::ld_shared<uint32_t>(x_tile + swizzled_offset(8 * n8 + kn.col, 16 * slice + kn.row));
  }
}

/// The decode kernel's decode: warp `strip` decodes its 16 x 64 strip of the staged block
/// tile, slice by slice and register by register, and writes each register's two values to the
/// (64, kDecodeTileStride) bf16 tile at a_frag_coord().
/// REFERENCE: tile[r][c] = zipserv::decode_element(m, 64 gm + r, 64 gk + c) for rows 16 strip..+15.
ZIPSERV_HD inline void decode_strip_into_tile(const unsigned char* stage, const SharedLayout& l, uint8_t start_exp,
                                              int strip, int lane, uint16_t* tile) {
  StripCursor cursor = strip_cursor_from_stage(stage, l, strip);
  for (int slice = 0; slice < kSlicesPerStrip; ++slice) {
    uint32_t a[kARegsPerLane];  // (T32, V8) regs, bf16
    load_a_slice<WeightFormat::kCompressed>(stage, l, start_exp, strip, slice, lane, cursor, a);
#if defined(__CUDA_ARCH__)
#pragma unroll
#endif
    for (int reg = 0; reg < kARegsPerLane; ++reg) {
      const FragCoord lo = a_frag_coord(lane, reg, 0);  // high half at (lo.row, lo.col + 1)
      dev::st_shared<uint32_t>(tile + (16 * strip + lo.row) * kDecodeTileStride + 16 * slice + lo.col, a[reg]);
    }
  }
}

/// \}

}  // namespace ZIPSERV_CUDA_TARGET
}  // namespace zipserv::cuda
