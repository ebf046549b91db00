// The CPU ZipGEMM equals the reference GEMM bit for bit (split_k = 1) on any input, on every
// Highway target; split-K equals it on exactly summable inputs; gemm_dense equals gemm_dense;
// results do not depend on the thread count or the run.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "target_record.h"
#include "test_matrices.h"
#include "zipserv/emulation/emulation.h"
#include "zipserv/reference/encode.h"
#include "zipserv/reference/gemm.h"

namespace zipserv::emu::test {
namespace {

class ZipGemmTargets : public EmulationTargets {};
HWY_TARGET_INSTANTIATE_TEST_SUITE_P(ZipGemmTargets);
ZIPSERV_RECORD_TARGETS(ZipGemmTargets)

// 1, 2, 3: the GEMV path (block-tile MMA, columns unpacked on the fly); 4 and up: columns
// unpacked once per strip.
const int kColumnCounts[] = {1, 2, 3, 4, 7, 8, 9, 16, 33};

// Runs zipgemm and the reference on the same input; names the first differing output.
void expect_zipgemm_equals_reference(const std::vector<uint16_t>& w, int64_t m, int64_t k,
                                     const std::vector<uint16_t>& x, int64_t n, const GemmOptions& options,
                                     const std::string& what) {
  const CompressedMatrix cw = encode(w.data(), m, k);
  std::vector<uint16_t> expected(static_cast<size_t>(m * n)), actual(static_cast<size_t>(m * n), 0xDEAD);
  zipserv::zipgemm(cw, x.data(), n, expected.data());
  emu::zipgemm(cw, x.data(), n, actual.data(), options);
  for (size_t i = 0; i < expected.size(); ++i)
    ASSERT_EQ(actual[i], expected[i]) << what << ": Y[" << i << "] (row " << i % m << ", column " << i / m
                                      << ") expected 0x" << std::hex << expected[i] << ", got 0x" << actual[i];
}

TEST_P(ZipGemmTargets, RealValuedInputsEveryShapeAndWidth) {
  for (const Shape& shape : tile_edge_shapes())
    for (int n : kColumnCounts) {
      if (shape.rows * shape.cols * n > (1 << 22)) continue;  // keeps the reference GEMM quick
      const std::vector<uint16_t> w = gaussian_bf16(shape.rows, shape.cols, 0.02f, static_cast<uint32_t>(n));
      const std::vector<uint16_t> x = gaussian_bf16(n, shape.cols, 1.0f, static_cast<uint32_t>(n + 1000));
      expect_zipgemm_equals_reference(w, shape.rows, shape.cols, x, n, {},
                                      std::string(shape.name) + " n=" + std::to_string(n));
    }
  expect_target_used();
}

// Subnormals, underflowing and overflowing products, ±Inf, Inf - Inf and 0 * Inf (x86's default
// NaN), all in the same sums.
TEST_P(ZipGemmTargets, AnyBitPatternInputs) {
  for (int n : {1, 2, 3, 8, 9}) {
    const std::vector<uint16_t> w = any_bits_bf16(100, 130, static_cast<uint32_t>(n));
    const std::vector<uint16_t> x = any_bits_bf16(n, 130, static_cast<uint32_t>(n + 7));
    expect_zipgemm_equals_reference(w, 100, 130, x, n, {}, "any bits n=" + std::to_string(n));
  }
  // Inputs chosen so that many outputs round, overflow or turn into NaN.
  std::vector<uint16_t> w = gaussian_bf16(64, 96, 1.0f, 5), x = gaussian_bf16(9, 96, 1.0f, 6);
  w[3] = 0x7F80;      // +Inf weight
  w[200] = 0xFF80;    // -Inf weight
  w[1000] = kDefaultNaN;
  x[10] = 0x7F80;     // +Inf activation meets finite and infinite weights
  x[96 + 3] = 0x0000; // 0 * Inf
  x[300] = 0x7F7F;    // the largest finite BF16: products overflow
  w[2000] = 0x0001;   // the smallest subnormal: products underflow
  expect_zipgemm_equals_reference(w, 64, 96, x, 9, {}, "Inf/NaN/overflow");
  expect_zipgemm_equals_reference(w, 64, 96, x, 1, {}, "Inf/NaN/overflow, GEMV");
  expect_target_used();
}

// With several splits the FP32 partials are added in split order; small integers keep every sum
// exact, so any order gives the reference's bits. Split counts that do not divide K/64 included.
TEST_P(ZipGemmTargets, SplitKOnSmallIntegers) {
  const int64_t m = 130, k = 64 * 7 + 5;  // K/64 rounds up to 8 block-tile columns
  for (int n : {1, 9, 33})
    for (int split_k : {2, 3, 4, 5, 8, 100}) {
      const std::vector<uint16_t> w = small_int_bf16(m, k, 8, static_cast<uint32_t>(split_k));
      const std::vector<uint16_t> x = small_int_bf16(n, k, 8, static_cast<uint32_t>(split_k + n));
      expect_zipgemm_equals_reference(w, m, k, x, n, {split_k, 2},
                                      "split_k=" + std::to_string(split_k) + " n=" + std::to_string(n));
    }
  expect_target_used();
}

TEST_P(ZipGemmTargets, DenseGemmEqualsReferenceDense) {
  for (const Shape& shape : tile_edge_shapes())
    for (int n : {1, 2, 3, 9, 33}) {
      if (shape.rows * shape.cols * n > (1 << 22)) continue;
      const std::vector<uint16_t> w = gaussian_bf16(shape.rows, shape.cols, 0.02f, 31);
      const std::vector<uint16_t> x = gaussian_bf16(n, shape.cols, 1.0f, 32);
      std::vector<uint16_t> expected(static_cast<size_t>(shape.rows * n)), actual(expected.size(), 0xDEAD);
      gemm_dense(w.data(), shape.rows, shape.cols, x.data(), n, expected.data());
      gemm_dense(w.data(), shape.rows, shape.cols, x.data(), n, actual.data());
      ASSERT_EQ(actual, expected) << shape.name << " n=" << n;
    }
  for (int n : {1, 3, 5}) {  // any bit patterns; 130 x 330 has interior strips (the unchecked loads)
    const std::vector<uint16_t> w = any_bits_bf16(130, 330, 33), x = any_bits_bf16(n, 330, 34);
    std::vector<uint16_t> expected(130 * n), actual(130 * n);
    gemm_dense(w.data(), 130, 330, x.data(), n, expected.data());
    gemm_dense(w.data(), 130, 330, x.data(), n, actual.data());
    EXPECT_EQ(actual, expected) << "any bit patterns, n=" << n;
  }
  expect_target_used();
}

// Work items write disjoint outputs, so thread count and scheduling cannot change a bit; the
// same call repeated gives the same bits (no race).
TEST_P(ZipGemmTargets, IdenticalAcrossThreadCountsAndRuns) {
  const std::vector<uint16_t> w = gaussian_bf16(256, 320, 0.02f, 41), x = gaussian_bf16(70, 320, 1.0f, 42);
  const CompressedMatrix cw = encode(w.data(), 256, 320);
  std::vector<uint16_t> first(256 * 70);
  emu::zipgemm(cw, x.data(), 70, first.data(), {1, 1});
  for (int threads : {2, 3, 8, 0})
    for (int run = 0; run < 3; ++run) {
      std::vector<uint16_t> again(first.size(), 0xDEAD);
      emu::zipgemm(cw, x.data(), 70, again.data(), {1, threads});
      ASSERT_EQ(again, first) << threads << " threads, run " << run;
    }
  std::vector<uint16_t> split_first(first.size()), split_again(first.size());
  emu::zipgemm(cw, x.data(), 70, split_first.data(), {3, 1});
  emu::zipgemm(cw, x.data(), 70, split_again.data(), {3, 4});
  EXPECT_EQ(split_again, split_first) << "split_k = 3";
  expect_target_used();
}

// NaNs with arbitrary payloads: the output is NaN exactly where the reference's is (which NaN
// payload survives is the FP unit's choice, see emulation.h).
TEST_P(ZipGemmTargets, ArbitraryNaNPayloadsGiveNaNInTheSamePlaces) {
  std::vector<uint16_t> w = gaussian_bf16(64, 64, 0.02f, 51), x = gaussian_bf16(4, 64, 1.0f, 52);
  w[7] = 0x7FC1;
  w[64 * 9 + 3] = 0xFF81;  // a signalling NaN
  x[64 + 5] = 0x7FA5;
  const CompressedMatrix cw = encode(w.data(), 64, 64);
  std::vector<uint16_t> expected(64 * 4), actual(64 * 4);
  zipserv::zipgemm(cw, x.data(), 4, expected.data());
  emu::zipgemm(cw, x.data(), 4, actual.data());
  for (size_t i = 0; i < expected.size(); ++i) {
    const bool nan_expected = (expected[i] & 0x7FFF) > 0x7F80, nan_actual = (actual[i] & 0x7FFF) > 0x7F80;
    ASSERT_EQ(nan_actual, nan_expected) << "Y[" << i << "]";
    if (!nan_expected) {
      ASSERT_EQ(actual[i], expected[i]) << "Y[" << i << "]";
    }
  }
  expect_target_used();
}

// split_k = 0 lets the implementation choose; on the CPU that is the reference's order.
TEST(ZipGemm, SplitZeroChoosesTheReferenceOrder) {
  const int64_t m = 70, k = 300, n = 3;
  const std::vector<uint16_t> w = gaussian_bf16(m, k, 0.02f, 63), x = gaussian_bf16(n, k, 1.0f, 64);
  const CompressedMatrix cw = encode(w.data(), m, k);
  std::vector<uint16_t> expected(m * n), zip(m * n), dense(m * n);
  zipserv::zipgemm(cw, x.data(), n, expected.data());
  emu::zipgemm(cw, x.data(), n, zip.data(), {.split_k = 0});
  gemm_dense(w.data(), m, k, x.data(), n, dense.data(), {.split_k = 0});
  EXPECT_EQ(zip, expected);
  EXPECT_EQ(dense, expected);
}

TEST(ZipGemm, BadArgumentsAreRejected) {
  const std::vector<uint16_t> w = gaussian_bf16(64, 64, 0.02f, 61), x = gaussian_bf16(2, 64, 1.0f, 62);
  CompressedMatrix cw = encode(w.data(), 64, 64);
  std::vector<uint16_t> y(64 * 2);
  EXPECT_THROW(emu::zipgemm(cw, x.data(), -1, y.data()), std::invalid_argument);
  EXPECT_THROW(emu::zipgemm(cw, x.data(), 2, y.data(), {.split_k = -1}), std::invalid_argument);
  EXPECT_THROW(gemm_dense(w.data(), 64, 64, x.data(), 2, y.data(), {.split_k = -2}), std::invalid_argument);
  EXPECT_THROW(gemm_dense(w.data(), -1, 64, x.data(), 2, y.data()), std::invalid_argument);
  cw.median_offsets[2] += 1;
  EXPECT_THROW(emu::zipgemm(cw, x.data(), 2, y.data()), FormatError);
}

// Validating once at load and multiplying through the handle gives the same bits as the
// validating call, and the handle cannot be made from a damaged matrix.
TEST(ZipGemm, ValidatedWeightsGiveTheSameBitsAndRejectDamage) {
  const int64_t m = 130, k = 200, n = 3;
  const std::vector<uint16_t> w = gaussian_bf16(m, k, 0.02f, 71), x = gaussian_bf16(n, k, 1.0f, 72);
  CompressedMatrix cw = encode(w.data(), m, k);
  std::vector<uint16_t> checked(static_cast<size_t>(m * n)), once(static_cast<size_t>(m * n), 0xDEAD);
  emu::zipgemm(cw, x.data(), n, checked.data());
  const ValidatedWeights weights(cw);
  EXPECT_EQ(&weights.matrix(), &cw);
  emu::zipgemm(weights, x.data(), n, once.data());
  EXPECT_EQ(once, checked);
  cw.global_offsets[2] += 16;
  EXPECT_THROW(ValidatedWeights{cw}, FormatError);
}

}  // namespace
}  // namespace zipserv::emu::test
