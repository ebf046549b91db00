// Device memory, uploads, argument checks and the cuBLAS call of the CUDA library (plain C++
// over the CUDA runtime and cuBLAS APIs; the kernels live in the .cu files).
#include "zipserv/cuda/device_matrix.h"

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "cuda_check.h"
#include "kernel_launch.h"
#include "zipserv/tile_layout.h"

namespace zipserv::cuda {

using detail::check_cuda;
using detail::reject;

// ---- DeviceAllocation --------------------------------------------------------------------

DeviceAllocation::DeviceAllocation(size_t bytes) : bytes_(bytes) {
  if (bytes > 0) check_cuda(cudaMalloc(&ptr_, bytes), ("cudaMalloc of " + std::to_string(bytes) + " bytes").c_str());
}
DeviceAllocation::DeviceAllocation(DeviceAllocation&& other) noexcept
    : ptr_(std::exchange(other.ptr_, nullptr)), bytes_(std::exchange(other.bytes_, 0)) {}
DeviceAllocation& DeviceAllocation::operator=(DeviceAllocation&& other) noexcept {
  if (this != &other) {
    if (ptr_ != nullptr) cudaFree(ptr_);
    ptr_ = std::exchange(other.ptr_, nullptr);
    bytes_ = std::exchange(other.bytes_, 0);
  }
  return *this;
}
DeviceAllocation::~DeviceAllocation() {
  if (ptr_ != nullptr) cudaFree(ptr_);
}

// ---- uploads -----------------------------------------------------------------------------

namespace {

constexpr size_t kArrayAlignment = 256;  // every array of an upload starts 256-B aligned
size_t align_up(size_t v) { return (v + kArrayAlignment - 1) / kArrayAlignment * kArrayAlignment; }

}  // namespace

DeviceCompressedMatrix DeviceCompressedMatrix::upload(const CompressedMatrix& m) {
  validate(m);  // nothing below trusts an offset before this has passed
  struct Piece {
    const void* host;
    size_t bytes;
    size_t offset;
  };
  std::vector<Piece> pieces = {
      {m.bitmap1.data(), m.bitmap1.size() * sizeof(uint64_t), 0},
      {m.bitmap2.data(), m.bitmap2.size() * sizeof(uint64_t), 0},
      {m.bitmap3.data(), m.bitmap3.size() * sizeof(uint64_t), 0},
      {m.sign_mantissa.data(), m.sign_mantissa.size(), 0},
      {m.full.data(), m.full.size() * sizeof(uint16_t), 0},
      {m.median_offsets.data(), m.median_offsets.size() * sizeof(int32_t), 0},
      {m.global_offsets.data(), m.global_offsets.size() * sizeof(int32_t), 0}};
  size_t total = 0;
  for (Piece& p : pieces) {
    p.offset = total;
    total += align_up(std::max<size_t>(p.bytes, 1));
  }
  DeviceCompressedMatrix d;
  d.storage_ = DeviceAllocation(total);
  auto* base = static_cast<unsigned char*>(d.storage_.get());
  for (const Piece& p : pieces)
    if (p.bytes > 0)
      check_cuda(cudaMemcpy(base + p.offset, p.host, p.bytes, cudaMemcpyHostToDevice), "uploading a compressed matrix");
  CompressedView& v = d.view_;
  v.rows = m.rows;
  v.cols = m.cols;
  v.start_exp = m.start_exp;
  v.max_hf = m.max_hf_per_block_tile();
  v.max_full = m.max_full_per_block_tile();
  v.bitmap1 = reinterpret_cast<const uint64_t*>(base + pieces[0].offset);
  v.bitmap2 = reinterpret_cast<const uint64_t*>(base + pieces[1].offset);
  v.bitmap3 = reinterpret_cast<const uint64_t*>(base + pieces[2].offset);
  v.sign_mantissa = base + pieces[3].offset;
  v.full = reinterpret_cast<const uint16_t*>(base + pieces[4].offset);
  v.median_offsets = reinterpret_cast<const int32_t*>(base + pieces[5].offset);
  v.global_offsets = reinterpret_cast<const int32_t*>(base + pieces[6].offset);
  d.payload_bytes_ = m.payload_bytes();
  return d;
}

DeviceDenseMatrix DeviceDenseMatrix::upload(const uint16_t* w, int64_t m, int64_t k) {
  if (w == nullptr) reject("dense W is a null pointer");
  if (m <= 0 || k <= 0) reject("dense W shape " + std::to_string(m) + "x" + std::to_string(k) + " is not positive");
  const int64_t mp = pad_to_block_tile(m), kp = pad_to_block_tile(k);
  if (mp > kMaxPaddedElements / kp) reject("dense W shape exceeds 2^31 padded elements");
  std::vector<uint16_t> padded(static_cast<size_t>(mp * kp), 0);  // (Mp, Kp) bf16, zeros beyond (M, K)
  for (int64_t r = 0; r < m; ++r) std::memcpy(&padded[r * kp], w + r * k, static_cast<size_t>(k) * 2);
  DeviceDenseMatrix d;
  d.storage_ = DeviceAllocation(padded.size() * 2);
  check_cuda(cudaMemcpy(d.storage_.get(), padded.data(), padded.size() * 2, cudaMemcpyHostToDevice),
             "uploading a dense matrix");
  d.view_ = DenseView{m, k, static_cast<const uint16_t*>(d.storage_.get())};
  return d;
}

// ---- argument checks ---------------------------------------------------------------------

namespace detail {

void check_gemm_buffers(int64_t m, int64_t k, const GemmBuffers& b) {
  validate_gemm_launch(m, k, b.x, b.n, b.split_k);
  if (b.y == nullptr) reject("y (output) is a null pointer");
  const size_t need = split_k_workspace_bytes(m, b.n, b.split_k);
  if (need > 0 && (b.workspace == nullptr || b.workspace_bytes < need))
    reject("split_k = " + std::to_string(b.split_k) + " needs a workspace of " + std::to_string(need) +
           " bytes, got " + std::to_string(b.workspace == nullptr ? 0 : b.workspace_bytes));
}

void check_compressed_view(const CompressedView& w) {
  if (w.rows <= 0 || w.cols <= 0) reject("compressed view has a non-positive shape");
  const void* arrays[] = {w.bitmap1, w.bitmap2, w.bitmap3, w.sign_mantissa, w.full, w.median_offsets, w.global_offsets};
  for (const void* a : arrays) {
    if (a == nullptr) reject("compressed view has a null array");
    if (reinterpret_cast<uintptr_t>(a) % kCpAsyncBytes != 0) reject("compressed view arrays must be 16-B aligned");
  }
  if (w.max_hf < 0 || w.max_hf > kElementsPerBlockTile || w.max_hf % 16 != 0 || w.max_full < 0 ||
      w.max_full > kElementsPerBlockTile || w.max_full % 8 != 0)
    reject("compressed view segment maxima (" + std::to_string(w.max_hf) + ", " + std::to_string(w.max_full) +
           ") are not padded block-tile segment sizes");
}

void allow_dynamic_shared_memory(const void* kernel, int bytes) {
  if (bytes <= static_cast<int>(kDefaultDynamicSmemLimit)) return;
  int device = 0, optin = 0;
  check_cuda(cudaGetDevice(&device), "cudaGetDevice");
  check_cuda(cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, device),
             "reading the shared-memory opt-in limit");
  if (bytes > optin)
    throw std::runtime_error("zipserv::cuda: kernel needs " + std::to_string(bytes) +
                             " bytes of shared memory, the device allows " + std::to_string(optin));
  check_cuda(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, bytes),
             "raising the dynamic shared-memory limit");
}

}  // namespace detail

// ---- device queries and cuBLAS -----------------------------------------------------------

int device_sm_count() {
  int device = 0, sms = 0;
  check_cuda(cudaGetDevice(&device), "cudaGetDevice");
  check_cuda(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device), "reading the SM count");
  return sms;
}

void launch_cublas_gemm(cublasContext* handle, const uint16_t* w, int64_t m, int64_t k, const uint16_t* x,
                        int64_t n, uint16_t* y) {
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

}  // namespace zipserv::cuda
