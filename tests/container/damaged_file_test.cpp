// Damaged compressed models: every kind of damage must end in a ContainerError that names the
// problem, never a crash, an out-of-bounds read or silently wrong output (scripts/test.sh runs
// these tests under ASan + UBSan too, in build-asan/); and a failed decompress leaves neither the
// output nor a temporary file behind.
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <random>

#include "container_test_util.h"
#include "zipserv/container/checksum.h"
#include "zipserv/container/compressed_model.h"
#include "zipserv/container/model_stats.h"

namespace st = zipserv::st;
using nlohmann::ordered_json;
using zipserv::test::fixture;
using zipserv::test::read_bytes;
using zipserv::test::ScratchDir;
using zipserv::test::write_bytes;

namespace {

class DamagedFile : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new ScratchDir;
    original_ = read_bytes(fixture("stories260K.safetensors"));
    st::compress_file(fixture("stories260K.safetensors"), dir_->file("good"));
    good_ = read_bytes(dir_->file("good"));
  }
  static void TearDownTestSuite() { delete dir_; }

  // Decompressing `bytes` must fail with a one-line message containing one of `any_of` (the
  // keywords that name this kind of damage); nothing may be left over. Returns the message.
  static std::string expect_rejected(const std::vector<uint8_t>& bytes, const std::vector<std::string>& any_of) {
    EXPECT_FALSE(any_of.empty()) << "every kind of damage must name the keyword of its message";
    write_bytes(dir_->file("bad"), bytes);
    std::string message;
    try {
      st::decompress_file(dir_->file("bad"), dir_->file("out"));
      ADD_FAILURE() << "damaged file decompressed without an error";
    } catch (const st::ContainerError& e) {
      message = e.what();
      bool named = false;
      std::string expected;
      for (const std::string& words : any_of) {
        named = named || message.find(words) != std::string::npos;
        expected += (expected.empty() ? "\"" : " or \"") + words + "\"";
      }
      EXPECT_TRUE(named) << "message: " << message << "\nexpected: " << expected;
      EXPECT_EQ(message.find('\n'), std::string::npos) << "error is not one line: " << message;
    }
    EXPECT_FALSE(std::filesystem::exists(dir_->file("out")));
    EXPECT_TRUE(dir_->hidden_files().empty()) << "temporary file left behind";
    // Inspecting the same file may succeed (it does not decode) but must not crash.
    try {
      st::inspect(dir_->file("bad"), 1);
    } catch (const st::ContainerError&) {
    }
    return message;
  }

  static std::string expect_rejected(const std::vector<uint8_t>& bytes, const char* words) {
    return expect_rejected(bytes, std::vector<std::string>{words});
  }

  // The good file with its header edited by `edit` (JSON level).
  static std::vector<uint8_t> edited(const std::function<void(ordered_json&)>& edit) {
    ordered_json header = ordered_json::parse(zipserv::test::header_of(good_));
    edit(header);
    return zipserv::test::with_header(good_, header.dump());
  }

  static ordered_json& record(ordered_json& header, const std::string& name, ordered_json& holder) {
    holder = ordered_json::parse(header["__metadata__"]["zipserv.tensor." + name].get<std::string>());
    return holder;
  }

  // Applies `change` to the JSON record of tensor `name`.
  static std::vector<uint8_t> edited_record(const std::string& name, const std::function<void(ordered_json&)>& change) {
    return edited([&](ordered_json& h) {
      ordered_json r;
      change(record(h, name, r));
      h["__metadata__"]["zipserv.tensor." + name] = r.dump();
    });
  }

  static inline ScratchDir* dir_ = nullptr;
  static inline std::vector<uint8_t> original_, good_;
};

const std::string kW = "tok_embeddings.weight";  // stored as TCA-TBE
const std::string kRaw = "layers.0.attention_norm.weight";  // stored raw

TEST_F(DamagedFile, TheUndamagedFileDecompresses) {
  write_bytes(dir_->file("ok"), good_);
  st::decompress_file(dir_->file("ok"), dir_->file("ok.out"));
  EXPECT_EQ(read_bytes(dir_->file("ok.out")), original_);
  std::filesystem::remove(dir_->file("ok"));
  std::filesystem::remove(dir_->file("ok.out"));
}

