/*! \file corpus_expectations.h
 *  \brief The reference's checkpoints for the whole corpus, computed once per test program and
 *         shared by every test that runs an engine over it.
 */
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "zipserv/oracle/corpus.h"
#include "zipserv/oracle/oracle.h"
#include "zipserv/oracle/report_format.h"

namespace zipserv::oracle::test {

/// The activation seed of a case: FNV-1a of its name, so a case gets the same inputs whether it
/// is built alone or with the whole corpus.
inline uint64_t seed_of(const std::string& name) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char ch : name) h = (h ^ ch) * 0x100000001b3ull;
  return h;
}

/// The expectation of one case, computed with its standard inputs.
inline Expected expect_case(const Case& c) { return expect(c, standard_gemm_inputs(c.cols, seed_of(c.name))); }

/// Expectations for every corpus case (fixtures included), built on first use.
inline const std::vector<Expected>& corpus_expectations() {
  static const std::vector<Expected> all = [] {
    std::vector<Expected> out;
    for (const Case& c : corpus()) out.push_back(expect_case(c));
    return out;
  }();
  return all;
}

/// The expectation of the synthetic corpus case called `name` (fails the test if absent). Built
/// alone and cached, so a test about one case does not pay for loading the fixtures.
inline const Expected& expectation_named(const std::string& name) {
  static std::map<std::string, Expected> cache;
  if (auto it = cache.find(name); it != cache.end()) return it->second;
  for (const Case& c : corpus(CorpusOptions{true, true, true, false}))
    if (c.name == name) return cache.emplace(name, expect_case(c)).first->second;
  ADD_FAILURE() << "no synthetic corpus case " << name;
  static const Expected none = expect_case(shape_cases().front());
  return none;
}

/// Runs `engine` over the whole corpus; every case must pass. Returns the number of cases.
inline size_t expect_engine_passes_corpus(const Engine& engine) {
  size_t cases = 0;
  for (const Expected& e : corpus_expectations()) {
    const Report r = check(engine, e);
    EXPECT_TRUE(r.passed()) << format_text(r);
    ++cases;
  }
  return cases;
}

}  // namespace zipserv::oracle::test
