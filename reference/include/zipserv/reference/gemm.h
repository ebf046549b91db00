/*! \file gemm.h
 *  \brief The reference GEMM Y = W X in the orientation of spec section D.1, with its summation
 *         order fixed so that other implementations can be compared with it bit for bit.
 *
 *  Shapes and layouts (all BF16 patterns):
 *
 *      W   M x K  row-major      the weights (mma A operand)
 *      X   N x K  row-major      the activations, i.e. K x N column-major (mma B operand)
 *      Y   M x N  column-major   Y[n * M + m], i.e. N x M row-major (tokens x features)
 *
 *  Summation order (the definition every bit-exact comparison refers to):
 *
 *      acc = +0.0f
 *      for k = 0, 1, ..., K-1:  acc = acc + float(W[m,k]) * float(X[n,k])
 *      Y[n*M + m] = bf16_round_to_nearest_even(acc)
 *
 *  A BF16 x BF16 product has at most 16 significant bits, so it is exact in FP32 while it stays
 *  in FP32's normal range: then only the additions round. It is not exact when the product
 *  underflows (below 2^-126 it loses bits or flushes to zero) or overflows (beyond FLT_MAX it
 *  becomes Inf): there a fused multiply-add, which does not round the product, gives different
 *  bits from multiply-then-add. The definition is multiply, round, add, round, and the reference,
 *  the emulation and the oracle are all compiled with -ffp-contract=off so that no compiler turns
 *  it into an FMA.
 */
#pragma once

#include <cstdint>

#include "zipserv/reference/compressed_matrix.h"

namespace zipserv {

/// \defgroup stage_gemm GEMM
/// \{

/// How a GEMM call splits its work: one struct for the emulation's and the CUDA implementation's
/// zipgemm() and gemm_dense(). A field an implementation has no use for is ignored; the reference
/// takes none, because it is the definition the others are compared with.
struct GemmOptions {
  /// K ranges summed separately into FP32 partials, then added in split order 0, 1, ...
  /// 0 (the default): the implementation chooses, which is 1 on the CPU (the reference's order,
  /// bit for bit) and choose_split_k() for the device on a GPU. 1: the reference's order.
  /// Negative: rejected with std::invalid_argument.
  int split_k = 0;
  /// CPU worker threads; 0 = one per hardware thread. The output never depends on it.
  int threads = 0;
  /// CUDA: shared-memory stages of the cp.async pipeline, 2 (double buffer) or 3 (zipgemm() only).
  int pipeline_stages = 2;
};

/// Y = W X on uncompressed weights, in the summation order above.
void gemm_dense(const uint16_t* w, int64_t m, int64_t k, const uint16_t* x, int64_t n, uint16_t* y);

/// Y = W X with W compressed: decodes W, then gemm_dense(). X is N x W.cols, Y is W.rows x N.
/// The emulation's and the CUDA zipgemm() compute the same Y without a decoded copy of W.
void zipgemm(const CompressedMatrix& w, const uint16_t* x, int64_t n, uint16_t* y);
/// \}

}  // namespace zipserv
