// The CUDA kernels through the oracle: on the GPU (label gpu as well: skipped, visibly, without a
// build with CUDA or without a device) and on cuda-sim, which runs the same kernels everywhere,
// under every numerics.
#include <gtest/gtest.h>

#include "corpus_expectations.h"
#include "zipserv/oracle/builtin_engines.h"

namespace zipserv::oracle::test {
namespace {

TEST(OracleCuda, PassesTheWholeCorpus) {
  if (!cuda_built()) GTEST_SKIP() << "the GPU kernels are not part of this build (cuda-sim runs them: OracleCudaSim)";
  const auto engine = make_cuda_engine();
  if (const std::string why = engine->unavailable_reason(); !why.empty()) GTEST_SKIP() << why;
  expect_engine_passes_corpus(*engine);
}

TEST(OracleCuda, SmallIntegerWeightsMatchTheReferenceBitForBit) {
  if (!cuda_built()) GTEST_SKIP() << "the GPU kernels are not part of this build (cuda-sim runs them: OracleCudaSim)";
  const auto engine = make_cuda_engine();
  if (const std::string why = engine->unavailable_reason(); !why.empty()) GTEST_SKIP() << why;
  // Tensor cores add in their own order, but with integer weights and activations every partial
  // sum is exact, so the rule demands identical bits (gemm_rule.h, rule 2).
  const Expected& e = expectation_named("small_integer_weights");
  ASSERT_TRUE(exact_accumulation(e.gemm[0], engine->gemm_contract()));
  const Report r = check(*engine, e);
  EXPECT_EQ(r.at(Checkpoint::gemm_output).status, Status::pass) << format_text(r);
}

TEST(OracleCuda, CublasPassesTheWholeCorpus) {
  if (!cuda_built()) GTEST_SKIP() << "the GPU kernels are not part of this build";
  const auto engine = make_cublas_engine();
  if (const std::string why = engine->unavailable_reason(); !why.empty()) GTEST_SKIP() << why;
  expect_engine_passes_corpus(*engine);
}

// The real kernels on cuda-sim: with ieee_sequential numerics and one split their GEMM adds in the
// reference's order, so the oracle demands the reference's bits on every input of the corpus.
TEST(OracleCudaSim, PassesTheWholeCorpusInTheReferenceOrder) {
  const auto engine = make_cuda_sim_engine(1);
  ASSERT_EQ(engine->unavailable_reason(), "");
  ASSERT_EQ(engine->gemm_contract().order, SummationOrder::reference);
  expect_engine_passes_corpus(*engine);
}

TEST(OracleCudaSim, SplitKPassesTheWholeCorpus) { expect_engine_passes_corpus(*make_cuda_sim_engine(0)); }

// Under a tensor-core model the order is the model's: exact inputs must still give exact bits,
// and the rest stays within the oracle's bound.
TEST(OracleCudaSim, EveryTensorCoreModelPassesTheWholeCorpus) {
  for (const MmaNumerics n : {MmaNumerics::sm80, MmaNumerics::sm89, MmaNumerics::sm90}) {
    SCOPED_TRACE(std::string(numerics_name(n)));
    const auto engine = make_cuda_sim_engine(1, n);
    EXPECT_EQ(engine->gemm_contract().order, SummationOrder::other);
    EXPECT_EQ(engine->numerics(), std::string(numerics_name(n)));
    expect_engine_passes_corpus(*engine);
  }
}

}  // namespace
}  // namespace zipserv::oracle::test
