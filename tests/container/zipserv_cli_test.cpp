// The `zipserv` command as a user runs it: real fixtures round-trip through the binary, verify's
// exit status tells the truth, inputs are never overwritten, and every bad input gives exactly one
// line `zipserv: <what is wrong>` and a non-zero exit status.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <thread>

#include "cli_test_util.h"
#include "container_test_util.h"
#include "zipserv/reference/compressed_matrix.h"
#include "zipserv/reference/encode.h"
#include "zipserv/container/safetensors.h"
#include "zipserv/container/safetensors_writer.h"

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
}

#ifndef ZIPSERV_EXPECTED_VERSION
#error "ZIPSERV_EXPECTED_VERSION must be project(VERSION) of the top-level CMakeLists.txt"
#endif

// The version printed is the one CMake's project(VERSION) declares.
TEST(ZipservCli, VersionIsTheProjectVersion) {
  ScratchDir dir;
  ASSERT_TRUE(std::regex_match(ZIPSERV_EXPECTED_VERSION, std::regex(R"(\d+\.\d+(\.\d+)*)"))) << ZIPSERV_EXPECTED_VERSION;
  for (const char* args : {"--version", "version"}) {
    const CommandResult r = zipserv(dir, args);
    EXPECT_EQ(r.status, 0) << args;
    EXPECT_EQ(r.out, std::string("zipserv ") + ZIPSERV_EXPECTED_VERSION + "\n") << args;
    EXPECT_EQ(r.err, "") << args;
  }
  EXPECT_NE(zipserv(dir, "--help").out.find("--version"), std::string::npos);
}

// Not a terminal (the test captures stderr): compress ends with exactly one line, whose figures
// are the files' real sizes. --quiet silences it.
TEST(ZipservCli, CompressPrintsOneSummaryLineWhenStderrIsNotATerminal) {
  ScratchDir dir;
  const std::string in = fixture("stories260K.safetensors"), out = dir.file("m");
  const CommandResult r = zipserv(dir, "compress " + in + " " + out);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "");
  std::smatch m;
  ASSERT_TRUE(std::regex_match(r.err, m,
                               std::regex("zipserv: " + out +
                                          R"(: (\d+) tensors \((\d+) as TCA-TBE\), (\d+) -> (\d+) bytes, ratio ([0-9.]+), ([0-9.]+) s\n)")))
      << r.err;
  const auto json = nlohmann::json::parse(zipserv(dir, "inspect --json " + out).out);
  int compressed = 0;
  for (const auto& t : json["tensors"]) compressed += t["compressed"].get<bool>();
  EXPECT_EQ(std::stoul(m[1]), json["tensors"].size());
  EXPECT_EQ(std::stoi(m[2]), compressed);
  EXPECT_GT(compressed, 0);
  const uint64_t in_bytes = std::filesystem::file_size(in), out_bytes = std::filesystem::file_size(out);
  EXPECT_EQ(std::stoull(m[3]), in_bytes);
  EXPECT_EQ(std::stoull(m[4]), out_bytes);
  EXPECT_NEAR(std::stod(m[5]), static_cast<double>(in_bytes) / static_cast<double>(out_bytes), 0.0005);
  EXPECT_GE(std::stod(m[6]), 0.0);
  const CommandResult quiet = zipserv(dir, "compress " + in + " " + out + " --force --quiet");
  EXPECT_EQ(quiet.status, 0);
  EXPECT_EQ(quiet.err, "");
}

