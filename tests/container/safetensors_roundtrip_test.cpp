// The safetensors reader and writer on their own: the bundled fixtures open with the tensors
// their provenance note lists, and whatever the writer lays out the reader reads back exactly.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <numeric>

#include "zipserv/container/safetensors.h"
#include "zipserv/container/safetensors_writer.h"

namespace st = zipserv::st;

namespace {

std::string fixture(const char* name) { return std::string(ZIPSERV_DATA_DIR) + "/" + name; }

std::string temp_path(const std::string& leaf) {
  return (std::filesystem::temp_directory_path() / ("zipserv_container_" + leaf)).string();
}

TEST(SafetensorsReader, OpensStories260KWithEveryTensorTilingTheData) {
  const st::SafetensorsFile f = st::SafetensorsFile::open(fixture("stories260K.safetensors"));
  ASSERT_EQ(f.tensors().size(), 47u);
  uint64_t covered = 0;
  for (const st::TensorInfo& t : f.tensors()) {
    EXPECT_EQ(t.begin, covered) << t.name;
    covered = t.end;
    EXPECT_EQ(t.dtype, "BF16");
  }
  EXPECT_EQ(f.data_offset() + covered, f.file_size());
  const st::TensorInfo* emb = f.find("tok_embeddings.weight");
  ASSERT_NE(emb, nullptr);
  EXPECT_EQ(emb->shape, (std::vector<int64_t>{512, 64}));
  EXPECT_EQ(f.bytes(*emb).size(), 512u * 64 * 2);
  EXPECT_EQ(f.metadata().at("architecture"), "llama");
  EXPECT_EQ(f.find("no.such.tensor"), nullptr);
}

// The in-memory entry point (the fuzz targets' way in) sees exactly what open() sees, keeps its
// own copy of the bytes, and rejects damage with the same messages, naming the given name.
TEST(SafetensorsReader, FromBytesEqualsOpenAndRejectsTheSameDamage) {
  std::ifstream in(fixture("stories260K.safetensors"), std::ios::binary);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const st::SafetensorsFile disk = st::SafetensorsFile::open(fixture("stories260K.safetensors"));
  const st::SafetensorsFile mem = st::SafetensorsFile::from_bytes(bytes, "in memory");
  std::fill(bytes.begin(), bytes.end(), 0);  // the copy, not the caller's buffer, is read
  ASSERT_EQ(mem.tensors().size(), disk.tensors().size());
  for (size_t i = 0; i < disk.tensors().size(); ++i) {
    const st::TensorInfo& t = disk.tensors()[i];
    EXPECT_EQ(mem.tensors()[i].name, t.name);
    const auto a = disk.bytes(t), b = mem.bytes(mem.tensors()[i]);
    ASSERT_EQ(a.size(), b.size());
    EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size()), 0) << t.name;
    mem.release(mem.tensors()[i]);  // must not discard heap bytes
    EXPECT_EQ(std::memcmp(a.data(), mem.bytes(mem.tensors()[i]).data(), a.size()), 0) << t.name;
  }
  EXPECT_EQ(mem.header_json(), disk.header_json());
  EXPECT_EQ(mem.file_size(), disk.file_size());
  for (size_t cut : {size_t{0}, size_t{5}, size_t{100}, size_t{disk.file_size() - 1}}) {
    std::vector<uint8_t> file(static_cast<size_t>(disk.file_size()));
    std::memcpy(file.data(), disk.header_json().data() - 8, file.size());
    file.resize(cut);
    try {
      (void)st::SafetensorsFile::from_bytes(file, "cut");
      ADD_FAILURE() << "a file cut to " << cut << " bytes was accepted";
    } catch (const st::ContainerError& e) {
      const std::string m = e.what();
      EXPECT_TRUE(m.starts_with("cut: ")) << m;
      EXPECT_TRUE(m.find("too short") != std::string::npos || m.find("runs past the end") != std::string::npos ||
                  m.find("truncated") != std::string::npos)
          << m;
    }
  }
}

TEST(SafetensorsReader, LoadsEveryTwoDimensionalBf16Matrix) {
  const auto matrices = st::load_bf16_matrices(fixture("use-lite-en.safetensors"));
  ASSERT_FALSE(matrices.empty());
  bool saw_embedding = false;
  for (const auto& m : matrices) {
    EXPECT_EQ(static_cast<int64_t>(m.values.size()), m.rows * m.cols) << m.name;
    saw_embedding |= (m.rows == 8002 && m.cols == 256);
  }
  EXPECT_TRUE(saw_embedding);
  const auto llama = st::load_bf16_matrices(fixture("stories260K.safetensors"));
  // 47 tensors, of which the 11 RMSNorm weights are 1-D.
  EXPECT_EQ(llama.size(), 36u);
}

