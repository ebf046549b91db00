// The GPU runtime of a build without nvcc: every call explains that the GPU kernels were not
// built (cuda-sim still runs them on the CPU).
#include <stdexcept>
#include <string>

#include "runtime.h"

namespace zipserv::cuda::detail {
namespace {

[[noreturn]] void not_built() {
  throw std::runtime_error("zipserv::cuda: the GPU kernels are not built (configure with -DZIPSERV_ENABLE_CUDA=ON "
                           "where nvcc exists); the cuda-sim backend runs them on the CPU");
}

class AbsentGpuRuntime final : public Runtime {
 public:
  std::string unavailable_reason() const override {
    return "not built with CUDA: configure with -DZIPSERV_ENABLE_CUDA=ON";
  }
  void* allocate(size_t) override { not_built(); }
  void release(void*) noexcept override {}
  void copy_to_device(void*, const void*, size_t) override { not_built(); }
  void copy_to_host(void*, const void*, size_t) override { not_built(); }
  void fill(void*, int, size_t) override { not_built(); }
  void synchronize(const char*) override { not_built(); }
  int sm_count() override { not_built(); }
  int compute_capability() override { not_built(); }
  void launch_fused_compressed(const CompressedView&, const GemmBuffers&, CUstream_st*) override { not_built(); }
  void launch_fused_dense(const DenseView&, const GemmBuffers&, CUstream_st*) override { not_built(); }
  void launch_decode(const CompressedView&, uint16_t*, CUstream_st*) override { not_built(); }
  void launch_mma_probe(const uint16_t*, const uint16_t*, const float*, float*, int64_t) override { not_built(); }
  void cublas_gemm(cublasContext*, const uint16_t*, int64_t, int64_t, const uint16_t*, int64_t, uint16_t*) override {
    not_built();
  }
  cublasContext* create_cublas() override { not_built(); }
  void destroy_cublas(cublasContext*) noexcept override {}
};

}  // namespace

Runtime& gpu_runtime() {
  static AbsentGpuRuntime runtime;
  return runtime;
}

}  // namespace zipserv::cuda::detail

namespace zipserv::cuda {
bool gpu_built() { return false; }
}  // namespace zipserv::cuda
