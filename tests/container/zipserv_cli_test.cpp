// The `zipserv` command as a user runs it: real fixtures round-trip through the binary, verify's
// exit status tells the truth, inputs are never overwritten, and every bad input gives exactly one
// line `zipserv: <what is wrong>` and a non-zero exit status.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "cli_test_util.h"
#include "container_test_util.h"
#include "zipserv/compressed_matrix.h"
#include "zipserv/encode.h"
#include "zipserv/safetensors.h"

using zipserv::test::fixture;
using zipserv::test::read_bytes;
using zipserv::test::ScratchDir;
using zipserv::test::write_bytes;

namespace {

using zipserv::test::CommandResult;
using zipserv::test::expect_one_line_error;

// Runs `zipserv ARGS` (arguments are plain paths and words: no quoting needed) in `dir`.
CommandResult zipserv(const ScratchDir& dir, const std::string& args) { return zipserv::test::run_zipserv(dir, args); }

TEST(ZipservCli, HelpListsEveryCommand) {
  ScratchDir dir;
  const CommandResult help = zipserv(dir, "--help");
  EXPECT_EQ(help.status, 0);
  for (const char* c : {"compress", "decompress", "inspect", "verify", "check"})
    EXPECT_NE(help.out.find(c), std::string::npos) << c;
  const CommandResult one = zipserv(dir, "help verify");
  EXPECT_EQ(one.status, 0);
  EXPECT_TRUE(one.out.starts_with("usage: zipserv verify")) << one.out;
  EXPECT_EQ(zipserv(dir, "compress --help").status, 0);
  EXPECT_EQ(zipserv(dir, "").status, 2);
  expect_one_line_error(zipserv(dir, "frobnicate"), "unknown command");
  EXPECT_EQ(zipserv(dir, "compress a b --threads zero").status, 2);
  EXPECT_EQ(zipserv(dir, "compress a b --bogus").status, 2);
  EXPECT_EQ(zipserv(dir, "compress onlyone").status, 2);
#ifndef ZIPSERV_HAVE_CHECK
  const CommandResult check = zipserv(dir, "check " + fixture("stories260K.safetensors"));
  EXPECT_EQ(check.status, 2);
  EXPECT_NE(check.err.find("not built"), std::string::npos) << check.err;
#endif
}

class CliRoundTrip : public ::testing::TestWithParam<const char*> {};

TEST_P(CliRoundTrip, CompressDecompressVerify) {
  ScratchDir dir;
  const std::string original = fixture(GetParam()), packed = dir.file("m.zipserv"), back = dir.file("back");
  const CommandResult c = zipserv(dir, "compress " + original + " " + packed + " --threads 2");
  ASSERT_EQ(c.status, 0) << c.err;
  EXPECT_EQ(c.err, "") << "stderr is not a terminal: nothing to say";
  ASSERT_EQ(zipserv(dir, "decompress " + packed + " " + back).status, 0);
  EXPECT_EQ(read_bytes(original), read_bytes(back));  // `cmp original back`
  const CommandResult v = zipserv(dir, "verify " + original + " " + packed);
  EXPECT_EQ(v.status, 0) << v.err;
  EXPECT_NE(v.out.find("identical"), std::string::npos);
  EXPECT_TRUE(dir.hidden_files().empty());
}

INSTANTIATE_TEST_SUITE_P(RealWeights, CliRoundTrip, ::testing::Values("stories260K.safetensors", "use-lite-en.safetensors"));

TEST(ZipservCli, VerifyFailsOnAMismatchingOriginal) {
  ScratchDir dir;
  const std::string original = fixture("stories260K.safetensors");
  ASSERT_EQ(zipserv(dir, "compress " + original + " " + dir.file("m")).status, 0);
  std::vector<uint8_t> changed = read_bytes(original);
  changed[changed.size() / 2] ^= 0x80;
  write_bytes(dir.file("changed"), changed);
  expect_one_line_error(zipserv(dir, "verify " + dir.file("changed") + " " + dir.file("m")), "differs from the original");
  expect_one_line_error(zipserv(dir, "verify " + fixture("use-lite-en.safetensors") + " " + dir.file("m")), "header differs");
  expect_one_line_error(zipserv(dir, "verify " + original + " " + original), "not a zipserv compressed model");
}

TEST(ZipservCli, NeverOverwritesTheInput) {
  ScratchDir dir;
  const std::string in = dir.file("in");
  std::filesystem::copy_file(fixture("stories260K.safetensors"), in);
  const auto before = read_bytes(in);
  expect_one_line_error(zipserv(dir, "compress " + in + " " + in + " --force"), "overwrite the input");
  expect_one_line_error(zipserv(dir, "compress " + in + " " + dir.path().string() + "/../" +
                                         dir.path().filename().string() + "/in --force"),
                        "overwrite the input");
  std::filesystem::create_symlink(in, dir.file("link"));
  expect_one_line_error(zipserv(dir, "compress " + in + " " + dir.file("link") + " --force"), "the input");
  EXPECT_EQ(read_bytes(in), before);
  ASSERT_EQ(zipserv(dir, "compress " + in + " " + dir.file("m")).status, 0);
  expect_one_line_error(zipserv(dir, "compress " + in + " " + dir.file("m")), "already exists");
  EXPECT_EQ(zipserv(dir, "compress " + in + " " + dir.file("m") + " --force").status, 0);
  expect_one_line_error(zipserv(dir, "decompress " + dir.file("m") + " " + dir.file("m") + " --force"), "overwrite the input");
  EXPECT_EQ(zipserv(dir, "verify " + in + " " + dir.file("m")).status, 0);
}

TEST(ZipservCli, BadInputsGiveOneLineErrors) {
  ScratchDir dir;
  const std::string good = fixture("stories260K.safetensors");
  expect_one_line_error(zipserv(dir, "compress " + dir.file("missing") + " " + dir.file("o")), "No such file");
  expect_one_line_error(zipserv(dir, "decompress " + good + " " + dir.file("o")), "not a zipserv compressed model");
  write_bytes(dir.file("text"), std::vector<uint8_t>(100, 'x'));
  expect_one_line_error(zipserv(dir, "inspect " + dir.file("text")), "header length");
  const auto bytes = read_bytes(good);
  write_bytes(dir.file("short"), std::vector<uint8_t>(bytes.begin(), bytes.end() - 10));
  expect_one_line_error(zipserv(dir, "compress " + dir.file("short") + " " + dir.file("o")), "truncated");
  ASSERT_EQ(zipserv(dir, "compress " + good + " " + dir.file("m")).status, 0);
  std::vector<uint8_t> damaged = read_bytes(dir.file("m"));
  damaged[damaged.size() - 5000] ^= 0x10;
  write_bytes(dir.file("damaged"), damaged);
  const CommandResult r = zipserv(dir, "decompress " + dir.file("damaged") + " " + dir.file("o"));
  expect_one_line_error(r, "tensor \"");
  EXPECT_FALSE(std::filesystem::exists(dir.file("o")));
  EXPECT_TRUE(dir.hidden_files().empty());
}

TEST(ZipservCli, InspectJsonMatchesCompressedMatrixBitsPerWeight) {
  ScratchDir dir;
  const std::string original = fixture("stories260K.safetensors");
  ASSERT_EQ(zipserv(dir, "compress " + original + " " + dir.file("m")).status, 0);
  const auto matrices = zipserv::st::load_bf16_matrices(original);
  for (const std::string& file : {original, dir.file("m")}) {
    const CommandResult r = zipserv(dir, "inspect --json " + file);
    ASSERT_EQ(r.status, 0) << r.err;
    const nlohmann::json j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["tensors"].size(), 47u);
    double payload_bits = 0, weights = 0;
    for (const auto& t : j["tensors"]) {
      if (!t["compressed"].get<bool>()) continue;
      for (const auto& m : matrices) {
        if (m.name != t["name"]) continue;
        const zipserv::CompressedMatrix c = zipserv::encode(m.values.data(), m.rows, m.cols);
        EXPECT_DOUBLE_EQ(t["bits_per_weight"].get<double>(), c.bits_per_weight()) << m.name;
        EXPECT_EQ(t["stored_bytes"].get<int64_t>(), c.payload_bytes()) << m.name;
        payload_bits += 8.0 * static_cast<double>(c.payload_bytes());
        weights += static_cast<double>(m.rows * m.cols);
      }
    }
    EXPECT_NEAR(j["totals"]["bits_per_weight"].get<double>(), payload_bits / weights, 1e-9);
    EXPECT_EQ(j["totals"]["compressed_file_bytes"].get<uint64_t>(), std::filesystem::file_size(dir.file("m")));
  }
  const CommandResult text = zipserv(dir, "inspect " + original);
  EXPECT_EQ(text.status, 0);
  EXPECT_NE(text.out.find("totals:"), std::string::npos);
}

}  // namespace