TEST(SafetensorsWriter, WhatIsWrittenReadsBackExactly) {
  std::vector<st::TensorData> tensors;
  tensors.push_back({{"a", "BF16", {3, 5}}, std::vector<uint8_t>(30)});
  tensors.push_back({{"odd", "U8", {7}}, std::vector<uint8_t>(7)});
  tensors.push_back({{"empty", "F32", {0, 4}}, {}});
  tensors.push_back({{"scalar", "I64", {}}, std::vector<uint8_t>(8)});
  for (auto& t : tensors) std::iota(t.bytes.begin(), t.bytes.end(), uint8_t(t.decl.name.size()));
  const std::string path = temp_path("writer_roundtrip.safetensors");
  st::write_safetensors(path, tensors, {{"format", "pt"}, {"note", "q\"uote\\"}});
  const st::SafetensorsFile f = st::SafetensorsFile::open(path);
  EXPECT_EQ(f.data_offset() % 8, 0u);
  EXPECT_EQ(f.metadata().at("note"), "q\"uote\\");
  ASSERT_EQ(f.tensors().size(), tensors.size());
  for (const auto& t : tensors) {
    const st::TensorInfo* info = f.find(t.decl.name);
    ASSERT_NE(info, nullptr) << t.decl.name;
    EXPECT_EQ(info->dtype, t.decl.dtype);
    EXPECT_EQ(info->shape, t.decl.shape);
    const auto bytes = f.bytes(*info);
    EXPECT_TRUE(std::equal(bytes.begin(), bytes.end(), t.bytes.begin(), t.bytes.end())) << t.decl.name;
  }
  std::filesystem::remove(path);
}

TEST(SafetensorsWriter, RefusesDuplicateNamesAndUnknownDtypes) {
  EXPECT_THROW(st::layout_safetensors({{"x", "BF16", {1}}, {"x", "BF16", {1}}}, {}), st::ContainerError);
  EXPECT_THROW(st::layout_safetensors({{"x", "BF17", {1}}}, {}), st::ContainerError);
  EXPECT_THROW(st::layout_safetensors({{"x", "BF16", {-1}}}, {}), st::ContainerError);
}

TEST(SafetensorsHeader, RejectsEachKindOfInconsistency) {
  auto rejects = [](const std::string& json, const std::string& words) {
    try {
      st::parse_header(json, "h");
      ADD_FAILURE() << "accepted: " << json;
    } catch (const st::ContainerError& e) {
      EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
    }
  };
  rejects(R"({"a":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]})", "not valid JSON");
  rejects(R"([1,2])", "not a JSON object");
  rejects(R"({"a":{"dtype":"BX16","shape":[2],"data_offsets":[0,4]}})", "unsupported dtype");
  rejects(R"({"a":{"dtype":"BF16","shape":[3],"data_offsets":[0,4]}})", "shape and dtype give 6 bytes");
  rejects(R"({"a":{"dtype":"BF16","shape":[-2],"data_offsets":[0,4]}})", "non-negative");
  rejects(R"({"a":{"dtype":"BF16","shape":[2],"data_offsets":[4,0]}})", "end before");
  rejects(R"({"a":{"dtype":"BF16","shape":[2],"data_offsets":[2,6]}})", "gap of 2 bytes");
  rejects(R"({"a":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]},"b":{"dtype":"BF16","shape":[2],"data_offsets":[2,6]}})",
          "overlaps");
  rejects(R"({"a":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]},"a":{"dtype":"BF16","shape":[2],"data_offsets":[4,8]}})",
          "twice");
  rejects(R"({"a":{"dtype":"BF16","shape":[2],"data_offsets":[0,4],"extra":1}})", "unknown field");
  rejects(R"({"__metadata__":{"k":1}})", "not a string");
  rejects(R"({"a":{"dtype":"U8","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,0]}})", "bytes");
  const st::SafetensorsHeader ok = st::parse_header(
      R"({"b":{"dtype":"U8","shape":[1],"data_offsets":[4,5]},"a":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]}}  )", "h");
  ASSERT_EQ(ok.tensors.size(), 2u);
  EXPECT_EQ(ok.tensors[0].name, "a");
  EXPECT_EQ(ok.data_size, 5u);
}

}  // namespace
