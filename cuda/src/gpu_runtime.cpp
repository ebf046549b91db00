// The GPU runtime: the CUDA runtime API, cuBLAS and the launchers compiled by nvcc
// (launch_gpu.cu). Built only with ZIPSERV_ENABLE_CUDA.
#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <climits>
#include <string>

#include "cuda_check.h"
#include "runtime.h"

namespace zipserv::cuda::detail {
namespace {

class GpuRuntime final : public Runtime {
 public:
  std::string unavailable_reason() const override {
    int count = 0;
    const cudaError_t status = cudaGetDeviceCount(&count);
    if (status != cudaSuccess) {
      (void)cudaGetLastError();
      return std::string("no CUDA device is available: ") + cudaGetErrorName(status) + ": " + cudaGetErrorString(status);
    }
    if (count == 0) return "no CUDA device is available";
    // BF16 mma.sync and cp.async need sm_80: an older GPU gets this message instead of CUDA's
    // "no kernel image is available".
    int device = 0, major = 0, minor = 0;
    if (cudaGetDevice(&device) != cudaSuccess ||
        cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device) != cudaSuccess ||
        cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, device) != cudaSuccess) {
      (void)cudaGetLastError();
      return "cannot read the CUDA device's compute capability";
    }
    if (major < 8)
      return "the kernels need compute capability 8.0 or newer (BF16 mma.sync, cp.async); device " +
             std::to_string(device) + " has " + std::to_string(major) + "." + std::to_string(minor);
    return {};
  }
  void* allocate(size_t bytes) override {
    void* p = nullptr;
    if (bytes > 0) check_cuda(cudaMalloc(&p, bytes), ("cudaMalloc of " + std::to_string(bytes) + " bytes").c_str());
    return p;
  }
  void release(void* p) noexcept override {
    if (p != nullptr) cudaFree(p);
  }
  void copy_to_device(void* dst, const void* src, size_t bytes) override {
    check_cuda(cudaMemcpy(dst, src, bytes, cudaMemcpyHostToDevice), "copying to the device");
  }
  void copy_to_host(void* dst, const void* src, size_t bytes) override {
    check_cuda(cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToHost), "copying from the device");
  }
  void fill(void* dst, int byte, size_t bytes) override { check_cuda(cudaMemset(dst, byte, bytes), "cudaMemset"); }
  void synchronize(const char* what) override { check_cuda(cudaDeviceSynchronize(), what); }
  int sm_count() override {
    int device = 0, sms = 0;
    check_cuda(cudaGetDevice(&device), "cudaGetDevice");
    check_cuda(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device), "reading the SM count");
    return sms;
  }
  int compute_capability() override {
    int device = 0, major = 0, minor = 0;
    check_cuda(cudaGetDevice(&device), "cudaGetDevice");
    check_cuda(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device), "reading the compute capability");
    check_cuda(cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, device), "reading the compute capability");
    return 10 * major + minor;
  }
  void launch_fused_compressed(const CompressedView& w, const GemmBuffers& b, CUstream_st* stream) override {
    on_gpu::launch_fused_compressed(w, b, stream);
  }
  void launch_fused_dense(const DenseView& w, const GemmBuffers& b, CUstream_st* stream) override {
    on_gpu::launch_fused_dense(w, b, stream);
  }
  void launch_decode(const CompressedView& w, uint16_t* out, CUstream_st* stream) override {
    on_gpu::launch_decode(w, out, stream);
  }
  void launch_mma_probe(const uint16_t* a, const uint16_t* b, const float* c, float* d, int64_t problems) override {
    on_gpu::launch_mma_probe(a, b, c, d, problems, nullptr);
  }
  void cublas_gemm(cublasContext* handle, const uint16_t* w, int64_t m, int64_t k, const uint16_t* x, int64_t n,
                   uint16_t* y) override {
    if (handle == nullptr || w == nullptr || x == nullptr || y == nullptr) reject("cuBLAS GEMM got a null pointer");
    if (m <= 0 || k <= 0 || n <= 0 || m > INT_MAX || k > INT_MAX || n > INT_MAX)
      reject("cuBLAS GEMM shape must be positive and below 2^31");
    const float alpha = 1.0f, beta = 0.0f;
    // C (M x N, col-major, ldc = M) = W^T-view (row-major M x K = col-major K x M, lda = K) * X (col-major K x N).
    const cublasStatus_t status = cublasGemmEx(
        handle, CUBLAS_OP_T, CUBLAS_OP_N, static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), &alpha, w,
        CUDA_R_16BF, static_cast<int>(k), x, CUDA_R_16BF, static_cast<int>(k), &beta, y, CUDA_R_16BF,
        static_cast<int>(m), CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
    if (status != CUBLAS_STATUS_SUCCESS)
      throw std::runtime_error(std::string("zipserv::cuda: cublasGemmEx failed: ") + cublasGetStatusString(status));
  }
  cublasContext* create_cublas() override {
    cublasHandle_t handle = nullptr;
    if (cublasCreate(&handle) != CUBLAS_STATUS_SUCCESS) throw std::runtime_error("zipserv::cuda: cublasCreate failed");
    return handle;
  }
  void destroy_cublas(cublasContext* handle) noexcept override { cublasDestroy(handle); }
};

}  // namespace

Runtime& gpu_runtime() {
  static GpuRuntime runtime;
  return runtime;
}

}  // namespace zipserv::cuda::detail

namespace zipserv::cuda {
bool gpu_built() { return true; }
}  // namespace zipserv::cuda
