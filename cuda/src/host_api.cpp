// The host-array API of the CUDA implementation (zipgemm.h): validate, upload, launch on the
// default stream, synchronize, download. Plain C++ over the CUDA runtime and cuBLAS.
#include "zipserv/cuda/zipgemm.h"

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <memory>
#include <string>
#include <vector>

#include "cuda_check.h"
#include "zipserv/decode.h"

namespace zipserv::cuda {

using detail::check_cuda;
using detail::reject;

namespace {

// A usable device of compute capability 8.0 or newer (BF16 mma.sync and cp.async need sm_80):
// an older GPU gets this message instead of CUDA's "no kernel image is available".
void require_device() {
  if (!device_available()) throw std::runtime_error("zipserv::cuda: no CUDA device is available");
  int device = 0, major = 0, minor = 0;
  check_cuda(cudaGetDevice(&device), "cudaGetDevice");
  check_cuda(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device), "reading the compute capability");
  check_cuda(cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, device), "reading the compute capability");
  if (major < 8)
    throw std::runtime_error("zipserv::cuda: the kernels need compute capability 8.0 or newer (BF16 mma.sync, "
                             "cp.async); device " + std::to_string(device) + " has " + std::to_string(major) + "." +
                             std::to_string(minor));
}

template <typename T>
DeviceAllocation upload_array(const T* host, size_t count) {
  DeviceAllocation d(count * sizeof(T));
  check_cuda(cudaMemcpy(d.get(), host, count * sizeof(T), cudaMemcpyHostToDevice), "uploading an array");
  return d;
}

template <typename T>
std::vector<T> download_array(const DeviceAllocation& d, size_t count) {
  std::vector<T> host(count);
  check_cuda(cudaMemcpy(host.data(), d.get(), count * sizeof(T), cudaMemcpyDeviceToHost), "downloading an array");
  return host;
}

// Split count of a call: the caller's, or the automatic choice. The caller's is checked
// before any device work (validate_gemm_launch), the automatic one needs the device.
int requested_split(int64_t m, int64_t k, int64_t n, const ZipGemmOptions& options) {
  return options.split_k != 0 ? options.split_k : automatic_split_k(m, k, n);
}

// Runs a fused GEMM whose W is already on the device; `launch` gets (x, y, workspace, bytes, split).
template <typename Launch>
std::vector<uint16_t> run_gemm(int64_t m, int64_t k, const uint16_t* x, int64_t n, int split_k, Launch launch) {
  const DeviceAllocation x_dev = upload_array(x, static_cast<size_t>(n * k));
  DeviceAllocation y_dev(static_cast<size_t>(m * n) * sizeof(uint16_t));
  const size_t ws_bytes = split_k_workspace_bytes(m, n, split_k);
  DeviceAllocation workspace(ws_bytes);
  launch(static_cast<const uint16_t*>(x_dev.get()), static_cast<uint16_t*>(y_dev.get()),
         static_cast<float*>(workspace.get()), ws_bytes, split_k);
  check_cuda(cudaDeviceSynchronize(), "running the GEMM");
  return download_array<uint16_t>(y_dev, static_cast<size_t>(m * n));
}

}  // namespace

bool device_available() {
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) {
    (void)cudaGetLastError();
    return false;
  }
  return count > 0;
}

int automatic_split_k(int64_t m, int64_t k, int64_t n) { return choose_split_k(m, k, n, device_sm_count()); }

std::vector<uint16_t> decompress(const CompressedMatrix& m) {
  validate(m);
  require_device();
  const DeviceCompressedMatrix w = DeviceCompressedMatrix::upload(m);
  DeviceAllocation out(static_cast<size_t>(m.rows * m.cols) * sizeof(uint16_t));
  launch_decompress(w.view(), static_cast<uint16_t*>(out.get()), nullptr);
  check_cuda(cudaDeviceSynchronize(), "running the decompression kernel");
  return download_array<uint16_t>(out, static_cast<size_t>(m.rows * m.cols));
}

