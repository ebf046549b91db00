/*! \file gemm_rule.h
 *  \brief When two GEMM outputs must be bit-identical, and how far apart they may be when not.
 *
 *  Decoding is lossless, so every weight checkpoint is compared bit for bit. A GEMM rounds, and
 *  FP32 addition is not associative, so the rule depends on the engine's GemmContract:
 *
 *  1. Reference order (SummationOrder::reference): the same additions in the same order give the
 *     same bits. Compared bit for bit on ANY input, NaN payloads included (an engine whose final
 *     rounding writes the canonical NaN 0x7FFF, as the GPU does, says so: GemmContract::
 *     canonical_nan; its NaNs are then compared by NaN-ness).
 *  2. Another order, exact inputs: every product of two BF16 values is exact in FP32 (8 x 8
 *     significant bits). If moreover every partial sum of every order is exactly representable,
 *     all orders compute the same exact sum and round it once, so the outputs are bit-identical.
 *     The oracle checks that condition instead of assuming it (exact_accumulation()): with g the
 *     smallest power of two dividing every product (from the lowest set significand bit of W's and
 *     X's values) and S = max over outputs of sum |w x|, every partial sum is a multiple of g
 *     below S, so it fits in p significant bits when S < 2^p g (p = 24 for FP32 partials, 8 when
 *     partials are rounded to BF16). Small-integer weights and activations in [-8, 8] satisfy it
 *     for any K below 2^24 / 64.
 *  3. Another order, inexact inputs (real weights): the bound of allowed_error(). Any NaN
 *     matches any NaN there (IEEE 754 does not fix which payload an addition propagates, and
 *     tensor cores return a canonical NaN). An output whose partial sums can reach FP32's
 *     largest value (S (1 + gamma_K) >= FLT_MAX) may also be +-Inf or NaN: whether and where
 *     an intermediate sum overflows depends on the order.
 */
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "zipserv/oracle/checkpoint.h"
#include "zipserv/oracle/engine.h"

namespace zipserv::oracle {

/// \addtogroup oracle
/// \{

/// returns true if the BF16 pattern `v` is a NaN (exponent all ones, mantissa not zero).
inline bool is_nan_bf16(uint16_t v) { return (v & 0x7F80u) == 0x7F80u && (v & 0x7Fu) != 0; }

/// The reference's result for one Y = W X, and what the rules need to judge another result.
struct GemmExpectation {
  std::string input;                 ///< the activation input's name ("small_integer", ...)
  int64_t m = 0;                     ///< rows of W = rows of Y
  int64_t n = 0;                     ///< columns of Y (tokens)
  int64_t k = 0;                     ///< cols of W
  std::vector<uint16_t> reference;   ///< (m, n) column-major: the reference GEMM's bits
  std::vector<double> exact;         ///< (m, n) sum of w x in double (exact where rule 2 holds)
  std::vector<double> abs_sum;       ///< (m, n) sum of |w x|: scales the reordering error
  bool finite = true;                ///< W and X hold no Inf or NaN
  int nan_patterns = 0;              ///< distinct NaN bit patterns among W and X
  int64_t granularity_exp = 0;       ///< log2 g: every product is a multiple of 2^granularity_exp
  double max_abs_sum = 0;            ///< S = max of abs_sum
};

/// Computes the reference output (zipserv::gemm_dense) and the double-precision sums for
/// decoded weights `w` (m x k row-major) and activations `x` (n x k row-major).
GemmExpectation expect_gemm(const std::string& input, const std::vector<uint16_t>& w, int64_t m, int64_t k,
                            const std::vector<uint16_t>& x, int64_t n);

/// Rule 2's condition: every partial sum of every order is exact with `contract`'s partials.
bool exact_accumulation(const GemmExpectation& e, const GemmContract& contract);

/// Rule 3: the largest |actual - exact| accepted for output `i` of an engine whose order
/// differs from the reference's. With r the reference output, y the double sum and S_i the sum
/// of |w x| of that output:
///
///     allowed = 2 |r - y|              the reference's own error, doubled (flash-attention's rule:
///                                      a different order may be as wrong again)
///             + gamma_K S_i            worst-case FP32 reordering error of any order (Higham,
///                                      Thm 3.1), gamma_K = K u / (1 - K u) with u = 2^-23 (a full
///                                      ulp, so tensor-core adders that truncate are covered)
///             + P 2^-8 S_i             only for P partial sums rounded to BF16 (split-K, G.4)
///             + ulp_bf16(|y| + gamma_K S_i)   the final rounding may land on the other neighbour
///
/// A wrong weight or a wrong activation index changes an output by about |w x|, far above this
/// for every output whose terms do not cancel; the bit-exact weight checkpoints catch the rest.
double allowed_error(const GemmExpectation& e, int64_t i, const GemmContract& contract);

/// gamma_K = K u / (1 - K u), u = 2^-23: the relative reordering error bound of a K-term FP32
/// sum (infinite when K u >= 1).
double allowed_error_gamma(int64_t k);

/// Compares an engine's output with the expectation under the rules above; returns the first
/// output that breaks its rule, with its (row, col) and m16n8 lane/accumulator, or nullopt.
/// `rule` receives a one-line description of the rule that was applied.
std::optional<Divergence> compare_gemm(const GemmExpectation& e, const std::vector<uint16_t>& actual,
                                       const GemmContract& contract, std::string& rule);

/// \}

}  // namespace zipserv::oracle
