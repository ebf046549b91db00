/*! \file gemm_plan.h
 *  \brief How one CPU GEMM call is cut into work items: (block-tile row, N tile, split).
 *
 *  Plain data shared by the dispatching code and every target's worker. Each item owns the FP32
 *  partial sums of 64 rows x tile_n columns of one split, so items never write the same bytes.
 */
#pragma once

#include <algorithm>
#include <cstdint>

#include "zipserv/reference/compressed_matrix.h"

namespace zipserv::emu {

/// Columns of Y one work item computes (at most): 8 mma n8 tiles; the decoded strip is reused
/// for all of them before the next strip is decoded.
inline constexpr int64_t kGemmTileN = 64;

/// One GEMM call, cut into items.
struct GemmPlan {
  const CompressedMatrix* compressed = nullptr;  ///< zipgemm: the weights, or
  const uint16_t* dense = nullptr;               ///< gemm_dense: m x k row-major BF16 weights
  int64_t m = 0;           ///< logical rows of W (and of Y)
  int64_t k = 0;           ///< logical columns of W (and of X)
  int64_t n = 0;           ///< columns of Y (rows of X)
  int64_t block_rows = 0;  ///< Mp / 64
  int64_t block_cols = 0;  ///< Kp / 64
  int64_t tile_n = 0;      ///< columns per item: min(n, kGemmTileN)
  int64_t n_tiles = 0;     ///< ceil(n / tile_n)
  int64_t splits = 1;      ///< K ranges, 1 <= splits <= max(1, block_cols)
  const float* x = nullptr;  ///< (n, x_stride) f32 activations, zero beyond k
  int64_t x_stride = 0;      ///< Kp
  float* partial = nullptr;  ///< (splits, n, m) f32: each split's sums, Y's layout per split

  /// Number of work items.
  int64_t items() const { return block_rows * n_tiles * splits; }
  /// First block-tile column of split `b`: splits cover [0, block_cols) evenly, none empty.
  int64_t split_begin(int64_t b) const { return b * block_cols / splits; }
};

/// One work item's coordinates; the block-tile row varies fastest, so neighbouring items share X.
struct GemmItem {
  int64_t block_row;  ///< gm
  int64_t n_tile;     ///< columns n_tile * tile_n ...
  int64_t split;      ///< K range split_begin(split) .. split_begin(split + 1)
};

/// Returns item `i`'s coordinates.
inline GemmItem gemm_item(const GemmPlan& p, int64_t i) {
  return {i % p.block_rows, (i / p.block_rows) % p.n_tiles, i / (p.block_rows * p.n_tiles)};
}

}  // namespace zipserv::emu
