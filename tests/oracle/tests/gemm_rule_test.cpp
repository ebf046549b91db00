// The GEMM rules: when bit-exactness is demanded of an engine that adds in another order, and
// that the bound accepts honest reorderings while rejecting real mistakes.
#include <gtest/gtest.h>

#include <cmath>
#include <optional>

#include "corpus_expectations.h"
#include "zipserv/oracle/gemm_rule.h"
#include "zipserv/reference/bf16.h"
#include "zipserv/reference/decode.h"
#include "zipserv/reference/gemm.h"

namespace zipserv::oracle::test {
namespace {

// Adds the products in reverse order (k = K-1 down to 0): a legitimate, different order.
// With `swap_tokens` it also reads X's tokens 0 and 1 swapped: a real indexing bug.
class ReverseOrderGemmEngine final : public Engine {
 public:
  explicit ReverseOrderGemmEngine(bool swap_tokens = false) : swap_tokens_(swap_tokens) {}
  std::string name() const override { return swap_tokens_ ? "swapped-tokens" : "reverse-order"; }
  std::optional<std::vector<uint16_t>> gemm(const CompressedMatrix& w, const uint16_t* x, int64_t n) const override {
    const std::vector<uint16_t> dense = zipserv::decode(w);
    std::vector<uint16_t> y(static_cast<size_t>(w.rows * n));
    for (int64_t col = 0; col < n; ++col) {
      const int64_t token = swap_tokens_ && col < 2 && n > 1 ? 1 - col : col;
      for (int64_t row = 0; row < w.rows; ++row) {
        float acc = 0.0f;
        for (int64_t i = w.cols - 1; i >= 0; --i)
          acc += bf16_to_float(dense[row * w.cols + i]) * bf16_to_float(x[token * w.cols + i]);
        y[col * w.rows + row] = float_to_bf16_rne(acc);
      }
    }
    return y;
  }
  GemmContract gemm_contract() const override { return {SummationOrder::other, 0}; }

