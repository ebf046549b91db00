// Checks engines against the reference with zipserv's oracle, case by case, and exits with the
// verdict: 0 every engine passed every case, 1 a mismatch (the first divergence is printed),
// 2 bad arguments.
//
//   check_engines [--engine NAME]... [MODEL.safetensors]
//
// Without --engine: "reference" (the oracle's self-check) and this project's "split-k2". The
// cases are the oracle's synthetic corpus (every BF16 pattern, every tile edge, adversarial
// windows) and, when MODEL is given, each 2-D BF16 tensor of that file.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "zipserv/oracle/corpus.h"
#include "zipserv/oracle/engine.h"
#include "zipserv/oracle/oracle.h"

namespace {

int usage(const char* why) {
  std::fprintf(stderr, "check_engines: %s\nusage: check_engines [--engine NAME]... [MODEL.safetensors]\n", why);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace zipserv::oracle;
  std::vector<std::string> engines;
  std::string model;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--engine") == 0 && i + 1 < argc) {
      engines.push_back(argv[++i]);
    } else if (argv[i][0] == '-' || !model.empty()) {
      return usage((std::string("unexpected argument \"") + argv[i] + "\"").c_str());
    } else {
      model = argv[i];
    }
  }
  if (engines.empty()) engines = {"reference", "split-k2"};

  std::vector<Case> cases = corpus(CorpusOptions{.fixtures = false});
  if (!model.empty())
    for (Case& c : fixture_cases(model)) cases.push_back(std::move(c));
  // The reference's checkpoints, once per case: every engine is compared with the same ones.
  std::vector<Expected> expected;
  for (const Case& c : cases) expected.push_back(expect(c, standard_gemm_inputs(c.cols, 7)));

  bool all_passed = true;
  for (const std::string& name : engines) {
    const auto engine = make_engine(name);
    if (!engine) return usage(("no engine named \"" + name + "\" is registered").c_str());
    if (!engine->unavailable_reason().empty()) {
      std::printf("%-16s skipped: %s\n", name.c_str(), engine->unavailable_reason().c_str());
      all_passed = false;  // asked for by name: skipping it is not a pass
      continue;
    }
    size_t passed = 0;
    bool reported = false;  // the engine's first failing case is printed with its divergence
    for (const Expected& e : expected) {
      const Report r = check(*engine, e);
      if (r.passed()) {
        ++passed;
      } else if (!reported) {
        const Divergence* d = r.first_divergence();
        std::printf("%-16s FAILS on %s: %s\n", name.c_str(), e.input.name.c_str(), d ? d->describe().c_str() : "");
        reported = true;
      }
    }
    std::printf("%-16s %zu/%zu cases pass\n", name.c_str(), passed, expected.size());
    all_passed = all_passed && passed == expected.size();
  }
  return all_passed ? 0 : 1;
}