TEST_F(DamagedFile, TruncatedAtManyLengths) {
  std::vector<size_t> lengths;
  for (size_t n = 0; n < 80; ++n) lengths.push_back(n);
  for (size_t n = 80; n < good_.size(); n += good_.size() / 200 + 7) lengths.push_back(n);
  lengths.push_back(good_.size() - 1);
  for (size_t n : lengths) {
    SCOPED_TRACE("truncated to " + std::to_string(n) + " bytes");
    expect_rejected(std::vector<uint8_t>(good_.begin(), good_.begin() + static_cast<std::ptrdiff_t>(n)),
                    n < 8 ? std::vector<std::string>{"too short"}
                          : std::vector<std::string>{"runs past the end", "(truncated?)"});
  }
}

TEST_F(DamagedFile, HeaderLengthField) {
  uint64_t n = 0;
  std::memcpy(&n, good_.data(), 8);
  // n - 1 drops one of the header's trailing padding spaces: still JSON, one byte too many data.
  const std::vector<std::pair<uint64_t, const char*>> cases = {
      {0, "is not plausible"},           {7, "header is not valid JSON"},
      {n - 1, "1 bytes after the last tensor"}, {n + 1, "header is not valid JSON"},
      {uint64_t(good_.size()), "runs past the end of the file"}, {uint64_t{1} << 40, "is not plausible"},
      {~uint64_t{0}, "is not plausible"}};
  for (const auto& [bad, words] : cases) {
    SCOPED_TRACE("header length " + std::to_string(bad));
    std::vector<uint8_t> bytes = good_;
    std::memcpy(bytes.data(), &bad, 8);
    expect_rejected(bytes, words);
  }
}

TEST_F(DamagedFile, JsonSyntax) {
  const std::string header = zipserv::test::header_of(good_);
  const std::vector<std::pair<std::string, std::string>> damage = {
      {"[", header.substr(1)}, {"{,", header.substr(1)}, {"", header.substr(0, header.find_last_of('}'))},
      {"{\"a\":", header.substr(1)}, {"", "null"}, {"", "\"text\""}};
  for (const auto& [prefix, rest] : damage) {
    SCOPED_TRACE(prefix + rest.substr(0, 20));
    expect_rejected(zipserv::test::with_header(good_, prefix + rest), {"header is not valid JSON", "header is not a JSON object"});
  }
}

TEST_F(DamagedFile, StoredTensorFields) {
  const std::string b1 = kW + ".zipserv.bitmap1";
  expect_rejected(edited([&](ordered_json& h) { h[b1]["dtype"] = "I64"; }), "has dtype I64, expected U64");
  expect_rejected(edited([&](ordered_json& h) { h[b1]["dtype"] = "U32"; }), "shape and dtype give");
  expect_rejected(edited([&](ordered_json& h) { h[b1]["dtype"] = "Q64"; }), "unsupported dtype");
  expect_rejected(edited([&](ordered_json& h) { h[b1]["shape"] = {256, 2}; }), "shape other than the metadata implies");
  expect_rejected(edited([&](ordered_json& h) { h[b1]["shape"] = {-512}; }), "non-negative");
  expect_rejected(edited([&](ordered_json& h) { h[kW + ".zipserv.full"]["dtype"] = "F16"; }), "1-D BF16");
  expect_rejected(edited([&](ordered_json& h) { h[kW + ".zipserv.global_offsets"]["dtype"] = "U32"; }), "expected I32");
  expect_rejected(edited([&](ordered_json& h) {
                    auto& o = h[b1]["data_offsets"];
                    o = {o[0].get<uint64_t>() + 8, o[1].get<uint64_t>() + 8};
                  }),
                  "gap of 8 bytes");  // bitmap1 is the first stored tensor
  expect_rejected(edited([&](ordered_json& h) {
                    auto& o = h[kW + ".zipserv.bitmap2"]["data_offsets"];
                    o = {o[0].get<uint64_t>() - 8, o[1].get<uint64_t>() - 8};
                  }),
                  "overlaps");
  expect_rejected(edited([&](ordered_json& h) { h[b1]["data_offsets"] = {0}; }), "data_offsets");
  // Two same-sized arrays swapped: the file is well formed, only the bitmaps disagree.
  expect_rejected(edited([&](ordered_json& h) {
                    std::swap(h[b1]["data_offsets"], h[kW + ".zipserv.bitmap2"]["data_offsets"]);
                  }),
                  "bytes do not match the original checksum");
  // A stored tensor renamed: one missing, one stray.
  expect_rejected(edited([&](ordered_json& h) {
                    h[kW + ".zipserv.fulx"] = h[kW + ".zipserv.full"];
                    h.erase(kW + ".zipserv.full");
                  }),
                  "missing");
  expect_rejected(edited([&](ordered_json& h) { h.erase(kRaw); }), "gap");
}

