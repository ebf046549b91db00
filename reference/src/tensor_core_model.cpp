// Bit-accurate models of NVIDIA tensor-core BF16 -> FP32 dot products (see tensor_core_model.h).
//
// Sources of every constant: Khattak and Mikaitis, "Accurate Models of NVIDIA Tensor Cores",
// arXiv 2512.07004 (2025), and their models in north-numerical-computing/MATLAB-tensor-core
// (BSD-2): models/A100TC.m, models/L40STC.m, models/H100TC.m, all built on the parameterised
// models/tools/Generic_BFMA_TC.m. Their code is not reproduced here; the facts are, step by step.
#include "zipserv/reference/tensor_core_model.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "zipserv/reference/bf16.h"

namespace zipserv {
namespace {

// A100 (sm80), BF16 in, FP32 out. A100TC.m: `fma = 8` (products per fused block), `neab = 1`
// (extra alignment bits), `frmode = 'rz'` (the block's result is truncated). The model has no
// clamp on the alignment exponent.
constexpr TensorCoreParams kSm80{"A100", 8, 1, kNoAnchorClamp};
// L40S / Ada (sm89), BF16 in, FP32 out. L40STC.m: the same `fma = 8`, `neab = 1`, `frmode = 'rz'`.
constexpr TensorCoreParams kSm89{"L40S", 8, 1, kNoAnchorClamp};
// H100 / H200 (sm90), BF16 in, FP32 out. H100TC.m: `fma = 16`, `neab = 2`, `frmode = 'rz'`,
// `min_exp_limit = -133` (the alignment exponent is at least -133), `global_alignment = 1` (c is
// aligned with the products), `denorm_prd = 1` (products are aligned unnormalised).
constexpr TensorCoreParams kSm90{"H100", 16, 2, -133};

constexpr int kFp32FractionBits = 23;
constexpr int kBf16FractionBits = 7;
constexpr int kProductFractionBits = 2 * kBf16FractionBits;  // 14
constexpr int kFp32MinNormalExponent = -126;
constexpr int kFp32MaxExponent = 127;
constexpr int kFp32MinSubnormalExponent = kFp32MinNormalExponent - kFp32FractionBits;  // -149
constexpr uint32_t kCanonicalNan = 0x7FFFFFFFu;  // what NVIDIA GPUs write for a NaN FP32 result

uint32_t bits_of(float f) { return std::bit_cast<uint32_t>(f); }
float float_of(uint32_t u) { return std::bit_cast<float>(u); }

// A finite non-zero value as significand * 2^(exponent - fraction_bits), with the exponent of a
// subnormal pinned to the format's minimum (its significand then has no implicit 1). Both BF16 and
// FP32 have 8 exponent bits, so both use bias 127 and minimum exponent -126.
struct Unpacked {
  bool negative;
  int exponent;
  uint32_t significand;
};

Unpacked unpack(uint32_t sign, uint32_t biased_exponent, uint32_t fraction, int fraction_bits) {
  if (biased_exponent == 0) return {sign != 0, kFp32MinNormalExponent, fraction};
  return {sign != 0, static_cast<int>(biased_exponent) - 127, fraction | (1u << fraction_bits)};
}

// |x| * 2^shift for a shift of either sign, truncating the bits shifted out below the unit.
uint64_t shift_truncating(uint64_t x, int shift, bool& dropped) {
  if (shift >= 0) return x << shift;  // shift <= 9 + extra bits: never overflows 64 bits
  dropped = false;
  if (shift <= -64) {
    dropped = x != 0;
    return 0;
  }
  const uint64_t kept = x >> -shift;
  dropped = (kept << -shift) != x;
  return kept;
}

bool bf16_is_nan(uint16_t v) { return bf16_exponent(v) == 0xFF && bf16_mantissa(v) != 0; }
bool bf16_is_inf(uint16_t v) { return bf16_exponent(v) == 0xFF && bf16_mantissa(v) == 0; }
bool bf16_is_zero(uint16_t v) { return (v & 0x7FFFu) == 0; }

// The special-value rule of the published models (GEMM.m, before any block is computed): NaN if
// any input is NaN, a product is 0 x Inf, or infinities of both signs meet; otherwise the one
// infinity. Returns false when every product and c are finite.
bool special_result(std::span<const uint16_t> a, std::span<const uint16_t> b, float c, float& result) {
  bool nan = std::isnan(c), plus_inf = c == std::numeric_limits<float>::infinity(),
       minus_inf = c == -std::numeric_limits<float>::infinity();
  for (size_t k = 0; k < a.size(); ++k) {
    if (bf16_is_nan(a[k]) || bf16_is_nan(b[k])) nan = true;
    const bool inf_a = bf16_is_inf(a[k]), inf_b = bf16_is_inf(b[k]);
    if (!inf_a && !inf_b) continue;
    if (bf16_is_zero(a[k]) || bf16_is_zero(b[k])) nan = true;  // 0 x Inf
    else if (bf16_sign(a[k]) ^ bf16_sign(b[k])) minus_inf = true;
    else plus_inf = true;
  }
  if (nan || (plus_inf && minus_inf)) result = float_of(kCanonicalNan);
  else if (plus_inf) result = std::numeric_limits<float>::infinity();
  else if (minus_inf) result = -std::numeric_limits<float>::infinity();
  else return false;
  return true;
}

void check_sizes(std::span<const uint16_t> a, std::span<const uint16_t> b, size_t limit, const char* what) {
  if (a.size() != b.size())
    throw std::invalid_argument(std::string("zipserv: ") + what + ": a has " + std::to_string(a.size()) +
                                " values but b has " + std::to_string(b.size()));
  if (a.size() > limit)
    throw std::invalid_argument(std::string("zipserv: ") + what + ": " + std::to_string(a.size()) +
                                " products exceed the block size " + std::to_string(limit));
}

}  // namespace

const TensorCoreParams& tensor_core_params(MmaNumerics numerics) {
  switch (numerics) {
    case MmaNumerics::sm80: return kSm80;
    case MmaNumerics::sm89: return kSm89;
    case MmaNumerics::sm90: return kSm90;
    case MmaNumerics::ieee_sequential: break;
  }
  throw std::invalid_argument("zipserv: numerics " + std::string(numerics_name(numerics)) +
                              " is not a tensor-core model");
}

AlignedBlock align_block(const TensorCoreParams& params, std::span<const uint16_t> a, std::span<const uint16_t> b,
                         float c) {
  check_sizes(a, b, AlignedBlock::kMaxTerms - 1, "align_block");
  AlignedBlock block;

  // Step 1, exact products: the 8-bit significands multiply exactly into 16 bits with 14
  // fraction bits, at exponent e_a + e_b. No normalisation: a significand in [2, 4) stays there
  // (Generic_BFMA_TC.m's `denorm_prd = 1`), which is what gives a block one bit of headroom above
  // the anchor. Zero products take no part, not even in the anchor.
  for (size_t k = 0; k < a.size(); ++k) {
    if (bf16_is_zero(a[k]) || bf16_is_zero(b[k])) continue;
    const Unpacked x = unpack(bf16_sign(a[k]), bf16_exponent(a[k]), bf16_mantissa(a[k]), kBf16FractionBits);
    const Unpacked y = unpack(bf16_sign(b[k]), bf16_exponent(b[k]), bf16_mantissa(b[k]), kBf16FractionBits);
    block.terms[block.count++] = AlignedTerm{.is_c = false,
                                             .negative = x.negative != y.negative,
                                             .exponent = x.exponent + y.exponent,
                                             .significand = x.significand * y.significand,
                                             .fraction_bits = kProductFractionBits,
                                             .kept = 0,
                                             .dropped_bits = false};
  }
  // c enters the same alignment as the products (`global_alignment = 1`), unless it is zero: a
  // zero c does not pull the anchor down (`c_min_exp_limit = 0`).
  const uint32_t cu = bits_of(c);
  if ((cu & 0x7FFFFFFFu) != 0) {
    const Unpacked z = unpack(cu >> 31, (cu >> 23) & 0xFFu, cu & 0x7FFFFFu, kFp32FractionBits);
    block.terms[block.count++] = AlignedTerm{.is_c = true,
                                             .negative = z.negative,
                                             .exponent = z.exponent,
                                             .significand = z.significand,
                                             .fraction_bits = kFp32FractionBits,
                                             .kept = 0,
                                             .dropped_bits = false};
  }
  if (block.count == 0) return block;  // all products zero and c = 0: the sum is 0

  // Step 2, the anchor: the largest exponent of a term's units bit, clamped below where the
  // model says so (H100: `min_exp_limit = -133`).
  int anchor = params.min_anchor_exponent;
  for (int i = 0; i < block.count; ++i) anchor = std::max(anchor, block.terms[i].exponent);
  block.anchor_exponent = anchor;
  // One unit of the fixed-point sum: 23 + extra_alignment_bits fraction bits below 2^E.
  block.lsb_exponent = anchor - kFp32FractionBits - params.extra_alignment_bits;

  // Step 3, alignment with truncation of each magnitude, and step 4, one signed sum.
  for (int i = 0; i < block.count; ++i) {
    AlignedTerm& t = block.terms[i];
    const int shift = (t.exponent - t.fraction_bits) - block.lsb_exponent;
    t.kept = shift_truncating(t.significand, shift, t.dropped_bits);
    const int64_t kept = static_cast<int64_t>(t.kept);  // < 2^28: 17 of them never overflow
    block.sum += t.negative ? -kept : kept;
  }
  return block;
}

float normalize_truncate_fp32(int64_t sum, int lsb_exponent) {
  if (sum == 0) return 0.0f;  // an exact cancellation is +0: the fixed-point sum has no -0
  const uint32_t sign = sum < 0 ? 0x80000000u : 0u;
  const uint64_t magnitude = sum < 0 ? 0 - static_cast<uint64_t>(sum) : static_cast<uint64_t>(sum);
  const int top_bit = std::bit_width(magnitude) - 1;
  const int exponent = lsb_exponent + top_bit;  // the value is in [2^exponent, 2^(exponent+1))
  if (exponent > kFp32MaxExponent) return float_of(sign | 0x7F800000u);  // overflow: +-Inf
  if (exponent >= kFp32MinNormalExponent) {
    // Normal: keep the leading 1 and the next 23 bits, drop the rest (round toward zero).
    const uint64_t significand =
        top_bit >= kFp32FractionBits ? magnitude >> (top_bit - kFp32FractionBits) : magnitude << (kFp32FractionBits - top_bit);
    return float_of(sign | static_cast<uint32_t>(exponent + 127) << 23 | (static_cast<uint32_t>(significand) & 0x7FFFFFu));
  }
  // Subnormal: keep the bits of weight 2^-149 and above, drop the rest. Truncating a tiny
  // negative sum to nothing leaves -0, the sign of a result rounded toward zero.
  bool dropped = false;
  const uint64_t fraction = shift_truncating(magnitude, lsb_exponent - kFp32MinSubnormalExponent, dropped);
  return float_of(sign | static_cast<uint32_t>(fraction));
}

float tensor_core_block(const TensorCoreParams& params, std::span<const uint16_t> a, std::span<const uint16_t> b,
                        float c) {
  check_sizes(a, b, static_cast<size_t>(params.block_products), "tensor_core_block");
  float special;
  if (special_result(a, b, c, special)) return special;
  const AlignedBlock block = align_block(params, a, b, c);
  return normalize_truncate_fp32(block.sum, block.lsb_exponent);
}

float tensor_core_dot(const TensorCoreParams& params, std::span<const uint16_t> a, std::span<const uint16_t> b,
                      float c) {
  check_sizes(a, b, a.size(), "tensor_core_dot");
  float d = c;
  for (size_t k0 = 0; k0 < a.size(); k0 += params.block_products) {
    const size_t n = std::min(a.size() - k0, static_cast<size_t>(params.block_products));
    d = tensor_core_block(params, a.subspan(k0, n), b.subspan(k0, n), d);  // this block's d is the next one's c
  }
  return d;
}

}  // namespace zipserv
