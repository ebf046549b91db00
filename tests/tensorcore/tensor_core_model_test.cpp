// The tensor-core models (tensor_core_model.h) against real GPU outputs: all 5000 measured dot
// products of each architecture bit for bit (data/tensor-core-validation/), then named cases whose
// expected bits are derived by hand from the models' rules (each derivation is in the comment),
// and how a 16-deep mma is made of K = 8 blocks on A100 and L40S.
#include <gtest/gtest.h>

#include <array>
#include <bit>
#include <cmath>
#include <cstdio>
#include <random>
#include <stdexcept>
#include <vector>

#include "zipserv/reference/bf16.h"
#include "zipserv/reference/mma_numerics.h"
#include "zipserv/reference/tensor_core_model.h"
#include "zipserv/reference/tensor_core_validation.h"

namespace zipserv::test {
namespace {

constexpr MmaNumerics kModels[] = {MmaNumerics::sm80, MmaNumerics::sm89, MmaNumerics::sm90};

uint32_t bits(float f) { return std::bit_cast<uint32_t>(f); }
float from_bits(uint32_t u) { return std::bit_cast<float>(u); }

// The reference's order for any K: acc = c; acc = fl(acc + fl(a[k] b[k])) for k ascending.
float ieee_sequential(const std::vector<uint16_t>& a, const std::vector<uint16_t>& b, float c) {
  if (a.size() == 16) {  // the mma shape: through the shared entry point itself
    uint16_t a16[16], b16[16];
    std::copy(a.begin(), a.end(), a16);
    std::copy(b.begin(), b.end(), b16);
    return mma_dot16(MmaNumerics::ieee_sequential, a16, b16, c);
  }
  volatile float acc = c;  // volatile: one rounded FP32 addition per step, never contracted
  for (size_t k = 0; k < a.size(); ++k) {
    const volatile float product = bf16_to_float(a[k]) * bf16_to_float(b[k]);
    acc = acc + product;
  }
  return acc;
}

// d = c + sum a[k] b[k] under `numerics`, for the 16 products of one mma (zero-padded).
float dot16(MmaNumerics numerics, std::vector<uint16_t> a, std::vector<uint16_t> b, float c) {
  a.resize(16, 0);
  b.resize(16, 0);
  uint16_t a16[16], b16[16];
  std::copy(a.begin(), a.end(), a16);
  std::copy(b.begin(), b.end(), b16);
  return mma_dot16(numerics, a16, b16, c);
}

class Validation : public ::testing::TestWithParam<MmaNumerics> {};

// Every measured case of the architecture, bit for bit. H100's cases have K = 16 and go through
// mma_dot16() itself; A100's and L40S's have K = 8, one fused block, through tensor_core_dot().
TEST_P(Validation, all_gpu_results_bit_for_bit) {
  const MmaNumerics numerics = GetParam();
  const TensorCoreParams& params = tensor_core_params(numerics);
  const TensorCoreValidation data =
      load_tensor_core_validation(std::string(ZIPSERV_DATA_DIR) + "/tensor-core-validation", numerics);
  ASSERT_EQ(data.cases.size(), 5000u);
  ASSERT_EQ(data.k, numerics == MmaNumerics::sm90 ? 16 : 8);
  int model_matches = 0, ieee_matches = 0, shown = 0;
  for (size_t i = 0; i < data.cases.size(); ++i) {
    const TensorCoreCase& tc = data.cases[i];
    const float d = data.k == 16 ? dot16(numerics, tc.a, tc.b, tc.c) : tensor_core_dot(params, tc.a, tc.b, tc.c);
    if (bits(d) == bits(tc.d)) ++model_matches;
    else if (shown++ < 5)
      ADD_FAILURE() << data.gpu << " case " << i + 1 << ": model " << std::hex << bits(d) << ", GPU " << bits(tc.d);
    if (bits(ieee_sequential(tc.a, tc.b, tc.c)) == bits(tc.d)) ++ieee_matches;
  }
  std::printf("%s (%s, K = %d): model %s matches %d / %zu GPU results; ieee_sequential matches %d / %zu\n",
              data.gpu.c_str(), std::string(numerics_name(numerics)).c_str(), data.k,
              std::string(numerics_name(numerics)).c_str(), model_matches, data.cases.size(), ieee_matches,
              data.cases.size());
  EXPECT_EQ(model_matches, 5000);
  // The data discriminates: the reference's order misses many of them (2832, 2852, 2357).
  EXPECT_LT(ieee_matches, 3000);
}

INSTANTIATE_TEST_SUITE_P(TensorCore, Validation, ::testing::ValuesIn(kModels),
                         [](const auto& info) { return std::string(numerics_name(info.param)); });

// On A100 and L40S, the 8 zero products of a padded mma add nothing: mma_dot16() on a K = 8 case
// padded with zeros gives the GPU's d too (the second block is c alone, which is exact). (H100's
// cases already have K = 16.)
class PaddedValidation : public ::testing::TestWithParam<MmaNumerics> {};

TEST_P(PaddedValidation, k8_case_padded_to_one_mma) {
  const MmaNumerics numerics = GetParam();
  const TensorCoreValidation data =
      load_tensor_core_validation(std::string(ZIPSERV_DATA_DIR) + "/tensor-core-validation", numerics);
  for (size_t i = 0; i < data.cases.size(); ++i) {
    const TensorCoreCase& tc = data.cases[i];
    ASSERT_EQ(bits(dot16(numerics, tc.a, tc.b, tc.c)), bits(tc.d)) << data.gpu << " case " << i + 1;
  }
}

INSTANTIATE_TEST_SUITE_P(TensorCore, PaddedValidation, ::testing::Values(MmaNumerics::sm80, MmaNumerics::sm89),
                         [](const auto& info) { return std::string(numerics_name(info.param)); });

// BF16 patterns used below (sign | 8-bit biased exponent | 7-bit fraction).
constexpr uint16_t kOne = 0x3F80, kMinusOne = 0xBF80, kOneAndHalf = 0x3FC0, kTwoPoint75 = 0x4030;
constexpr uint16_t kTwoPow(int e) { return static_cast<uint16_t>((e + 127) << 7); }  // 2^e, normal e
constexpr uint16_t kPlusInf = 0x7F80, kMinusInf = 0xFF80, kNan = 0x7FC1, kPlusZero = 0, kMinusZero = 0x8000;
constexpr uint32_t kCanonicalNan = 0x7FFFFFFF;

// Cancellation: 1 - 1 + 2^-30. The tiny product lies below every model's last kept bit (2^-24 on
// A100/L40S, 2^-25 on H100, for the anchor 2^0), so it is dropped before the large products cancel:
// +0. The reference adds it after the cancellation and keeps it: 2^-30.
TEST(NamedCases, cancellation_after_alignment_loses_the_small_term) {
  const std::vector<uint16_t> a = {kOne, kMinusOne, kTwoPow(-30)}, b = {kOne, kOne, kOne};
  for (const MmaNumerics n : kModels) EXPECT_EQ(bits(dot16(n, a, b, 0.0f)), 0u) << numerics_name(n);
  EXPECT_EQ(dot16(MmaNumerics::ieee_sequential, a, b, 0.0f), std::ldexp(1.0f, -30));
  // Within the extra bits the same cancellation is exact: 1 - 1 + 2^-20 = 2^-20 everywhere.
  const std::vector<uint16_t> a2 = {kOne, kMinusOne, kTwoPow(-20)};
  for (const MmaNumerics n : kAllMmaNumerics) EXPECT_EQ(dot16(n, a2, b, 0.0f), std::ldexp(1.0f, -20)) << numerics_name(n);
}

// Shifts beyond the extra bits: c = 1 plus four products 2^-25. H100 keeps 2 extra bits (last
// kept bit 2^-25), so all four count: 1 + 2^-23, exactly 0x3F800001. A100 and L40S keep 1 (last
// bit 2^-24), so each is shifted out: 1.0. The reference rounds each 1 + 2^-25 back to 1: 1.0.
// Four products of 2^-26 fall below H100's bits too: 1.0.
TEST(NamedCases, shifts_beyond_the_extra_bits_are_truncated) {
  const std::vector<uint16_t> a(4, kTwoPow(-25)), b(4, kOne);
  EXPECT_EQ(bits(dot16(MmaNumerics::sm90, a, b, 1.0f)), 0x3F800001u);
  EXPECT_EQ(bits(dot16(MmaNumerics::sm80, a, b, 1.0f)), 0x3F800000u);
  EXPECT_EQ(bits(dot16(MmaNumerics::sm89, a, b, 1.0f)), 0x3F800000u);
  EXPECT_EQ(bits(dot16(MmaNumerics::ieee_sequential, a, b, 1.0f)), 0x3F800000u);
  const std::vector<uint16_t> a26(4, kTwoPow(-26));
  EXPECT_EQ(bits(dot16(MmaNumerics::sm90, a26, b, 1.0f)), 0x3F800000u);
}

// Carry-out: c = 2^24 - 1 (0x4B7FFFFF) plus 2.75. The anchor is c's exponent 23, so 2.75 is kept
// exactly on every model (2.75 is a multiple of 2^-1, A100's last bit). The exact sum 2^24 + 1.75
// carries into exponent 24, where one unit is 2: truncation gives 2^24 (0x4B800000). The
// reference rounds to nearest: 2^24 + 2 (0x4B800001).
TEST(NamedCases, carry_out_then_truncation) {
  const std::vector<uint16_t> a = {kTwoPoint75}, b = {kOne};
  const float c = from_bits(0x4B7FFFFF);
  for (const MmaNumerics n : kModels) EXPECT_EQ(bits(dot16(n, a, b, c)), 0x4B800000u) << numerics_name(n);
  EXPECT_EQ(bits(dot16(MmaNumerics::ieee_sequential, a, b, c)), 0x4B800001u);
  // 16 products of 1.5 x 1.5 = 2.25 sum to 36: five carry bits above the anchor, all exact.
  const std::vector<uint16_t> a16(16, kOneAndHalf);
  for (const MmaNumerics n : kAllMmaNumerics) EXPECT_EQ(dot16(n, a16, a16, 0.0f), 36.0f) << numerics_name(n);
}

// Subnormal products. 2^-126 x 2^-10 = 2^-136 is an FP32 subnormal (bit 13: 0x00002000); a
// subnormal BF16 input 0x0001 = 2^-133 times 1 is 2^-133 (bit 16). Both are exact on every model.
// Then H100's anchor clamp at 2^-133: 2^-149 - 2^-160 on H100 aligns to the clamped anchor, whose
// last bit is 2^-158, so -2^-160 is dropped and the result is 2^-149 (0x00000001). A100 has no
// clamp: the exact sum 2^-149 - 2^-160 is below the smallest subnormal and truncates to +0.
TEST(NamedCases, subnormal_products) {
  for (const MmaNumerics n : kAllMmaNumerics) {
    EXPECT_EQ(bits(dot16(n, {kTwoPow(-126)}, {kTwoPow(-10)}, 0.0f)), 0x00002000u) << numerics_name(n);
    EXPECT_EQ(bits(dot16(n, {0x0001}, {kOne}, 0.0f)), 0x00010000u) << numerics_name(n);
  }
  const std::vector<uint16_t> a = {kTwoPow(-126), static_cast<uint16_t>(0x8000 | kTwoPow(-126))},
                              b = {kTwoPow(-23), kTwoPow(-34)};
  EXPECT_EQ(bits(dot16(MmaNumerics::sm90, a, b, 0.0f)), 0x00000001u);
  EXPECT_EQ(bits(dot16(MmaNumerics::sm80, a, b, 0.0f)), 0x00000000u);
  EXPECT_EQ(bits(dot16(MmaNumerics::sm89, a, b, 0.0f)), 0x00000000u);
  // A negative block result below the smallest subnormal truncates toward zero and keeps its
  // sign: -0. (In a whole A100 mma that -0 is the c of the second, empty block, whose sum is +0.)
  const std::vector<uint16_t> tiny = {static_cast<uint16_t>(0x8000 | kTwoPow(-126))}, scale = {kTwoPow(-24)};
  EXPECT_EQ(bits(tensor_core_block(tensor_core_params(MmaNumerics::sm80), tiny, scale, 0.0f)), 0x80000000u);
  EXPECT_EQ(bits(dot16(MmaNumerics::sm80, tiny, scale, 0.0f)), 0u);
}

// +-0: the models' sum is a fixed-point number, which has no -0, so c = -0 with zero products, and
// an exact cancellation, both give +0. IEEE gives -0 + (-0) + ... = -0 for sixteen -0 products.
TEST(NamedCases, signed_zeros) {
  const float minus_zero = from_bits(0x80000000);
  for (const MmaNumerics n : kModels) {
    EXPECT_EQ(bits(dot16(n, {kMinusZero, kPlusZero}, {kOne, kMinusOne}, minus_zero)), 0u) << numerics_name(n);
    EXPECT_EQ(bits(dot16(n, {kOne, kMinusOne}, {kOne, kOne}, minus_zero)), 0u) << numerics_name(n);
    // A zero product does not pull the anchor: c alone comes back exactly, any exponent.
    EXPECT_EQ(bits(dot16(n, {kMinusZero}, {kOne}, 1.0e-40f)), bits(1.0e-40f)) << numerics_name(n);
  }
  EXPECT_EQ(bits(dot16(MmaNumerics::ieee_sequential, std::vector<uint16_t>(16, kMinusZero), std::vector<uint16_t>(16, kOne),
                       minus_zero)),
            0x80000000u);
}

// Inf - Inf and the other special values, as the published models state them: any NaN, 0 x Inf
// or infinities of both signs give NaN (NVIDIA's canonical 0x7FFFFFFF); one infinity wins over
// every finite term.
TEST(NamedCases, infinities) {
  for (const MmaNumerics n : kModels) {
    EXPECT_EQ(bits(dot16(n, {kPlusInf, kMinusInf}, {kOne, kOne}, 0.0f)), kCanonicalNan) << numerics_name(n);
    EXPECT_EQ(bits(dot16(n, {kPlusInf}, {kOne}, -std::numeric_limits<float>::infinity())), kCanonicalNan);
    EXPECT_EQ(bits(dot16(n, {kPlusInf}, {kPlusZero}, 1.0f)), kCanonicalNan) << numerics_name(n);  // 0 x Inf
    EXPECT_EQ(dot16(n, {kPlusInf, kOne}, {kMinusInf, kOne}, 5.0f), -std::numeric_limits<float>::infinity());
    EXPECT_EQ(dot16(n, {kOne}, {kOne}, std::numeric_limits<float>::infinity()), std::numeric_limits<float>::infinity());
  }
}

TEST(NamedCases, nan) {
  for (const MmaNumerics n : kModels) {
    EXPECT_EQ(bits(dot16(n, {kNan, kOne}, {kOne, kOne}, 0.0f)), kCanonicalNan) << numerics_name(n);
    EXPECT_EQ(bits(dot16(n, {kOne}, {kOne}, from_bits(0x7FC00123))), kCanonicalNan) << numerics_name(n);
  }
}

// Overflow: FLT_MAX + 2^104 is exactly 2^128, beyond FP32: +Inf (not FLT_MAX, although the
// result is otherwise truncated toward zero). And products beyond FP32's range are exact inside a
// block: 2^127 x 4 - 2^127 x 4 + 1 x 1 is 1 in exact arithmetic, but the anchor 2^129 puts the
// last kept bit at 2^105 or 2^104, so the 1 is dropped: +0. The reference overflows to Inf - Inf = NaN.
TEST(NamedCases, overflow) {
  for (const MmaNumerics n : kModels) {
    EXPECT_EQ(dot16(n, {kTwoPow(104)}, {kOne}, from_bits(0x7F7FFFFF)), std::numeric_limits<float>::infinity());
    EXPECT_EQ(dot16(n, {kTwoPow(127), static_cast<uint16_t>(0x8000 | kTwoPow(127)), kOne}, {kTwoPow(2), kTwoPow(2), kOne}, 0.0f),
              0.0f) << numerics_name(n);
  }
  EXPECT_TRUE(std::isnan(dot16(MmaNumerics::ieee_sequential, {kTwoPow(127), static_cast<uint16_t>(0x8000 | kTwoPow(127))},
                               {kTwoPow(2), kTwoPow(2)}, 0.0f)));
}

// The 16-deep mma on A100 and L40S is two fused blocks of 8 (A100TC.m, L40STC.m: fma = 8), the
// first block's FP32 result (truncated) being the second block's c; on H100 it is one block of 16.
// Products 1 and 2^-24 in the first half, -1 in the second: A100 truncates 1 + 2^-24 to 1 between
// the halves, then 1 - 1 = +0. H100 sees all three in one block, keeps 2^-24 (it is above its
// last bit 2^-25) and returns 2^-24. The reference rounds 1 + 2^-24 (a tie) to 1 as well: +0.
TEST(BlockStructure, a100_and_l40s_truncate_between_the_two_halves) {
  std::vector<uint16_t> a(16, kPlusZero), b(16, kOne);
  a[0] = kOne;
  a[1] = kTwoPow(-24);
  a[8] = kMinusOne;
  EXPECT_EQ(bits(dot16(MmaNumerics::sm80, a, b, 0.0f)), 0u);
  EXPECT_EQ(bits(dot16(MmaNumerics::sm89, a, b, 0.0f)), 0u);
  EXPECT_EQ(dot16(MmaNumerics::sm90, a, b, 0.0f), std::ldexp(1.0f, -24));
  EXPECT_EQ(bits(dot16(MmaNumerics::ieee_sequential, a, b, 0.0f)), 0u);
  // Moving -1 into the first half puts all three in one block on A100 too: 2^-24 is A100's last
  // kept bit for the anchor 2^0, so it survives.
  std::swap(a[8], a[2]);
  EXPECT_EQ(dot16(MmaNumerics::sm80, a, b, 0.0f), std::ldexp(1.0f, -24));
}

// The same statement on random data: mma_dot16 under sm80 / sm89 equals block(8..15, c =
// block(0..7, c)), and under sm90 one block of 16.
TEST(BlockStructure, mma_dot16_is_the_chain_of_blocks) {
  std::mt19937 rng(7);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  for (int trial = 0; trial < 2000; ++trial) {
    uint16_t a[16], b[16];
    for (int k = 0; k < 16; ++k) {
      a[k] = float_to_bf16_rne(dist(rng) * std::ldexp(1.0f, static_cast<int>(rng() % 16) - 8));
      b[k] = float_to_bf16_rne(dist(rng));
    }
    const float c = dist(rng);
    for (const MmaNumerics n : kModels) {
      const TensorCoreParams& p = tensor_core_params(n);
      const std::span<const uint16_t> sa(a), sb(b);
      const float expected = p.block_products == 8
                                 ? tensor_core_block(p, sa.subspan(8), sb.subspan(8),
                                                     tensor_core_block(p, sa.first(8), sb.first(8), c))
                                 : tensor_core_block(p, sa, sb, c);
      ASSERT_EQ(bits(mma_dot16(n, a, b, c)), bits(expected)) << numerics_name(n) << " trial " << trial;
    }
  }
}

// The parameters as the published models state them.
TEST(BlockStructure, parameters) {
  EXPECT_EQ(tensor_core_params(MmaNumerics::sm80).block_products, 8);
  EXPECT_EQ(tensor_core_params(MmaNumerics::sm89).block_products, 8);
  EXPECT_EQ(tensor_core_params(MmaNumerics::sm90).block_products, 16);
  EXPECT_EQ(tensor_core_params(MmaNumerics::sm80).extra_alignment_bits, 1);
  EXPECT_EQ(tensor_core_params(MmaNumerics::sm89).extra_alignment_bits, 1);
  EXPECT_EQ(tensor_core_params(MmaNumerics::sm90).extra_alignment_bits, 2);
  EXPECT_EQ(tensor_core_params(MmaNumerics::sm90).min_anchor_exponent, -133);
}

// When every partial sum is exact (small integers), the order and the truncation cannot matter:
// every numerics gives the exact sum.
TEST(ExactSums, small_integers_agree_across_numerics) {
  std::mt19937 rng(3);
  for (int trial = 0; trial < 500; ++trial) {
    uint16_t a[16], b[16];
    double exact = static_cast<double>(static_cast<int>(rng() % 17) - 8);
    const float c = static_cast<float>(exact);
    for (int k = 0; k < 16; ++k) {
      const int x = static_cast<int>(rng() % 17) - 8, y = static_cast<int>(rng() % 17) - 8;
      a[k] = float_to_bf16_rne(static_cast<float>(x));
      b[k] = float_to_bf16_rne(static_cast<float>(y));
      exact += x * y;
    }
    for (const MmaNumerics n : kAllMmaNumerics)
      ASSERT_EQ(mma_dot16(n, a, b, c), static_cast<float>(exact)) << numerics_name(n) << " trial " << trial;
  }
}

TEST(BadInput, clear_errors) {
  const std::vector<uint16_t> nine(9, kOne), eight(8, kOne);
  EXPECT_THROW(tensor_core_params(MmaNumerics::ieee_sequential), std::invalid_argument);
  EXPECT_THROW(tensor_core_block(tensor_core_params(MmaNumerics::sm80), nine, nine, 0.0f), std::invalid_argument);
  EXPECT_THROW(tensor_core_dot(tensor_core_params(MmaNumerics::sm80), nine, eight, 0.0f), std::invalid_argument);
  EXPECT_THROW(load_tensor_core_validation("/nonexistent", MmaNumerics::sm80), std::runtime_error);
}

}  // namespace
}  // namespace zipserv::test
