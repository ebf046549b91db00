// The llama2.c tokenizer on stories260K's own vocabulary: file checks, encoding rules (BOS, dummy
// prefix, byte fallback, merges by score) and decoding back to the same text.
#include <gtest/gtest.h>

#include <fstream>

#include "llama_test_util.h"
#include "zipserv/llama/config.h"

namespace {

using zipserv::llama::Tokenizer;
using zipserv::test::tokenizer;

TEST(Tokenizer, BundledVocabularyHasTheLlamaSpecialTokens) {
  const Tokenizer& t = tokenizer();
  EXPECT_EQ(t.size(), 512);
  EXPECT_EQ(t.piece(zipserv::llama::kBosToken), "\n<s>\n");
  EXPECT_EQ(t.piece(zipserv::llama::kEosToken), "\n</s>\n");
  EXPECT_EQ(t.piece(3), "<0x00>");
  EXPECT_EQ(t.piece(258), "<0xFF>");
}

TEST(Tokenizer, EncodeStartsWithBosAndTheDummyPrefix) {
  const std::vector<int> tokens = tokenizer().encode("Once upon a time", true);
  ASSERT_GE(tokens.size(), 2u);
  EXPECT_EQ(tokens[0], zipserv::llama::kBosToken);
  // The dummy prefix merged into the first word: its piece starts with a space.
  EXPECT_EQ(tokenizer().piece(tokens[1])[0], ' ');
  EXPECT_TRUE(tokenizer().encode("", true) == std::vector<int>{zipserv::llama::kBosToken});
  EXPECT_TRUE(tokenizer().encode("", false).empty());
}

TEST(Tokenizer, MergesPickTheHighestScoringPair) {
  // " the" is a single token of the vocabulary (id 265, score -6): the merges must reach it
  // through " t" + "he" rather than stopping at the characters.
  const std::vector<int> tokens = tokenizer().encode("the", false);
  ASSERT_EQ(tokens.size(), 1u);
  EXPECT_EQ(tokenizer().piece(tokens[0]), " the");
}

TEST(Tokenizer, UnknownCharactersFallBackToBytes) {
  // U+0436 (two bytes) and U+1F600 (four bytes) are not pieces of this vocabulary; U+00E9 is
  // (token 485), so it stays one token.
  const std::string text = "caf\xC3\xA9 \xD0\xB6 \xF0\x9F\x98\x80";
  const std::vector<int> tokens = tokenizer().encode(text, false);
  int byte_tokens = 0;
  for (const int t : tokens) byte_tokens += (t >= 3 && t <= 258);
  EXPECT_EQ(byte_tokens, 6);
  EXPECT_NE(std::find(tokens.begin(), tokens.end(), 0xD0 + 3), tokens.end());
  EXPECT_NE(std::find(tokens.begin(), tokens.end(), 485), tokens.end());
  EXPECT_NE(std::find(tokens.begin(), tokens.end(), 0x80 + 3), tokens.end());
}

TEST(Tokenizer, DecodeRoundTripsThePrompt) {
  for (const std::string text : {"Once upon a time", "Lily and Ben went to the park.", "caf\xC3\xA9 \xF0\x9F\x98\x80 42!",
                                 "  two spaces, \"quotes\"\nand a newline"}) {
    const std::vector<int> tokens = tokenizer().encode(text, true);
    std::string back;
    for (size_t i = 1; i < tokens.size(); ++i) back += tokenizer().decode(tokens[i - 1], tokens[i]);
    EXPECT_EQ(back, text);
  }
}

TEST(Tokenizer, VocabularyMismatchIsAOneLineError) {
  try {
    (void)Tokenizer::load(zipserv::test::tokenizer_path(), 32000);
    FAIL() << "no error";
  } catch (const zipserv::llama::LlamaError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("vocabulary mismatch"), std::string::npos) << what;
    EXPECT_NE(what.find("512"), std::string::npos) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
  }
}

TEST(Tokenizer, TruncatedFileIsRejected) {
  zipserv::test::ScratchDir dir;
  auto bytes = zipserv::test::read_bytes(zipserv::test::tokenizer_path());
  bytes.resize(bytes.size() - 3);
  zipserv::test::write_bytes(dir.file("cut.bin"), bytes);
  EXPECT_THROW((void)Tokenizer::load(dir.file("cut.bin"), 512), zipserv::llama::LlamaError);
  EXPECT_THROW((void)Tokenizer::load(dir.file("missing.bin"), 512), zipserv::llama::LlamaError);
}

TEST(Tokenizer, Utf8Validation) {
  EXPECT_TRUE(zipserv::llama::is_valid_utf8("plain \xC3\xA9 \xF0\x9F\x98\x80"));
  EXPECT_FALSE(zipserv::llama::is_valid_utf8("\xC3"));          // cut off
  EXPECT_FALSE(zipserv::llama::is_valid_utf8("\xC0\xAF"));      // overlong '/'
  EXPECT_FALSE(zipserv::llama::is_valid_utf8("\xED\xA0\x80"));  // surrogate
  EXPECT_FALSE(zipserv::llama::is_valid_utf8("\xFF"));
}

}  // namespace
