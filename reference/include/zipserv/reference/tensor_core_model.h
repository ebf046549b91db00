/*! \file tensor_core_model.h
 *  \brief Bit-accurate models of NVIDIA tensor-core BF16 x BF16 -> FP32 dot products (A100 = sm80,
 *         L40S = sm89, H100/H200 = sm90): how `mma_dot16()` computes under those numerics.
 *
 *  The models are those of Khattak and Mikaitis, "Accurate Models of NVIDIA Tensor Cores"
 *  (arXiv 2512.07004, 2025), whose MATLAB implementation (repository
 *  north-numerical-computing/MATLAB-tensor-core, BSD-2) was validated bit for bit against the
 *  GPUs; data/tensor-core-validation/ holds 5000 of those GPU results per architecture, and
 *  tests/tensorcore/tensor_core_model_test.cpp reproduces every one of them.
 *
 *  One *fused block* of n products (n = 8 on A100 and L40S, 16 on H100) and the accumulator c:
 *
 *   1. exact products: a[k] b[k] of two BF16 significands (8 bits each) is exact in 16 bits, with
 *      exponent e_a + e_b; it is NOT normalised, so its significand lies in [1, 4) (or below 1
 *      when an input is subnormal);
 *   2. anchor: E = the largest exponent among the non-zero products and a non-zero c (clamped
 *      below at min_anchor_exponent where the model has one);
 *   3. alignment with truncation: every term keeps 23 + extra_alignment_bits fraction bits below
 *      2^E; the bits shifted out below 2^(E - 23 - extra) are dropped, magnitude first (sign and
 *      magnitude, i.e. each term is truncated toward zero);
 *   4. one fixed-point sum of all kept terms (wide enough that it never overflows);
 *   5. normalisation and truncation: the sum is normalised once and cut to FP32's 24 bits toward
 *      zero (or to a subnormal's bits); beyond FP32's range it becomes +-Inf.
 *
 *  A dot product longer than one block (the 16 of mma.m16n8k16 on A100 and L40S) is a chain of
 *  blocks: the FP32 result of products 0..7 is the c of products 8..15.
 */
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

#include "zipserv/reference/mma_numerics.h"

namespace zipserv {

/// \addtogroup stage_gemm
/// \{

/// The numerical features of one architecture's BF16 -> FP32 tensor core.
struct TensorCoreParams {
  std::string_view gpu;       ///< the GPU the parameters were measured on ("A100", "L40S", "H100")
  int block_products;         ///< products added in one fused block before one normalisation
  int extra_alignment_bits;   ///< fraction bits kept below the anchor beyond FP32's 23
  int min_anchor_exponent;    ///< lower clamp of the anchor exponent E (kNoAnchorClamp: none)
};

/// min_anchor_exponent of a model whose anchor is never clamped.
inline constexpr int kNoAnchorClamp = -1024;

/// The parameters of `numerics`; throws std::invalid_argument for ieee_sequential, which is not
/// a tensor-core model.
const TensorCoreParams& tensor_core_params(MmaNumerics numerics);

/// One term of a fused block (a product or c) after alignment to the block's anchor. (No default
/// member values: an AlignedBlock's unused terms cost nothing to create; align_block() sets
/// every field of the terms it uses.)
struct AlignedTerm {
  bool is_c;              ///< the accumulator c rather than a product
  bool negative;          ///< sign of the term
  int exponent;           ///< exponent of the significand's units bit (e_a + e_b, or c's)
  uint32_t significand;   ///< exact significand: product of two BF16 significands (14 fraction
                          ///< bits) or c's 24-bit significand (23 fraction bits)
  int fraction_bits;      ///< 14 for a product, 23 for c
  uint64_t kept;          ///< |term| truncated, in units of 2^lsb_exponent
  bool dropped_bits;      ///< true if the truncation removed non-zero bits
};

/// A fused block after steps 1..4 (see the file comment), before normalisation.
struct AlignedBlock {
  static constexpr int kMaxTerms = 17;  ///< 16 products and c
  int anchor_exponent = 0;              ///< E
  int lsb_exponent = 0;                 ///< E - 23 - extra_alignment_bits: weight of one unit
  int count = 0;                        ///< terms in use (zero products and c = 0 are left out)
  std::array<AlignedTerm, kMaxTerms> terms;  ///< terms[0..count): products in input order, then c
  int64_t sum = 0;                      ///< signed sum of the kept terms, in units of 2^lsb_exponent
};

/// returns steps 1..4 of one fused block of a.size() <= 16 products (a, b: BF16 patterns, all
/// finite; c finite). Throws std::invalid_argument when the sizes differ or exceed 16.
AlignedBlock align_block(const TensorCoreParams& params, std::span<const uint16_t> a,
                         std::span<const uint16_t> b, float c);

/// returns step 5: sum * 2^lsb_exponent normalised and truncated toward zero to FP32 (a
/// subnormal when below 2^-126, +-Inf when at or beyond 2^128); an exact zero is +0.
float normalize_truncate_fp32(int64_t sum, int lsb_exponent);

/// returns d = c + sum_k a[k] b[k] for one fused block (a.size() <= params.block_products).
/// Special values first, as the published models handle them: any NaN input, 0 x Inf, or
/// infinities of both signs (among products and c) give NaN (0x7FFFFFFF); otherwise an infinite
/// product or c gives that infinity. Finite inputs go through align_block() and
/// normalize_truncate_fp32().
float tensor_core_block(const TensorCoreParams& params, std::span<const uint16_t> a,
                        std::span<const uint16_t> b, float c);

/// returns d = c + sum_k a[k] b[k] for any length: consecutive blocks of params.block_products
/// (the last one may be shorter), each block's FP32 result the next block's c.
float tensor_core_dot(const TensorCoreParams& params, std::span<const uint16_t> a, std::span<const uint16_t> b,
                      float c);

/// \}

}  // namespace zipserv