// A plain model with empty 2-D BF16 tensors (0x64 and 64x0) next to a real weight: they stay
// raw, inspect gives them ratio 1 (0 bytes kept as 0 bytes), and every other command works.
TEST(ZipservCli, EmptyTensorsGoThroughEveryCommand) {
  ScratchDir dir;
  const std::string in = dir.file("plain.safetensors"), packed = dir.file("m"), back = dir.file("back");
  zipserv::st::write_safetensors(in,
                                 {{{"empty_rows", "BF16", {0, 64}}, {}},
                                  {{"weight", "BF16", {128, 256}}, zipserv::test::bf16_weights(128 * 256, 3)},
                                  {{"empty_cols", "BF16", {64, 0}}, {}}},
                                 {});
  for (const std::string& file : {in, packed}) {
    if (file == packed) {
      ASSERT_EQ(zipserv(dir, "compress " + in + " " + packed).status, 0);
    }
    const CommandResult json = zipserv(dir, "inspect --json " + file);
    ASSERT_EQ(json.status, 0) << json.err;
    const nlohmann::json j = nlohmann::json::parse(json.out);
    ASSERT_EQ(j["tensors"].size(), 3u);
    for (const auto& t : j["tensors"]) {
      if (t["name"] == "weight") {
        EXPECT_TRUE(t["compressed"].get<bool>()) << file;
        continue;
      }
      EXPECT_FALSE(t["compressed"].get<bool>()) << t.dump();
      EXPECT_EQ(t["stored_bytes"].get<uint64_t>(), 0u) << t.dump();
      EXPECT_EQ(t["ratio"].get<double>(), 1.0) << t.dump();
      EXPECT_EQ(t["note"], "empty") << t.dump();
    }
    // The text table: each empty tensor's row shows ratio 1.000, and the totals count 3 tensors.
    const CommandResult text = zipserv(dir, "inspect " + file);
    ASSERT_EQ(text.status, 0) << text.err;
    std::istringstream lines(text.out);
    int empty_rows = 0;
    for (std::string line; std::getline(lines, line);) {
      if (!line.starts_with("empty_")) continue;
      ++empty_rows;
      EXPECT_NE(line.find(" 1.000  raw: empty"), std::string::npos) << line;
    }
    EXPECT_EQ(empty_rows, 2) << text.out;
    EXPECT_NE(text.out.find("totals: 3 tensors"), std::string::npos) << text.out;
  }
  const CommandResult d = zipserv(dir, "decompress " + packed + " " + back);
  ASSERT_EQ(d.status, 0) << d.err;
  EXPECT_EQ(read_bytes(back), read_bytes(in));
  const CommandResult v = zipserv(dir, "verify " + in + " " + packed);
  EXPECT_EQ(v.status, 0) << v.err;
  EXPECT_NE(v.out.find("identical"), std::string::npos) << v.out;
  EXPECT_NE(v.out.find("(3 tensors)"), std::string::npos) << v.out;
}

// Names of 90 characters: the text table shortens them in the middle, keeps every column where
// the header puts it and says so; --json keeps them whole.
TEST(ZipservCli, InspectKeepsLongNamesReadable) {
  ScratchDir dir;
  const std::string stem = "model.language_model.decoder.layers.17.self_attention.with_a_really_long_module_path.";
  const std::vector<std::string> names = {stem + "q_proj.weight", stem + "k_proj.weight", "short"};
  ASSERT_GE(names[0].size(), 90u);
  std::vector<zipserv::st::TensorData> tensors;
  uint32_t seed = 1;
  for (const std::string& n : names)
    tensors.push_back({{n, "BF16", {64, 128}}, zipserv::test::bf16_weights(64 * 128, seed++)});
  const std::string file = dir.file("long.safetensors");
  zipserv::st::write_safetensors(file, tensors, {});

  const CommandResult text = zipserv(dir, "inspect " + file);
  ASSERT_EQ(text.status, 0) << text.err;
  std::vector<std::string> lines;
  std::istringstream in(text.out);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), 2 + names.size() + 2) << text.out;  // file, header, rows, totals, note
  const size_t dtype_column = lines[1].find("dtype"), ratio_end = lines[1].find("ratio") + 5;
  ASSERT_NE(dtype_column, std::string::npos);
  for (size_t i = 0; i < names.size(); ++i) {
    const std::string& row = lines[2 + i];
    EXPECT_EQ(row.find("BF16"), dtype_column) << row;
    EXPECT_TRUE(std::regex_match(row.substr(ratio_end - 5, 5), std::regex(R"(\d\.\d{3})"))) << row;  // under "ratio"
    const std::string shown = row.substr(0, row.find_last_not_of(' ', dtype_column - 1) + 1);
    EXPECT_LE(shown.size(), 40u) << row;
    if (names[i].size() <= 40) {
      EXPECT_EQ(shown, names[i]);
    } else {
      // The start, the marker and the end: the two long names stay told apart by their ends.
      const size_t marker = shown.find("...");
      ASSERT_NE(marker, std::string::npos) << row;
      EXPECT_TRUE(names[i].starts_with(shown.substr(0, marker))) << row;
      EXPECT_TRUE(names[i].ends_with(shown.substr(marker + 3))) << row;
      EXPECT_NE(shown.find("_proj.weight"), std::string::npos) << row;
    }
  }
  EXPECT_NE(lines[2].substr(0, 40), lines[3].substr(0, 40));
  EXPECT_NE(lines.back().find("--json gives them in full"), std::string::npos) << lines.back();

  const nlohmann::json j = nlohmann::json::parse(zipserv(dir, "inspect --json " + file).out);
  for (size_t i = 0; i < names.size(); ++i) EXPECT_EQ(j["tensors"][i]["name"], names[i]);
}

