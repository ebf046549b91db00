/*! \file split_k_reduction.cuh
 *  \brief Sums the FP32 partial products of the K splits and rounds once to BF16.
 *
 *  Partials are kept in FP32 (the official code stores BF16 partials and so rounds twice:
 *  spec G.4) and summed in the fixed order split 0, 1, ..., S-1, so repeated runs give the same
 *  bits. Every one of the M * N outputs is covered by the grid-stride loop (no dropped tail).
 */
#pragma once

#include <cstdint>

#include "zipserv/cuda/primitives.h"

namespace zipserv::cuda {
inline namespace ZIPSERV_CUDA_TARGET {  // on_gpu or on_sim: see primitives.h

/// y[e] = bf16(((partials[0][e] + partials[1][e]) + ...) + partials[S-1][e]) for e < count = M N.
/// partials: (split_k, count) Partial (fp32); y: (count) bf16 = (M x N) column-major.
/// A template, so that a header included by several translation units defines it only once
/// (templates are merged by the linker; a plain __global__ function would be a duplicate symbol).
template <typename Partial>
__global__ void reduce_split_k_partials(const Partial* partials, int split_k, int64_t count, uint16_t* y) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t e = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; e < count; e += stride) {
    Partial sum = dev::ld_global(partials + e);
    for (int s = 1; s < split_k; ++s) sum += dev::ld_global(partials + s * count + e);  // fixed order: bit-identical reruns
    dev::st_global(y + e, dev::float_to_bf16_rn(sum));  // REFERENCE: float_to_bf16_rne(sum) (non-NaN)
  }
}

}  // namespace ZIPSERV_CUDA_TARGET
}  // namespace zipserv::cuda
