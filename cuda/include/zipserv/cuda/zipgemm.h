/*! \file zipgemm.h
 *  \brief The CUDA implementation's host API: decode, fragment trace, ZipGEMM, its dense
 *         twin and cuBLAS, each from host arrays to host arrays (plain C++, no CUDA types).
 *
 *  Layouts are those of zipserv/reference/gemm.h: W M x K row-major (compressed), X N x K row-major,
 *  Y M x N column-major (Y[n * M + m]). Every function validates its input before touching the
 *  device (zipserv::validate() on a CompressedMatrix: FormatError; bad shapes or pointers:
 *  std::invalid_argument), so those errors are reported even on a machine without a GPU.
 *  CUDA failures throw std::runtime_error with CUDA's message.
 */
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "zipserv/reference/compressed_matrix.h"
#include "zipserv/reference/gemm.h"
#include "zipserv/cuda/device_matrix.h"
#include "zipserv/cuda/launch_plan.h"
#include "zipserv/reference/mma_numerics.h"

namespace zipserv::cuda {

/// \addtogroup stage_decode
/// \{

/// True when this thread's backend can run the kernels (cuda-sim: always; the GPU backend: a
/// CUDA driver and a device of compute capability 8.0 or newer); never throws.
bool device_available();

/// Empty when device_available(); otherwise why not, with the CUDA runtime's own error text
/// where it gave one. Never throws.
std::string unavailable_reason();

/// Decodes on the GPU with the standalone decode kernel: the logical rows x cols
/// matrix, row-major BF16. Must equal zipserv::decode(m) bit for bit.
std::vector<uint16_t> decode(const CompressedMatrix& m);
/// decode() into `out`, which holds rows * cols patterns.
void decode_into(const CompressedMatrix& m, uint16_t* out);

/// \}

/// \addtogroup stage_lane_fragments
/// \{

/// Runs the trace build of the fused kernel (one N tile, split_k = 1) and returns every lane's
/// a0..a3 registers, indexed by zipserv::lane_fragment_index. Must equal zipserv::lane_fragments(m).
std::vector<uint32_t> trace_lane_fragments(const CompressedMatrix& m);
/// The same with a given split count (every split writes its own block tiles).
std::vector<uint32_t> trace_lane_fragments(const CompressedMatrix& m, int split_k);

/// \}

/// \addtogroup stage_gemm
/// \{

/// Y = W X with the fused ZipGEMM kernel, written to y (M x N column-major, M * N patterns).
/// `options.split_k` 0 chooses automatic_split_k(); otherwise 1..min(K/64, kMaxSplitK).
/// `options.pipeline_stages` 2 (double buffer) or 3 (two K steps in flight while one computes).
/// `options.threads` is not used.
void zipgemm(const CompressedMatrix& w, const uint16_t* x, int64_t n, uint16_t* y, const GemmOptions& options = {});

/// The same kernel structure reading dense BF16 W (row-major m x k), written to y. ZipGEMM must
/// equal it bit for bit at the same split count: that is what lossless means for serving. Runs
/// the two-stage pipeline only.
void gemm_dense(const uint16_t* w, int64_t m, int64_t k, const uint16_t* x, int64_t n, uint16_t* y,
                const GemmOptions& options = {});

/// cuBLAS BF16 GemmEx(OP_T, OP_N), FP32 compute, default algorithm (tensor cores), written to y.
void cublas_gemm(const uint16_t* w, int64_t m, int64_t k, const uint16_t* x, int64_t n, uint16_t* y);

/// Runs one mma.sync.m16n8k16 BF16 -> FP32 per problem on this thread's backend and returns D:
/// a: (problems, 16, 16) bf16 row-major, b: (problems, 16, 8) bf16 (k, n), c: (problems, 16, 8)
/// fp32; D like c. Each output is one tensor-core dot product d = c + sum_k a[m][k] b[k][n]: on
/// a GPU its bits are the hardware's, on cuda-sim those of the simulator's numerics.
std::vector<float> mma_tiles(const std::vector<uint16_t>& a, const std::vector<uint16_t>& b,
                             const std::vector<float>& c);

/// The numerics whose model predicts this backend's mma bits: on cuda-sim its option; on a GPU of
/// compute capability 8.0 sm80 (A100), 8.9 sm89 (L40S, RTX 4090), 9.0 sm90 (H100, H200);
/// std::nullopt for a GPU whose tensor cores no model here was validated against.
std::optional<MmaNumerics> backend_numerics();

/// The split count a call with options.split_k = 0 uses on the current device (throws without one).
int automatic_split_k(int64_t m, int64_t k, int64_t n);

/// \}

}  // namespace zipserv::cuda
