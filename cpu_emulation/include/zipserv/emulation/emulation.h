/*! \file emulation.h
 *  \brief The SIMD CPU emulation of ZipGEMM: warp-level TCA-TBE fragment decode with the 32 warp
 *         lanes as SIMD lanes, the emulated mma.m16n8k16, and a multithreaded CPU ZipGEMM (and
 *         GEMV) that reads the compressed weights directly.
 *
 *  Everything here dispatches at run time to the best Highway target the CPU supports
 *  (active_target() names it); no SIMD type appears in this header. Every entry point that takes
 *  a CompressedMatrix runs validate() first and throws FormatError on damaged input.
 *
 *  Exactness. decode() and lane_fragments() equal the reference bit for bit. zipgemm() with
 *  split_k = 1 and gemm_dense() equal zipserv::zipgemm / zipserv::gemm_dense bit for bit on any
 *  input, Inf and values that round included: every output is summed in the reference's order
 *  (k ascending, product rounded to FP32, then added) and rounded to BF16 the same way. NaN
 *  outputs are NaN in both; their payload is whichever NaN operand the FP unit propagates, which
 *  is bit-identical too as long as the inputs carry a single NaN pattern (tests use x86's default
 *  NaN). With split_k > 1 each split sums its own K range and the FP32 partials are added in
 *  split order, so the result equals the reference only when the sums are exact (small integers).
 */
#pragma once

#include <cstdint>
#include <vector>

#include "zipserv/reference/compressed_matrix.h"
#include "zipserv/reference/decode.h"
#include "zipserv/reference/gemm.h"
#include "zipserv/reference/fragment_layout.h"
#include "zipserv/emulation/lane_decode.h"

namespace zipserv::emu {

/// \addtogroup stage_lane_fragments
/// \{

/// returns r[lane_fragment_index(t, s, q, lane, reg)] = register a_reg of `lane` of warp s for
/// slice q of block tile t, decoded from the bitmaps with SIMD popcount-and-select.
/// Equals zipserv::lane_fragments(m) bit for bit.
std::vector<uint32_t> lane_fragments(const CompressedMatrix& m);

/// The SIMD decode of one warp slice: returns regs[reg][lane] = decode_lane(..., lane, ...)'s
/// regs[reg] for all 32 lanes. `streams` must be readable kStagingSlack elements past their segment ends
/// (stage_block_tile() guarantees it).
void decode_slice(const SliceBitmaps& bitmaps, StreamCursors cursors, const StagedStreams& streams,
                  uint32_t (&regs)[kARegsPerLane][kWarpLanes]);

/// \}

/// \addtogroup stage_decode
/// \{

/// returns out[i * cols + j] = W[i][j], decoded through the lane fragments: each FragTile row is
/// lanes 4r..4r+3 of one register, stored as 16 contiguous bytes.
void decode_into(const CompressedMatrix& m, uint16_t* out);

/// decode_into() on `options.threads` std::threads, one block-tile row per work item (0 or less:
/// one per hardware thread); the result does not depend on the thread count.
void decode_into(const CompressedMatrix& m, uint16_t* out, const DecodeOptions& options);

/// returns r[i * cols + j] = W[i][j] (see decode_into()).
std::vector<uint16_t> decode(const CompressedMatrix& m);

/// decode() on `options.threads` threads.
std::vector<uint16_t> decode(const CompressedMatrix& m, const DecodeOptions& options);

/// \}

/// \addtogroup stage_gemm
/// \{

/// A CompressedMatrix that validate() has passed: the CPU counterpart of uploading weights to the
/// GPU once. validate() reads all three bitmaps, about half the compressed bytes, so checking on
/// every call would cost a GEMV almost as much as the decode; a server validates each weight once
/// at load and multiplies through this handle per token, as the CUDA kernel trusts what was
/// validated at upload. It holds a reference: the matrix must outlive it and stay unchanged.
class ValidatedWeights {
 public:
  /// Runs validate(m); throws FormatError naming the first inconsistency.
  explicit ValidatedWeights(const CompressedMatrix& m) : matrix_(&m) { validate(m); }
  /// The validated matrix.
  const CompressedMatrix& matrix() const { return *matrix_; }

