/*! \file kernel_launch.h
 *  \brief Internal declarations shared by the launch files: the argument checks on device
 *         views, and the launchers of every kernel, once per target: `on_gpu` (the .cu files,
 *         nvcc) and `on_sim` (the same launch code compiled by the host compiler for cuda-sim).
 */
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "zipserv/cuda/device_matrix.h"
#include "zipserv/cuda/launch_plan.h"

namespace zipserv::cuda::detail {

/// Throws std::invalid_argument("zipserv::cuda: <what>").
[[noreturn]] void reject(const std::string& what);

/// Arguments common to every fused-GEMM launch (checked by check_gemm_buffers()).
struct GemmBuffers {
  const uint16_t* x;
  int64_t n;
  uint16_t* y;
  float* workspace;
  size_t workspace_bytes;
  int split_k;
  uint32_t* trace;  ///< trace build only, else nullptr
  int pipeline_stages = kPipelineStages;  ///< 2, or 3 for the three-stage variant (compressed W)
};

/// Throws std::invalid_argument unless the shape, split count, pointers and workspace fit.
void check_gemm_buffers(int64_t m, int64_t k, const GemmBuffers& b);

/// Throws std::invalid_argument unless every array of `w` is present and 16-B aligned and the
/// segment maxima have the form of padded block-tile segment sizes. (Whether they are large
/// enough is checked by the kernel itself, which stops instead of overrunning shared memory.)
void check_compressed_view(const CompressedView& w);

/// The launchers of one target. Each checks its arguments, sizes shared memory for this call,
/// and launches on `stream` (cuda-sim runs the launch to completion before returning).
#define ZIPSERV_DECLARE_LAUNCHERS                                                                              \
  /** The fused kernel on compressed W (trace build when b.trace != nullptr; then N <= 8). */               \
  void launch_fused_compressed(const CompressedView& w, const GemmBuffers& b, CUstream_st* stream);          \
  /** The fused kernel's dense twin. */                                                                      \
  void launch_fused_dense(const DenseView& w, const GemmBuffers& b, CUstream_st* stream);                   \
  /** Sums split_k FP32 partials (split_k, M*N) into y (M*N bf16), in split order. */                       \
  void launch_split_k_reduction(const float* partials, int split_k, int64_t count, uint16_t* y,             \
                                CUstream_st* stream);                                                       \
  /** The decode kernel: W -> out (M, K) row-major. */                                                \
  void launch_decode(const CompressedView& w, uint16_t* out, CUstream_st* stream);                      \
  /** One mma.sync per warp on `problems` tile triples (mma_probe_kernel.cuh). */                          \
  void launch_mma_probe(const uint16_t* a, const uint16_t* b, const float* c, float* d, int64_t problems,    \
                        CUstream_st* stream);

namespace on_gpu {
ZIPSERV_DECLARE_LAUNCHERS
}  // namespace on_gpu
namespace on_sim {
ZIPSERV_DECLARE_LAUNCHERS
}  // namespace on_sim
#undef ZIPSERV_DECLARE_LAUNCHERS

}  // namespace zipserv::cuda::detail
