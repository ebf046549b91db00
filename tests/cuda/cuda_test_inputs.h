/*! \file cuda_test_inputs.h
 *  \brief Seeded inputs for the CUDA tests: Gaussian BF16 matrices (real-valued), small-integer
 *         matrices (exact GEMMs), uniformly random 16-bit patterns, and all 65,536 patterns.
 */
#pragma once

#include <cstdint>
#include <numeric>
#include <random>
#include <vector>

#include "zipserv/reference/bf16.h"

namespace zipserv::cuda::test {

/// count BF16 values drawn from N(0, sigma^2), round-to-nearest-even (shape of real weights).
inline std::vector<uint16_t> gaussian_values(int64_t count, double sigma, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> dist(0.0f, static_cast<float>(sigma));
  std::vector<uint16_t> v(static_cast<size_t>(count));
  for (auto& x : v) x = float_to_bf16_rne(dist(rng));
  return v;
}

/// count integers uniform in [-limit, limit] as BF16 (exact; products and sums of such values
/// stay exact in FP32 while |sum| < 2^24, so every summation order gives the same bits).
inline std::vector<uint16_t> small_integer_values(int64_t count, int limit, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> dist(-limit, limit);
  std::vector<uint16_t> v(static_cast<size_t>(count));
  for (auto& x : v) x = float_to_bf16_rne(static_cast<float>(dist(rng)));
  return v;
}

/// count uniformly random 16-bit patterns (every exponent, NaNs and infinities included).
inline std::vector<uint16_t> random_bit_patterns(int64_t count, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<uint16_t> v(static_cast<size_t>(count));
  for (auto& x : v) x = static_cast<uint16_t>(rng());
  return v;
}

/// All 65,536 BF16 patterns, pattern p at position p (a 256 x 256 matrix row-major).
inline std::vector<uint16_t> all_patterns() {
  std::vector<uint16_t> v(65536);
  std::iota(v.begin(), v.end(), uint16_t{0});
  return v;
}

}  // namespace zipserv::cuda::test
