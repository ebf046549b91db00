// The launchers of every kernel (kernel_launch.h), written once and compiled twice: by nvcc in
// launch_gpu.cu (namespace on_gpu) and by the host compiler in launch_sim.cpp (namespace on_sim),
// so that the GPU and cuda-sim choose the same instantiation, shared-memory size and grid.
// Included at namespace scope by exactly those two files.
#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "decode_kernel.cuh"
#include "kernel_launch.h"
#include "kernel_launcher.h"
#include "mma_probe_kernel.cuh"
#include "split_k_reduction.cuh"
#include "zipgemm_kernel.cuh"

namespace zipserv::cuda::detail::ZIPSERV_CUDA_TARGET {
namespace {

// Launches one instantiation: the K-tail variant exactly when K % 64 != 0 (zipgemm_kernel).
template <int kTileN, WeightFormat kFormat, bool kTrace, int kStages = kPipelineStages>
void launch_fused_tile(const FusedGemmParams& p, CUstream_st* stream) {
  const auto kernel = p.k % kTileK != 0 ? zipgemm_kernel<kTileN, kFormat, kTrace, true, kStages>
                                        : zipgemm_kernel<kTileN, kFormat, kTrace, false, kStages>;
  // The layout must have been computed for this instantiation's TILE_N: the X tile comes first
  // and is TILE_N x 64 bf16 (a layout for a smaller TILE_N would let the X staging overrun it).
  if (p.smem.x_offset != 0 || p.smem.bitmap_offset != kTileN * kTileK * 2)
    throw std::logic_error("zipserv::cuda: shared-memory layout computed for another TILE_N than " +
                           std::to_string(kTileN));
  launch_kernel("zipgemm_kernel", kernel, gemm_grid(p.m, p.n, p.split_k), kThreadsPerBlock,
                static_cast<size_t>(p.smem.total_bytes), stream, p);
}

// Fills the shape, activation and output fields of `p` (the W fields are the caller's).
void fill_gemm_params(FusedGemmParams& p, int64_t m, int64_t k, const GemmBuffers& b) {
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

// Dispatches on TILE_N = choose_tile_n(N); then reduces the partials when split_k > 1.
template <WeightFormat kFormat, bool kTrace, int kStages = kPipelineStages>
void launch_fused(const FusedGemmParams& p, CUstream_st* stream) {
  switch (choose_tile_n(p.n)) {
    case 8: launch_fused_tile<8, kFormat, kTrace, kStages>(p, stream); break;
    case 16: launch_fused_tile<16, kFormat, kTrace, kStages>(p, stream); break;
    case 32: launch_fused_tile<32, kFormat, kTrace, kStages>(p, stream); break;
    case 64: launch_fused_tile<64, kFormat, kTrace, kStages>(p, stream); break;
    default: launch_fused_tile<128, kFormat, kTrace, kStages>(p, stream); break;
  }
  if (p.split_k > 1) launch_split_k_reduction(p.partials, p.split_k, p.m * p.n, p.y, stream);
}

}  // namespace

void launch_fused_compressed(const CompressedView& w, const GemmBuffers& b, CUstream_st* stream) {
  check_compressed_view(w);
  check_gemm_buffers(w.rows, w.cols, b);
  FusedGemmParams p{};
  p.w = w;
  fill_gemm_params(p, w.rows, w.cols, b);
  if (b.pipeline_stages != 2 && b.pipeline_stages != 3)
    reject("pipeline_stages = " + std::to_string(b.pipeline_stages) + " (2: double buffer, 3: three-stage variant)");
  p.smem = compressed_gemm_layout(choose_tile_n(b.n), w.max_hf, w.max_full, b.pipeline_stages);
  if (b.trace == nullptr) {
    if (b.pipeline_stages == 3)
      launch_fused<WeightFormat::kCompressed, false, 3>(p, stream);
    else
      launch_fused<WeightFormat::kCompressed, false>(p, stream);
  } else {
    if (b.pipeline_stages != 2) reject("the trace build runs the two-stage pipeline");
    if (choose_tile_n(b.n) != 8) reject("the trace build runs with n <= 8 (one 8-column tile)");
    launch_fused_tile<8, WeightFormat::kCompressed, true>(p, stream);
    if (p.split_k > 1) launch_split_k_reduction(p.partials, p.split_k, p.m * p.n, p.y, stream);
  }
}

void launch_fused_dense(const DenseView& w, const GemmBuffers& b, CUstream_st* stream) {
  if (w.values == nullptr) reject("dense W is a null pointer");
  if (reinterpret_cast<uintptr_t>(w.values) % 16 != 0) reject("dense W must be 16-B aligned");
  check_gemm_buffers(w.rows, w.cols, b);
  if (b.trace != nullptr) reject("the dense GEMM has no trace build");
  if (b.pipeline_stages != 2) reject("the dense GEMM runs the two-stage pipeline");
  FusedGemmParams p{};
  p.dense = w;
  fill_gemm_params(p, w.rows, w.cols, b);
  p.smem = dense_gemm_layout(choose_tile_n(b.n));
  launch_fused<WeightFormat::kDense, false>(p, stream);
}

void launch_split_k_reduction(const float* partials, int split_k, int64_t count, uint16_t* y, CUstream_st* stream) {
  constexpr int kThreads = 256;
  const int64_t blocks = std::min<int64_t>((count + kThreads - 1) / kThreads, int64_t{1} << 20);
  launch_kernel("reduce_split_k_partials", reduce_split_k_partials<float>, GridShape{blocks, 1, 1}, kThreads, 0,
                stream, partials, split_k, count, y);
}

void launch_decode(const CompressedView& w, uint16_t* out, CUstream_st* stream) {
  check_compressed_view(w);
  if (out == nullptr) reject("decode output is a null pointer");
  const SharedLayout l = decode_layout(w.max_hf, w.max_full);  // sized for this matrix, this call
  const bool aligned = w.cols % 8 == 0 && reinterpret_cast<uintptr_t>(out) % 16 == 0;
  launch_kernel("decode_kernel", decode_kernel, decode_grid(w.rows, w.cols), kThreadsPerBlock,
                static_cast<size_t>(l.total_bytes), stream, w, l, (w.rows + kTileM - 1) / kTileM,
                (w.cols + kTileK - 1) / kTileK, aligned, out);
}

void launch_mma_probe(const uint16_t* a, const uint16_t* b, const float* c, float* d, int64_t problems,
                      CUstream_st* stream) {
  constexpr int kWarps = 4;
  launch_kernel("mma_probe_kernel", mma_probe_kernel, GridShape{(problems + kWarps - 1) / kWarps, 1, 1}, 32 * kWarps,
                0, stream, a, b, c, d, problems);
}

}  // namespace zipserv::cuda::detail::ZIPSERV_CUDA_TARGET