 private:
  bool swap_tokens_;
};

TEST(OracleGemmRule, ExactAccumulationHoldsForIntegersOnly) {
  const GemmContract fp32{SummationOrder::other, 0};
  const Expected& ints = expectation_named("small_integer_weights");
  EXPECT_TRUE(exact_accumulation(ints.gemm[0], fp32));    // integer X
  EXPECT_FALSE(exact_accumulation(ints.gemm[1], fp32));   // real X
  // BF16 partials hold 8 bits: sums of 200 products up to 64 do not fit.
  EXPECT_FALSE(exact_accumulation(ints.gemm[0], {SummationOrder::other, 4}));
  EXPECT_FALSE(exact_accumulation(expectation_named("m_eq_64_k_eq_64").gemm[0], fp32));  // real W
  EXPECT_FALSE(exact_accumulation(expectation_named("all_patterns_window_best").gemm[0], fp32));  // NaN, Inf
}

TEST(OracleGemmRule, ReverseOrderIsExactOnIntegersAndInsideTheBoundOnRealWeights) {
  const ReverseOrderGemmEngine engine;
  for (const char* name : {"small_integer_weights", "m_eq_16_k_4096", "m_lt_128_k_gt_128", "all_patterns_window_best"}) {
    const Report r = check(engine, expectation_named(name));
    EXPECT_EQ(r.at(Checkpoint::gemm_output).status, Status::pass) << format_text(r);
  }
}

// W = (2^24, 1, -2^24), X = (1, 1, 1): in order, 2^24 + 1 rounds back to 2^24 (a tie, to even)
// and the sum is 0; in reverse, -2^24 + 1 is exact and the sum is 1. One output, two orders.
Expected cancellation_case() {
  Case c{"cancellation", 1, 3, {float_to_bf16_rne(16777216.0f), 0x3f80, float_to_bf16_rne(-16777216.0f)}, std::nullopt};
  return expect(c, {GemmInput{"ones", 1, {0x3f80, 0x3f80, 0x3f80}}});
}

TEST(OracleGemmRule, ReverseOrderIsNotTheReferenceOrder) {
  // Claiming the reference order while adding in reverse is caught at the one output.
  class Liar final : public Engine {
   public:
    std::string name() const override { return "liar"; }
    std::optional<std::vector<uint16_t>> gemm(const CompressedMatrix& w, const uint16_t* x, int64_t n) const override {
      return ReverseOrderGemmEngine().gemm(w, x, n);
    }
  };
  const Expected e = cancellation_case();
  const Report r = check(Liar(), e);
  ASSERT_EQ(r.at(Checkpoint::gemm_output).status, Status::fail);
  EXPECT_EQ(r.first_divergence()->expected, 0x0000u);  // 0
  EXPECT_EQ(r.first_divergence()->actual, 0x3f80u);    // 1
  EXPECT_NE(r.first_divergence()->note.find("reference summation order"), std::string::npos);
  // Declared honestly, the same result is inside the bound: the reference's own error (|0 - 1|,
  // doubled) is part of it, and S = 2^25 + 1 is far from exact accumulation (2^24 g, g = 1).
  ASSERT_FALSE(exact_accumulation(e.gemm[0], {SummationOrder::other, 0}));
  EXPECT_TRUE(check(ReverseOrderGemmEngine(), e).passed());
}

TEST(OracleGemmRule, SwappedTokensAreOutsideTheBound) {
  for (const char* name : {"m_eq_64_k_eq_64", "small_integer_weights"}) {
    const Report r = check(ReverseOrderGemmEngine(true), expectation_named(name));
    ASSERT_EQ(r.at(Checkpoint::gemm_output).status, Status::fail) << name;
    EXPECT_LE(r.first_divergence()->place.col, 1) << name;
  }
}

// An engine in the reference order that rewrites every NaN output through `nan_to`, and, when
// `break_first_number` is set, also writes that value over the first output that is a number.
class NanRewritingEngine final : public Engine {
 public:
  NanRewritingEngine(GemmContract contract, uint16_t (*nan_to)(uint16_t), std::optional<uint16_t> break_first_number)
      : contract_(contract), nan_to_(nan_to), break_first_number_(break_first_number) {}
  std::string name() const override { return "nan-rewriting"; }
  std::optional<std::vector<uint16_t>> gemm(const CompressedMatrix& w, const uint16_t* x, int64_t n) const override {
    std::vector<uint16_t> y(static_cast<size_t>(w.rows * n));
    zipserv::zipgemm(w, x, n, y.data());
    bool broken = false;
    for (uint16_t& v : y) {
      if (is_nan_bf16(v)) v = nan_to_(v);
      else if (break_first_number_ && !broken) v = *break_first_number_, broken = true;
    }
    return y;
  }
  GemmContract gemm_contract() const override { return contract_; }

