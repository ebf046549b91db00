// BF16 anatomy and FP32 -> BF16 rounding, checked against independent definitions: the IEEE-754
// value formula for the fields, and "the nearer of the two neighbouring BF16 values, ties to the
// even one", computed in double, for the rounding.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>

#include "zipserv/reference/bf16.h"

namespace zipserv {
namespace {

float float_from_bits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

// The value a BF16 pattern denotes, from the IEEE-754 formula (not from the bit-shift widening).
double ieee_value(uint32_t sign, uint32_t exponent, uint32_t mantissa) {
  const double magnitude = exponent == 0 ? std::ldexp(mantissa / 128.0, -126)
                                         : std::ldexp(1.0 + mantissa / 128.0, static_cast<int>(exponent) - 127);
  return sign ? -magnitude : magnitude;
}

TEST(Bf16Fields, every_pattern_splits_and_rebuilds) {
  for (uint32_t p = 0; p <= 0xFFFF; ++p) {
    const uint16_t v = static_cast<uint16_t>(p);
    const uint32_t s = bf16_sign(v), e = bf16_exponent(v), m = bf16_mantissa(v);
    ASSERT_LE(s, 1u);
    ASSERT_LE(e, 255u);
    ASSERT_LE(m, 127u);
    ASSERT_EQ(bf16_from_fields(s, e, m), v) << std::hex << p;
    const float f = bf16_to_float(v);
    ASSERT_EQ(std::signbit(f), s == 1) << std::hex << p;
    if (e == 255) {
      ASSERT_EQ(std::isnan(f), m != 0) << std::hex << p;
      ASSERT_EQ(std::isinf(f), m == 0) << std::hex << p;
    } else {
      ASSERT_EQ(static_cast<double>(f), ieee_value(s, e, m)) << std::hex << p;
    }
  }
}

TEST(Bf16Fields, from_fields_masks_each_field_to_its_width) {
  EXPECT_EQ(bf16_from_fields(3, 0x1FF, 0xFF), 0xFFFF);  // 1 | 0xFF | 0x7F
  EXPECT_EQ(bf16_from_fields(2, 0x100, 0x80), 0x0000);  // every field's overflow bit dropped
}

TEST(Bf16Rounding, every_bf16_value_rounds_to_itself) {
  for (uint32_t p = 0; p <= 0xFFFF; ++p) {
    const uint16_t v = static_cast<uint16_t>(p);
    const bool nan = bf16_exponent(v) == 255 && bf16_mantissa(v) != 0;
    // A NaN comes back quiet (bit 6 set); its sign and other payload bits survive.
    const uint16_t expected = nan ? static_cast<uint16_t>(v | 0x0040) : v;
    ASSERT_EQ(float_to_bf16_rne(bf16_to_float(v)), expected) << std::hex << p;
  }
}

// The nearer BF16 neighbour of a finite float, ties to the even mantissa; overflow rounds to
// infinity exactly when the float is at least halfway to 2^128 (IEEE-754's rule).
uint16_t nearest_bf16(uint32_t u) {
  const uint32_t sign = u & 0x80000000u, magnitude = u & 0x7FFFFFFFu;
  const uint32_t below = magnitude & 0xFFFF0000u;          // truncated towards zero
  const double x = std::fabs(static_cast<double>(float_from_bits(u)));
  const double lo = std::fabs(static_cast<double>(float_from_bits(below)));
  const double hi = below == 0x7F7F0000u ? std::ldexp(1.0, 128)  // next step past the largest finite
                                         : std::fabs(static_cast<double>(float_from_bits(below + 0x10000u)));
  uint32_t chosen;
  if (x - lo < hi - x) chosen = below;
  else if (x - lo > hi - x) chosen = below + 0x10000u;
  else chosen = ((below >> 16) & 1u) ? below + 0x10000u : below;  // tie: the even one
  return static_cast<uint16_t>((sign | chosen) >> 16);
}

TEST(Bf16Rounding, matches_nearest_neighbour_on_boundary_and_random_floats) {
  // Every BF16 prefix with the low halves that sit on or next to the rounding boundaries.
  for (uint32_t high = 0; high <= 0xFFFF; ++high) {
    if ((high & 0x7F80u) == 0x7F80u) continue;  // Inf/NaN prefixes: tested separately
    for (uint32_t low : {0x0000u, 0x0001u, 0x7FFFu, 0x8000u, 0x8001u, 0xFFFFu}) {
      const uint32_t u = high << 16 | low;
      ASSERT_EQ(float_to_bf16_rne(float_from_bits(u)), nearest_bf16(u)) << std::hex << u;
    }
  }
  std::mt19937 rng(7);
  for (int n = 0; n < 1'000'000; ++n) {
    const uint32_t u = rng();
    if ((u & 0x7F800000u) == 0x7F800000u) continue;
    ASSERT_EQ(float_to_bf16_rne(float_from_bits(u)), nearest_bf16(u)) << std::hex << u;
  }
}

TEST(Bf16Rounding, ties_go_to_even_on_hand_picked_values) {
  // 1 + 2^-8 lies exactly halfway between 1 (0x3F80, mantissa 0, even) and 1 + 2^-7 (0x3F81):
  // it must round down to the even 0x3F80.
  EXPECT_EQ(float_to_bf16_rne(1.0f + 0x1p-8f), 0x3F80);
  // 1 + 3 * 2^-8 is halfway between 0x3F81 (odd) and 0x3F82 (even): rounds up to 0x3F82.
  EXPECT_EQ(float_to_bf16_rne(1.0f + 3 * 0x1p-8f), 0x3F82);
  // Just above the first tie (one float ulp, 2^-23): no longer a tie, rounds up.
  EXPECT_EQ(float_to_bf16_rne(1.0f + 0x1p-8f + 0x1p-23f), 0x3F81);
  // Negative values mirror: -(1 + 2^-8) -> -1 = 0xBF80.
  EXPECT_EQ(float_to_bf16_rne(-(1.0f + 0x1p-8f)), 0xBF80);
  // The largest finite float rounds to +Inf: it is past the midpoint between 0x7F7F and 2^128.
  EXPECT_EQ(float_to_bf16_rne(0x1.fffffep127f), 0x7F80);
  // 0x7F7F7FFF is just below that midpoint: stays at the largest finite BF16 0x7F7F.
  EXPECT_EQ(float_to_bf16_rne(float_from_bits(0x7F7F7FFFu)), 0x7F7F);
  // Smallest float subnormal (bits 0x00000001) is far below half of the smallest BF16
  // subnormal 0x0001 (= 2^-133): rounds to +0.
  EXPECT_EQ(float_to_bf16_rne(float_from_bits(0x00000001u)), 0x0000);
  // -0 keeps its sign.
  EXPECT_EQ(float_to_bf16_rne(-0.0f), 0x8000);
}

TEST(Bf16Rounding, nan_stays_nan_and_inf_stays_inf) {
  EXPECT_EQ(float_to_bf16_rne(INFINITY), 0x7F80);
  EXPECT_EQ(float_to_bf16_rne(-INFINITY), 0xFF80);
  // A signalling NaN whose payload lives only in the low 16 bits would truncate to Inf; it must
  // come back as a NaN (exponent 255, mantissa non-zero) with its sign.
  for (uint32_t u : {0x7F800001u, 0xFF800001u, 0x7FC00000u, 0x7F80FFFFu, 0xFFFFFFFFu}) {
    const uint16_t b = float_to_bf16_rne(float_from_bits(u));
    EXPECT_EQ(bf16_exponent(b), 255u) << std::hex << u;
    EXPECT_NE(bf16_mantissa(b), 0u) << std::hex << u;
    EXPECT_EQ(bf16_sign(b), u >> 31) << std::hex << u;
  }
}

}  // namespace
}  // namespace zipserv