class CliRoundTrip : public ::testing::TestWithParam<const char*> {};

TEST_P(CliRoundTrip, CompressDecompressVerify) {
  ScratchDir dir;
  const std::string original = fixture(GetParam()), packed = dir.file("m.zipserv"), back = dir.file("back");
  const CommandResult c = zipserv(dir, "compress " + original + " " + packed + " --threads 2");
  ASSERT_EQ(c.status, 0) << c.err;
  EXPECT_EQ(std::count(c.err.begin(), c.err.end(), '\n'), 1) << "stderr is not a terminal: one summary line";
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

// Ctrl-C on a running `zipserv compress`: the process dies of SIGINT and leaves neither the
// output nor its temporary file. The model (6 matrices of 4096 x 2048, 96 MiB) is generated here
// and large enough that compressing it takes far longer than the signal needs to arrive.
TEST(ZipservCli, SigintDuringCompressLeavesNothingBehind) {
  ScratchDir dir;
  std::vector<zipserv::st::TensorData> tensors;
  for (int t = 0; t < 6; ++t) {
    zipserv::st::TensorData d{{"layer" + std::to_string(t), "BF16", {4096, 2048}}, std::vector<uint8_t>(4096 * 2048 * 2)};
    uint32_t state = 12345u + static_cast<uint32_t>(t);
    for (size_t i = 0; i < d.bytes.size(); i += 2) {
      state = state * 1664525u + 1013904223u;
      const uint16_t v = static_cast<uint16_t>((state >> 16 & 0x8000u) | (116u + state % 9u) << 7 | (state >> 9 & 0x7Fu));
      d.bytes[i] = static_cast<uint8_t>(v);
      d.bytes[i + 1] = static_cast<uint8_t>(v >> 8);
    }
    tensors.push_back(std::move(d));
  }
  const std::string in = dir.file("model.safetensors"), out = dir.file("out");
  zipserv::st::write_safetensors(in, tensors, {});
  tensors.clear();
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    const int null = open("/dev/null", O_WRONLY);
    dup2(null, 1);
    dup2(null, 2);
    execl(ZIPSERV_CLI_PATH, "zipserv", "compress", in.c_str(), out.c_str(), "--threads", "1", static_cast<char*>(nullptr));
    _exit(127);
  }
  // Wait for the temporary file: the output is being written. Then Ctrl-C.
  bool writing = false;
  for (int i = 0; i < 60000 && !writing; ++i) {
    writing = !dir.hidden_files().empty();
    if (!writing) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_TRUE(writing) << "zipserv compress never created its temporary file";
  ASSERT_EQ(kill(child, SIGINT), 0);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status)) << "compress exited with status " << WEXITSTATUS(status)
                                   << " instead of dying of SIGINT";
  EXPECT_EQ(WTERMSIG(status), SIGINT);
  EXPECT_TRUE(dir.hidden_files().empty()) << "temporary file left behind: " << dir.hidden_files().front();
  EXPECT_FALSE(std::filesystem::exists(out));
}

