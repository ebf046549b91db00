/*! \file block_tile_staging.h
 *  \brief Copying one K step's operands from global memory into one shared-memory stage in 16-B
 *         chunks: a compressed block tile (3 bitmaps, median offsets, both stream segments), a
 *         dense W tile, and the X (activation) tile with zero fill beyond N and K; and the way
 *         back for the decode kernel (decoded tile -> row-major output, cut at M and K).
 *
 *  Every function is called by all 128 threads of a block with the same arguments; thread `tid`
 *  moves chunks tid, tid + 128, ... through `copy16(dst, src, src_bytes)`. In the kernels copy16
 *  is `cp.async.cg.shared.global` (dev::CpAsyncCopy16, primitives.h), so the bytes land only after
 *  cp_async_wait_group() and a __syncthreads(); under cuda-sim the same call is checked (aligned,
 *  inside shared and registered global memory) and lands at the covering wait.
 */
#pragma once

#include <cstdint>

#include "zipserv/cuda/device_matrix.h"
#include "zipserv/cuda/launch_plan.h"
#include "zipserv/cuda/primitives.h"
#include "zipserv/reference/host_device.h"

namespace zipserv::cuda {
inline namespace ZIPSERV_CUDA_TARGET {  // on_gpu or on_sim: see primitives.h

/// \addtogroup stage_gemm
/// \{

/// Where block tile t's two stream segments lie: global_offsets pairs t and t + 1.
struct SegmentBounds {
  int32_t hf_begin;    ///< global_offsets[2t]: first sign+mantissa byte
  int32_t full_begin;  ///< global_offsets[2t + 1]: first fallback value
  int32_t hf_end;      ///< global_offsets[2t + 2]: one past the last sign+mantissa byte
  int32_t full_end;    ///< global_offsets[2t + 3]: one past the last fallback value
};

/// Loads block tile t's segment bounds. Reads pairs t and t + 1 only (t < T, so never past the
/// (T+1)-pair array: spec G.5). The fused kernel calls this one K step ahead of the staging that
/// uses it, so the four dependent global loads are in flight while a K step computes instead of
/// delaying every cp.async issue by one memory latency.
ZIPSERV_HD inline SegmentBounds load_segment_bounds(const CompressedView& w, int64_t t) {
  return SegmentBounds{dev::ld_global(w.global_offsets + 2 * t), dev::ld_global(w.global_offsets + 2 * t + 1),
                       dev::ld_global(w.global_offsets + 2 * t + 2), dev::ld_global(w.global_offsets + 2 * t + 3)};
}

/// Stages compressed block tile `t`, whose segments are `seg`, into `stage` (layout `l`).
/// Segment starts and lengths are multiples of 16 B by the format (validated on the host before
/// any upload). A segment larger than the stage's room for it (a CompressedView whose max_hf /
/// max_full understate the matrix) stops the kernel (dev::fail) instead of overrunning the next
/// piece of shared memory.
template <typename Copy16>
ZIPSERV_HD inline void stage_compressed_block_tile(const CompressedView& w, int64_t t, const SegmentBounds& seg,
                                                   unsigned char* stage, const SharedLayout& l, int tid,
                                                   Copy16 copy16) {
  // Bitmaps: 3 arrays x 64 words (512 B = 32 chunks) per block tile.
  uint64_t* bitmaps = reinterpret_cast<uint64_t*>(stage + l.bitmap_offset);  // (3, 64) smem, uint64
  for (int c = tid; c < 3 * 32; c += kThreadsPerBlock) {
    const int which = c / 32, word = 2 * (c % 32);
    const uint64_t* src = (which == 0 ? w.bitmap1 : which == 1 ? w.bitmap2 : w.bitmap3) + t * 64 + word;
    copy16(bitmaps + which * 64 + word, src, 16);
  }
  // Median offsets: 8 int32 (32 B = 2 chunks).
  int32_t* median = reinterpret_cast<int32_t*>(stage + l.median_offset);  // (4, 2) smem, int32
  if (tid < 2) copy16(median + 4 * tid, w.median_offsets + t * 8 + 4 * tid, 16);

  // Stream segments [global_offsets[2t], global_offsets[2t+2]) and likewise for the fallbacks.
  const int hf_chunks = (seg.hf_end - seg.hf_begin) / 16;              // 16 bytes per chunk
  const int full_chunks = (seg.full_end - seg.full_begin) * 2 / 16;    // 8 bf16 per chunk
  if (hf_chunks * 16 > l.full_offset - l.hf_offset || full_chunks * 16 > l.dense_offset - l.full_offset)
    dev::fail("a block tile's stream segment exceeds the shared-memory room sized from max_hf / max_full");
  unsigned char* hf = stage + l.hf_offset;                                    // (max_hf) smem, uint8
  unsigned char* full = stage + l.full_offset;                                // (max_full) smem, bf16
  const unsigned char* hf_src = w.sign_mantissa + seg.hf_begin;
  const unsigned char* full_src = reinterpret_cast<const unsigned char*>(w.full + seg.full_begin);
  for (int c = tid; c < hf_chunks; c += kThreadsPerBlock) copy16(hf + 16 * c, hf_src + 16 * c, 16);
  for (int c = tid; c < full_chunks; c += kThreadsPerBlock) copy16(full + 16 * c, full_src + 16 * c, 16);
}

/// Stages the dense W tile (gm, kb) of a zero-padded (Mp, Kp) matrix: 64 rows x 8 chunks,
/// swizzled like the X tile. REFERENCE: tile[r][c] = W[64 gm + r][64 kb + c].
template <typename Copy16>
ZIPSERV_HD inline void stage_dense_block_tile(const DenseView& w, int64_t gm, int64_t kb, unsigned char* stage,
                                              const SharedLayout& l, int tid, Copy16 copy16) {
  uint16_t* tile = reinterpret_cast<uint16_t*>(stage + l.dense_offset);  // (64, 64) smem, bf16, swizzled
  const int64_t kp = (w.cols + kTileK - 1) / kTileK * kTileK;
  for (int c = tid; c < kTileM * 8; c += kThreadsPerBlock) {
    const int row = c / 8, chunk = c % 8;
    copy16(tile + swizzled_offset(row, 8 * chunk), w.values + (gm * kTileM + row) * kp + kb * kTileK + 8 * chunk, 16);
  }
}

/// Stages X rows [n0, n0 + tile_n), columns [k0, k0 + 64) into a (tile_n, 64) swizzled tile,
/// zero beyond N and K. With `rows_16b_aligned` (K % 8 == 0 and x 16-B aligned) every 8-element
/// chunk is either fully inside or fully outside, so a zero-filling 16-B copy does it (src_bytes
/// 0 writes zeros and reads nothing); otherwise rows are not 16-B aligned and plain element
/// loads and stores are used.
/// REFERENCE: tile[r][c] = (n0 + r < N && k0 + c < K) ? X[n0 + r][k0 + c] : 0.
template <typename Copy16>
ZIPSERV_HD inline void stage_activation_tile(const uint16_t* x, int64_t n_total, int64_t k_total, bool rows_16b_aligned,
                                             int tile_n, int64_t n0, int64_t k0, unsigned char* stage,
                                             const SharedLayout& l, int tid, Copy16 copy16) {
  uint16_t* tile = reinterpret_cast<uint16_t*>(stage + l.x_offset);  // (TILE_N, 64) smem, bf16, swizzled
  if (rows_16b_aligned) {
    for (int c = tid; c < tile_n * 8; c += kThreadsPerBlock) {
      const int row = c / 8, chunk = c % 8;
      const int64_t n = n0 + row, k = k0 + 8 * chunk;
      const bool inside = n < n_total && k < k_total;
      copy16(tile + swizzled_offset(row, 8 * chunk), inside ? x + n * k_total + k : x, inside ? 16 : 0);
    }
  } else {
    for (int e = tid; e < tile_n * kTileK; e += kThreadsPerBlock) {
      const int row = e / kTileK, col = e % kTileK;
      const int64_t n = n0 + row, k = k0 + col;
      dev::st_shared<uint16_t>(tile + swizzled_offset(row, col),
                               (n < n_total && k < k_total) ? dev::ld_global(x + n * k_total + k) : uint16_t{0});
    }
  }
}

/// The decode kernel's Step 4: copies the decoded (64, kDecodeTileStride) bf16 tile of
/// block tile (row0 / 64, col0 / 64) to `out` (m_total x k_total, row-major), only rows < m_total
/// and columns < k_total. With `out_rows_16b_aligned` (k_total % 8 == 0 and out 16-B aligned)
/// every 8-element chunk is wholly inside or outside K, so one 16-B store per chunk; otherwise
/// element by element. Called by all 128 threads; thread `tid` takes chunks / elements tid,
/// tid + 128, ... REFERENCE: out[(row0 + r) * K + col0 + c] = tile[r][c] for r, c inside.
ZIPSERV_HD inline void store_decoded_tile(const uint16_t* tile, uint16_t* out, int64_t m_total, int64_t k_total,
                                          int64_t row0, int64_t col0, bool out_rows_16b_aligned, int tid) {
  const int64_t rows = m_total - row0 < kTileM ? m_total - row0 : kTileM;
  const int64_t cols = k_total - col0 < kTileK ? k_total - col0 : kTileK;
  if (out_rows_16b_aligned) {  // cols is a multiple of 8 here
    for (int c = tid; c < kTileM * 8; c += kThreadsPerBlock) {
      const int r = c / 8, chunk = c % 8;
      if (r < rows && 8 * chunk < cols) {
        uint16_t* dst = out + (row0 + r) * k_total + col0 + 8 * chunk;  // 16-B aligned
        const uint16_t* src = tile + r * kDecodeTileStride + 8 * chunk;  // 16-B aligned (144-B rows)
        dev::st_global(reinterpret_cast<dev::Vec16*>(dst), dev::ld_shared<dev::Vec16>(src));
      }
    }
  } else {
    for (int e = tid; e < kTileM * kTileK; e += kThreadsPerBlock) {
      const int r = e / kTileK, c = e % kTileK;
      if (r < rows && c < cols)
        dev::st_global(out + (row0 + r) * k_total + col0 + c, dev::ld_shared<uint16_t>(tile + r * kDecodeTileStride + c));
    }
  }
}

/// \}

}  // namespace ZIPSERV_CUDA_TARGET
}  // namespace zipserv::cuda
