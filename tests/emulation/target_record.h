/*! \file target_record.h
 *  \brief Which Highway targets the emulation tests ran on, recorded and checked: a machine
 *         without AVX-512 must say so visibly instead of passing as if the AVX3_DL path had run.
 *
 *  The expected set is predicted from the CPU's feature flags (__builtin_cpu_supports), not from
 *  Highway's own detection, and compared with the targets gtest actually instantiated a suite
 *  for. ZIPSERV_RECORD_TARGETS(Suite) adds the test to a file with a target-parameterized suite.
 */
#pragma once

#include <gtest/gtest.h>

#include <cstdio>
#include <set>
#include <string>

#include "hwy/highway.h"
#include "hwy/targets.h"

namespace zipserv::emu::test {

/// Empty if this CPU has everything Highway's x86 target `target` needs, else the missing flags.
inline std::string missing_cpu_features(int64_t target) {
#if defined(__x86_64__) && defined(__GNUC__)
  __builtin_cpu_init();
  std::string missing;
  auto need = [&missing](bool present, const char* flag) {
    if (!present) missing += std::string(missing.empty() ? "" : " ") + flag;
  };
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi") && __builtin_cpu_supports("bmi2") &&
                    __builtin_cpu_supports("fma");
  const bool avx3 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
                    __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw");
  switch (target) {
    case HWY_AVX3_DL:  // AVX3's flags and these
      need(__builtin_cpu_supports("avx512vnni"), "avx512vnni");
      need(__builtin_cpu_supports("avx512vbmi"), "avx512vbmi");
      need(__builtin_cpu_supports("avx512vbmi2"), "avx512vbmi2");
      need(__builtin_cpu_supports("avx512vpopcntdq"), "avx512vpopcntdq");
      need(__builtin_cpu_supports("avx512bitalg"), "avx512bitalg");
      need(__builtin_cpu_supports("vpclmulqdq"), "vpclmulqdq");
      need(__builtin_cpu_supports("gfni"), "gfni");
      need(__builtin_cpu_supports("vaes"), "vaes");
      [[fallthrough]];
    case HWY_AVX3:
      need(avx3, "avx512f/vl/dq/bw");
      [[fallthrough]];
    case HWY_AVX2:
      need(avx2, "avx2/bmi/bmi2/fma");
      [[fallthrough]];
    case HWY_SSE4:
      need(__builtin_cpu_supports("sse4.2") && __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("aes"),
           "sse4.2/pclmul/aes");
      [[fallthrough]];
    case HWY_SSSE3:
      need(__builtin_cpu_supports("ssse3"), "ssse3");
      break;
    default:
      break;  // EMU128 and SCALAR run everywhere
  }
  return missing;
#else
  (void)target;
  return "";
#endif
}

/// The targets gtest instantiated the target-parameterized suite `suite` for (test names end in
/// "/<TARGET>").
inline std::set<std::string> instantiated_targets(const std::string& suite) {
  std::set<std::string> out;
  const ::testing::UnitTest& unit = *::testing::UnitTest::GetInstance();
  for (int i = 0; i < unit.total_test_suite_count(); ++i) {
    const ::testing::TestSuite& s = *unit.GetTestSuite(i);
    const std::string name = s.name();
    if (name != suite && name.find("/" + suite) == std::string::npos) continue;
    for (int j = 0; j < s.total_test_count(); ++j) {
      const std::string test = s.GetTestInfo(j)->name();
      const size_t slash = test.rfind('/');
      if (slash != std::string::npos) out.insert(test.substr(slash + 1));
    }
  }
  return out;
}

/// Prints the targets `suite` ran on and those compiled but not run (with the missing CPU flags),
/// records both as test properties, and expects the ran set to be exactly the compiled targets
/// this CPU supports.
inline void expect_suite_ran_every_supported_target(const std::string& suite) {
#if !(defined(__x86_64__) && defined(__GNUC__))
  GTEST_SKIP() << "the CPU-flag prediction covers x86-64 only";
#endif
  const std::set<std::string> ran = instantiated_targets(suite);
  std::set<std::string> expected;
  std::string ran_text, skipped_text;
  for (int64_t targets = HWY_TARGETS; targets != 0; targets &= targets - 1) {
    const int64_t target = targets & -targets;
    const std::string name = hwy::TargetName(target);
    const std::string missing = missing_cpu_features(target);
    if (missing.empty()) {
      expected.insert(name);
    } else {
      skipped_text += std::string(skipped_text.empty() ? "" : "; ") + name + " (CPU lacks " + missing + ")";
    }
  }
  for (const std::string& name : ran) ran_text += std::string(ran_text.empty() ? "" : " ") + name;
  std::printf("[targets] %s ran on: %s\n[targets] %s compiled but NOT run on this CPU: %s\n", suite.c_str(),
              ran_text.c_str(), suite.c_str(), skipped_text.empty() ? "none" : skipped_text.c_str());
  ::testing::Test::RecordProperty("targets_run", ran_text);
  ::testing::Test::RecordProperty("targets_not_run", skipped_text.empty() ? "none" : skipped_text);
  EXPECT_EQ(ran, expected) << "the suite did not run on exactly the compiled targets this CPU supports";
  EXPECT_FALSE(ran.empty());
}

}  // namespace zipserv::emu::test

/// Adds Suite##Record.ran_on_every_target_this_cpu_supports for the parameterized suite `Suite`.
#define ZIPSERV_RECORD_TARGETS(Suite)                                        \
  TEST(Suite##Record, ran_on_every_target_this_cpu_supports) {              \
    ::zipserv::emu::test::expect_suite_ran_every_supported_target(#Suite); \
  }