// Whether a row of `zipserv check`'s table (a line that starts with an engine name, not the
// indented legend that explains "FAIL k/N") holds a FAIL cell.
bool table_has_fail(const std::string& out) {
  size_t at = 0;
  for (size_t end; (end = out.find('\n', at)) != std::string::npos; at = end + 1) {
    const std::string line = out.substr(at, end - at);
    if (!line.empty() && line[0] != ' ' && line.find(" FAIL") != std::string::npos) return true;
  }
  return false;
}

// `zipserv check` on a compressed model: the stored arrays are the expectations, every engine
// that runs passes, and --json says the same as the exit status.
TEST(ZipservCheck, PassesOnACompressedModelAndItsJsonSaysSo) {
  ScratchDir dir;
  ASSERT_EQ(zipserv(dir, "compress " + fixture("stories260K.safetensors") + " " + dir.file("m")).status, 0);
  const CommandResult text = zipserv(dir, "check " + dir.file("m") + " --engine reference --engine emulation");
  EXPECT_EQ(text.status, 0) << text.out << text.err;
  EXPECT_NE(text.out.find("compressed model"), std::string::npos) << text.out;
  EXPECT_FALSE(table_has_fail(text.out)) << text.out;
  const CommandResult json = zipserv(dir, "check " + dir.file("m") + " --json --engine emulation --engine random-access");
  ASSERT_EQ(json.status, 0) << json.err;
  const nlohmann::json j = nlohmann::json::parse(json.out);
  EXPECT_TRUE(j.at("passed").get<bool>());
  EXPECT_EQ(j.at("weights").get<int>(), 47 - 2 * 5 - 1);  // 2-D BF16 weights: all but the norms
  ASSERT_EQ(j.at("engines").size(), 2u);
  for (const auto& e : j.at("engines")) {
    EXPECT_TRUE(e.at("passed").get<bool>()) << e.dump();
    EXPECT_FALSE(e.contains("skipped")) << e.dump();
  }
}

// A damaged compressed model: exit status 1 and one line naming the damaged tensor.
TEST(ZipservCheck, FailsWithExitStatus1OnADamagedModel) {
  ScratchDir dir;
  ASSERT_EQ(zipserv(dir, "compress " + fixture("stories260K.safetensors") + " " + dir.file("m")).status, 0);
  std::vector<uint8_t> damaged = read_bytes(dir.file("m"));
  damaged[damaged.size() - 5000] ^= 0x10;
  write_bytes(dir.file("damaged"), damaged);
  const CommandResult r = zipserv(dir, "check " + dir.file("damaged"));
  EXPECT_EQ(r.status, 1) << r.out << r.err;
  expect_one_line_error(r, "tensor \"");
}

// An engine named with --engine that cannot run here (cuda without a device or a CUDA build) is
// a failure, exit status 1, with the reason; where it can run it must pass (exit 0).
TEST(ZipservCheck, AnEngineAskedForButSkippedExitsWith1) {
  ScratchDir dir;
  const CommandResult r = zipserv(dir, "check " + fixture("stories260K.safetensors") + " --engine cuda --json");
  const nlohmann::json j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j.at("engines").size(), 1u);
  if (j.at("engines")[0].contains("skipped")) {
    EXPECT_EQ(r.status, 1) << r.err;
    EXPECT_NE(r.err.find("engine \"cuda\" was asked for but skipped"), std::string::npos) << r.err;
  } else {
    EXPECT_EQ(r.status, 0) << r.err;
  }
  // Without --engine, an engine that cannot run is listed as skipped and does not fail the run.
  const CommandResult all = zipserv(dir, "check " + fixture("stories260K.safetensors"));
  EXPECT_EQ(all.status, 0) << all.out << all.err;
}

