/*! \file device_matrix.h
 *  \brief Weights resident on the device and the device-pointer launch functions (for benchmarks
 *         and serving: upload a matrix once, launch many times on a stream).
 *
 *  Plain C++: no CUDA header is needed to include it. Everything here runs on this thread's
 *  backend (backend.h): a GPU, or cuda-sim, whose "device memory" is host memory registered with
 *  the simulator. A stream is passed as `CUstream_st*`, which is what `cudaStream_t` is; nullptr
 *  is the default stream (cuda-sim ignores it and runs each launch to completion). Every launch
 *  function checks its arguments (throws std::invalid_argument) and the launch itself (throws
 *  std::runtime_error with CUDA's message, or sim::HazardError); none synchronizes.
 */
#pragma once

#include <cstddef>
#include <cstdint>

#include "zipserv/reference/compressed_matrix.h"

struct CUstream_st;   // = cudaStream_t's pointee
struct cublasContext; // = cublasHandle_t's pointee

namespace zipserv::cuda {

namespace detail {
class Runtime;
}  // namespace detail

/// \addtogroup stage_gemm
/// \{

/// Device memory owned by one object, on the backend current at construction: allocated then
/// (cudaMalloc, or registered host memory under cuda-sim), freed on destruction.
class DeviceAllocation {
 public:
  DeviceAllocation() = default;
  explicit DeviceAllocation(size_t bytes);  ///< throws std::runtime_error if the allocation fails
  /// Takes over `other`'s memory; `other` is left empty (null, 0 bytes).
  DeviceAllocation(DeviceAllocation&& other) noexcept;
  /// Frees this object's memory, then takes over `other`'s; `other` is left empty.
  DeviceAllocation& operator=(DeviceAllocation&& other) noexcept;
  DeviceAllocation(const DeviceAllocation&) = delete;
  DeviceAllocation& operator=(const DeviceAllocation&) = delete;
  ~DeviceAllocation();

  /// The device pointer (nullptr when empty or 0 bytes were requested).
  void* get() const { return ptr_; }
  /// The size requested at construction, in bytes.
  size_t bytes() const { return bytes_; }

 private:
  void* ptr_ = nullptr;
  size_t bytes_ = 0;
  detail::Runtime* runtime_ = nullptr;
};

/// Copies `bytes` host -> device on this thread's backend (synchronous).
void copy_to_device(void* device_dst, const void* host_src, size_t bytes);
/// Copies `bytes` device -> host on this thread's backend (after the work before it finished).
void copy_to_host(void* host_dst, const void* device_src, size_t bytes);
/// Sets `bytes` of device memory to `byte`.
void fill_device(void* device_dst, int byte, size_t bytes);
/// Waits for the backend's work to finish; throws std::runtime_error with the device's error.
void synchronize();

/// A compressed matrix's arrays in device memory (the kernels' view; does not own them).
/// Each array's base must be 16-B aligned (cudaMalloc gives 256 B). The launches check the
/// pointers, alignment and the form of max_hf / max_full, but cannot read the device offsets:
/// the arrays must hold a matrix that passed zipserv::validate() and max_hf / max_full must be
/// at least its largest segments (shared memory is sized from them), as upload() guarantees.
struct CompressedView {
  int64_t rows = 0;         ///< logical M
  int64_t cols = 0;         ///< logical K
  uint8_t start_exp = 0;    ///< window byte: exponent = start_exp + code (mod 256)
  int32_t max_hf = 0;       ///< largest padded sign+mantissa segment of any block tile
  int32_t max_full = 0;     ///< largest padded fallback segment of any block tile
  const uint64_t* bitmap1 = nullptr;        ///< (Mp/8 * Kp/8) words, code bit 0
  const uint64_t* bitmap2 = nullptr;        ///< (Mp/8 * Kp/8) words, code bit 1
  const uint64_t* bitmap3 = nullptr;        ///< (Mp/8 * Kp/8) words, code bit 2
  const uint8_t* sign_mantissa = nullptr;   ///< (global_offsets[2T]) bytes
  const uint16_t* full = nullptr;           ///< (global_offsets[2T+1]) bf16
  const int32_t* median_offsets = nullptr;  ///< (4T, 2)
  const int32_t* global_offsets = nullptr;  ///< (T+1, 2)
};

/// A validated CompressedMatrix uploaded to the device.
class DeviceCompressedMatrix {
 public:
  /// Runs zipserv::validate(m) (throws FormatError) and copies every array to the device.
  static DeviceCompressedMatrix upload(const CompressedMatrix& m);
  /// The kernels' view of the uploaded arrays (valid while this object lives).
  const CompressedView& view() const { return view_; }
  /// Bytes of the arrays the kernels read (bitmaps, streams, both offset arrays).
  int64_t payload_bytes() const { return payload_bytes_; }

