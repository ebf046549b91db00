// Faults injected into the emulation's own decoder (decoder_faults.h), not into its outputs: the
// oracle must catch each kind of decoder bug at the lane_fragments checkpoint and name the block
// tile, warp, slice, lane and register where it happened. The expected lane and register are
// worked out here from the reference's lane fragments and streams, not from the emulation.
#include <gtest/gtest.h>

#include <bit>

#include "corpus_expectations.h"
#include "zipserv/emulation/decoder_faults.h"
#include "zipserv/reference/fragment_layout.h"
#include "zipserv/oracle/builtin_engines.h"

namespace zipserv::oracle::test {
namespace {

// 127 x 129 pads to 128 x 192: 2 x 3 block tiles; block tile 4 is (gm 1, gk 1).
constexpr const char* kCase = "m_lt_128_k_gt_128";

const Divergence& first_divergence_under(const emu::DecoderFault& fault, const Expected& e, Report& r) {
  const auto engine = make_emulation_engine(1);
  {
    const emu::ScopedDecoderFault armed(fault);
    r = check(*engine, e);
  }
  EXPECT_TRUE(check(*engine, e).passed()) << "disarming must restore the emulation";
  static const Divergence none;
  if (r.first_divergence() == nullptr) {
    ADD_FAILURE() << "the oracle did not catch the injected fault";
    return none;
  }
  return *r.first_divergence();
}

void expect_place(const Divergence& d, const emu::DecoderFault& f, int lane, int reg) {
  EXPECT_EQ(d.checkpoint, Checkpoint::lane_fragments);
  EXPECT_EQ(d.array, "lane_fragments") << d.describe();
  EXPECT_EQ(d.index, lane_fragment_index(f.block_tile, f.warp, f.slice, lane, reg)) << d.describe();
  EXPECT_EQ(d.place.block_tile, f.block_tile);
  EXPECT_EQ(d.place.warp, f.warp);
  EXPECT_EQ(d.place.slice, f.slice);
  EXPECT_EQ(d.place.lane, lane);
  EXPECT_EQ(d.place.reg, reg);
}

TEST(OracleEmulationFaults, TwoSwappedLanesAreLocatedAtTheLowerLane) {
  const Expected& e = expectation_named(kCase);
  const emu::DecoderFault fault{emu::DecoderFaultKind::swapped_lanes, 4, 2, 3, /*lane=*/21, /*lane2=*/9, 0};
  // The first register (in index order: lane 9 before 21, a0 before a1) whose two values differ.
  int reg = -1;
  for (int r = 0; r < kARegsPerLane && reg < 0; ++r)
    if (e.lane_fragments[lane_fragment_index(4, 2, 3, 9, r)] != e.lane_fragments[lane_fragment_index(4, 2, 3, 21, r)])
      reg = r;
  ASSERT_GE(reg, 0) << "lanes 9 and 21 hold the same values: the swap would be invisible";
  Report r;
  const Divergence& d = first_divergence_under(fault, e, r);
  expect_place(d, fault, 9, reg);
  EXPECT_EQ(d.actual, e.lane_fragments[lane_fragment_index(4, 2, 3, 21, reg)]);
}

TEST(OracleEmulationFaults, AnOffByOneCursorIsLocatedAtTheFirstHighFrequencyElementItShifts) {
  const Expected& e = expectation_named(kCase);
  const CompressedMatrix& w = e.compressed;
  const emu::DecoderFault fault{emu::DecoderFaultKind::hf_cursor_off_by_one, 4, 1, 2, 0, 0, 0};
  // Walk the slice's elements in the oracle's index order (lane, then register, then half) and
  // find the first high-frequency element whose byte differs from the byte after it.
  const int64_t t = 4, s = 1, q = 2;
  const int64_t hf0 = w.global_offsets[2 * t] + w.median_offsets[2 * (4 * t + s)];
  int64_t before_slice = 0;  // high-frequency elements of the strip's earlier slices
  for (int64_t f = (4 * t + s) * 16; f < (4 * t + s) * 16 + 4 * q; ++f)
    before_slice += std::popcount(w.bitmap1[f] | w.bitmap2[f] | w.bitmap3[f]);
  int lane = -1, reg = -1;
  for (int l = 0; l < kWarpLanes && lane < 0; ++l)
    for (int i = 0; i < kARegsPerLane && lane < 0; ++i) {
      int64_t cursor = hf0 + before_slice;  // this FragTile's first byte
      for (int j = 0; j < i; ++j) {
        const int64_t f = (4 * t + s) * 16 + 4 * q + j;
        cursor += std::popcount(w.bitmap1[f] | w.bitmap2[f] | w.bitmap3[f]);
      }
      const int64_t f = (4 * t + s) * 16 + 4 * q + i;
      const uint64_t indicator = w.bitmap1[f] | w.bitmap2[f] | w.bitmap3[f];
      for (int half = 0; half < 2; ++half) {
        const int p = 2 * l + half;
        if (!((indicator >> p) & 1)) continue;
        const int64_t at = cursor + std::popcount(indicator & ((uint64_t{1} << p) - 1));
        if (w.sign_mantissa[at] != w.sign_mantissa[at + 1] && lane < 0) {
          lane = l;
          reg = i;
        }
      }
    }
  ASSERT_GE(lane, 0);
  Report r;
  expect_place(first_divergence_under(fault, e, r), fault, lane, reg);
}

TEST(OracleEmulationFaults, AWrongStreamReadIsLocatedAtItsLaneAndRegister) {
  const Expected& e = expectation_named(kCase);
  // Lane 13's a3 in two places: one whose low element is high-frequency, one where it is a
  // fallback (read from the other stream either way).
  const CompressedMatrix& w = e.compressed;
  int checked = 0;
  for (int64_t t = 0; t < w.block_tiles() && checked < 2; ++t)
    for (int s = 0; s < 4 && checked < 2; ++s)
      for (int q = 0; q < 4 && checked < 2; ++q) {
        const int64_t f = (4 * t + s) * 16 + 4 * q + 3;
        const bool high_frequency = ((w.bitmap1[f] | w.bitmap2[f] | w.bitmap3[f]) >> 26) & 1;
        if (high_frequency != (checked == 0)) continue;
        SCOPED_TRACE(high_frequency ? "high-frequency element read from full" : "fallback read from sign_mantissa");
        const emu::DecoderFault fault{emu::DecoderFaultKind::wrong_stream_read, t, s, q, 13, 0, 3};
        Report r;
        const Divergence& d = first_divergence_under(fault, e, r);
        expect_place(d, fault, 13, 3);
        EXPECT_EQ(d.expected >> 16, d.actual >> 16) << "only the low half was read wrong";
        ++checked;
      }
  EXPECT_EQ(checked, 2) << "the case needs both kinds of element at bit 26 of some a3";
}

TEST(OracleEmulationFaults, TheFaultAlsoReachesTheDecodedMatrixAtTheSameElement) {
  // With stop_at_first_divergence off, the decode path carries the same fault: its first wrong
  // element is the swapped register's low element.
  const Expected& e = expectation_named(kCase);
  const emu::DecoderFault fault{emu::DecoderFaultKind::swapped_lanes, 0, 0, 0, 0, 31, 0};
  const auto engine = make_emulation_engine(1);
  const emu::ScopedDecoderFault armed(fault);
  const Report r = check(*engine, e, Options{false});
  ASSERT_EQ(r.at(Checkpoint::decoded).status, Status::fail);
  const Divergence& d = *r.at(Checkpoint::decoded).divergence;
  const FragCoord lane0 = a_frag_coord(0, 0, 0);
  EXPECT_EQ(d.place.row, lane0.row);  // lane 0 a0 low: element (0, 0) of block tile 0
  EXPECT_EQ(d.place.col, lane0.col);
}

}  // namespace
}  // namespace zipserv::oracle::test
