// Host-only test of the kernels' per-lane decode (fragment_decode.h): the exact function the
// fused and decode kernels call, run here for every block tile, strip, slice, lane and
// register, with the strip cursor advanced FragTile by FragTile as the kernels do, and compared
// with zipserv::lane_fragments(). Label `cuda` only: no GPU needed.
#include "zipserv/cuda/fragment_decode.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "cuda_test_inputs.h"
#include "zipserv/cuda/fragment_loads.h"
#include "zipserv/reference/decode.h"
#include "zipserv/reference/encode.h"
#include "zipserv/reference/tile_layout.h"

namespace zipserv::cuda {
namespace {

// What the kernels compute: for each block tile t and strip s, cursor = median offsets of
// (t, s); then for slice q = 0..3, reg = 0..3 (storage order), decode, then advance.
std::vector<uint32_t> kernel_style_fragments(const CompressedMatrix& m) {
  validate(m);
  std::vector<uint32_t> regs(static_cast<size_t>(lane_fragment_count(m)), 0xFFFFFFFFu);
  for (int64_t t = 0; t < m.block_tiles(); ++t) {
    const uint8_t* hf_segment = m.sign_mantissa.data() + m.global_offsets[2 * t];
    const uint16_t* full_segment = m.full.data() + m.global_offsets[2 * t + 1];
    for (int s = 0; s < kStripsPerBlockTile; ++s)
      for (int lane = 0; lane < kWarpLanes; ++lane) {
        StripCursor cursor{m.median_offsets[2 * (4 * t + s)], m.median_offsets[2 * (4 * t + s) + 1]};
        for (int q = 0; q < kSlicesPerStrip; ++q)
          for (int reg = 0; reg < kARegsPerLane; ++reg) {
            const int64_t f = t * kFragTilesPerBlockTile + s * kFragTilesPerStrip + q * 4 + a_frag_fragtile(reg);
            const uint64_t b1 = m.bitmap1[f], b2 = m.bitmap2[f], b3 = m.bitmap3[f];
            regs[lane_fragment_index(t, s, q, lane, reg)] =
                decode_fragment_popcount(b1, b2, b3, lane, cursor, hf_segment, full_segment, m.start_exp);
            cursor = advance_past_fragtile(cursor, b1, b2, b3);
          }
      }
  }
  return regs;
}

void expect_equal_fragments(const CompressedMatrix& m, const char* what) {
  const std::vector<uint32_t> expected = lane_fragments(m), actual = kernel_style_fragments(m);
  ASSERT_EQ(expected.size(), actual.size()) << what;
  for (size_t i = 0; i < expected.size(); ++i)
    ASSERT_EQ(actual[i], expected[i]) << what << ": first difference at register index " << i << " (lane "
                                      << (i / 4) % 32 << ", reg " << i % 4 << ")";
}

TEST(FragmentDecodeHost, GaussianWeightsEdgeShapes) {
  for (auto [rows, cols] : {std::pair<int64_t, int64_t>{1, 1}, {7, 9}, {63, 65}, {64, 64}, {172, 64}, {16, 4096}}) {
    const auto w = test::gaussian_values(rows * cols, 0.02, 1000 + rows);
    expect_equal_fragments(encode(w.data(), rows, cols), "gaussian");
  }
}

TEST(FragmentDecodeHost, AllPatternsAtEveryWindowEdge) {
  const auto w = test::all_patterns();
  expect_equal_fragments(encode(w.data(), 256, 256), "best window");
  for (int start : {255, 0, 1, 120, 248, 249, 254})  // 255: window [0, 6] touches exponent 0 (spec G.1)
    expect_equal_fragments(encode_with_start_exp(w.data(), 256, 256, static_cast<uint8_t>(start)), "window edge");
}

TEST(FragmentDecodeHost, RandomPatternsMostlyFallback) {
  const auto w = test::random_bit_patterns(130 * 200, 7);
  expect_equal_fragments(encode(w.data(), 130, 200), "random bits");
}

// One FragTile worked by hand: only bit 38 (lane 19, half 0) high-frequency with code 5 ->
// exponent start_exp + 5; every other element a fallback read at "zeros below".
TEST(FragmentDecodeHost, WorkedExampleOfTheSpec) {
  const uint64_t b1 = uint64_t{1} << 38, b2 = 0, b3 = uint64_t{1} << 38;  // code 101b = 5
  std::vector<uint8_t> sm = {0x85};                                      // sign 1, mantissa 5
  std::vector<uint16_t> full(64);
  for (int i = 0; i < 64; ++i) full[i] = static_cast<uint16_t>(0x1000 + i);
  const uint32_t r19 = decode_fragment_popcount(b1, b2, b3, 19, StripCursor{0, 0}, sm.data(), full.data(), 115);
  EXPECT_EQ(r19 & 0xFFFF, rebuild_bf16(5, 0x85, 115));
  EXPECT_EQ(r19 & 0xFFFF, (1u << 15) | (120u << 7) | 5u) << "exponent 115 + 5 = 120";
  EXPECT_EQ(r19 >> 16, 0x1000u + 38) << "bit 39: 39 bits below, one of them high-frequency";
  const uint32_t r6 = decode_fragment_popcount(b1, b2, b3, 6, StripCursor{0, 0}, sm.data(), full.data(), 115);
  EXPECT_EQ(r6, (0x1000u + 12) | (0x1000u + 13) << 16) << "bits 12, 13: only zeros below";
  const StripCursor next = advance_past_fragtile(StripCursor{10, 20}, b1, b2, b3);
  EXPECT_EQ(next.hf, 11);
  EXPECT_EQ(next.full, 20 + 63);
}

// The K-tail mask of the fused kernel: for every number of valid columns, lane, register and
// half, a value survives exactly when its column 16 slice + a_frag_coord(...).col is inside K.
TEST(FragmentDecodeHost, ZeroABeyondKKeepsExactlyTheColumnsInsideK) {
  for (int k_valid = 1; k_valid <= 64; ++k_valid)
    for (int slice = 0; slice < 4; ++slice)
      for (int lane = 0; lane < 32; ++lane) {
        uint32_t a[kARegsPerLane] = {0xBFC03F80u, 0x7F80FF80u, 0x7FC10001u, 0x80008000u};
        const uint32_t before[kARegsPerLane] = {a[0], a[1], a[2], a[3]};
        zero_a_beyond_k(slice, lane, k_valid, a);
        for (int reg = 0; reg < kARegsPerLane; ++reg)
          for (int half = 0; half < 2; ++half) {
            const int col = 16 * slice + a_frag_coord(lane, reg, half).col;
            const uint32_t got = (a[reg] >> (16 * half)) & 0xFFFFu, was = (before[reg] >> (16 * half)) & 0xFFFFu;
            EXPECT_EQ(got, col < k_valid ? was : 0u) << "k_valid " << k_valid << " slice " << slice << " lane "
                                                       << lane << " reg " << reg << " half " << half;
          }
      }
}

}  // namespace
}  // namespace zipserv::cuda