 private:
  const CompressedMatrix* matrix_;
};

/// returns y[j * rows + i] = bf16(sum_k float(W[i][k]) * float(X[j][k]), k ascending): Y = W X
/// straight from the compressed weights, in the layouts of zipserv/reference/gemm.h: X is n x w.cols
/// row-major BF16, Y is w.rows x n column-major BF16 (Y[j * rows + i]). Work items are
/// (block-tile row, 64-column N tile, split), run by `options.threads` std::threads; each worker
/// holds one block tile's decoded registers at a time (4 strips), never a decompressed copy of W.
/// For N tiles narrower than 4 columns (the GEMV) the 4 strips are multiplied together
/// (mma_block_tile_rows()), otherwise strip by strip (mma_strip_rows()); same bits either way.
/// `options.split_k` 0 means 1; split counts above K/64 are clamped to K/64; `pipeline_stages` is
/// not used on the CPU. Throws std::invalid_argument for n < 0 or split_k < 0.
void zipgemm(const CompressedMatrix& w, const uint16_t* x, int64_t n, uint16_t* y,
             const GemmOptions& options = {});

/// zipgemm() on weights validated once beforehand (no per-call validate(); same bits).
void zipgemm(const ValidatedWeights& w, const uint16_t* x, int64_t n, uint16_t* y,
             const GemmOptions& options = {});

/// returns y[j * m + i] = bf16(sum_k float(w[i * k + kk]) * float(X[j][kk]), kk ascending): the
/// same Highway GEMM code reading uncompressed BF16 weights (m x k row-major): fragments
/// are loaded with 16-byte row copies instead of decoded (with a software prefetch a few block
/// tiles ahead, as a strip's 16 rows are k * 2 bytes apart), so zipgemm() / gemm_dense()
/// isolates the decode cost against the bytes saved. Equals zipserv::gemm_dense bit for bit.
void gemm_dense(const uint16_t* w, int64_t m, int64_t k, const uint16_t* x, int64_t n, uint16_t* y,
                const GemmOptions& options = {});

/// The SIMD MMA of one strip, as the GEMM runs it: for each of `ncols` columns n, the four
/// mma_m16n8k16 of slices 0..3 in a row, computed across the 16 rows instead of across lanes:
/// acc[n][m] = acc[n][m] + sum_{k=0..63, ascending} float(A[m][k]) * x[n][k].
/// `regs` is the strip's register file regs[(4q + reg) * 32 + lane]  // (Q4, R4, T32)
/// `x` holds FP32 activations x[n * x_stride + k]; `acc` is (ncols, 16) f32.
void mma_strip_rows(const uint32_t* regs, const float* x, int64_t x_stride, int ncols, float* acc);

/// The MMA of a whole block tile, as the GEMM runs it for narrow N tiles (fewer than 4 columns,
/// the GEMV): returns acc[(s * ncols + n) * 16 + m] = acc[...] + sum_{k=0..63, ascending}
/// float(A_s[m][k]) * x[n][k] for the 4 strips s, the columns taken from the registers on the
/// fly (on SIMD targets by interleaves inside 128-bit blocks, rows in a fixed permuted lane
/// order) and all the block tile's rows summed in one pass over k (independent add chains).
/// Equals mma_strip_rows() on each strip s with acc + s * ncols * 16, bit for bit.
/// `regs` is the 4 strips' register files, regs[s * 512 + (4q + reg) * 32 + lane]  // (S4, Q4, R4, T32)
/// `x` holds FP32 activations x[n * x_stride + k]; `acc` is (4, ncols, 16) f32.
void mma_block_tile_rows(const uint32_t* regs, const float* x, int64_t x_stride, int ncols, float* acc);

/// \}

/// returns the name of the Highway target dynamic dispatch chose ("AVX3_DL", "AVX2", "SCALAR", ...).
const char* active_target();

}  // namespace zipserv::emu
