// The oracle's self-test: the reference engine against the reference's own checkpoints must
// pass every checkpoint of every corpus case, and so must the independent random-access decoder.
#include <gtest/gtest.h>

#include "corpus_expectations.h"
#include "zipserv/oracle/builtin_engines.h"

namespace zipserv::oracle::test {
namespace {

TEST(OracleSelfTest, CorpusCoversEveryPartAndTheFixtures) {
  EXPECT_EQ(exhaustive_cases().size(), 4u);
  EXPECT_EQ(shape_cases().size(), 13u);
  EXPECT_EQ(adversarial_cases().size(), 5u);
  // Every 2-D BF16 tensor of the fixtures (PROVENANCE.md: 47 + 30 tensors, of which 36 + 11
  // are 2-D matrices; the rest are 1-D norms and biases).
  size_t stories = 0, use_lite = 0;
  for (const Expected& e : corpus_expectations()) {
    stories += e.input.name.rfind("stories260K/", 0) == 0;
    use_lite += e.input.name.rfind("use-lite-en/", 0) == 0;
  }
  EXPECT_EQ(stories, 36u);
  EXPECT_EQ(use_lite, 11u);
  EXPECT_EQ(corpus_expectations().size(), 4u + 13u + 5u + 36u + 11u);
}

TEST(OracleSelfTest, ForcedWindowsAreTheOnesAsked) {
  EXPECT_EQ(expectation_named("all_patterns_window_lo_0").compressed.start_exp, 255);
  EXPECT_EQ(expectation_named("all_patterns_window_lo_1").compressed.start_exp, 0);
  EXPECT_EQ(expectation_named("all_patterns_window_lo_249").compressed.start_exp, 248);
  EXPECT_EQ(expectation_named("window_at_0_zeros_subnormals").compressed.start_exp, 255);
  // all_fallback: nothing inside the window, so no high-frequency byte at all.
  const Expected& fallback = expectation_named("all_fallback");
  for (size_t f = 0; f < fallback.compressed.bitmap1.size(); ++f)
    ASSERT_EQ(fallback.compressed.bitmap1[f] | fallback.compressed.bitmap2[f] | fallback.compressed.bitmap3[f], 0u);
  EXPECT_EQ(fallback.compressed.sign_mantissa.size(), 0u);
  // all_inside: no fallback value except block-tile alignment padding (none: 4096 % 8 == 0).
  EXPECT_EQ(expectation_named("all_inside").compressed.full.size(), 0u);
}

TEST(OracleSelfTest, ReferencePassesEveryCheckpointOfTheWholeCorpus) {
  const auto engine = make_reference_engine();
  for (const Expected& e : corpus_expectations()) {
    const Report r = check(*engine, e);
    ASSERT_EQ(r.results.size(), kCheckpoints.size());
    for (const CheckpointResult& c : r.results)
      EXPECT_EQ(c.status, Status::pass) << e.input.name << " " << checkpoint_name(c.checkpoint) << "\n"
                                        << format_text(r);
  }
}

TEST(OracleSelfTest, RandomAccessDecoderPassesTheWholeCorpus) {
  const auto engine = make_engine("random-access");
  ASSERT_NE(engine, nullptr) << "the plug-in example did not register";
  expect_engine_passes_corpus(*engine);
  const Report r = check(*engine, expectation_named("m_eq_64_k_eq_64"));
  EXPECT_EQ(r.at(Checkpoint::window).status, Status::not_applicable);
  EXPECT_EQ(r.at(Checkpoint::lane_fragments).status, Status::pass);
  EXPECT_EQ(r.at(Checkpoint::decoded).status, Status::pass);
  EXPECT_EQ(r.at(Checkpoint::gemm_output).status, Status::not_applicable);
}

}  // namespace
}  // namespace zipserv::oracle::test