TEST_F(DamagedFile, MetadataValues) {
  expect_rejected(edited([](ordered_json& h) { h["__metadata__"]["zipserv.format_version"] = "2"; }), "version");
  expect_rejected(edited([](ordered_json& h) { h["__metadata__"].erase("zipserv.format"); }), "not a zipserv compressed model");
  expect_rejected(edited([](ordered_json& h) { h.erase("__metadata__"); }), "not a zipserv compressed model");
  expect_rejected(edited([](ordered_json& h) { h["__metadata__"]["zipserv.format"] = "gzip"; }), "unknown format");
  expect_rejected(edited([](ordered_json& h) { h["__metadata__"].erase("zipserv.original_header"); }), "missing");
  expect_rejected(edited([](ordered_json& h) { h["__metadata__"]["zipserv.original_header_xxh3_128"] = std::string(32, '0'); }),
                  "checksum of the original header");
  expect_rejected(edited([](ordered_json& h) {
                    std::string o = h["__metadata__"]["zipserv.original_header"];
                    o[o.find("[512,64]") + 1] = '6';
                    h["__metadata__"]["zipserv.original_header"] = o;
                  }),
                  "checksum of the original header");
  // An original header changed *with* a matching checksum still disagrees with the records.
  expect_rejected(edited([](ordered_json& h) {
                    std::string o = h["__metadata__"]["zipserv.original_header"];
                    o.replace(o.find("[512,64]"), 8, "[256,128]");
                    h["__metadata__"]["zipserv.original_header"] = o;
                    h["__metadata__"]["zipserv.original_header_xxh3_128"] = st::xxh3_128_hex(o);
                  }),
                  "differ from the original header");
  expect_rejected(edited([](ordered_json& h) { h["__metadata__"]["zipserv.original_header"] = "{]"; }), "checksum");
  expect_rejected(edited([](ordered_json& h) {
                    h["__metadata__"]["zipserv.original_header"] = "{]";
                    h["__metadata__"]["zipserv.original_header_xxh3_128"] = st::xxh3_128_hex(std::string_view("{]"));
                  }),
                  "original header: header is not valid JSON");
  expect_rejected(edited([](ordered_json& h) { h["__metadata__"].erase("zipserv.tensor." + kW); }), "tensor records");
  expect_rejected(edited([](ordered_json& h) { h["__metadata__"]["zipserv.tensor.ghost"] = "{}"; }), "tensor records");
  expect_rejected(edited([](ordered_json& h) { h["__metadata__"]["zipserv.tensor." + kW] = "{"; }), "not valid JSON");
}

