// The reference GEMM: exact against an independent double-precision sum on small-integer
// inputs, close to Eigen on random inputs (tolerance reasoned below), and zipgemm() on the
// compressed weights equal to gemm_dense() on the originals, bit for bit, on tile-edge shapes.
#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <cmath>
#include <random>
#include <vector>

#include "test_inputs.h"
#include "zipserv/reference/bf16.h"
#include "zipserv/reference/encode.h"
#include "zipserv/reference/gemm.h"

namespace zipserv {
namespace {

// Integer values in [-lim, lim] as BF16 (exact: |v| <= 256).
std::vector<uint16_t> small_integers(int64_t count, int lim, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<uint16_t> v(static_cast<size_t>(count));
  for (auto& x : v) x = float_to_bf16_rne(static_cast<float>(static_cast<int>(rng() % (2 * lim + 1)) - lim));
  return v;
}

struct Shape {
  const char* name;
  int64_t m, k, n;
};
const Shape kShapes[] = {{"n_eq_1", 64, 64, 1},          {"m_eq_1", 1, 64, 8},          {"k_lt_16", 32, 7, 5},
                         {"k_not_div_16", 48, 100, 3},  {"k_gt_64_not_div_64", 70, 131, 9}, {"k_eq_1", 5, 1, 4},
                         {"all_edges", 65, 65, 17},      {"m_172_k_64", 172, 64, 2}};

TEST(GemmDense, exact_on_small_integers_against_double) {
  for (const Shape& s : kShapes) {
    SCOPED_TRACE(s.name);
    // |w|, |x| <= 4 and K <= 131: every partial sum is an integer below 2^11, exact in FP32 in
    // any order; only the final rounding to BF16 (8 significant bits) can round.
    const std::vector<uint16_t> w = small_integers(s.m * s.k, 4, 1), x = small_integers(s.n * s.k, 4, 2);
    std::vector<uint16_t> y(static_cast<size_t>(s.m * s.n));
    gemm_dense(w.data(), s.m, s.k, x.data(), s.n, y.data());
    for (int64_t n = 0; n < s.n; ++n)
      for (int64_t m = 0; m < s.m; ++m) {
        double sum = 0;
        for (int64_t k = 0; k < s.k; ++k)
          sum += static_cast<double>(bf16_to_float(w[m * s.k + k])) * bf16_to_float(x[n * s.k + k]);
        ASSERT_EQ(y[n * s.m + m], float_to_bf16_rne(static_cast<float>(sum))) << "(m, n) = (" << m << ", " << n << ")";
      }
  }
}

TEST(GemmDense, output_is_column_major_m_by_n) {
  // W = [[1, 0], [0, 2], [3, 0]] (3 x 2), X rows = tokens: x0 = (1, 1), x1 = (2, 0).
  const uint16_t one = 0x3F80, two = 0x4000, three = 0x4040, zero = 0;
  const std::vector<uint16_t> w = {one, zero, zero, two, three, zero}, x = {one, one, two, zero};
  std::vector<uint16_t> y(6);
  gemm_dense(w.data(), 3, 2, x.data(), 2, y.data());
  // Y[n * M + m]: token 0 -> (1, 2, 3), token 1 -> (2, 0, 6).
  const std::vector<float> want = {1, 2, 3, 2, 0, 6};
  for (int i = 0; i < 6; ++i) EXPECT_EQ(bf16_to_float(y[i]), want[i]) << i;
}

TEST(GemmDense, close_to_eigen_on_random_weights) {
  const int64_t M = 96, K = 300, N = 7;
  const test::Matrix w = test::gaussian_matrix(M, K, 0.02, 5), x = test::gaussian_matrix(N, K, 1.0, 6);
  std::vector<uint16_t> y(static_cast<size_t>(M * N));
  gemm_dense(w.values.data(), M, K, x.values.data(), N, y.data());
  Eigen::MatrixXf wf(M, K), xf(K, N);
  for (int64_t m = 0; m < M; ++m)
    for (int64_t k = 0; k < K; ++k) wf(m, k) = bf16_to_float(w.values[m * K + k]);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t k = 0; k < K; ++k) xf(k, n) = bf16_to_float(x.values[n * K + k]);
  const Eigen::MatrixXf yf = wf * xf;  // FP32, Eigen's own (blocked, vectorised) summation order
  for (int64_t n = 0; n < N; ++n)
    for (int64_t m = 0; m < M; ++m) {
      double abs_sum = 0;
      for (int64_t k = 0; k < K; ++k) abs_sum += std::fabs(wf(m, k) * xf(k, n));
      // Two FP32 sums of the same exact products in different orders differ by at most
      // 2 * K * 2^-24 * sum|w x| (each is within K * u * sum|w x| of the exact sum). Ours is
      // then rounded to BF16 (8 significant bits): at most half a BF16 ulp, i.e. the unit
      // roundoff 2^-8 relative. Eigen's is not rounded.
      const double tolerance = 2.0 * K * std::ldexp(1.0, -24) * abs_sum + std::ldexp(1.0, -8) * std::fabs(yf(m, n));
      ASSERT_NEAR(bf16_to_float(y[n * M + m]), yf(m, n), tolerance) << "(m, n) = (" << m << ", " << n << ")";
    }
}

TEST(Gemm, compressed_equals_dense_bit_for_bit) {
  for (const Shape& s : kShapes) {
    SCOPED_TRACE(s.name);
    // Mixed weights (Gaussian plus exponents outside the window) and Gaussian activations.
    test::Matrix w = test::gaussian_matrix(s.m, s.k, 0.02, 7);
    for (size_t i = 0; i < w.values.size(); i += 11) w.values[i] = bf16_from_fields(i & 1, 100 + i % 50, 0x15);
    const test::Matrix x = test::gaussian_matrix(s.n, s.k, 1.0, 8);
    const CompressedMatrix c = encode(w.values.data(), s.m, s.k);
    std::vector<uint16_t> y_dense(static_cast<size_t>(s.m * s.n)), y_compressed(y_dense.size(), 0xFFFF);
    gemm_dense(w.values.data(), s.m, s.k, x.values.data(), s.n, y_dense.data());
    zipserv::zipgemm(c, x.values.data(), s.n, y_compressed.data());
    EXPECT_EQ(y_dense, y_compressed);
  }
}

}  // namespace
}  // namespace zipserv
