// Launches of the fused kernel's dense twin (uncompressed W, same structure), and the split-K
// reduction both variants share.
#include <algorithm>

#include "fused_gemm_launch.cuh"
#include "split_k_reduction.cuh"
#include "zipserv/cuda/device_matrix.h"

namespace zipserv::cuda {
namespace detail {

void launch_fused_dense(const DenseView& w, const GemmBuffers& b, cudaStream_t stream) {
  if (w.values == nullptr) reject("dense W is a null pointer");
  if (reinterpret_cast<uintptr_t>(w.values) % 16 != 0) reject("dense W must be 16-B aligned");
  check_gemm_buffers(w.rows, w.cols, b);
  if (b.trace != nullptr) reject("the dense GEMM has no trace build");
  FusedGemmParams p{};
  p.dense = w;
  fill_gemm_params(p, w.rows, w.cols, b);
  p.smem = dense_gemm_layout(choose_tile_n(b.n));
  launch_fused<WeightFormat::kDense, false>(p, stream);
}

void launch_split_k_reduction(const float* partials, int split_k, int64_t count, uint16_t* y, cudaStream_t stream) {
  constexpr int kThreads = 256;
  const int64_t blocks = std::min<int64_t>((count + kThreads - 1) / kThreads, int64_t{1} << 20);
  reduce_split_k_partials<<<static_cast<unsigned>(blocks), kThreads, 0, stream>>>(partials, split_k, count, y);
  check_cuda(cudaGetLastError(), "launching the split-K reduction kernel");
}

}  // namespace detail

void launch_gemm_uncompressed(const DenseView& w, const uint16_t* x, int64_t n, uint16_t* y, float* workspace,
                              size_t workspace_bytes, int split_k, CUstream_st* stream) {
  detail::launch_fused_dense(w, detail::GemmBuffers{x, n, y, workspace, workspace_bytes, split_k, nullptr}, stream);
}

}  // namespace zipserv::cuda