TEST_F(DamagedFile, PerTensorRecords) {
  for (int delta : {1, -1, 255}) {
    SCOPED_TRACE("start_exp + " + std::to_string(delta));
    // Another window makes weights of the old window's edge exponents in-window fallbacks.
    expect_rejected(edited_record(kW, [&](ordered_json& r) { r["start_exp"] = (r["start_exp"].get<int>() + delta) & 0xFF; }),
                    "lies inside the window, so it is not in canonical form");
  }
  expect_rejected(edited_record(kW, [](ordered_json& r) { r["start_exp"] = 256; }), "start_exp");
  expect_rejected(edited_record(kW, [](ordered_json& r) { r["start_exp"] = -1; }), "start_exp");
  expect_rejected(edited_record(kW, [](ordered_json& r) { r["start_exp"] = "119"; }), "start_exp");
  expect_rejected(edited_record(kW, [](ordered_json& r) { r.erase("start_exp"); }), "start_exp");
  expect_rejected(edited_record(kW, [](ordered_json& r) { r["xxh3_128"] = std::string(32, 'a'); }), "checksum");
  expect_rejected(edited_record(kW, [](ordered_json& r) { r["xxh3_128"] = "xyz"; }), "32 hex digits");
  expect_rejected(edited_record(kRaw, [](ordered_json& r) { r["xxh3_128"] = std::string(32, 'a'); }), "checksum");
  expect_rejected(edited_record(kW, [](ordered_json& r) { r["encoding"] = "zstd"; }), "unknown encoding");
  expect_rejected(edited_record(kW, [](ordered_json& r) { r["encoding"] = "raw"; }), "missing");
  expect_rejected(edited_record(kRaw, [](ordered_json& r) { r["encoding"] = "tca-tbe"; }), "only 2-D BF16");
  expect_rejected(edited_record(kW, [](ordered_json& r) { r["shape"] = {512, 65}; }), "differ from the original header");
  expect_rejected(edited_record(kW, [](ordered_json& r) { r["dtype"] = "F16"; }), "differ from the original header");
  expect_rejected(edited_record(kW, [](ordered_json& r) { r.erase("dtype"); }), "lacks");
}

TEST_F(DamagedFile, RandomBitFlipsInTheDataNeverPassSilently) {
  const st::SafetensorsFile f = st::SafetensorsFile::open(dir_->file("good"));
  const size_t data_begin = f.data_offset();
  std::mt19937_64 rng(2026);
  for (int trial = 0; trial < 200; ++trial) {
    const size_t at = data_begin + rng() % (good_.size() - data_begin);
    std::vector<uint8_t> bytes = good_;
    bytes[at] ^= static_cast<uint8_t>(1u << (rng() % 8));
    SCOPED_TRACE("bit flip at byte " + std::to_string(at));
    expect_rejected(bytes, {"bytes do not match the original checksum", "not in canonical form",
                            "is not the canonical padding", "median offsets of strip", "global offsets give segments",
                            "non-zero stream padding"});
  }
}

TEST_F(DamagedFile, RandomBitFlipsInTheHeaderFailOrChangeNothing) {
  const st::SafetensorsFile f = st::SafetensorsFile::open(dir_->file("good"));
  std::mt19937_64 rng(17);
  int rejected = 0;
  for (int trial = 0; trial < 300; ++trial) {
    const size_t at = rng() % f.data_offset();
    std::vector<uint8_t> bytes = good_;
    bytes[at] ^= static_cast<uint8_t>(1u << (rng() % 8));
    write_bytes(dir_->file("flip"), bytes);
    try {
      st::decompress_file(dir_->file("flip"), dir_->file("flip.out"));
      // Accepted: then what comes back must be the original (e.g. a flip inside padding spaces).
      EXPECT_EQ(read_bytes(dir_->file("flip.out")), original_) << "flip at byte " << at << " passed silently";
      std::filesystem::remove(dir_->file("flip.out"));
    } catch (const st::ContainerError&) {
      ++rejected;
    }
    EXPECT_TRUE(dir_->hidden_files().empty());
  }
  EXPECT_GT(rejected, 250);
  std::filesystem::remove(dir_->file("flip"));
}

TEST_F(DamagedFile, PlainFilesAndMissingFiles) {
  expect_rejected(original_, "not a zipserv compressed model");
  EXPECT_THROW(st::decompress_file(dir_->file("does-not-exist"), dir_->file("out")), st::ContainerError);
  EXPECT_THROW(st::compress_file(dir_->file("does-not-exist"), dir_->file("out")), st::ContainerError);
  EXPECT_THROW(st::compress_file(dir_->path().string(), dir_->file("out")), st::ContainerError);
  // A plain file with an unknown dtype cannot even be compressed.
  ordered_json h = ordered_json::parse(zipserv::test::header_of(original_));
  h[kRaw]["dtype"] = "BF15";
  write_bytes(dir_->file("plain-bad"), zipserv::test::with_header(original_, h.dump()));
  EXPECT_THROW(st::compress_file(dir_->file("plain-bad"), dir_->file("out")), st::ContainerError);
  EXPECT_FALSE(std::filesystem::exists(dir_->file("out")));
  EXPECT_TRUE(dir_->hidden_files().empty());
}

}  // namespace
