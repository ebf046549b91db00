// `zipserv generate` as a user runs it: the story streams on stdout and the figures on stderr,
// --compare proves compressed == original (and catches a changed weight), the forms and engines
// print the same text, and every bad input is one line `zipserv: <what is wrong>`.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "cli_test_util.h"
#include "container_test_util.h"
#include "zipserv/container/safetensors.h"
#include "zipserv/container/safetensors_writer.h"

using zipserv::test::fixture;
using zipserv::test::read_bytes;
using zipserv::test::ScratchDir;
using zipserv::test::write_bytes;

namespace {

using zipserv::test::CommandResult;

// Runs `zipserv generate ARGS`; `args` is passed to the shell as written (quote what needs it).
CommandResult generate(const ScratchDir& dir, const std::string& args) {
  return zipserv::test::run_zipserv(dir, "generate " + args);
}

// An error of the run itself: status 1 (a usage error is 2) and one line naming it.
void expect_run_error(const CommandResult& r, const std::string& words) {
  EXPECT_EQ(r.status, 1) << r.err;
  zipserv::test::expect_one_line_error(r, words);
}

const std::string kModel = fixture("stories260K.safetensors");
const std::string kStory = "--prompt 'Once upon a time' --steps 60 --threads 1";

// The bundled model compressed by the command itself.
std::string compress(const ScratchDir& dir) {
  const std::string packed = dir.file("stories260K.zs.safetensors");
  const std::string cmd = std::string(ZIPSERV_CLI_PATH) + " compress " + kModel + " " + packed + " --quiet";
  EXPECT_EQ(std::system(cmd.c_str()), 0);
  return packed;
}

TEST(GenerateCli, StreamsTheStoryThenTheFigures) {
  ScratchDir dir;
  const CommandResult r = generate(dir, compress(dir) + " " + kStory);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(r.out.starts_with("Once upon a time")) << r.out;
  EXPECT_GT(r.out.size(), 150u) << r.out;
  for (const char* line : {"engine emulation", "prefill: 5 tokens", "decode: 59 tokens", "tokens/s",
                           "fused ZipGEMM", "weights read per token by the matmuls: 406,280 bytes compressed, "
                           "518,656 bytes uncompressed BF16 (1.28x fewer)"})
    EXPECT_NE(r.err.find(line), std::string::npos) << line << "\n" << r.err;
}

TEST(GenerateCli, EveryFormAndEngineTellsTheSameStory) {
  ScratchDir dir;
  const std::string packed = compress(dir);
  const CommandResult base = generate(dir, packed + " " + kStory);
  ASSERT_EQ(base.status, 0) << base.err;
  for (const std::string& variant : {kModel + " " + kStory, kModel + " --weights original " + kStory,
                                    packed + " --weights original " + kStory, packed + " --engine reference " + kStory,
                                    kModel + " --engine reference --weights original " + kStory}) {
    const CommandResult r = generate(dir, variant);
    ASSERT_EQ(r.status, 0) << variant << "\n" << r.err;
    EXPECT_EQ(r.out, base.out) << variant;
  }
  const CommandResult original = generate(dir, kModel + " --weights original " + kStory);
  EXPECT_NE(original.err.find("original BF16 weights"), std::string::npos) << original.err;
  EXPECT_EQ(original.err.find("fused ZipGEMM"), std::string::npos) << original.err;
}

TEST(GenerateCli, CompareFindsNoDifferenceIn200Steps) {
  ScratchDir dir;
  const std::string packed = compress(dir);
  for (const std::string engine : {"reference", "emulation"}) {
    const CommandResult r = generate(dir, packed + " --compare --steps 200 --threads 1 --engine " + engine +
                                              " --prompt 'Once upon a time'");
    EXPECT_EQ(r.status, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("identical: "), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("every layer output and every logit bit for bit"), std::string::npos) << r.out;
  }
}

TEST(GenerateCli, CompareNamesTheFirstDifference) {
  // --original names a copy of the model in which one weight of layer 1's wo has its top exponent
  // bit flipped (about 0.01 becomes about 1e36): layer 1's output differs at once.
  ScratchDir dir;
  const zipserv::st::SafetensorsFile file = zipserv::st::SafetensorsFile::open(kModel);
  const zipserv::st::TensorInfo* wo = file.find("layers.1.attention.wo.weight");
  ASSERT_NE(wo, nullptr);
  auto bytes = read_bytes(kModel);
  bytes[file.data_offset() + wo->begin + 2 * 123 + 1] ^= 0x40;  // bit 14 of element 123 (little-endian)
  write_bytes(dir.file("changed.safetensors"), bytes);
  const CommandResult r =
      generate(dir, compress(dir) + " --compare --steps 20 --threads 1 --original " + dir.file("changed.safetensors"));
  EXPECT_EQ(r.status, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("first difference: step 0 (prefill), layer 1 output"), std::string::npos) << r.out;
}

TEST(GenerateCli, SamplingWithASeedIsReproducible) {
  ScratchDir dir;
  const CommandResult a = generate(dir, kModel + " --temperature 0.9 --seed 5 " + kStory);
  const CommandResult b = generate(dir, kModel + " --temperature 0.9 --seed 5 " + kStory);
  const CommandResult greedy = generate(dir, kModel + " " + kStory);
  ASSERT_EQ(a.status, 0) << a.err;
  EXPECT_EQ(a.out, b.out);
  EXPECT_NE(a.out, greedy.out);
}

TEST(GenerateCli, BadInputIsOneLine) {
  ScratchDir dir;
  expect_run_error(generate(dir, kModel + " --engine tpu"), "unknown engine \"tpu\" (available: reference, emulation");
  expect_run_error(generate(dir, fixture("use-lite-en.safetensors")), "architecture");
  expect_run_error(generate(dir, dir.file("missing.safetensors")), "missing.safetensors");

  // A model without its configuration metadata.
  {
    const zipserv::st::SafetensorsFile file = zipserv::st::SafetensorsFile::open(kModel);
    std::vector<zipserv::st::TensorData> tensors;
    for (const auto& t : file.tensors()) {
      const auto b = file.bytes(t);
      tensors.push_back({{t.name, t.dtype, t.shape}, {b.begin(), b.end()}});
    }
    zipserv::st::write_safetensors(dir.file("bare.safetensors"), tensors, {});
    expect_run_error(generate(dir, dir.file("bare.safetensors")), "model metadata has no \"dim\"");
  }

  // A tokenizer with one token too many.
  auto tok = read_bytes(fixture("tok512.bin"));
  const float score = -1000.0f;
  const int32_t length = 1;
  tok.insert(tok.end(), reinterpret_cast<const uint8_t*>(&score), reinterpret_cast<const uint8_t*>(&score) + 4);
  tok.insert(tok.end(), reinterpret_cast<const uint8_t*>(&length), reinterpret_cast<const uint8_t*>(&length) + 4);
  tok.push_back('x');
  write_bytes(dir.file("tok513.bin"), tok);
  expect_run_error(generate(dir, kModel + " --tokenizer " + dir.file("tok513.bin")),
                        "vocabulary mismatch: tokenizer " + dir.file("tok513.bin") + " has 513 tokens");

  // Usage errors: status 2, the message first.
  const CommandResult steps = generate(dir, kModel + " --steps many");
  EXPECT_EQ(steps.status, 2);
  EXPECT_TRUE(steps.err.starts_with("zipserv: --steps needs a whole number")) << steps.err;
  const CommandResult temp = generate(dir, kModel + " --temperature -1");
  EXPECT_EQ(temp.status, 2);
  EXPECT_TRUE(temp.err.starts_with("zipserv: --temperature needs a number >= 0")) << temp.err;
}

TEST(GenerateCli, HelpListsTheEngines) {
  ScratchDir dir;
  const CommandResult r = generate(dir, "--help");
  EXPECT_EQ(r.status, 0);
  EXPECT_TRUE(r.out.starts_with("usage: zipserv generate MODEL")) << r.out;
  EXPECT_NE(r.out.find("    reference: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("    emulation: "), std::string::npos) << r.out;
}

}  // namespace
