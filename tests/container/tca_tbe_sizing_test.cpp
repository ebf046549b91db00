// The sizing pass must predict every array length of zipserv::encode() exactly: the compressor
// writes the output header from these numbers before it encodes anything.
#include <gtest/gtest.h>

#include <random>

#include "container_test_util.h"
#include "zipserv/reference/encode.h"
#include "zipserv/container/safetensors.h"
#include "zipserv/container/tca_tbe_sizing.h"

namespace {

void expect_sizes_match_encode(const uint16_t* v, int64_t rows, int64_t cols, const std::string& what) {
  const zipserv::st::TcaTbeSizes s = zipserv::st::size_tca_tbe(v, rows, cols);
  const zipserv::CompressedMatrix m = zipserv::encode(v, rows, cols);
  EXPECT_EQ(s.window.start_exp(), m.start_exp) << what;
  EXPECT_EQ(s.fragtiles, static_cast<int64_t>(m.bitmap1.size())) << what;
  EXPECT_EQ(s.block_tiles, m.block_tiles()) << what;
  EXPECT_EQ(s.sign_mantissa_bytes, static_cast<int64_t>(m.sign_mantissa.size())) << what;
  EXPECT_EQ(s.full_values, static_cast<int64_t>(m.full.size())) << what;
  EXPECT_EQ(s.payload_bytes(), m.payload_bytes()) << what;
  EXPECT_DOUBLE_EQ(s.bits_per_weight(), m.bits_per_weight()) << what;
}

TEST(TcaTbeSizing, MatchesEncodeOnEveryFixtureMatrix) {
  for (const char* file : {"stories260K.safetensors", "use-lite-en.safetensors"})
    for (const auto& m : zipserv::st::load_bf16_matrices(zipserv::test::fixture(file)))
      expect_sizes_match_encode(m.values.data(), m.rows, m.cols, m.name);
}

TEST(TcaTbeSizing, MatchesEncodeAtTileEdges) {
  std::mt19937 rng(7);
  // Shapes named by where they sit relative to the 64 x 64 block tile.
  const std::pair<int64_t, int64_t> shapes[] = {{1, 1}, {1, 64}, {64, 1}, {63, 65}, {64, 64}, {65, 128}, {130, 191}};
  for (auto [rows, cols] : shapes) {
    std::vector<uint16_t> v(static_cast<size_t>(rows * cols));
    // Mostly exponents near 120 (inside a window), a few anywhere (fallback path).
    for (uint16_t& x : v)
      x = static_cast<uint16_t>((rng() % 10 == 0 ? rng() : (116 + rng() % 9) << 7 | (rng() & 0x807F)) & 0xFFFF);
    expect_sizes_match_encode(v.data(), rows, cols, std::to_string(rows) + "x" + std::to_string(cols));
  }
  // Every weight outside the window: the all-fallback worst case.
  std::vector<uint16_t> spread(64 * 64);
  for (size_t i = 0; i < spread.size(); ++i) spread[i] = static_cast<uint16_t>(((i * 37) % 256) << 7);
  expect_sizes_match_encode(spread.data(), 64, 64, "spread exponents");
}

TEST(TcaTbeSizing, RejectsShapesTheFormatCannotHold) {
  EXPECT_FALSE(zipserv::st::tca_tbe_shape_supported(0, 5));
  EXPECT_FALSE(zipserv::st::tca_tbe_shape_supported(1 << 16, 1 << 16));
  EXPECT_TRUE(zipserv::st::tca_tbe_shape_supported(8002, 256));
}

}  // namespace
