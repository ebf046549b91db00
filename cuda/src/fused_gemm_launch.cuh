/*! \file fused_gemm_launch.cuh
 *  \brief Picks the TILE_N instantiation of the fused kernel for a launch, sizes its shared
 *         memory for THIS call, launches it and, for split_k > 1, the reduction after it.
 */
#pragma once

#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

#include "cuda_check.h"
#include "kernel_launch.h"
#include "zipgemm_kernel.cuh"

namespace zipserv::cuda::detail {

/// Launches one instantiation: the K-tail variant exactly when K % 64 != 0 (zipgemm_kernel).
template <int kTileN, WeightFormat kFormat, bool kTrace>
void launch_fused_tile(const FusedGemmParams& p, cudaStream_t stream) {
  const auto kernel = p.k % kTileK != 0 ? zipgemm_kernel<kTileN, kFormat, kTrace, true>
                                        : zipgemm_kernel<kTileN, kFormat, kTrace, false>;
  // The layout must have been computed for this instantiation's TILE_N: the X tile comes first
  // and is TILE_N x 64 bf16 (a layout for a smaller TILE_N would let the X staging overrun it).
  if (p.smem.x_offset != 0 || p.smem.bitmap_offset != kTileN * kTileK * 2)
    throw std::logic_error("zipserv::cuda: shared-memory layout computed for another TILE_N than " +
                           std::to_string(kTileN));
  const int bytes = p.smem.total_bytes;  // computed for this call's matrix (never cached: spec G.2)
  allow_dynamic_shared_memory(reinterpret_cast<const void*>(kernel), bytes);
  const GridShape g = gemm_grid(p.m, p.n, p.split_k);
  kernel<<<dim3(static_cast<unsigned>(g.x), static_cast<unsigned>(g.y), static_cast<unsigned>(g.z)),
           kThreadsPerBlock, static_cast<size_t>(bytes), stream>>>(p);
  check_cuda(cudaGetLastError(), "launching the fused ZipGEMM kernel");
}

/// Fills the shape, activation and output fields of `p` (the W fields are the caller's).
inline void fill_gemm_params(FusedGemmParams& p, int64_t m, int64_t k, const GemmBuffers& b) {
  p.m = m;
  p.k = k;
  p.n = b.n;
  p.block_rows = (m + kTileM - 1) / kTileM;
  p.block_cols = (k + kTileK - 1) / kTileK;
  p.x = b.x;
  p.x_rows_16b_aligned = k % 8 == 0 && reinterpret_cast<uintptr_t>(b.x) % 16 == 0;
  p.y = b.y;
  p.partials = b.workspace;
  p.split_k = b.split_k;
  p.trace = b.trace;
}

/// Dispatches on TILE_N = choose_tile_n(N); then reduces the partials when split_k > 1.
template <WeightFormat kFormat, bool kTrace>
void launch_fused(const FusedGemmParams& p, cudaStream_t stream) {
  switch (choose_tile_n(p.n)) {
    case 8: launch_fused_tile<8, kFormat, kTrace>(p, stream); break;
    case 16: launch_fused_tile<16, kFormat, kTrace>(p, stream); break;
    case 32: launch_fused_tile<32, kFormat, kTrace>(p, stream); break;
    case 64: launch_fused_tile<64, kFormat, kTrace>(p, stream); break;
    default: launch_fused_tile<128, kFormat, kTrace>(p, stream); break;
  }
  if (p.split_k > 1) launch_split_k_reduction(p.partials, p.split_k, p.m * p.n, p.y, stream);
}

}  // namespace zipserv::cuda::detail
