// One lane's scalar decode (decode_lane), the warp loop as the kernel runs it (decode_slice_lanes)
// and the SIMD warp decode (decode_slice) agree for every lane, on every Highway target.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "target_record.h"
#include "test_matrices.h"
#include "zipserv/reference/decode.h"
#include "zipserv/reference/element_code.h"
#include "zipserv/emulation/emulation.h"
#include "zipserv/reference/encode.h"
#include "zipserv/emulation/lane_decode.h"

namespace zipserv::emu::test {
namespace {

class LaneDecodeTargets : public EmulationTargets {};
HWY_TARGET_INSTANTIATE_TEST_SUITE_P(LaneDecodeTargets);
ZIPSERV_RECORD_TARGETS(LaneDecodeTargets)

using Regs = uint32_t[kARegsPerLane][kWarpLanes];  // (R4, T32) one slice of a warp

// Decodes one slice three ways and expects identical registers; returns how many differ.
int compare_three_ways(const SliceBitmaps& bitmaps, StreamCursors cursors, const StagedStreams& st, Regs& simd) {
  Regs warp_loop{};
  decode_slice_lanes(bitmaps, cursors, st, warp_loop);
  decode_slice(bitmaps, cursors, st, simd);
  int mismatches = 0;
  for (int lane = 0; lane < kWarpLanes; ++lane) {
    uint32_t regs[kARegsPerLane];
    decode_lane(bitmaps, cursors, st, lane, regs);
    for (int reg = 0; reg < kARegsPerLane; ++reg) {
      EXPECT_EQ(warp_loop[reg][lane], regs[reg]) << "decode_slice_lanes, lane " << lane << " a" << reg;
      EXPECT_EQ(simd[reg][lane], regs[reg]) << "SIMD decode_slice, lane " << lane << " a" << reg;
      mismatches += (simd[reg][lane] != regs[reg]) + (warp_loop[reg][lane] != regs[reg]);
    }
  }
  return mismatches;
}

// The worked example of lane_decode.h: indicator bits 0..2 set, hf = 10, full = 4.
TEST_P(LaneDecodeTargets, WorkedExampleFromTheHeader) {
  std::vector<uint8_t> sm(64 + kStagingSlack, 0);
  // a1..a3 are all fallback: 4 + 61 + 3 * 64 = 257 full values are read.
  std::vector<uint16_t> full(320 + kStagingSlack, 0);
  for (int i = 0; i < 64; ++i) sm[i] = static_cast<uint8_t>(i);          // byte i: mantissa i
  for (int i = 0; i < 320; ++i) full[i] = static_cast<uint16_t>(0xC000 + i);
  SliceBitmaps b{};
  b[0].b1 = 0b111;  // bits 0, 1, 2 have code 1
  const StagedStreams st{sm.data(), full.data(), 120};
  const StreamCursors cursors{10, 4};
  uint32_t lane0[kARegsPerLane], lane1[kARegsPerLane];
  decode_lane(b, cursors, st, 0, lane0);
  decode_lane(b, cursors, st, 1, lane1);
  EXPECT_EQ(lane0[0], uint32_t{rebuild_bf16(1, 10, 120)} | uint32_t{rebuild_bf16(1, 11, 120)} << 16);
  EXPECT_EQ(lane1[0], uint32_t{rebuild_bf16(1, 12, 120)} | uint32_t{0xC004} << 16);
  // FragTile a1 starts after 3 high-frequency and 61 fallback elements: all fallback, from 65.
  EXPECT_EQ(lane0[1], uint32_t{0xC000 + 65} | uint32_t{0xC000 + 66} << 16);
  Regs simd{};
  EXPECT_EQ(compare_three_ways(b, cursors, st, simd), 0);
  expect_target_used();
}

// Random bitmap words (every code mix, including all-fallback and all-high-frequency words)
// over random streams: the three decoders agree for all 32 lanes.
TEST_P(LaneDecodeTargets, RandomBitmapsAllLanes) {
  std::mt19937_64 rng(7);
  std::vector<uint8_t> sm(256 + kStagingSlack);
  std::vector<uint16_t> full(256 + kStagingSlack);
  for (auto& v : sm) v = static_cast<uint8_t>(rng());
  for (auto& v : full) v = static_cast<uint16_t>(rng());
  for (int trial = 0; trial < 400; ++trial) {
    SliceBitmaps b{};
    for (FragTileBitmaps& f : b) {
      const int kind = static_cast<int>(rng() % 4);  // 0: random, 1: sparse, 2: none set, 3: all set
      const uint64_t keep = kind == 0 ? ~uint64_t{0} : kind == 1 ? rng() & rng() : kind == 2 ? 0 : ~uint64_t{0};
      f = {rng() & keep, rng() & keep, rng() & keep};
      if (kind == 3) f.b1 = ~uint64_t{0};
    }
    const StagedStreams st{sm.data(), full.data(), static_cast<uint8_t>(rng())};
    Regs simd{};
    ASSERT_EQ(compare_three_ways(b, {static_cast<int32_t>(rng() % 8), static_cast<int32_t>(rng() % 8)}, st, simd), 0)
        << "trial " << trial;
  }
  expect_target_used();
}

// Every slice of encoded matrices (Gaussian weights, every bit pattern): the three decoders
// agree with each other and with the reference's lane fragments.
TEST_P(LaneDecodeTargets, EncodedSlicesMatchReferenceFragments) {
  const std::vector<std::vector<uint16_t>> inputs = {gaussian_bf16(128, 192, 0.02f, 3), [] {
                                                       std::vector<uint16_t> all(65536);
                                                       for (int i = 0; i < 65536; ++i) all[i] = static_cast<uint16_t>(i);
                                                       return all;
                                                     }()};
  const int64_t shapes[2][2] = {{128, 192}, {256, 256}};
  for (int which = 0; which < 2; ++which) {
    const CompressedMatrix m = encode(inputs[which].data(), shapes[which][0], shapes[which][1]);
    const std::vector<uint32_t> expected = zipserv::lane_fragments(m);
    BlockTileStage stage;
    for (int64_t t = 0; t < m.block_tiles(); ++t) {
      stage_block_tile(m, t, stage);
      for (int s = 0; s < kStripsPerBlockTile; ++s) {
        StreamCursors cursors = strip_cursors(m, t, s);
        for (int q = 0; q < kSlicesPerStrip; ++q) {
          const SliceBitmaps b = slice_bitmaps(m, t, s, q);
          Regs simd{};
          ASSERT_EQ(compare_three_ways(b, cursors, stage.view(), simd), 0) << "t " << t << " s " << s << " q " << q;
          for (int lane = 0; lane < kWarpLanes; ++lane)
            for (int reg = 0; reg < kARegsPerLane; ++reg)
              ASSERT_EQ(simd[reg][lane], expected[lane_fragment_index(t, s, q, lane, reg)])
                  << "t " << t << " s " << s << " q " << q << " lane " << lane << " a" << reg;
          cursors = advance_cursors(b, cursors);
        }
      }
    }
  }
  expect_target_used();
}

}  // namespace
}  // namespace zipserv::emu::test
