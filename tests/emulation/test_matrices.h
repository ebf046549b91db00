/*! \file test_matrices.h
 *  \brief Inputs shared by the emulation tests: BF16 matrices (random Gaussian, small integers,
 *         every bit pattern), the shape list named by position relative to the tiles, and the
 *         per-target test fixture.
 */
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "hwy/highway.h"
#include "hwy/tests/hwy_gtest.h"
#include "zipserv/reference/bf16.h"
#include "zipserv/emulation/emulation.h"

namespace zipserv::emu::test {

/// rows x cols BF16 values drawn from N(0, sigma^2), rounded to nearest even.
inline std::vector<uint16_t> gaussian_bf16(int64_t rows, int64_t cols, float sigma, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, sigma);
  std::vector<uint16_t> v(static_cast<size_t>(rows * cols));
  for (uint16_t& x : v) x = float_to_bf16_rne(dist(rng));
  return v;
}

/// rows x cols BF16 integers uniform in [-range, range]: every sum of products stays exact.
inline std::vector<uint16_t> small_int_bf16(int64_t rows, int64_t cols, int range, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> dist(-range, range);
  std::vector<uint16_t> v(static_cast<size_t>(rows * cols));
  for (uint16_t& x : v) x = float_to_bf16_rne(static_cast<float>(dist(rng)));
  return v;
}

/// The NaN x86 produces itself (Inf - Inf, 0 * Inf): sign set, quiet bit, zero payload.
inline constexpr uint16_t kDefaultNaN = 0xFFC0;

/// rows x cols uniformly random bit patterns (subnormals, Inf, huge and tiny values), every NaN
/// replaced by kDefaultNaN so that NaN propagation cannot pick between payloads.
inline std::vector<uint16_t> any_bits_bf16(int64_t rows, int64_t cols, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint16_t> v(static_cast<size_t>(rows * cols));
  for (uint16_t& x : v) {
    x = static_cast<uint16_t>(rng());
    if ((x & 0x7FFF) > 0x7F80) x = kDefaultNaN;
  }
  return v;
}

/// A matrix shape, named by where it sits relative to the 8/16/64 tiles.
struct Shape {
  const char* name;  ///< e.g. "m_lt_64_k_gt_64"
  int64_t rows;      ///< M
  int64_t cols;      ///< K
};

/// The shape list every implementation is checked on.
inline const std::vector<Shape>& tile_edge_shapes() {
  static const std::vector<Shape> shapes = {
      {"m_eq_1_k_eq_1", 1, 1},          {"m_lt_8_k_lt_16", 7, 9},
      {"m_lt_64_k_gt_64", 63, 65},      {"m_eq_64_k_eq_64", 64, 64},
      {"m_gt_64_partial_k_eq_64", 172, 64}, {"m_eq_16_k_div_64", 16, 4096},
      {"m_div_64_k_eq_16", 4096, 16},
  };
  return shapes;
}

/// Runs a TEST_P once per Highway target the CPU supports (HWY_SCALAR included) and checks that
/// the emulation really dispatched to it.
class EmulationTargets : public hwy::TestWithParamTarget {
 protected:
  /// Expects active_target() to name the target under test.
  void expect_target_used() const { EXPECT_STREQ(active_target(), hwy::TargetName(GetParam())); }
};

}  // namespace zipserv::emu::test
