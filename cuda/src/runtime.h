/*! \file runtime.h
 *  \brief The few operations the host API needs from wherever the kernels run, behind one
 *         interface: memory, copies, the launchers, device queries. Two implementations: the CUDA
 *         runtime (gpu_runtime.cpp, only in builds with nvcc) and cuda-sim (sim_runtime.cpp).
 */
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "kernel_launch.h"
#include "zipserv/cuda/backend.h"

namespace zipserv::cuda::detail {

class Runtime {
 public:
  virtual ~Runtime() = default;
  /// Empty when kernels can run; otherwise why not.
  virtual std::string unavailable_reason() const = 0;
  /// Throws std::runtime_error naming the reason unless kernels can run.
  void require() const;

  virtual void* allocate(size_t bytes) = 0;  ///< 256-B aligned; throws on failure
  virtual void release(void* p) noexcept = 0;
  virtual void copy_to_device(void* dst, const void* src, size_t bytes) = 0;
  virtual void copy_to_host(void* dst, const void* src, size_t bytes) = 0;
  virtual void fill(void* dst, int byte, size_t bytes) = 0;
  virtual void synchronize(const char* what) = 0;
  virtual int sm_count() = 0;
  /// 10 major + minor of the device (86 for 8.6); 0 on cuda-sim.
  virtual int compute_capability() = 0;

  virtual void launch_fused_compressed(const CompressedView& w, const GemmBuffers& b, CUstream_st* stream) = 0;
  virtual void launch_fused_dense(const DenseView& w, const GemmBuffers& b, CUstream_st* stream) = 0;
  virtual void launch_decode(const CompressedView& w, uint16_t* out, CUstream_st* stream) = 0;
  virtual void launch_mma_probe(const uint16_t* a, const uint16_t* b, const float* c, float* d, int64_t problems) = 0;
  virtual void cublas_gemm(cublasContext* handle, const uint16_t* w, int64_t m, int64_t k, const uint16_t* x,
                           int64_t n, uint16_t* y) = 0;
  virtual cublasContext* create_cublas() = 0;
  virtual void destroy_cublas(cublasContext* handle) noexcept = 0;
};

/// The runtime of `backend`.
Runtime& runtime_for(const Backend& backend);
/// The runtime of this thread's current backend.
inline Runtime& current_runtime() { return runtime_for(current_backend()); }

/// The CUDA runtime (defined in gpu_runtime.cpp, or by a stand-in that explains it is not built).
Runtime& gpu_runtime();
/// cuda-sim.
Runtime& sim_runtime();

}  // namespace zipserv::cuda::detail