 private:
  CompressedView view_;
  DeviceAllocation storage_;
  int64_t payload_bytes_ = 0;
};

/// An uncompressed BF16 weight matrix on the device, padded with zeros to (Mp, Kp) so that the
/// dense variant of the kernel stages it with the same 16-B copies.
struct DenseView {
  int64_t rows = 0;                ///< logical M
  int64_t cols = 0;                ///< logical K
  const uint16_t* values = nullptr;  ///< (Mp, Kp) row-major bf16, zero beyond (M, K)
};

/// An uncompressed BF16 weight matrix uploaded to the device (owns its memory), the input of the
/// dense twin of the fused kernel.
class DeviceDenseMatrix {
 public:
  /// Copies a row-major m x k BF16 matrix into a zero-padded (Mp, Kp) device array.
  static DeviceDenseMatrix upload(const uint16_t* w, int64_t m, int64_t k);
  /// The kernels' view of the uploaded array (valid while this object lives).
  const DenseView& view() const { return view_; }

 private:
  DenseView view_;
  DeviceAllocation storage_;
};

/// Y = W X with the fused ZipGEMM kernel. x: device (N, K) row-major bf16; y: device (M x N)
/// column-major bf16, only its M * N elements are written. For split_k > 1, `workspace` must
/// hold split_k_workspace_bytes(M, N, split_k) bytes (FP32 partials) and a reduction kernel
/// follows on the same stream. split_k must already be chosen (1 <= split_k <= K/64).
/// pipeline_stages: 2 (the double buffer), or 3 (the three-stage cp.async variant).
void launch_zipgemm(const CompressedView& w, const uint16_t* x, int64_t n, uint16_t* y, float* workspace,
                    size_t workspace_bytes, int split_k, CUstream_st* stream, int pipeline_stages = 2);

/// The same kernel structure reading a dense W tile instead of decoding one: ZipGEMM's
/// bit-exact twin (equal output for equal split_k, because the MMAs see the same operands in
/// the same order; A columns beyond K are set to +0 in both, see zero_a_beyond_k()).
void launch_gemm_dense(const DenseView& w, const uint16_t* x, int64_t n, uint16_t* y, float* workspace,
                              size_t workspace_bytes, int split_k, CUstream_st* stream);

/// The fused kernel's trace build: also writes every lane's A registers of every block tile to
/// `trace` (lane_fragment_count() uint32, indexed by zipserv::lane_fragment_index).
void launch_zipgemm_trace(const CompressedView& w, const uint16_t* x, int64_t n, uint16_t* y, float* workspace,
                          size_t workspace_bytes, int split_k, uint32_t* trace, CUstream_st* stream);

/// Decompresses W into `out`: device (M, K) row-major bf16 (only those M * K elements written).
void launch_decode(const CompressedView& w, uint16_t* out, CUstream_st* stream);

/// cuBLAS BF16 GEMM in the same layouts (GPU backend only): cublasGemmEx(OP_T, OP_N, M, N, K, W lda=K, X ldb=K,
/// Y ldc=M), FP32 compute, CUBLAS_GEMM_DEFAULT, default (tensor-core) math mode. The caller
/// sets the handle's stream.
void launch_cublas_gemm(cublasContext* handle, const uint16_t* w, int64_t m, int64_t k, const uint16_t* x,
                        int64_t n, uint16_t* y);

/// Number of SMs of the current device (cuda-sim: an A100's 108); throws std::runtime_error
/// without one.
int device_sm_count();

/// \}

}  // namespace zipserv::cuda
