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

#include "zipserv/compressed_matrix.h"

namespace zipserv {

/// \defgroup stage_gemm GEMM
/// \{

/// Y = W X on uncompressed weights, in the summation order above.
void gemm_dense(const uint16_t* w, int64_t m, int64_t k, const uint16_t* x, int64_t n, uint16_t* y);

/// Y = W X with W compressed: decodes W, then gemm_dense(). X is N x W.cols, Y is W.rows x N.
void gemm(const CompressedMatrix& w, const uint16_t* x, int64_t n, uint16_t* y);

/// \}

}  // namespace zipserv