 private:
  GemmContract contract_;
  uint16_t (*nan_to_)(uint16_t);
  std::optional<uint16_t> break_first_number_;
};

GemmContract reference_order(bool canonical_nan, bool nan_payload_of_fp_unit) {
  GemmContract c{SummationOrder::reference, 0, canonical_nan};
  c.nan_payload_of_fp_unit = nan_payload_of_fp_unit;
  return c;
}

// An engine in the reference order whose final rounding writes NaNs as the GPU's canonical 0x7FFF:
// declared (canonical_nan) it passes; undeclared, the payload difference is a divergence; and a
// canonical NaN where the reference has a number, or another payload, is caught either way.
TEST(OracleGemmRule, CanonicalNanIsAcceptedOnlyWhereDeclaredAndOnlyForNaN) {
  const auto canonical = [](uint16_t) -> uint16_t { return 0x7FFF; };
  const auto other_payload = [](uint16_t) -> uint16_t { return 0x7FC1; };
  const Expected& e = expectation_named("all_patterns_window_best");  // NaN and Inf weights: NaN outputs
  EXPECT_TRUE(check(NanRewritingEngine(reference_order(true, false), canonical, std::nullopt), e).passed());
  EXPECT_FALSE(check(NanRewritingEngine(reference_order(false, false), canonical, std::nullopt), e).passed());
  EXPECT_FALSE(check(NanRewritingEngine(reference_order(true, false), other_payload, std::nullopt), e).passed());
  EXPECT_FALSE(check(NanRewritingEngine(reference_order(true, false), canonical, 0x7FFF), e).passed());
}

// An engine in the reference order that gives every NaN output another NaN payload: declared
// (nan_payload_of_fp_unit) it passes where the inputs carry several NaN patterns, and only there;
// undeclared it fails; a NaN where the reference has a number is caught either way.
TEST(OracleGemmRule, NanPayloadIsFreeOnlyWhereDeclaredAndTheInputsCarrySeveralNaNs) {
  const auto another_nan = [](uint16_t v) -> uint16_t {
    return static_cast<uint16_t>((v & 0xFF80u) | ((v & 0x7Fu) == 0x55u ? 0x2Au : 0x55u));
  };
  const Expected& e = expectation_named("all_patterns_window_best");  // every NaN pattern among the weights
  bool has_nan_output = false;
  for (const GemmExpectation& g : e.gemm) {
    EXPECT_GT(g.nan_patterns, 1) << g.input;
    for (uint16_t v : g.reference) has_nan_output = has_nan_output || is_nan_bf16(v);
  }
  ASSERT_TRUE(has_nan_output);
  EXPECT_TRUE(check(NanRewritingEngine(reference_order(false, true), another_nan, std::nullopt), e).passed());
  EXPECT_FALSE(check(NanRewritingEngine(reference_order(false, false), another_nan, std::nullopt), e).passed());
  EXPECT_FALSE(check(NanRewritingEngine(reference_order(false, true), another_nan, 0x7FC0), e).passed());
  // One NaN pattern in the inputs: the payload is specified, so another one is a divergence.
  std::vector<uint16_t> w(64 * 64, 0x3F80), x(64, 0x3F80);  // ones
  w[5] = 0x7FC1;                                            // a single NaN pattern
  GemmExpectation single = expect_gemm("one_nan", w, 64, 64, x, 1);
  EXPECT_EQ(single.nan_patterns, 1);
  std::vector<uint16_t> other = single.reference;
  ASSERT_TRUE(is_nan_bf16(other[0]));
  other[0] = 0x7FC3;
  std::string rule;
  EXPECT_TRUE(compare_gemm(single, other, reference_order(false, true), rule).has_value()) << rule;
}

TEST(OracleGemmRule, BoundIsTheStatedFormula) {
  // One output by hand: allowed = 2|r - y| + gamma_K S + ulp_bf16(|y| + gamma_K S).
  const Expected& e = expectation_named("m_lt_16_k_gt_16");
  const GemmExpectation& g = e.gemm[1];
  const double u = std::ldexp(1.0, -23), gamma = 17 * u / (1 - 17 * u);
  EXPECT_DOUBLE_EQ(allowed_error_gamma(17), gamma);
  const double y = g.exact[0], s = g.abs_sum[0], r = bf16_to_float(g.reference[0]);
  int exp2;
  std::frexp(std::fabs(y) + gamma * s, &exp2);
  const double ulp = std::ldexp(1.0, exp2 - 8);
  EXPECT_DOUBLE_EQ(allowed_error(g, 0, {SummationOrder::other, 0}), 2 * std::fabs(r - y) + gamma * s + ulp);
  EXPECT_DOUBLE_EQ(allowed_error(g, 0, {SummationOrder::other, 2}),
                   2 * std::fabs(r - y) + gamma * s + 2 * std::ldexp(s, -8) + ulp);
}

}  // namespace
}  // namespace zipserv::oracle::test
