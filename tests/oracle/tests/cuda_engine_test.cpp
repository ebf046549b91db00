// The CUDA kernels through the oracle (label gpu as well): skipped, visibly, without a build
// with CUDA or without a device.
#include <gtest/gtest.h>

#include "corpus_expectations.h"
#include "zipserv/oracle/builtin_engines.h"

namespace zipserv::oracle::test {
namespace {

TEST(OracleCuda, PassesTheWholeCorpus) {
  if (!cuda_built()) GTEST_SKIP() << "zipserv_cuda is not part of this build";
  const auto engine = make_cuda_engine();
  if (const std::string why = engine->unavailable_reason(); !why.empty()) GTEST_SKIP() << why;
  expect_engine_passes_corpus(*engine);
}

TEST(OracleCuda, SmallIntegerWeightsMatchTheReferenceBitForBit) {
  if (!cuda_built()) GTEST_SKIP() << "zipserv_cuda is not part of this build";
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
  if (!cuda_built()) GTEST_SKIP() << "zipserv_cuda is not part of this build";
  const auto engine = make_cublas_engine();
  if (const std::string why = engine->unavailable_reason(); !why.empty()) GTEST_SKIP() << why;
  expect_engine_passes_corpus(*engine);
}

}  // namespace
}  // namespace zipserv::oracle::test
