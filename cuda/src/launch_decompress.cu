// Launch of the standalone decompression kernel.
#include <cuda_runtime.h>

#include "cuda_check.h"
#include "decompress_kernel.cuh"
#include "kernel_launch.h"
#include "zipserv/cuda/device_matrix.h"

namespace zipserv::cuda {

void launch_decompress(const CompressedView& w, uint16_t* out, CUstream_st* stream) {
  detail::check_compressed_view(w);
  if (out == nullptr) detail::reject("decompress output is a null pointer");
  const SharedLayout l = decompress_layout(w.max_hf, w.max_full);  // sized for this matrix, this call
  detail::allow_dynamic_shared_memory(reinterpret_cast<const void*>(decompress_kernel), l.total_bytes);
  const GridShape g = decompress_grid(w.rows, w.cols);
  const bool aligned = w.cols % 8 == 0 && reinterpret_cast<uintptr_t>(out) % 16 == 0;
  decompress_kernel<<<dim3(static_cast<unsigned>(g.x), static_cast<unsigned>(g.y)), kThreadsPerBlock,
                      static_cast<size_t>(l.total_bytes), stream>>>(
      w, l, (w.rows + kTileM - 1) / kTileM, (w.cols + kTileK - 1) / kTileK, aligned, out);
  detail::check_cuda(cudaGetLastError(), "launching the decompression kernel");
}

}  // namespace zipserv::cuda
