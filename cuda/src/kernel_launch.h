/*! \file kernel_launch.h
 *  \brief Internal declarations shared by the launch files: the per-format fused-GEMM launchers
 *         (each instantiated in its own .cu file so they compile in parallel), the split-K
 *         reduction launcher and the argument checks on device views.
 */
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

#include "zipserv/cuda/device_matrix.h"
#include "zipserv/cuda/launch_plan.h"

namespace zipserv::cuda::detail {

/// Arguments common to every fused-GEMM launch (checked by check_gemm_buffers()).
struct GemmBuffers {
  const uint16_t* x;
  int64_t n;
  uint16_t* y;
  float* workspace;
  size_t workspace_bytes;
  int split_k;
  uint32_t* trace;  ///< trace build only, else nullptr
};

/// Throws std::invalid_argument unless the shape, split count, pointers and workspace fit.
void check_gemm_buffers(int64_t m, int64_t k, const GemmBuffers& b);

/// Throws std::invalid_argument unless every array of `w` is present and 16-B aligned and the
/// segment maxima fit a block tile.
void check_compressed_view(const CompressedView& w);

/// Launches the fused kernel on compressed W (trace build when b.trace != nullptr; then N <= 8).
void launch_fused_compressed(const CompressedView& w, const GemmBuffers& b, cudaStream_t stream);
/// Launches the fused kernel's dense twin.
void launch_fused_dense(const DenseView& w, const GemmBuffers& b, cudaStream_t stream);
/// Sums split_k FP32 partials (split_k, M*N) into y (M*N bf16), in split order.
void launch_split_k_reduction(const float* partials, int split_k, int64_t count, uint16_t* y, cudaStream_t stream);

/// Raises a kernel's dynamic shared-memory limit when `bytes` exceeds the 48 KB default, after
/// checking the device's opt-in maximum (error message names both numbers). Called per launch.
void allow_dynamic_shared_memory(const void* kernel, int bytes);

}  // namespace zipserv::cuda::detail
