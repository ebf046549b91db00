// The compressed-model format through the library: real fixtures round-trip byte for byte, the
// stored arrays are exactly encode()'s, verify and inspect tell the truth, and outputs are
// written atomically without ever replacing the input.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "container_test_util.h"
#include "zipserv/container/atomic_output.h"
#include "zipserv/container/bf16_weights.h"
#include "zipserv/container/compressed_model.h"
#include "zipserv/reference/decode.h"
#include "zipserv/reference/encode.h"
#include "zipserv/container/model_stats.h"
#include "zipserv/container/safetensors_writer.h"

namespace st = zipserv::st;
using zipserv::test::bf16_weights;
using zipserv::test::fixture;
using zipserv::test::read_bytes;
using zipserv::test::ScratchDir;

namespace {

class FixtureRoundTrip : public ::testing::TestWithParam<const char*> {};

TEST_P(FixtureRoundTrip, DecompressGivesBackTheOriginalFileByteForByte) {
  ScratchDir dir;
  const std::string original = fixture(GetParam()), packed = dir.file("m.zipserv"), back = dir.file("m.back");
  const st::ConvertSummary c = st::compress_file(original, packed, {.threads = 2});
  EXPECT_GT(c.compressed, 0);
  EXPECT_LT(c.output_bytes, c.input_bytes);
  EXPECT_EQ(c.output_bytes, std::filesystem::file_size(packed));
  st::decompress_file(packed, back, {.threads = 2});
  EXPECT_EQ(read_bytes(original), read_bytes(back));
  EXPECT_TRUE(dir.hidden_files().empty()) << "temporary file left behind";
  const st::VerifyReport r = st::verify_files(original, packed);
  EXPECT_TRUE(r.identical) << r.problem;
}

TEST_P(FixtureRoundTrip, OutputDoesNotDependOnTheThreadCount) {
  ScratchDir dir;
  st::compress_file(fixture(GetParam()), dir.file("one"), {.threads = 1});
  st::compress_file(fixture(GetParam()), dir.file("three"), {.threads = 3});
  EXPECT_EQ(read_bytes(dir.file("one")), read_bytes(dir.file("three")));
}

INSTANTIATE_TEST_SUITE_P(RealWeights, FixtureRoundTrip,
                         ::testing::Values("stories260K.safetensors", "use-lite-en.safetensors"));

TEST(CompressedModel, EntriesHoldExactlyWhatEncodeProduces) {
  ScratchDir dir;
  const std::string original = fixture("stories260K.safetensors"), packed = dir.file("m.zipserv");
  st::compress_file(original, packed);
  const st::SafetensorsFile plain = st::SafetensorsFile::open(original);
  const st::CompressedModel model = st::CompressedModel::open(packed);
  ASSERT_EQ(model.entries().size(), plain.tensors().size());
  EXPECT_EQ(model.original_header(), plain.header_json());
  EXPECT_EQ(model.original_file_size(), plain.file_size());
  int compressed = 0;
  for (const st::TensorInfo& t : plain.tensors()) {
    const st::ModelEntry* e = model.find(t.name);
    ASSERT_NE(e, nullptr) << t.name;
    EXPECT_EQ(e->shape, t.shape);
    const auto bytes = plain.bytes(t);
    EXPECT_EQ(model.decode_entry(*e), std::vector<uint8_t>(bytes.begin(), bytes.end())) << t.name;
    if (e->storage != st::Storage::tca_tbe) {
      EXPECT_THROW(model.read_matrix(*e), st::ContainerError);
      continue;
    }
    ++compressed;
    std::vector<uint16_t> values(bytes.size() / 2);
    std::memcpy(values.data(), bytes.data(), bytes.size());
    const zipserv::CompressedMatrix expected = zipserv::encode(values.data(), t.shape[0], t.shape[1]);
    const zipserv::CompressedMatrix m = model.read_matrix(*e);
    EXPECT_EQ(m.start_exp, expected.start_exp);
    EXPECT_EQ(m.bitmap1, expected.bitmap1);
    EXPECT_EQ(m.bitmap2, expected.bitmap2);
    EXPECT_EQ(m.bitmap3, expected.bitmap3);
    EXPECT_EQ(m.sign_mantissa, expected.sign_mantissa);
    EXPECT_EQ(m.full, expected.full);
    EXPECT_EQ(m.median_offsets, expected.median_offsets);
    EXPECT_EQ(m.global_offsets, expected.global_offsets);
    EXPECT_EQ(static_cast<int64_t>(e->stored_bytes), expected.payload_bytes());
  }
  // 36 matrices; the 32x64 wk/wv ones pad to 64x64 and would grow, so they stay raw.
  EXPECT_EQ(compressed, 26);
}

// CompressedModel::from_bytes (the fuzz target's way in) opens what open() opens, and every
// entry decodes to the original's bytes.
TEST(CompressedModel, FromBytesOpensWhatOpenOpens) {
  ScratchDir dir;
  st::compress_file(fixture("stories260K.safetensors"), dir.file("m"));
  const std::vector<uint8_t> bytes = read_bytes(dir.file("m"));
  const st::CompressedModel disk = st::CompressedModel::open(dir.file("m"));
  const st::CompressedModel mem = st::CompressedModel::from_bytes(bytes, "in memory");
  ASSERT_EQ(mem.entries().size(), disk.entries().size());
  for (size_t i = 0; i < disk.entries().size(); ++i) {
    EXPECT_EQ(mem.entries()[i].name, disk.entries()[i].name);
    EXPECT_EQ(mem.decode_entry(mem.entries()[i]), disk.decode_entry(disk.entries()[i])) << disk.entries()[i].name;
  }
  EXPECT_THROW(st::CompressedModel::from_bytes(read_bytes(fixture("stories260K.safetensors")), "plain"),
               st::ContainerError);
}

TEST(CompressedModel, MixedDtypesOddOffsetsAndEdgeShapesRoundTrip) {
  ScratchDir dir;
  std::vector<st::TensorData> tensors;
  tensors.push_back({{"f32", "F32", {3, 5}}, std::vector<uint8_t>(60, 0x3F)});
  tensors.push_back({{"empty", "BF16", {0, 64}}, {}});
  tensors.push_back({{"one", "BF16", {1, 1}}, {0x80, 0x3F}});  // would grow: stays raw
  tensors.push_back({{"odd", "U8", {7}}, {1, 2, 3, 4, 5, 6, 7}});  // puts the next tensor at an odd offset
  tensors.push_back({{"misaligned", "BF16", {64, 64}}, bf16_weights(64 * 64, 1)});
  tensors.push_back({{"edge", "BF16", {250, 250}}, bf16_weights(250 * 250, 2)});  // partial block tiles
  tensors.push_back({{"scalar", "I64", {}}, std::vector<uint8_t>(8, 9)});
  tensors.push_back({{"cube", "BF16", {4, 64, 64}}, bf16_weights(4 * 64 * 64, 3)});  // 3-D: raw
  st::write_safetensors(dir.file("mixed"), tensors, {{"format", "pt"}});
  const st::ConvertSummary c = st::compress_file(dir.file("mixed"), dir.file("m"));
  EXPECT_EQ(c.compressed, 2);  // misaligned and edge
  st::decompress_file(dir.file("m"), dir.file("back"));
  EXPECT_EQ(read_bytes(dir.file("mixed")), read_bytes(dir.file("back")));
  const st::CompressedModel model = st::CompressedModel::open(dir.file("m"));
  EXPECT_EQ(model.find("misaligned")->storage, st::Storage::tca_tbe);
  EXPECT_EQ(model.find("one")->storage, st::Storage::raw);
  EXPECT_EQ(model.find("empty")->storage, st::Storage::raw);
  EXPECT_EQ(model.find("cube")->storage, st::Storage::raw);
  // An empty model (no tensors at all) round-trips too.
  st::write_safetensors(dir.file("none"), {}, {});
  st::compress_file(dir.file("none"), dir.file("none.m"));
  st::decompress_file(dir.file("none.m"), dir.file("none.back"));
  EXPECT_EQ(read_bytes(dir.file("none")), read_bytes(dir.file("none.back")));
}

TEST(CompressedModel, RefusesNamesAndMetadataThatWouldCollide) {
  ScratchDir dir;
  std::vector<st::TensorData> tensors;
  tensors.push_back({{"w", "BF16", {64, 64}}, bf16_weights(64 * 64, 4)});
  tensors.push_back({{"w.zipserv.full", "U8", {1}}, {0}});
  st::write_safetensors(dir.file("clash"), tensors, {});
  EXPECT_THROW(st::compress_file(dir.file("clash"), dir.file("m")), st::ContainerError);
  st::write_safetensors(dir.file("meta"), {tensors[0]}, {{"zipserv.format", "mine"}});
  EXPECT_THROW(st::compress_file(dir.file("meta"), dir.file("m")), st::ContainerError);
  EXPECT_FALSE(std::filesystem::exists(dir.file("m")));
  EXPECT_TRUE(dir.hidden_files().empty());
}

TEST(CompressedModel, IsReadableAsPlainSafetensorsWithTheOriginalMetadata) {
  ScratchDir dir;
  st::compress_file(fixture("stories260K.safetensors"), dir.file("m"));
  const st::SafetensorsFile f = st::SafetensorsFile::open(dir.file("m"));
  EXPECT_EQ(f.metadata().at("architecture"), "llama");
  EXPECT_EQ(f.metadata().at(std::string(st::kFormatKey)), st::kFormatName);
  const st::TensorInfo* bitmap = f.find("tok_embeddings.weight.zipserv.bitmap1");
  ASSERT_NE(bitmap, nullptr);
  EXPECT_EQ(bitmap->dtype, "U64");
  EXPECT_EQ(bitmap->shape, (std::vector<int64_t>{512 / 8 * (64 / 8)}));
  EXPECT_EQ((f.data_offset() + bitmap->begin) % 8, 0u);
  EXPECT_NE(f.find("layers.0.attention_norm.weight"), nullptr);  // 1-D: stored as it was
}

TEST(VerifyFiles, FailsWhenTheOriginalDiffers) {
  ScratchDir dir;
  const std::string original = fixture("stories260K.safetensors");
  st::compress_file(original, dir.file("m"));
  std::vector<uint8_t> changed = read_bytes(original);
  changed[changed.size() - 3] ^= 0x01;  // inside the last tensor
  zipserv::test::write_bytes(dir.file("changed"), changed);
  const st::VerifyReport r = st::verify_files(dir.file("changed"), dir.file("m"));
  EXPECT_FALSE(r.identical);
  EXPECT_NE(r.problem.find("norm.weight"), std::string::npos) << r.problem;
  const st::VerifyReport other = st::verify_files(fixture("use-lite-en.safetensors"), dir.file("m"));
  EXPECT_FALSE(other.identical);
  EXPECT_NE(other.problem.find("header differs"), std::string::npos) << other.problem;
}

TEST(Inspect, PlainPredictionEqualsCompressedFiguresAndEncodeBitsPerWeight) {
  ScratchDir dir;
  const std::string original = fixture("use-lite-en.safetensors");
  st::compress_file(original, dir.file("m"));
  const st::ModelStats predicted = st::inspect(original);
  const st::ModelStats stored = st::inspect(dir.file("m"));
  EXPECT_FALSE(predicted.is_compressed_model);
  EXPECT_TRUE(stored.is_compressed_model);
  EXPECT_EQ(predicted.compressed_file_bytes, std::filesystem::file_size(dir.file("m")));
  EXPECT_EQ(stored.compressed_file_bytes, predicted.compressed_file_bytes);
  ASSERT_EQ(predicted.tensors.size(), stored.tensors.size());

  // The JSON must parse, and its numbers must be CompressedMatrix's own.
  const nlohmann::json j = nlohmann::json::parse(st::stats_to_json(stored));
  const auto matrices = st::load_bf16_matrices(original);
  size_t checked = 0;
  for (size_t i = 0; i < stored.tensors.size(); ++i) {
    const auto& p = predicted.tensors[i];
    const auto& s = stored.tensors[i];
    EXPECT_EQ(p.compressed, s.compressed) << s.name;
    EXPECT_EQ(p.stored_bytes, s.stored_bytes) << s.name;
    EXPECT_EQ(p.covered, s.covered) << s.name;
    EXPECT_EQ(p.window_lo, s.window_lo) << s.name;
    const auto& jt = j["tensors"][i];
    EXPECT_EQ(jt["name"], s.name);
    if (!s.compressed) continue;
    for (const auto& m : matrices) {
      if (m.name != s.name) continue;
      const zipserv::CompressedMatrix c = zipserv::encode(m.values.data(), m.rows, m.cols);
      EXPECT_DOUBLE_EQ(jt["bits_per_weight"].get<double>(), c.bits_per_weight()) << s.name;
      EXPECT_EQ(jt["window"][0].get<int>(), (c.start_exp + 1) & 0xFF) << s.name;
      const auto h = zipserv::exponent_histogram(m.values.data(), m.values.size());
      EXPECT_EQ(jt["covered"].get<uint64_t>(), zipserv::window_at(h, (c.start_exp + 1) & 0xFF).covered);
      ++checked;
    }
  }
  EXPECT_EQ(checked, 11u);
  EXPECT_NEAR(j["totals"]["file_ratio"].get<double>(),
              static_cast<double>(std::filesystem::file_size(original)) / std::filesystem::file_size(dir.file("m")), 1e-12);
}

TEST(Bf16Weights, SameWeightsFromPlainAndCompressedModels) {
  ScratchDir dir;
  const std::string original = fixture("stories260K.safetensors");
  st::compress_file(original, dir.file("m"));
  std::vector<std::pair<std::string, std::vector<uint16_t>>> plain, packed;
  int with_matrix = 0;
  st::for_each_bf16_weight(original, [&](const st::Bf16Weight& w) {
    EXPECT_EQ(w.compressed, nullptr);
    plain.emplace_back(w.name, std::vector<uint16_t>(w.values.begin(), w.values.end()));
  });
  st::for_each_bf16_weight(dir.file("m"), [&](const st::Bf16Weight& w) {
    if (w.compressed) {
      ++with_matrix;
      EXPECT_EQ(zipserv::decode(*w.compressed), std::vector<uint16_t>(w.values.begin(), w.values.end()));
    }
    EXPECT_EQ(static_cast<int64_t>(w.values.size()), w.rows * w.cols);
    packed.emplace_back(w.name, std::vector<uint16_t>(w.values.begin(), w.values.end()));
  });
  EXPECT_EQ(plain.size(), 36u);
  EXPECT_EQ(plain, packed);
  EXPECT_EQ(with_matrix, 26);
}

TEST(AtomicOutput, RefusesToOverwriteTheInputOrAnExistingFile) {
  ScratchDir dir;
  const std::string in = dir.file("in.safetensors");
  std::filesystem::copy_file(fixture("stories260K.safetensors"), in);
  const auto before = read_bytes(in);
  EXPECT_THROW(st::compress_file(in, in, {.force = true}), st::ContainerError);
  EXPECT_THROW(st::compress_file(in, dir.path().string() + "/./in.safetensors", {.force = true}), st::ContainerError);
  std::filesystem::create_hard_link(in, dir.file("hard"));
  EXPECT_THROW(st::compress_file(in, dir.file("hard"), {.force = true}), st::ContainerError);
  std::filesystem::create_symlink(in, dir.file("soft"));
  EXPECT_THROW(st::compress_file(in, dir.file("soft"), {.force = true}), st::ContainerError);
  EXPECT_EQ(read_bytes(in), before);

  zipserv::test::write_bytes(dir.file("exists"), {1, 2, 3});
  EXPECT_THROW(st::compress_file(in, dir.file("exists")), st::ContainerError);
  EXPECT_EQ(read_bytes(dir.file("exists")), (std::vector<uint8_t>{1, 2, 3}));
  st::compress_file(in, dir.file("exists"), {.force = true});
  EXPECT_TRUE(st::verify_files(in, dir.file("exists")).identical);
}

TEST(AtomicOutput, FailedRunLeavesNeitherOutputNorTemporaryFile) {
  ScratchDir dir;
  st::compress_file(fixture("stories260K.safetensors"), dir.file("m"));
  std::vector<uint8_t> damaged = read_bytes(dir.file("m"));
  damaged[damaged.size() - 100] ^= 0x40;  // inside the last stored tensor
  zipserv::test::write_bytes(dir.file("damaged"), damaged);
  EXPECT_THROW(st::decompress_file(dir.file("damaged"), dir.file("out")), st::ContainerError);
  EXPECT_FALSE(std::filesystem::exists(dir.file("out")));
  EXPECT_TRUE(dir.hidden_files().empty());
}

// Ctrl-C (SIGINT) and kill (SIGTERM) alike: the handler removes the temporary file, then the
// process dies of the signal it got.
class AtomicOutputSignal : public ::testing::TestWithParam<int> {};

TEST_P(AtomicOutputSignal, RemovesTheTemporaryFile) {
  const int signal = GetParam();
  ScratchDir dir;
  int pipe_fds[2];
  ASSERT_EQ(pipe(pipe_fds), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    st::AtomicOutputFile out(dir.file("out"), 4096);
    const char ready = 1;
    if (write(pipe_fds[1], &ready, 1) != 1) _exit(3);
    raise(signal);
    _exit(4);
  }
  char ready = 0;
  ASSERT_EQ(read(pipe_fds[0], &ready, 1), 1);
  int status = 0;
  waitpid(child, &status, 0);
  close(pipe_fds[0]);
  close(pipe_fds[1]);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the child exited instead of dying of the signal";
  EXPECT_EQ(WTERMSIG(status), signal);
  EXPECT_TRUE(dir.hidden_files().empty());
  EXPECT_FALSE(std::filesystem::exists(dir.file("out")));
}

INSTANTIATE_TEST_SUITE_P(SigtermAndSigint, AtomicOutputSignal, ::testing::Values(SIGTERM, SIGINT),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return std::string(info.param == SIGINT ? "SIGINT" : "SIGTERM");
                         });

}  // namespace
