/*! \file decode_kernel.cuh
 *  \brief The standalone decode kernel (the prefill path: decode, then a dense GEMM):
 *         TCA-TBE -> row-major BF16, one block tile per block and K step, decoded with the same
 *         per-lane function as the fused kernel.
 */
#pragma once

#include <cstdint>

#include "zipserv/cuda/block_tile_staging.h"
#include "zipserv/cuda/device_matrix.h"
#include "zipserv/cuda/fragment_decode.h"
#include "zipserv/cuda/fragment_loads.h"
#include "zipserv/cuda/launch_plan.h"
#include "zipserv/cuda/primitives.h"
#include "zipserv/reference/fragment_layout.h"
#include "zipserv/reference/tile_layout.h"

namespace zipserv::cuda {
inline namespace ZIPSERV_CUDA_TARGET {  // on_gpu or on_sim: see primitives.h

/// Grid (min(Kp/64, 65535), min(Mp/64, 65535)), block 128, dynamic shared memory
/// decode_layout(max_hf, max_full).total_bytes. `out` is (M, K) row-major.
__global__ void __launch_bounds__(kThreadsPerBlock)
    decode_kernel(const CompressedView w, const SharedLayout l, int64_t block_rows, int64_t block_cols,
                      bool out_rows_16b_aligned, uint16_t* out) {
  // Steps:
  //  1. For each block tile (gm, gk) this block owns (grid-stride in both directions):
  //  2.   stage it into shared memory with cp.async and wait (one stage: nothing to overlap with
  //       inside a block; other resident blocks keep the memory system busy),
  //  3.   warp s decodes strip s, slice by slice, register by register, and writes each register's
  //       two values to the (64, 72) tile at a_frag_coord(),
  //  4.   barrier, then the block writes the tile's rows < M, columns < K to `out`, 16 B per
  //       thread when rows are 16-B aligned, else element by element,
  //  5.   barrier before the next tile reuses shared memory.
  unsigned char* const smem = dev::dynamic_shared_memory();
  uint16_t* tile = reinterpret_cast<uint16_t*>(smem + l.x_offset);  // (64, 72) smem, bf16
  const int tid = static_cast<int>(threadIdx.x), strip = tid / 32, lane = tid % 32;

  // Step 1.
  for (int64_t gm = blockIdx.y; gm < block_rows; gm += gridDim.y)
    for (int64_t gk = blockIdx.x; gk < block_cols; gk += gridDim.x) {
      // Step 2.
      const int64_t t = gm * block_cols + gk;
      stage_compressed_block_tile(w, t, load_segment_bounds(w, t), smem, l, tid, dev::CpAsyncCopy16{});
      dev::cp_async_commit();
      dev::cp_async_wait_group<0>();
      __syncthreads();

      // Step 3.
      decode_strip_into_tile(smem, l, w.start_exp, strip, lane, tile);
      // Step 4.
      __syncthreads();
      store_decoded_tile(tile, out, w.rows, w.cols, gm * kTileM, gk * kTileK, out_rows_16b_aligned, tid);
      // Step 5.
      __syncthreads();
    }
}

}  // namespace ZIPSERV_CUDA_TARGET
}  // namespace zipserv::cuda
