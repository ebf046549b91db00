// emu::decode (through the lane fragments) equals the reference decode bit for bit, on every
// Highway target and every thread count; damaged input is rejected, never decoded.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <bit>
#include <random>
#include <string>
#include <vector>

#include "target_record.h"
#include "test_matrices.h"
#include "zipserv/reference/decode.h"
#include "zipserv/emulation/emulation.h"
#include "zipserv/reference/encode.h"

namespace zipserv::emu::test {
namespace {

class DecodeTargets : public EmulationTargets {};
HWY_TARGET_INSTANTIATE_TEST_SUITE_P(DecodeTargets);
ZIPSERV_RECORD_TARGETS(DecodeTargets)

TEST_P(DecodeTargets, TileEdgeShapesEqualReference) {
  for (const Shape& shape : tile_edge_shapes()) {
    const std::vector<uint16_t> v = gaussian_bf16(shape.rows, shape.cols, 0.02f, 21);
    const CompressedMatrix m = encode(v.data(), shape.rows, shape.cols);
    EXPECT_EQ(emu::decode(m), zipserv::decode(m)) << shape.name;
    EXPECT_EQ(emu::decode(m), v) << shape.name;  // lossless
  }
  expect_target_used();
}

TEST_P(DecodeTargets, AllPatternsUnderWindowsAtBothEnds) {
  std::vector<uint16_t> v(65536);  // (256, 256) bf16
  for (int i = 0; i < 65536; ++i) v[i] = static_cast<uint16_t>(i);
  for (int start_exp : {255, 0, 120, 248, 252}) {
    const CompressedMatrix m = encode_with_start_exp(v.data(), 256, 256, static_cast<uint8_t>(start_exp));
    EXPECT_EQ(emu::decode(m), v) << "start_exp " << start_exp;
  }
  expect_target_used();
}

TEST_P(DecodeTargets, ThreadCountsGiveIdenticalOutput) {
  const std::vector<uint16_t> v = gaussian_bf16(300, 200, 0.02f, 22);
  const CompressedMatrix m = encode(v.data(), 300, 200);
  for (int threads : {1, 2, 3, 0}) {
    std::vector<uint16_t> out(v.size(), 0xDEAD);
    emu::decode_into(m, out.data(), {.threads = threads});
    EXPECT_EQ(out, v) << threads << " threads";
  }
  expect_target_used();
}

// decode_into() writes outputs of 8 MiB and more through a row buffer with non-temporal stores
// (kStreamingOutputBytes in fragment_gather-inl.h): 2050 x 2056 BF16 is 8.04 MiB. Neither side is
// a multiple of 64 (partial block tiles in both directions) and a row is 4112 bytes, so row starts
// fall at every 16-byte offset of a cache line; the output also starts one element past an
// aligned address. Sentinels around it must survive.
TEST_P(DecodeTargets, LargeOutputStreamedAtAnyAlignment) {
  constexpr int64_t kRows = 2050, kCols = 2056;
  static_assert(kRows * kCols * 2 >= (int64_t{8} << 20), "must take the streaming path");
  const std::vector<uint16_t> v = gaussian_bf16(kRows, kCols, 0.02f, 24);
  const CompressedMatrix m = encode(v.data(), kRows, kCols);
  for (int offset : {0, 1, 8}) {
    for (int threads : {1, 2}) {
      std::vector<uint16_t> out(v.size() + 64, 0xDEAD);
      emu::decode_into(m, out.data() + offset, {.threads = threads});
      EXPECT_TRUE(std::equal(v.begin(), v.end(), out.begin() + offset)) << "offset " << offset << ", " << threads << " threads";
      EXPECT_EQ(std::count(out.begin(), out.begin() + offset, 0xDEAD), offset);
      EXPECT_EQ(std::count(out.begin() + offset + v.size(), out.end(), 0xDEAD), 64 - offset);
    }
  }
  expect_target_used();
}

// The SIMD decode takes two FragTile rows at a time from one 16-byte window of each stream
// (DecodeRowPairsTableExpand() in stream_expand-inl.h): the second row's selectors start
// past the first row's c0 sign/mantissa bytes and 2 (8 - c0) fallback bytes, and a strip whose
// pairs all hold at least 8 high-frequency elements takes that path. This matrix makes every pair
// sit on the edge, c0 + c1 = 8 (the two rows' fallback entries fill the window exactly), with c0
// running through 0..8, or one past it; the last block-tile row breaks the rule in one pair
// (c0 + c1 = 7), so its strips take the row-by-row path next to the others. Fallback values
// are zeros, subnormals, Inf, NaN payloads and exponents just past the window; the others use all 7 codes of window 120.
TEST_P(DecodeTargets, RowPairsAtTheWindowEdgeEqualReference) {
  constexpr int64_t kRows = 192, kCols = 128;
  std::mt19937 rng(25);
  std::vector<uint16_t> v(kRows * kCols);  // (kRows, kCols) bf16
  const uint16_t fallback_values[] = {0x0000, 0x8000, 0x0001, 0x807F, 0x7F80, 0xFF80, 0x7FC1, 0xFFA5, 0x4000, 0x5000};
  for (int64_t tile_row = 0; tile_row < kRows / 8; ++tile_row)
    for (int64_t tile_col = 0; tile_col < kCols / 8; ++tile_col)
      for (int pair = 0; pair < 4; ++pair) {
        int c0 = static_cast<int>((tile_row * 7 + tile_col + pair) % 9);
        int c1 = (tile_col + pair) % 3 == 0 ? std::min(8, 9 - c0) : 8 - c0;  // mostly on the edge
        if (tile_row == kRows / 8 - 1 && tile_col == 3 && pair == 2) c0 = 3, c1 = 4;  // the one pair below it
        for (int half = 0; half < 2; ++half) {
          std::array<int, 8> cols = {0, 1, 2, 3, 4, 5, 6, 7};
          std::shuffle(cols.begin(), cols.end(), rng);
          const int high_frequency = half == 0 ? c0 : c1;
          for (int i = 0; i < 8; ++i) {
            uint16_t& x = v[(tile_row * 8 + 2 * pair + half) * kCols + tile_col * 8 + cols[i]];
            if (i < high_frequency) {
              const uint32_t exponent = 121 + rng() % 7;  // codes 1..7 of window 120
              x = static_cast<uint16_t>((rng() & 0x807F) | exponent << 7);
            } else {
              x = fallback_values[rng() % std::size(fallback_values)];
            }
          }
        }
      }
  const CompressedMatrix m = encode_with_start_exp(v.data(), kRows, kCols, 120);
  // The matrix is what the comment says: pair counts from the bitmaps themselves.
  std::array<int, 9> edge_pairs_by_c0{};
  int below_edge = 0;
  const auto* b1 = reinterpret_cast<const uint8_t*>(m.bitmap1.data());
  const auto* b2 = reinterpret_cast<const uint8_t*>(m.bitmap2.data());
  const auto* b3 = reinterpret_cast<const uint8_t*>(m.bitmap3.data());
  for (size_t j = 0; j < m.bitmap1.size() * 8; j += 2) {
    const int c0 = std::popcount(static_cast<unsigned>(b1[j] | b2[j] | b3[j]));
    const int c1 = std::popcount(static_cast<unsigned>(b1[j + 1] | b2[j + 1] | b3[j + 1]));
    if (c0 + c1 == 8) ++edge_pairs_by_c0[c0];
    if (c0 + c1 < 8) ++below_edge;
  }
  for (int c0 = 0; c0 <= 8; ++c0) EXPECT_GT(edge_pairs_by_c0[c0], 0) << "no pair on the edge with c0 = " << c0;
  EXPECT_EQ(below_edge, 1);
  EXPECT_EQ(emu::decode(m), v);
  EXPECT_EQ(emu::decode(m), zipserv::decode(m));
  expect_target_used();
}

TEST(Decode, DamagedMatrixIsRejected) {
  const std::vector<uint16_t> v = gaussian_bf16(64, 64, 0.02f, 23);
  CompressedMatrix m = encode(v.data(), 64, 64);
  // Flip a code bit where the other two are clear: the element changes class (high-frequency
  // <-> fallback), so the bitmaps' popcounts no longer agree with the offsets.
  int bit = 0;
  while (((m.bitmap2[5] | m.bitmap3[5]) >> bit) & 1u) ++bit;
  m.bitmap1[5] ^= uint64_t{1} << bit;
  EXPECT_THROW(emu::decode(m), FormatError);
  EXPECT_THROW(emu::lane_fragments(m), FormatError);
  CompressedMatrix short_stream = encode(v.data(), 64, 64);
  short_stream.sign_mantissa.pop_back();
  EXPECT_THROW(emu::decode(short_stream), FormatError);
}

}  // namespace
}  // namespace zipserv::emu::test
