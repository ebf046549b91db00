// emu::decode (through the lane fragments) equals the reference decode bit for bit, on every
// Highway target and every thread count; damaged input is rejected, never decoded.
#include <gtest/gtest.h>

#include <algorithm>
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
