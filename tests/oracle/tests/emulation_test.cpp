// The CPU emulation through the oracle: every corpus case, every checkpoint it reports.
// split_k = 1 keeps the reference order, so its GEMM is compared bit for bit on every input;
// split-K 4 is another order, compared by the exact-input rule and the bound (gemm_rule.h).
#include <gtest/gtest.h>

#include "corpus_expectations.h"
#include "zipserv/oracle/builtin_engines.h"

namespace zipserv::oracle::test {
namespace {

TEST(OracleEmulation, PassesTheWholeCorpusBitForBit) {
  const auto engine = make_emulation_engine(1);
  ASSERT_EQ(engine->gemm_contract().order, SummationOrder::reference);
  expect_engine_passes_corpus(*engine);
  // It reports the weight-side checkpoints it has: lane fragments, decode and GEMM.
  const Report r = check(*engine, expectation_named("m_lt_128_k_gt_128"));
  EXPECT_EQ(r.at(Checkpoint::lane_fragments).status, Status::pass);
  EXPECT_EQ(r.at(Checkpoint::decoded).status, Status::pass);
  EXPECT_EQ(r.at(Checkpoint::gemm_output).status, Status::pass);
}

TEST(OracleEmulation, SplitKPassesTheWholeCorpusUnderTheReorderingRule) {
  const auto engine = make_emulation_engine(4);
  ASSERT_EQ(engine->gemm_contract().order, SummationOrder::other);
  expect_engine_passes_corpus(*engine);
}

}  // namespace
}  // namespace zipserv::oracle::test
