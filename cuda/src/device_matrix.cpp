// Device memory, uploads, argument checks and the device-pointer launches (device_matrix.h),
// over this thread's runtime: the CUDA runtime or cuda-sim. Plain C++.
#include "zipserv/cuda/device_matrix.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "kernel_launch.h"
#include "runtime.h"
#include "zipserv/reference/tile_layout.h"

namespace zipserv::cuda {

using detail::current_runtime;
using detail::reject;

// ---- DeviceAllocation --------------------------------------------------------------------

DeviceAllocation::DeviceAllocation(size_t bytes) : bytes_(bytes), runtime_(&current_runtime()) {
  if (bytes > 0) ptr_ = runtime_->allocate(bytes);
}
DeviceAllocation::DeviceAllocation(DeviceAllocation&& other) noexcept
    : ptr_(std::exchange(other.ptr_, nullptr)),
      bytes_(std::exchange(other.bytes_, 0)),
      runtime_(std::exchange(other.runtime_, nullptr)) {}
DeviceAllocation& DeviceAllocation::operator=(DeviceAllocation&& other) noexcept {
  if (this != &other) {
    if (ptr_ != nullptr) runtime_->release(ptr_);
    ptr_ = std::exchange(other.ptr_, nullptr);
    bytes_ = std::exchange(other.bytes_, 0);
    runtime_ = std::exchange(other.runtime_, nullptr);
  }
  return *this;
}
DeviceAllocation::~DeviceAllocation() {
  if (ptr_ != nullptr) runtime_->release(ptr_);
}

void copy_to_device(void* device_dst, const void* host_src, size_t bytes) {
  current_runtime().copy_to_device(device_dst, host_src, bytes);
}
void copy_to_host(void* host_dst, const void* device_src, size_t bytes) {
  current_runtime().copy_to_host(host_dst, device_src, bytes);
}
void fill_device(void* device_dst, int byte, size_t bytes) { current_runtime().fill(device_dst, byte, bytes); }
void synchronize() { current_runtime().synchronize("waiting for the device"); }

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
    if (p.bytes > 0) copy_to_device(base + p.offset, p.host, p.bytes);
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
  copy_to_device(d.storage_.get(), padded.data(), padded.size() * 2);
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

}  // namespace detail

// ---- device-pointer launches ---------------------------------------------------------------

void launch_zipgemm(const CompressedView& w, const uint16_t* x, int64_t n, uint16_t* y, float* workspace,
                    size_t workspace_bytes, int split_k, CUstream_st* stream, int pipeline_stages) {
  current_runtime().launch_fused_compressed(
      w, detail::GemmBuffers{x, n, y, workspace, workspace_bytes, split_k, nullptr, pipeline_stages}, stream);
}

void launch_zipgemm_trace(const CompressedView& w, const uint16_t* x, int64_t n, uint16_t* y, float* workspace,
                          size_t workspace_bytes, int split_k, uint32_t* trace, CUstream_st* stream) {
  if (trace == nullptr) reject("trace is a null pointer");
  current_runtime().launch_fused_compressed(
      w, detail::GemmBuffers{x, n, y, workspace, workspace_bytes, split_k, trace}, stream);
}

void launch_gemm_dense(const DenseView& w, const uint16_t* x, int64_t n, uint16_t* y, float* workspace,
                              size_t workspace_bytes, int split_k, CUstream_st* stream) {
  current_runtime().launch_fused_dense(w, detail::GemmBuffers{x, n, y, workspace, workspace_bytes, split_k, nullptr},
                                       stream);
}

void launch_decode(const CompressedView& w, uint16_t* out, CUstream_st* stream) {
  current_runtime().launch_decode(w, out, stream);
}

void launch_cublas_gemm(cublasContext* handle, const uint16_t* w, int64_t m, int64_t k, const uint16_t* x,
                        int64_t n, uint16_t* y) {
  current_runtime().cublas_gemm(handle, w, m, k, x, n, y);
}

int device_sm_count() { return current_runtime().sm_count(); }

}  // namespace zipserv::cuda
