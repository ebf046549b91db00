// Launches of the fused ZipGEMM kernel on compressed weights (normal and trace builds).
#include "fused_gemm_launch.cuh"
#include "zipserv/cuda/device_matrix.h"

namespace zipserv::cuda {
namespace detail {

void launch_fused_compressed(const CompressedView& w, const GemmBuffers& b, cudaStream_t stream) {
  check_compressed_view(w);
  check_gemm_buffers(w.rows, w.cols, b);
  FusedGemmParams p{};
  p.w = w;
  fill_gemm_params(p, w.rows, w.cols, b);
  p.smem = compressed_gemm_layout(choose_tile_n(b.n), w.max_hf, w.max_full);
  if (b.trace == nullptr) {
    launch_fused<WeightFormat::kCompressed, false>(p, stream);
  } else {
    if (choose_tile_n(b.n) != 8) reject("the trace build runs with n <= 8 (one 8-column tile)");
    launch_fused_tile<8, WeightFormat::kCompressed, true>(p, stream);
    if (p.split_k > 1) launch_split_k_reduction(p.partials, p.split_k, p.m * p.n, p.y, stream);
  }
}

}  // namespace detail

void launch_zipgemm(const CompressedView& w, const uint16_t* x, int64_t n, uint16_t* y, float* workspace,
                    size_t workspace_bytes, int split_k, CUstream_st* stream) {
  detail::launch_fused_compressed(w, detail::GemmBuffers{x, n, y, workspace, workspace_bytes, split_k, nullptr},
                                  stream);
}

void launch_zipgemm_trace(const CompressedView& w, const uint16_t* x, int64_t n, uint16_t* y, float* workspace,
                          size_t workspace_bytes, int split_k, uint32_t* trace, CUstream_st* stream) {
  if (trace == nullptr) detail::reject("trace is a null pointer");
  detail::launch_fused_compressed(w, detail::GemmBuffers{x, n, y, workspace, workspace_bytes, split_k, trace},
                                  stream);
}

}  // namespace zipserv::cuda
