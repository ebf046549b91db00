// The engine registry: built-ins first, plug-ins by name, replace and remove.
#include <gtest/gtest.h>

#include <algorithm>

#include "zipserv/oracle/builtin_engines.h"
#include "zipserv/oracle/engine.h"

namespace zipserv::oracle {
namespace {

bool has(const std::vector<std::string>& names, const std::string& n) {
  return std::find(names.begin(), names.end(), n) != names.end();
}

TEST(OracleRegistry, BuiltinsComeFirstAndMatchTheBuild) {
  const std::vector<std::string> names = registered_engines();
  ASSERT_FALSE(names.empty());
  EXPECT_EQ(names.front(), "reference");
  // The emulation runs on every machine; "cuda" is always listed, so that `zipserv check` can
  // say why it is skipped.
  ASSERT_TRUE(has(names, "emulation"));
  ASSERT_TRUE(has(names, "emulation-split-k4"));
  EXPECT_EQ(make_engine("emulation")->unavailable_reason(), "");
  ASSERT_TRUE(has(names, "cuda"));
  if (!cuda_built()) {
    EXPECT_NE(make_engine("cuda")->unavailable_reason().find("not built"), std::string::npos);
  }
  // The CUDA kernels on cuda-sim run in every build, on every machine.
  ASSERT_TRUE(has(names, "cuda-sim"));
  ASSERT_TRUE(has(names, "cuda-sim-split-k"));
  EXPECT_EQ(make_engine("cuda-sim")->unavailable_reason(), "");
  EXPECT_TRUE(has(names, "cuda-sim-3stage")) << "the kernel-variant plug-in registers itself";
  EXPECT_TRUE(has(names, "random-access")) << "the plug-in example registers itself";
  EXPECT_EQ(make_engine("reference")->name(), "reference");
  EXPECT_EQ(make_engine("no-such-engine"), nullptr);
}

TEST(OracleRegistry, RegisterReplaceAndRemove) {
  class Named final : public Engine {
   public:
    explicit Named(std::string n) : n_(std::move(n)) {}
    std::string name() const override { return n_; }

   private:
    std::string n_;
  };
  EXPECT_TRUE(register_engine("test-engine", [] { return std::make_unique<Named>("first"); }));
  EXPECT_EQ(make_engine("test-engine")->name(), "first");
  register_engine("test-engine", [] { return std::make_unique<Named>("second"); });
  EXPECT_EQ(make_engine("test-engine")->name(), "second");
  const std::vector<std::string> names = registered_engines();
  EXPECT_EQ(std::count(names.begin(), names.end(), "test-engine"), 1) << "replaced, not added twice";
  EXPECT_TRUE(unregister_engine("test-engine"));
  EXPECT_FALSE(unregister_engine("test-engine"));
  EXPECT_EQ(make_engine("test-engine"), nullptr);
}

}  // namespace
}  // namespace zipserv::oracle