std::vector<uint32_t> trace_lane_fragments(const CompressedMatrix& m) { return trace_lane_fragments(m, 1); }

std::vector<uint32_t> trace_lane_fragments(const CompressedMatrix& m, int split_k) {
  validate(m);
  const std::vector<uint16_t> x(static_cast<size_t>(m.cols), 0);  // one token of zeros: only the trace matters
  validate_gemm_launch(m.rows, m.cols, x.data(), 1, split_k);
  require_device();
  const DeviceCompressedMatrix w = DeviceCompressedMatrix::upload(m);
  const size_t count = static_cast<size_t>(lane_fragment_count(m));
  DeviceAllocation trace(count * sizeof(uint32_t));
  check_cuda(cudaMemset(trace.get(), 0xFF, trace.bytes()), "clearing the trace buffer");  // unwritten = 0xFFFFFFFF
  run_gemm(m.rows, m.cols, x.data(), 1, split_k, [&](const uint16_t* xd, uint16_t* yd, float* ws, size_t bytes, int s) {
    launch_zipgemm_trace(w.view(), xd, 1, yd, ws, bytes, s, static_cast<uint32_t*>(trace.get()), nullptr);
  });
  return download_array<uint32_t>(trace, count);
}

std::vector<uint16_t> zipgemm(const CompressedMatrix& w, const uint16_t* x, int64_t n, const ZipGemmOptions& options) {
  validate(w);
  validate_gemm_launch(w.rows, w.cols, x, n, options.split_k != 0 ? options.split_k : 1);
  require_device();
  const int split_k = requested_split(w.rows, w.cols, n, options);
  const DeviceCompressedMatrix wd = DeviceCompressedMatrix::upload(w);
  return run_gemm(w.rows, w.cols, x, n, split_k, [&](const uint16_t* xd, uint16_t* yd, float* ws, size_t bytes, int s) {
    launch_zipgemm(wd.view(), xd, n, yd, ws, bytes, s, nullptr);
  });
}

std::vector<uint16_t> gemm_uncompressed(const uint16_t* w, int64_t m, int64_t k, const uint16_t* x, int64_t n,
                                        const ZipGemmOptions& options) {
  if (w == nullptr) reject("w (weights) is a null pointer");
  validate_gemm_launch(m, k, x, n, options.split_k != 0 ? options.split_k : 1);
  require_device();
  const int split_k = requested_split(m, k, n, options);
  const DeviceDenseMatrix wd = DeviceDenseMatrix::upload(w, m, k);
  return run_gemm(m, k, x, n, split_k, [&](const uint16_t* xd, uint16_t* yd, float* ws, size_t bytes, int s) {
    launch_gemm_uncompressed(wd.view(), xd, n, yd, ws, bytes, s, nullptr);
  });
}

std::vector<uint16_t> cublas_gemm(const uint16_t* w, int64_t m, int64_t k, const uint16_t* x, int64_t n) {
  if (w == nullptr) reject("w (weights) is a null pointer");
  validate_gemm_launch(m, k, x, n, 1);
  require_device();
  const DeviceAllocation w_dev = upload_array(w, static_cast<size_t>(m * k));
  const DeviceAllocation x_dev = upload_array(x, static_cast<size_t>(n * k));
  DeviceAllocation y_dev(static_cast<size_t>(m * n) * sizeof(uint16_t));
  cublasHandle_t handle = nullptr;
  if (cublasCreate(&handle) != CUBLAS_STATUS_SUCCESS) throw std::runtime_error("zipserv::cuda: cublasCreate failed");
  const std::unique_ptr<cublasContext, decltype(&cublasDestroy)> owner(handle, &cublasDestroy);  // every path
  launch_cublas_gemm(handle, static_cast<const uint16_t*>(w_dev.get()), m, k,
                     static_cast<const uint16_t*>(x_dev.get()), n, static_cast<uint16_t*>(y_dev.get()));
  check_cuda(cudaDeviceSynchronize(), "running cuBLAS");
  return download_array<uint16_t>(y_dev, static_cast<size_t>(m * n));
}

}  // namespace zipserv::cuda
