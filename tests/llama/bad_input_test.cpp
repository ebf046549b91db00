// Models and options the forward pass cannot use: each gets one line naming what is wrong.
#include <gtest/gtest.h>

#include "llama_test_util.h"
#include "zipserv/llama/matmul_engine.h"
#include "zipserv/llama/transformer.h"
#include "zipserv/llama/weights.h"

namespace {

using namespace zipserv::llama;
using zipserv::test::ScratchDir;
using zipserv::test::write_variant;

// Runs `body`, which must throw LlamaError with a one-line message containing `words`.
template <typename Body>
void expect_one_line_error(Body body, const std::string& words) {
  try {
    body();
    ADD_FAILURE() << "no error; expected one naming: " << words;
  } catch (const LlamaError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(words), std::string::npos) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
  }
}

void expect_load_error(const std::function<void(std::map<std::string, std::string>&)>& edit_metadata,
                       const std::function<void(std::vector<zipserv::st::TensorData>&)>& edit_tensors,
                       const std::string& words) {
  ScratchDir dir;
  const std::string path = dir.file("variant.safetensors");
  write_variant(path, edit_metadata, edit_tensors);
  expect_one_line_error([&] { (void)load_weights(path, WeightForm::compressed); }, words);
}

TEST(BadInput, ModelWithoutConfigMetadata) {
  for (const char* key : kConfigKeys)
    expect_load_error([&](auto& m) { m.erase(key); }, {}, std::string("has no \"") + key + "\"");
  expect_load_error([](auto& m) { m.clear(); }, {}, "has no \"dim\"");
}

TEST(BadInput, ConfigValuesThatCannotBeRight) {
  expect_load_error([](auto& m) { m.insert_or_assign("dim", std::string("sixty-four")); }, {}, "\"dim\" is \"sixty-four\"");
  expect_load_error([](auto& m) { m.insert_or_assign("n_heads", std::string("0")); }, {}, "\"n_heads\" is \"0\"");
  expect_load_error([](auto& m) { m.insert_or_assign("n_heads", std::string("7")); }, {}, "not a multiple of n_heads");
  expect_load_error([](auto& m) { m.insert_or_assign("n_kv_heads", std::string("3")); }, {}, "not a multiple of n_kv_heads");
  expect_load_error([](auto& m) { m.insert_or_assign("architecture", std::string("gpt2")); }, {}, "architecture \"gpt2\"");
}

TEST(BadInput, NonLlamaLayouts) {
  // Another architecture altogether (the bundled sentence encoder says so in its metadata).
  expect_one_line_error([] { (void)load_weights(zipserv::test::fixture("use-lite-en.safetensors"), WeightForm::original); },
                        "architecture");
  // A Llama config over tensors that do not match it.
  expect_load_error({}, [](auto& t) {
    for (auto& x : t) if (x.decl.name == "layers.2.attention.wq.weight") x.decl.name = "layers.2.attention.q_proj.weight";
  }, "has no tensor \"layers.2.attention.wq.weight\"");
  expect_load_error([](auto& m) { m.insert_or_assign("hidden_dim", std::string("128")); }, {},
                    "\"layers.0.feed_forward.w1.weight\" has shape [172, 64], the config says [128, 64]");
  expect_load_error([](auto& m) { m.insert_or_assign("n_layers", std::string("4")); }, {}, "more layers than n_layers = 4");
  expect_load_error([](auto& m) { m.insert_or_assign("n_layers", std::string("6")); }, {}, "has no tensor \"layers.5.attention_norm.weight\"");
  expect_load_error([](auto& m) { m.insert_or_assign("vocab_size", std::string("500")); }, {}, "\"tok_embeddings.weight\" has shape [512, 64]");
}

TEST(BadInput, CompressedModelWithoutConfigToo) {
  // The compressed model carries the original metadata; without it, the same error.
  ScratchDir dir;
  write_variant(dir.file("plain.safetensors"), [](auto& m) { m.erase("n_kv_heads"); });
  zipserv::st::compress_file(dir.file("plain.safetensors"), dir.file("packed.safetensors"));
  expect_one_line_error([&] { (void)load_weights(dir.file("packed.safetensors"), WeightForm::compressed); },
                        "has no \"n_kv_heads\"");
}

TEST(BadInput, VocabularyMismatch) {
  expect_one_line_error([] { (void)Tokenizer::load(zipserv::test::tokenizer_path(), 1000); },
                        "vocabulary mismatch: tokenizer");
}

TEST(BadInput, UnknownEngineListsTheAvailableOnes) {
  expect_one_line_error([] { (void)make_engine("tpu"); }, "unknown engine \"tpu\" (available: reference, emulation");
  const std::vector<std::string> names = engine_names();
  ASSERT_GE(names.size(), 2u);
  EXPECT_EQ(names[0], "reference");
  EXPECT_EQ(names[1], "emulation");
  EXPECT_EQ(std::string(kDefaultEngine), "emulation");
}

TEST(BadInput, TokensAndPositionsOutsideTheModel) {
  const LlamaWeights w = load_weights(zipserv::test::model_path(), WeightForm::original);
  const auto e = make_engine("reference");
  Transformer t(w, *e, 4);
  const int outside = 512;
  expect_one_line_error([&] { (void)t.forward(&outside, 1, 0); }, "token 512 is outside the vocabulary of 512");
  const int tokens[5] = {1, 2, 3, 4, 5};
  expect_one_line_error([&] { (void)t.forward(tokens, 5, 0); }, "past the KV cache of 4 positions");
}

}  // namespace
