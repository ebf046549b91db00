// Compress, decompress and verify work band by band of block-tile rows (row_bands.h): the file
// must be exactly what whole-matrix encoding gives, for tensors of many bands, a last band that
// is partly padding, one-band and narrow many-row bands, and tensors at odd file offsets; and
// damage in a later band must be reported as a whole-matrix validate() reports it.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "container_test_util.h"
#include "zipserv/container/checksum.h"
#include "zipserv/container/compressed_model.h"
#include "zipserv/container/matrix_bands.h"
#include "zipserv/reference/encode.h"
#include "zipserv/container/safetensors_writer.h"

namespace st = zipserv::st;
using zipserv::test::bf16_weights;
using zipserv::test::fixture;
using zipserv::test::read_bytes;
using zipserv::test::ScratchDir;
using zipserv::test::write_bytes;

namespace {

struct Shape {
  const char* name;
  int64_t rows, cols;
};

// Band heights (row_bands.h: 2^18 padded elements, at least 64 rows):
constexpr Shape kShapes[] = {
    {"wide_many_bands", 200, 4160},    // 4160 columns: 64-row bands, the last one 8 rows
    {"wider_than_a_band", 190, 8200},  // 64-row bands over the budget, last band 62 rows
    {"narrow", 5000, 100},             // pads to 128 columns: 2048-row bands, last 904 rows
    {"one_band", 120, 64},             // a single band, padded in rows
};

// A model of kShapes after a 3-byte tensor, so every matrix sits at an odd file offset and each
// band is copied before it is read.
std::string write_model(const ScratchDir& dir) {
  std::vector<st::TensorData> tensors;
  tensors.push_back({{"odd", "U8", {3}}, {1, 2, 3}});
  uint32_t seed = 1;
  for (const Shape& s : kShapes) tensors.push_back({{s.name, "BF16", {s.rows, s.cols}}, bf16_weights(static_cast<size_t>(s.rows * s.cols), seed++)});
  tensors.push_back({{"norm", "BF16", {4160}}, bf16_weights(4160, 99)});
  const std::string path = dir.file("model.safetensors");
  st::write_safetensors(path, tensors, {{"format", "pt"}});
  return path;
}

template <class T>
std::vector<T> stored(const st::SafetensorsFile& f, const std::string& name) {
  const st::TensorInfo* t = f.find(name);
  if (!t) return {};
  const auto bytes = f.bytes(*t);
  std::vector<T> out(bytes.size() / sizeof(T));
  if (!out.empty()) std::memcpy(out.data(), bytes.data(), bytes.size());
  return out;
}

TEST(BandStreaming, StoredArraysAreExactlyTheWholeMatrixEncoding) {
  ScratchDir dir;
  const std::string original = write_model(dir);
  st::compress_file(original, dir.file("m"), {.threads = 2});
  const st::SafetensorsFile plain = st::SafetensorsFile::open(original);
  const st::SafetensorsFile packed = st::SafetensorsFile::open(dir.file("m"));
  for (const Shape& s : kShapes) {
    const std::vector<uint16_t> values = stored<uint16_t>(plain, s.name);
    const zipserv::CompressedMatrix whole = zipserv::encode(values.data(), s.rows, s.cols);
    const std::string n = s.name;
    EXPECT_EQ(stored<uint64_t>(packed, n + ".zipserv.bitmap1"), whole.bitmap1) << n;
    EXPECT_EQ(stored<uint64_t>(packed, n + ".zipserv.bitmap2"), whole.bitmap2) << n;
    EXPECT_EQ(stored<uint64_t>(packed, n + ".zipserv.bitmap3"), whole.bitmap3) << n;
    EXPECT_EQ(stored<int32_t>(packed, n + ".zipserv.global_offsets"), whole.global_offsets) << n;
    EXPECT_EQ(stored<int32_t>(packed, n + ".zipserv.median_offsets"), whole.median_offsets) << n;
    EXPECT_EQ(stored<uint16_t>(packed, n + ".zipserv.full"), whole.full) << n;
    EXPECT_EQ(stored<uint8_t>(packed, n + ".zipserv.sign_mantissa"), whole.sign_mantissa) << n;
  }
  // The same bytes whatever the thread count, and back to the original byte for byte.
  st::compress_file(original, dir.file("m1"), {.threads = 1});
  EXPECT_EQ(read_bytes(dir.file("m")), read_bytes(dir.file("m1")));
  st::decompress_file(dir.file("m"), dir.file("back"), {.threads = 2});
  EXPECT_EQ(read_bytes(original), read_bytes(dir.file("back")));
  const st::VerifyReport r = st::verify_files(original, dir.file("m"), 2);
  EXPECT_TRUE(r.identical) << r.problem;
}

// for_each_matrix_band(), the reader of `zipserv check`: consecutive bands of whole block-tile
// rows that cover the matrix, the rows' values (copied when the tensor sits at an odd offset),
// and for a compressed weight the band's own CompressedMatrix: what encode_with_start_exp() of
// those rows with the whole matrix's window writes, global offsets counted from the band.
TEST(BandStreaming, MatrixBandsAreTheRowsAndTheirEncoding) {
  ScratchDir dir;
  const std::string original = write_model(dir);
  st::compress_file(original, dir.file("m"), {.threads = 2});
  const st::SafetensorsFile plain = st::SafetensorsFile::open(original);
  const st::CompressedModel packed = st::CompressedModel::open(dir.file("m"));
  for (const Shape& s : kShapes) {
    const std::vector<uint16_t> values = stored<uint16_t>(plain, s.name);
    const uint8_t window = zipserv::encode(values.data(), s.rows, s.cols).start_exp;
    const int64_t step = st::matrix_band_rows(s.cols);
    EXPECT_EQ(step % 64, 0);
    for (int compressed = 0; compressed < 2; ++compressed) {
      int64_t next = 0;
      auto visit = [&](const st::MatrixBand& b) {
        EXPECT_EQ(b.first_row, next) << s.name;
        EXPECT_EQ(b.rows, std::min(step, s.rows - next)) << s.name;
        EXPECT_EQ(b.cols, s.cols);
        EXPECT_EQ(reinterpret_cast<uintptr_t>(b.values) % 2, 0u);
        const std::vector<uint16_t> rows(values.begin() + b.first_row * s.cols,
                                         values.begin() + (b.first_row + b.rows) * s.cols);
        EXPECT_TRUE(std::equal(rows.begin(), rows.end(), b.values)) << s.name << " rows from " << b.first_row;
        EXPECT_EQ(b.compressed != nullptr, compressed == 1) << s.name;
        if (b.compressed) {
          const zipserv::CompressedMatrix want = zipserv::encode_with_start_exp(rows.data(), b.rows, s.cols, window);
          EXPECT_EQ(b.compressed->rows, b.rows);
          EXPECT_EQ(b.compressed->start_exp, window);
          EXPECT_EQ(b.compressed->bitmap1, want.bitmap1);
          EXPECT_EQ(b.compressed->bitmap2, want.bitmap2);
          EXPECT_EQ(b.compressed->bitmap3, want.bitmap3);
          EXPECT_EQ(b.compressed->global_offsets, want.global_offsets) << s.name << " rows from " << b.first_row;
          EXPECT_EQ(b.compressed->median_offsets, want.median_offsets);
          EXPECT_EQ(b.compressed->full, want.full);
          EXPECT_EQ(b.compressed->sign_mantissa, want.sign_mantissa);
        }
        next += b.rows;
      };
      if (compressed) packed.for_each_matrix_band(*packed.find(s.name), visit);
      else st::for_each_matrix_band(plain, *plain.find(s.name), visit);
      EXPECT_EQ(next, s.rows) << s.name;
    }
  }
  // Not a matrix: a clear error, no band.
  EXPECT_THROW(st::for_each_matrix_band(plain, *plain.find("odd"), [](const st::MatrixBand&) { FAIL(); }),
               st::ContainerError);
}

// XXH3-128 of `zipserv compress` output for the bundled models, produced before compression
// worked in bands (whole-matrix encode() per tensor): the format's bytes must not change.
TEST(BandStreaming, BundledModelsCompressToTheSameBytesAsBefore) {
  ScratchDir dir;
  const std::pair<const char*, const char*> expected[] = {
      {"stories260K.safetensors", "6d7febaa2281f12bc07c90af45587ada"},
      {"use-lite-en.safetensors", "57160ba176d1c32363dccaa17779bb18"},
  };
  for (const auto& [model, hash] : expected) {
    st::compress_file(fixture(model), dir.file("m"), {.threads = 2, .force = true});
    EXPECT_EQ(st::xxh3_128_hex(read_bytes(dir.file("m"))), hash) << model;
  }
}

// The file offset of stored tensor `name` in `file`.
uint64_t offset_of(const std::string& path, const std::string& name) {
  const st::SafetensorsFile f = st::SafetensorsFile::open(path);
  return f.data_offset() + f.find(name)->begin;
}

std::string decompress_error(const ScratchDir& dir, const std::vector<uint8_t>& damaged) {
  write_bytes(dir.file("damaged"), damaged);
  try {
    st::decompress_file(dir.file("damaged"), dir.file("out"), {.threads = 1, .force = true});
  } catch (const st::ContainerError& e) {
    EXPECT_FALSE(std::filesystem::exists(dir.file("out")));
    return e.what();
  }
  return "";
}

TEST(BandStreaming, DamageInALaterBandIsReportedAsForTheWholeMatrix) {
  ScratchDir dir;
  const std::string original = write_model(dir), packed = dir.file("m");
  st::compress_file(original, packed);
  const std::vector<uint8_t> good = read_bytes(packed);
  // "wide_many_bands": 4 block-tile rows x 65 block tiles, one band per block-tile row. Block
  // tile 2 * 65 + 3 = 133 lies in the third band.
  const int64_t tile = 133;
  {
    // A median offset: validate_band() names the block tile of the whole matrix.
    std::vector<uint8_t> d = good;
    const uint64_t at = offset_of(packed, "wide_many_bands.zipserv.median_offsets") + (8 * tile + 2 * 1) * 4;
    d[at] ^= 1;
    const std::string e = decompress_error(dir, d);
    EXPECT_NE(e.find("tensor \"wide_many_bands\": median offsets of strip 1 in block tile 133"), std::string::npos) << e;
  }
  {
    // The last row's padding element (199, 4160) lies in the last band: its row is the whole
    // matrix's, not the band's (7).
    std::vector<uint8_t> d = good;
    const int64_t edge_tile = 3 * 65 + 64;  // block tile (3, 64): rows 192..255, columns 4096..4159
    // Row 200 (first padding row) is in strip 0 (rows 192..207), i = 1 (rows 200..207), r = 0;
    // FragTile w = 4q + 2j + i with q = j = 0: w = 1. Bit 0: element (200, 4096).
    const uint64_t at = offset_of(packed, "wide_many_bands.zipserv.bitmap3") + (edge_tile * 64 + 1) * 8;
    d[at] ^= 1;
    const std::string e = decompress_error(dir, d);
    EXPECT_NE(e.find("padding element (200, 4096) is not the canonical padding"), std::string::npos) << e;
    EXPECT_NE(e.find("in block tile 259"), std::string::npos) << e;
  }
  {
    // A sign+mantissa byte in the third band: structurally fine, caught by the checksum after
    // the last band.
    std::vector<uint8_t> d = good;
    const st::SafetensorsFile f = st::SafetensorsFile::open(packed);
    const std::vector<int32_t> offsets = stored<int32_t>(f, "wide_many_bands.zipserv.global_offsets");
    const uint64_t at = offset_of(packed, "wide_many_bands.zipserv.sign_mantissa") + offsets[2 * tile];
    d[at] ^= 0x01;
    const std::string e = decompress_error(dir, d);
    EXPECT_NE(e.find("tensor \"wide_many_bands\": bytes do not match the original checksum"), std::string::npos) << e;
    write_bytes(dir.file("damaged"), d);
    EXPECT_THROW(st::verify_files(original, dir.file("damaged")), st::ContainerError);
  }
}

}  // namespace
