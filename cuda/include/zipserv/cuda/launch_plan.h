/*! \file launch_plan.h
 *  \brief Everything the CUDA kernels decide before they start, written as plain C++ so that it
 *         is tested on a machine without a GPU: the N tile, the split-K count and each split's
 *         range of block tiles, the shared-memory layout of one pipeline stage, the grid, and
 *         the checks every launch runs on its arguments.
 *
 *  The kernels include this header too (the small functions are ZIPSERV_HD), so the numbers a
 *  host test checks are the numbers the GPU uses.
 *
 *  One K step of the fused kernel, for a block that owns output rows [64 gm, 64 gm + 64) and
 *  columns [n0, n0 + TILE_N):
 *
 *      weights     block tile (gm, kb)      64 x 64      compressed: bitmaps + 2 streams
 *      activations X rows n0.., cols 64 kb  TILE_N x 64  bf16, zero beyond N and K
 *
 *  Each of the two pipeline stages holds one K step; the layout below places the pieces.
 */
#pragma once

#include <cstddef>
#include <cstdint>

#include "zipserv/reference/host_device.h"

namespace zipserv::cuda {

/// \addtogroup stage_gemm
/// \{

inline constexpr int kWarpsPerBlock = 4;                 ///< warp s owns strip s (16 rows)
inline constexpr int kThreadsPerBlock = 32 * kWarpsPerBlock;  ///< 128 threads per block
inline constexpr int kTileM = 64;                        ///< rows of W per block
inline constexpr int kTileK = 64;                        ///< K per pipeline step (one block tile)
inline constexpr int kPipelineStages = 2;                ///< double buffer: load k+1 while computing k
inline constexpr int kMaxTileN = 128;                    ///< largest N tile (columns of X per block)
inline constexpr int kMaxSplitK = 64;                    ///< upper bound of the automatic choice and of options
inline constexpr int64_t kMaxGridY = 65535;              ///< CUDA's limit on gridDim.y and gridDim.z
inline constexpr size_t kDefaultDynamicSmemLimit = 48 * 1024;  ///< above this a kernel must opt in
inline constexpr int kCpAsyncBytes = 16;                 ///< every cp.async moves one 16-B chunk

/// Where the fused kernel's W comes from.
enum class WeightFormat { kCompressed, kDense };

/// Columns of X (tokens) one block covers: the smallest of 8, 16, 32, 64, 128 that holds n
/// (128 for larger n, with more blocks along N). Powers of two keep the instantiations few;
/// the cost is at most 2x zero-filled activation columns in shared memory.
ZIPSERV_HD constexpr int choose_tile_n(int64_t n) {
  return n <= 8 ? 8 : n <= 16 ? 16 : n <= 32 ? 32 : n <= 64 ? 64 : 128;
}

/// The contiguous range [begin, end) of block-tile columns (K steps) that split `split` of
/// `splits` covers, inside its own row of block tiles.
struct SplitRange {
  int64_t begin;  ///< first block-tile column of the split
  int64_t end;    ///< one past its last block-tile column
};

/// Balanced partition of `block_cols` K steps into `splits` ranges: split b gets
/// [floor(b KB / S), floor((b+1) KB / S)). Whenever 1 <= S <= KB every range is non-empty
/// (sizes differ by at most one) and the ranges tile [0, KB) exactly, so no split can run into
/// the next row of block tiles (the official code's ceil-based split can: spec G.3).
ZIPSERV_HD constexpr SplitRange split_range(int64_t block_cols, int splits, int split) {
  return SplitRange{block_cols * split / splits, block_cols * (split + 1) / splits};
}

/// Byte offsets of the pieces of ONE pipeline stage in dynamic shared memory; stage i starts at
/// i * stage_bytes. Every offset is a multiple of 16 (cp.async writes 16-B chunks).
struct SharedLayout {
  int x_offset;         ///< (TILE_N, 64) bf16, XOR-swizzled 16-B chunks
  int bitmap_offset;    ///< (3, 64) uint64: bitmap1, bitmap2, bitmap3 of the block tile
  int median_offset;    ///< (4, 2) int32: (hf, full) before each strip
  int hf_offset;        ///< (hf_capacity) uint8: the block tile's sign+mantissa segment
  int full_offset;      ///< (full_capacity) uint16: the block tile's fallback segment
  int dense_offset;     ///< (64, 64) bf16, XOR-swizzled: a dense W tile (uncompressed GEMM only)
  int stage_bytes;      ///< one stage, a multiple of 128
  int total_bytes;      ///< stages * stage_bytes: the kernel's dynamic shared memory
};

/// Rounds v (>= 0) up to a multiple of `multiple` (> 0).
ZIPSERV_HD constexpr int round_up_int(int v, int multiple) { return (v + multiple - 1) / multiple * multiple; }

/// Shared-memory layout of the fused kernel for a compressed W. `max_hf` / `max_full` are the
/// matrix's largest padded segments (CompressedMatrix::max_hf_per_block_tile() and
/// max_full_per_block_tile()); they are computed for every call, never cached (spec G.2).
/// `stages`: the pipeline's stage count (total_bytes = stages * stage_bytes).
ZIPSERV_HD constexpr SharedLayout compressed_gemm_layout(int tile_n, int max_hf, int max_full,
                                                         int stages = kPipelineStages) {
  SharedLayout l{};
  l.x_offset = 0;
  l.bitmap_offset = l.x_offset + tile_n * kTileK * 2;
  l.median_offset = l.bitmap_offset + 3 * 64 * 8;
  l.hf_offset = l.median_offset + 4 * 2 * 4;
  l.full_offset = l.hf_offset + round_up_int(max_hf, 16);
  l.dense_offset = l.full_offset + round_up_int(max_full * 2, 16);  // unused: empty
  l.stage_bytes = round_up_int(l.dense_offset, 128);
  l.total_bytes = stages * l.stage_bytes;
  return l;
}

/// Shared-memory layout of the same kernel reading a dense (uncompressed) W tile instead.
ZIPSERV_HD constexpr SharedLayout dense_gemm_layout(int tile_n) {
  SharedLayout l{};
  l.x_offset = 0;
  l.bitmap_offset = l.median_offset = l.hf_offset = l.full_offset = l.x_offset + tile_n * kTileK * 2;
  l.dense_offset = l.full_offset;
  l.stage_bytes = round_up_int(l.dense_offset + kTileM * kTileK * 2, 128);
  l.total_bytes = kPipelineStages * l.stage_bytes;
  return l;
}

/// Row stride (elements) of the decode kernel's output tile: 64 + 8 bf16 = 144 B, so a
/// warp's fragment writes hit 32 different banks and each row still starts 16-B aligned.
inline constexpr int kDecodeTileStride = kTileK + 8;

/// Shared-memory layout of the decode kernel: one stage (no pipeline) plus the decoded
/// (64, 72) bf16 output tile, placed where the X tile would be.
ZIPSERV_HD constexpr SharedLayout decode_layout(int max_hf, int max_full) {
  SharedLayout l{};
  l.x_offset = 0;  // (64, 72) bf16 decoded tile
  l.bitmap_offset = kTileM * kDecodeTileStride * 2;
  l.median_offset = l.bitmap_offset + 3 * 64 * 8;
  l.hf_offset = l.median_offset + 4 * 2 * 4;
  l.full_offset = l.hf_offset + round_up_int(max_hf, 16);
  l.dense_offset = l.full_offset + round_up_int(max_full * 2, 16);
  l.stage_bytes = round_up_int(l.dense_offset, 128);
  l.total_bytes = l.stage_bytes;
  return l;
}

/// Element offset of (row, col) in a shared tile of 64-element (128-B) rows whose eight 16-B
/// chunks are XOR-swizzled by row % 8: chunk c of row r is stored at chunk c ^ (r % 8).
/// REFERENCE: an unswizzled tile would use row * 64 + col. The swizzle makes the fragment reads
/// (8 rows x 4 words per warp) hit 32 different banks.
ZIPSERV_HD constexpr int swizzled_offset(int row, int col) {
  return row * kTileK + (((col / 8) ^ (row % 8)) * 8) + col % 8;
}

/// Grid of the fused kernel: x = N tiles, y = block rows (capped at kMaxGridY; a block then
/// loops over rows gm = blockIdx.y, blockIdx.y + gridDim.y, ...), z = K splits.
struct GridShape {
  int64_t x;  ///< gridDim.x
  int64_t y;  ///< gridDim.y
  int64_t z;  ///< gridDim.z
};
/// The fused kernel's grid for an M x K weight times N tokens with `split_k` splits:
/// (ceil(N / TILE_N), min(Mp / 64, kMaxGridY), split_k).
GridShape gemm_grid(int64_t m, int64_t n, int split_k);

/// Grid of the decode kernel: x = block-tile columns, y = block rows, each capped at
/// kMaxGridY (blocks loop over both).
GridShape decode_grid(int64_t m, int64_t k);

/// Chooses the split-K count from the shape and the number of SMs: 1 when the M x N blocks
/// alone fill the device, otherwise enough splits for about two blocks per SM, but at least
/// 4 K steps per split, at most kMaxSplitK and at most K/64 (so every split is non-empty).
/// Host-only and pure: tested without a GPU.
int choose_split_k(int64_t m, int64_t k, int64_t n, int sm_count);

/// Throws std::invalid_argument naming the problem unless: m, k, n > 0; the padded M x K fits
/// the format's int32 offsets; n <= 2^31 - 1; x is not null; 1 <= split_k <= min(K/64,
/// kMaxSplitK) (split_k after the automatic choice).
void validate_gemm_launch(int64_t m, int64_t k, const void* x, int64_t n, int split_k);

/// Bytes of FP32 partial sums the fused kernel needs for split_k > 1: split_k * N * M floats
/// in layout [split][n][m]; 0 for split_k == 1.
size_t split_k_workspace_bytes(int64_t m, int64_t n, int split_k);

/// \}

}  // namespace zipserv::cuda