// A model with empty 2-D BF16 weights (0x64 and 64x0), an odd-offset weight of three bands and a
// small one: the empty ones are listed as not checked, every other one is checked, and the run
// passes; the same model compressed (its empty weights stored raw) too.
TEST(ZipservCheck, EmptyWeightsAreListedAndTheRestIsCheckedInBands) {
  ScratchDir dir;
  std::vector<zipserv::st::TensorData> tensors;
  tensors.push_back({{"odd", "U8", {3}}, {1, 2, 3}});
  tensors.push_back({{"empty_rows", "BF16", {0, 64}}, {}});
  tensors.push_back({{"tall", "BF16", {2100, 128}}, zipserv::test::bf16_weights(2100 * 128, 3)});  // bands of 1024 rows
  tensors.push_back({{"empty_cols", "BF16", {64, 0}}, {}});
  tensors.push_back({{"small", "BF16", {70, 66}}, zipserv::test::bf16_weights(70 * 66, 4)});
  zipserv::st::write_safetensors(dir.file("m.safetensors"), tensors, {{"format", "pt"}});
  ASSERT_EQ(zipserv(dir, "compress " + dir.file("m.safetensors") + " " + dir.file("m.zipserv")).status, 0);
  for (const char* file : {"m.safetensors", "m.zipserv"}) {
    const CommandResult r = zipserv(dir, "check " + dir.file(file) + " --engine reference --engine emulation");
    EXPECT_EQ(r.status, 0) << file << "\n" << r.out << r.err;
    EXPECT_EQ(r.err, "") << file;
    EXPECT_NE(r.out.find("2 weights"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("not checked: empty_rows"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("shape 0x64 is empty"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("shape 64x0 is empty"), std::string::npos) << r.out;
    EXPECT_FALSE(table_has_fail(r.out)) << r.out;
    const CommandResult j = zipserv(dir, "check " + dir.file(file) + " --json --engine reference");
    ASSERT_EQ(j.status, 0) << j.err;
    const nlohmann::json json = nlohmann::json::parse(j.out);
    EXPECT_EQ(json.at("weights").get<int>(), 2);
    ASSERT_EQ(json.at("not_checked").size(), 2u) << j.out;
    EXPECT_NE(json.at("not_checked")[0].at("reason").get<std::string>().find("empty"), std::string::npos);
    const auto& reports = json.at("engines")[0].at("reports");
    ASSERT_EQ(reports.size(), 2u);
    EXPECT_TRUE(reports[0].at("passed").get<bool>());
    EXPECT_EQ(reports[0].at("case").get<std::string>(), "tall");
  }
}

// The table says what its cells mean: an engine without an encoder shows n/a for window,
// bitmaps and streams, and a legend under the table explains n/a, skipped and the counts.
TEST(ZipservCheck, TheTableExplainsNaAndSkipped) {
  ScratchDir dir;
  const CommandResult r = zipserv(dir, "check " + fixture("stories260K.safetensors") + " --engine emulation");
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  const size_t row = r.out.find("\nemulation ");
  ASSERT_NE(row, std::string::npos) << r.out;
  const std::string line = r.out.substr(row + 1, r.out.find('\n', row + 1) - row - 1);
  EXPECT_TRUE(line.find("n/a") != std::string::npos && line.find("pass") != std::string::npos) << line;
  for (const char* legend : {"\n  n/a ", "does not provide this stage", "\n  skipped ", "cannot run on this machine",
                             "\n  FAIL k/N ", "not reached"})
    EXPECT_NE(r.out.find(legend), std::string::npos) << "missing \"" << legend << "\" in\n" << r.out;
  // The legend comes after the table, before the numerics.
  EXPECT_LT(row, r.out.find("\n  n/a "));
  EXPECT_LT(r.out.find("\n  n/a "), r.out.find("GEMM numerics"));
}

}  // namespace
