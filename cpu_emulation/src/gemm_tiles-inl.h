/*! \file gemm_tiles-inl.h
 *  \brief One GEMM work item: the kernel's dataflow for one block-tile row, one N tile and one
 *         K split, on the CPU.
 *
 *  Per-target code (see bitmap_decode-inl.h). Steps, numbered as in the kernel (spec D.4):
 *
 *   1. for each block tile (gm, gk) of the split's K range, in ascending gk:
 *   2.   find its two stream segments (the kernel stages them into shared memory with
 *        cp.async; here they are read in place, and copied only near the arrays' end, where
 *        the decoder's window reads would run past them: block_tile_streams()); ask the
 *        caches for the block tile kPrefetchTiles ahead (both GEMMs);
 *   3.   for each strip s (warp s): decode the strip's fragments (or, for the dense baseline,
 *        load them with 16-byte row copies) into the block tile's register files;
 *   4.   run the MMAs of the 4 slices for every column of the N tile into the accumulators:
 *        narrow N tiles (fewer than kUnpackOnceColumns columns, the GEMV) take the columns
 *        straight from the registers, interleaved inside 128-bit blocks, and sum all 4 strips'
 *        rows together (MmaBlockTileNarrow, gemv_mma-inl.h: 64 / lanes independent add chains
 *        per column); wider ones unpack each strip once into FP32 columns and reuse them for
 *        every column (MmaColumnsAcrossRows). Both sum k ascending;
 *   5. write the accumulators of the logical rows to the split's FP32 partial sums.
 *
 *  Live per worker: one block tile's 4 register files (8 KB) and one strip's unpacked columns,
 *  never a decoded W.
 */

// Per-target include guard: toggles each time foreach_target.h re-includes this file.
#if defined(ZIPSERV_EMU_GEMM_TILES_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef ZIPSERV_EMU_GEMM_TILES_INL_H_
#undef ZIPSERV_EMU_GEMM_TILES_INL_H_
#else
#define ZIPSERV_EMU_GEMM_TILES_INL_H_
#endif

#include <algorithm>
#include <cstdint>
#include <vector>

#include "fragment_gather-inl.h"
#include "gemm_plan.h"
#include "gemv_mma-inl.h"
#include "hwy/highway.h"
#include "mma_emulation-inl.h"

HWY_BEFORE_NAMESPACE();  // why: compiles what follows with this target's instruction set
namespace zipserv::emu::HWY_NAMESPACE {

/// N tiles at least this wide unpack each strip once and reuse the FP32 columns (step 4).
inline constexpr int kUnpackOnceColumns = 4;

/// Computes work item `index` of `plan`: returns partial[(split * n + j) * m + i] = the FP32 sum
/// over the split's K range of float(W[i][k]) * float(X[j][k]), k ascending, for the item's rows
/// i and columns j.
HWY_INLINE void RunGemmItem(const GemmPlan& plan, int64_t index) {
  const GemmItem item = gemm_item(plan, index);
  const int64_t n0 = item.n_tile * plan.tile_n;
  const int ncols = static_cast<int>(std::min(plan.tile_n, plan.n - n0));
  alignas(64) uint32_t regs[kStripsPerBlockTile * kStripRegs];  // (S4, Q4, R4, T32) four warps' A fragments
  alignas(64) float a_cols[kStripCols * kStripRows];    // (K64, M16) f32, one strip's values unpacked
  std::vector<float> acc(static_cast<size_t>(kStripsPerBlockTile * ncols * kStripRows), 0.0f);  // (S4, ncols, M16) f32
  BlockTileStage stage;                                 // staged streams of the last block tiles
  const int64_t kb_begin = plan.split_begin(item.split), kb_end = plan.split_begin(item.split + 1);
  //! [work item loop]
  for (int64_t gk = kb_begin; gk < kb_end; ++gk) {      // Step 1
    const int64_t t = item.block_row * plan.block_cols + gk, col0 = gk * kBlockTileDim;
    // Step 2: the block tile's stream segments (in place, or staged near the arrays' end)
    const StagedStreams streams = plan.compressed ? block_tile_streams(*plan.compressed, t, stage) : StagedStreams{};
    // The compressed tile kPrefetchTiles ahead (the dense loads' distance) is asked for a quarter
    // before each strip: all of it at once (about 90 lines) filled the core's miss buffers and
    // stalled the decode behind the prefetches (10-14% slower GEMV on AVX2).
    const bool prefetch = plan.compressed && gk + kPrefetchTiles < kb_end;
    for (int s = 0; s < kStripsPerBlockTile; ++s) {     // Step 3
      const int64_t row0 = item.block_row * kBlockTileDim + s * kStripRows;
      if (prefetch) PrefetchCompressedTile(*plan.compressed, t + kPrefetchTiles, s, kStripsPerBlockTile);
      if (plan.compressed)
        DecodeStripFragments(*plan.compressed, t, s, streams, regs + s * kStripRegs);
      else {
        PrefetchDenseStrip(plan.dense, plan.m, plan.k, row0, col0 + kPrefetchTiles * kBlockTileDim);
        LoadDenseStripFragments(plan.dense, plan.m, plan.k, row0, col0, regs + s * kStripRegs);
      }
    }
    const float* x = plan.x + n0 * plan.x_stride + col0;  // Step 4
    if (ncols < kUnpackOnceColumns) {
      MmaBlockTileNarrow(regs, x, plan.x_stride, ncols, acc.data());
    } else {
      for (int s = 0; s < kStripsPerBlockTile; ++s) {
        UnpackStripColumns(regs + s * kStripRegs, a_cols);
        MmaColumnsAcrossRows(a_cols, x, plan.x_stride, ncols, acc.data() + s * ncols * kStripRows);
      }
    }
  }
  //! [work item loop]
  for (int s = 0; s < kStripsPerBlockTile; ++s)         // Step 5
    for (int c = 0; c < ncols; ++c)
      for (int r = 0; r < kStripRows; ++r) {
        const int64_t row = item.block_row * kBlockTileDim + s * kStripRows + r;
        if (row < plan.m)
          plan.partial[(item.split * plan.n + n0 + c) * plan.m + row] = acc[(s * ncols + c) * kStripRows + r];
      }
}

}  // namespace zipserv::emu::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();  // why: restores the default instruction set for the code after it

#endif  // per-target include guard
