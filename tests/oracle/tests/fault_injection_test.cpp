// Deliberately broken engines: the oracle must catch each fault at the right checkpoint and
// name its exact place (block tile, warp, slice, lane, register, row, col) and bits.
#include <gtest/gtest.h>

#include <bit>
#include <functional>
#include <utility>

#include "broken_engines.h"
#include "corpus_expectations.h"
#include "zipserv/reference/element_code.h"
#include "zipserv/reference/fragment_layout.h"
#include "zipserv/reference/tile_layout.h"

namespace zipserv::oracle::test {
namespace {

void expect_later_not_reached(const Report& r, Checkpoint failed) {
  bool after = false;
  for (const CheckpointResult& c : r.results) {
    if (after) {
      EXPECT_EQ(c.status, Status::not_reached) << checkpoint_name(c.checkpoint);
    }
    after = after || c.checkpoint == failed;
  }
}

// 127 x 129 pads to 128 x 192: 2 x 3 block tiles. Block tile 4 is (gm 1, gk 1).
TEST(OracleFaultInjection, OneFlippedBitInOneLaneIsLocatedExactly) {
  const Expected& e = expectation_named("m_lt_128_k_gt_128");
  const FlippedLaneBitEngine engine(/*block_tile=*/4, /*warp=*/2, /*slice=*/3, /*lane=*/17, /*reg=*/2, /*bit=*/20);
  const Report r = check(engine, e);
  ASSERT_FALSE(r.passed());
  EXPECT_EQ(r.at(Checkpoint::window).status, Status::not_applicable);
  const Divergence* d = r.first_divergence();
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->checkpoint, Checkpoint::lane_fragments);
  EXPECT_EQ(d->index, lane_fragment_index(4, 2, 3, 17, 2));
  EXPECT_EQ(d->place.block_tile, 4);
  EXPECT_EQ(d->place.warp, 2);
  EXPECT_EQ(d->place.slice, 3);
  EXPECT_EQ(d->place.lane, 17);
  EXPECT_EQ(d->place.reg, 2);
  EXPECT_EQ(d->bits, 32);
  EXPECT_EQ(d->expected, e.lane_fragments[d->index]);
  EXPECT_EQ(d->actual, e.lane_fragments[d->index] ^ (1u << 20));
  // Bit 20 is in the high half: the element a_frag_coord(17, 2, 1) = (4, 11) of the slice whose
  // origin is (64 + 16 * 2, 64 + 16 * 3) = (96, 112); the register's other element is (100, 122).
  EXPECT_EQ(d->place.row, 100);
  EXPECT_EQ(d->place.col, 123);
  EXPECT_EQ(d->place.row2, 100);
  EXPECT_EQ(d->place.col2, 122);
  EXPECT_FALSE(d->place.padding);
  expect_later_not_reached(r, Checkpoint::lane_fragments);
  EXPECT_NE(d->describe().find("block_tile 4 warp 2 slice 3"), std::string::npos) << d->describe();
  EXPECT_NE(d->describe().find("lane 17 a2"), std::string::npos) << d->describe();
}

TEST(OracleFaultInjection, EveryLaneAndRegisterOfAWarpIsLocated) {
  // Sweep: a fault in any (lane, reg, bit) of block tile 0, warp 3, slice 1 is found there.
  const Expected& e = expectation_named("m_eq_64_k_eq_64");
  for (int lane = 0; lane < kWarpLanes; ++lane)
    for (int reg = 0; reg < kARegsPerLane; ++reg) {
      const int bit = (lane * 7 + reg * 5) % 32;
      const Report r = check(FlippedLaneBitEngine(0, 3, 1, lane, reg, bit), e);
      const Divergence* d = r.first_divergence();
      ASSERT_NE(d, nullptr);
      ASSERT_EQ(d->checkpoint, Checkpoint::lane_fragments);
      EXPECT_EQ(d->place.warp, 3);
      EXPECT_EQ(d->place.slice, 1);
      EXPECT_EQ(d->place.lane, lane);
      EXPECT_EQ(d->place.reg, reg);
      const FragCoord at = a_frag_coord(lane, reg, bit >= 16 ? 1 : 0);
      EXPECT_EQ(d->place.row, 48 + at.row);
      EXPECT_EQ(d->place.col, 16 + at.col);
    }
}

TEST(OracleFaultInjection, LaterCheckpointsAreStillComparedWhenAsked) {
  const Expected& e = expectation_named("m_lt_128_k_gt_128");
  const Report r = check(FlippedLaneBitEngine(4, 2, 3, 17, 2, 20), e, Options{false});
  EXPECT_EQ(r.at(Checkpoint::lane_fragments).status, Status::fail);
  EXPECT_FALSE(r.at(Checkpoint::lane_fragments).after_first_divergence);
  // Only the fragment path is damaged: decode and GEMM still agree.
  EXPECT_EQ(r.at(Checkpoint::decoded).status, Status::pass);
  EXPECT_EQ(r.at(Checkpoint::gemm_output).status, Status::pass);
}

// 63 x 65 pads to 64 x 128: element (37, 64) is in block tile 1, strip 37 / 16 = 2, slice 0,
// FragTile a0 (rows 32..39, cols 64..71), bit 8 * 5 + 0 = 40, lane 20.
TEST(OracleFaultInjection, OneWrongDecodedElementIsLocated) {
  const Expected& e = expectation_named("m_lt_64_k_gt_64");
  const Report r = check(WrongElementDecodeEngine(37, 64), e);
  const Divergence* d = r.first_divergence();
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->checkpoint, Checkpoint::decoded);
  EXPECT_EQ(r.at(Checkpoint::lane_fragments).status, Status::pass);
  EXPECT_EQ(d->index, 37 * 65 + 64);
  EXPECT_EQ(d->place.row, 37);
  EXPECT_EQ(d->place.col, 64);
  EXPECT_EQ(d->place.block_tile, 1);
  EXPECT_EQ(d->place.warp, 2);
  EXPECT_EQ(d->place.slice, 0);
  EXPECT_EQ(d->place.reg, 0);
  EXPECT_EQ(d->place.bit, 40);
  EXPECT_EQ(d->place.lane, 20);
  EXPECT_EQ(d->expected, e.decoded[37 * 65 + 64]);
  EXPECT_EQ(d->actual, e.decoded[37 * 65 + 64] ^ 1u);
  expect_later_not_reached(r, Checkpoint::decoded);
}

// Output (150, 5) of a 172-row Y: block-tile row 2, warp (150 % 64) / 16 = 1; in the m16n8
// accumulator tile it is (6, 5): lane 4 * 6 + 5 / 2 = 26, c1 (c_frag_coord(26, 1) == (6, 5)).
TEST(OracleFaultInjection, OneWrongGemmOutputIsLocated) {
  const Expected& e = expectation_named("m_172_k_eq_64");
  const Report r = check(WrongOutputGemmEngine(150, 5, 0x0001, {SummationOrder::reference, 0}), e);
  const Divergence* d = r.first_divergence();
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->checkpoint, Checkpoint::gemm_output);
  EXPECT_EQ(d->array, "Y(small_integer)");
  EXPECT_EQ(d->index, 5 * 172 + 150);
  EXPECT_EQ(d->place.row, 150);
  EXPECT_EQ(d->place.col, 5);
  EXPECT_EQ(d->place.block_tile, 2);
  EXPECT_EQ(d->place.warp, 1);
  EXPECT_EQ(d->place.lane, 26);
  EXPECT_EQ(d->place.reg, 1);
  const FragCoord c = c_frag_coord(d->place.lane, d->place.reg);
  EXPECT_EQ(c.row, 150 % 16);
  EXPECT_EQ(c.col, 5 % 8);
  EXPECT_EQ(d->expected, e.gemm[0].reference[d->index]);
  EXPECT_EQ(d->actual, e.gemm[0].reference[d->index] ^ 0x0001u);
}

TEST(OracleFaultInjection, WrongGemmOutputIsCaughtUnderTheReorderingRulesToo) {
  // Integer weights: rule 2, bit for bit even for another order, so one ulp is caught.
  const Expected& ints = expectation_named("small_integer_weights");
  const Report exact = check(WrongOutputGemmEngine(7, 3, 0x0001, {SummationOrder::other, 0}), ints);
  ASSERT_NE(exact.first_divergence(), nullptr);
  EXPECT_EQ(exact.first_divergence()->place.row, 7);
  EXPECT_EQ(exact.first_divergence()->place.col, 3);
  // Real weights: rule 3, the bound; a sign flip of a nonzero output is far outside it.
  const Expected& real = expectation_named("m_lt_64_k_gt_64");
  int64_t m = 0;
  while (real.gemm[0].reference[2 * 63 + m] == 0) ++m;  // a nonzero output in column 2
  const Report bounded = check(WrongOutputGemmEngine(m, 2, 0x8000, {SummationOrder::other, 0}), real);
  ASSERT_NE(bounded.first_divergence(), nullptr);
  EXPECT_EQ(bounded.first_divergence()->place.row, m);
  EXPECT_EQ(bounded.first_divergence()->place.col, 2);
  EXPECT_NE(bounded.first_divergence()->note.find("bound"), std::string::npos);
}

// A bitmap2 flip turns code c into c ^ 2; for c in {1, 4, 5} the result is still nonzero, so the
// streams stay identical and only the element's exponent changes.
TEST(OracleFaultInjection, FlippedBitmapBitIsCaughtAtBitmapsAndLaterStagesAreMarked) {
  const Expected& e = expectation_named("m_eq_64_k_eq_64");
  const CompressedMatrix& w = e.compressed;
  const int64_t f = 37;  // block tile 0, strip 2, slice 1, FragTile a1
  int bit = -1;
  for (int b = 0; b < 64 && bit < 0; ++b) {
    const uint32_t code = code_from_bitmaps(w.bitmap1[f], w.bitmap2[f], w.bitmap3[f], b);
    if (code == 1 || code == 4 || code == 5) bit = b;
  }
  ASSERT_GE(bit, 0);
  const FlippedBitmapEncoderEngine engine(2, f, bit);
  const Report r = check(engine, e);
  const Divergence* d = r.first_divergence();
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(r.at(Checkpoint::window).status, Status::pass);
  EXPECT_EQ(d->checkpoint, Checkpoint::bitmaps);
  EXPECT_EQ(d->array, "bitmap2");
  EXPECT_EQ(d->index, f);
  EXPECT_EQ(d->bits, 64);
  EXPECT_EQ(d->expected, w.bitmap2[f]);
  EXPECT_EQ(d->actual, w.bitmap2[f] ^ (uint64_t{1} << bit));
  EXPECT_EQ(d->place.block_tile, 0);
  EXPECT_EQ(d->place.warp, 2);
  EXPECT_EQ(d->place.slice, 1);
  EXPECT_EQ(d->place.reg, 1);
  EXPECT_EQ(d->place.bit, bit);
  EXPECT_EQ(d->place.lane, bit / 2);
  EXPECT_EQ(d->place.row, 40 + bit / 8);  // FragTile a1 of strip 2: rows 32 + 8
  EXPECT_EQ(d->place.col, 16 + bit % 8);  // slice 1: cols 16
  expect_later_not_reached(r, Checkpoint::bitmaps);

  // Going on anyway shows how the damage spreads: the streams are intact, every weight-side
  // checkpoint after them is wrong, and each is marked as a consequence of the first failure.
  const Report all = check(engine, e, Options{false});
  EXPECT_EQ(all.at(Checkpoint::streams).status, Status::pass);
  EXPECT_EQ(all.at(Checkpoint::lane_fragments).status, Status::fail);
  EXPECT_TRUE(all.at(Checkpoint::lane_fragments).after_first_divergence);
  EXPECT_EQ(all.at(Checkpoint::decoded).status, Status::fail);
  EXPECT_EQ(all.at(Checkpoint::decoded).divergence->place.row, 40 + bit / 8);
  EXPECT_EQ(all.at(Checkpoint::decoded).divergence->place.col, 16 + bit % 8);
}

TEST(OracleFaultInjection, FallbackFlipIsCaughtAtBitmapsEvenThoughDecodeWouldThrow) {
  // Turning a fallback element's code from 0 to 1 unbalances the streams: validate() rejects
  // the matrix, so with stop_at_first_divergence off the later stages fail by exception.
  const Expected& e = expectation_named("m_eq_64_k_eq_64");
  const CompressedMatrix& w = e.compressed;
  int64_t f = 0;
  int bit = -1;
  for (; f < static_cast<int64_t>(w.bitmap1.size()) && bit < 0; ++f) {
    const uint64_t fallback = ~(w.bitmap1[f] | w.bitmap2[f] | w.bitmap3[f]);
    if (fallback) bit = std::countr_zero(fallback);
  }
  ASSERT_GE(bit, 0) << "no fallback element in the case";
  --f;
  const Report r = check(FlippedBitmapEncoderEngine(1, f, bit), e, Options{false});
  EXPECT_EQ(r.first_divergence()->checkpoint, Checkpoint::bitmaps);
  EXPECT_NE(r.first_divergence()->note.find("expected 0, got 1"), std::string::npos) << r.first_divergence()->note;
  EXPECT_EQ(r.at(Checkpoint::decoded).status, Status::fail);
  EXPECT_EQ(r.at(Checkpoint::decoded).divergence->array, "exception");
}

// An encoder that leaves garbage in a block tile's alignment padding: validate() rejects it,
// and the oracle names the entry as padding, not as some element's byte.
TEST(OracleFaultInjection, DirtyStreamPaddingIsCaughtAtStreams) {
  class DirtyPaddingEngine final : public ReferenceWrapper {
   public:
    std::string name() const override { return "dirty-padding"; }
    std::optional<CompressedMatrix> encode(const uint16_t* w, int64_t rows, int64_t cols,
                                           std::optional<uint8_t> start_exp) const override {
      CompressedMatrix m = *reference_->encode(w, rows, cols, start_exp);
      m.sign_mantissa.back() = 0x55;  // the last entry: padding when the count is not a multiple of 16
      return m;
    }
  };
  const Expected& e = expectation_named("m_eq_64_k_eq_64");
  const CompressedMatrix& w = e.compressed;
  int64_t hf = 0;
  for (size_t f = 0; f < w.bitmap1.size(); ++f) hf += std::popcount(w.bitmap1[f] | w.bitmap2[f] | w.bitmap3[f]);
  ASSERT_NE(hf % 16, 0) << "this case needs padding at the end of its sign_mantissa stream";
  const Report r = check(DirtyPaddingEngine(), e);
  const Divergence* d = r.first_divergence();
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->checkpoint, Checkpoint::streams);
  EXPECT_EQ(d->array, "sign_mantissa");
  EXPECT_EQ(d->index, static_cast<int64_t>(w.sign_mantissa.size()) - 1);
  EXPECT_EQ(d->place.block_tile, 0);
  EXPECT_EQ(d->actual, 0x55u);
  EXPECT_EQ(d->note, "alignment padding of the block tile");
}

// An encoder that is right except for one entry of one array: `damage` changes it in place.
class DamagedArrayEngine final : public ReferenceWrapper {
 public:
  explicit DamagedArrayEngine(std::function<void(CompressedMatrix&)> damage) : damage_(std::move(damage)) {}
  std::string name() const override { return "damaged-array"; }
  std::optional<CompressedMatrix> encode(const uint16_t* w, int64_t rows, int64_t cols,
                                         std::optional<uint8_t> start_exp) const override {
    CompressedMatrix m = *reference_->encode(w, rows, cols, start_exp);
    damage_(m);
    return m;
  }

 private:
  std::function<void(CompressedMatrix&)> damage_;
};

// One fallback value wrong: found in `full` at its index, and traced back to its element. The
// element is the first fallback of block tile 4, strip 2, slice 1 (127 x 129: tile 4 is rows
// 64..127, cols 64..127); its index is counted here by walking the bitmaps in storage order.
TEST(OracleFaultInjection, OneWrongFallbackValueIsLocatedAtItsElement) {
  const Expected& e = expectation_named("m_lt_128_k_gt_128");
  const CompressedMatrix& w = e.compressed;
  const int64_t t = 4;
  int64_t index = w.global_offsets[2 * t + 1], fragtile = -1;
  int bit = -1;
  for (int64_t f = t * 64; f < (t + 1) * 64 && bit < 0; ++f) {
    const uint64_t fallback = ~(w.bitmap1[f] | w.bitmap2[f] | w.bitmap3[f]);
    if (f >= (4 * t + 2) * 16 + 4 && fallback != 0) {  // strip 2, slice 1 onwards
      fragtile = f;
      bit = std::countr_zero(fallback);
    } else {
      index += std::popcount(fallback);
    }
  }
  ASSERT_GE(bit, 0);
  const TileOrigin o = fragtile_origin(fragtile, w.block_cols());
  const Report r = check(DamagedArrayEngine([&](CompressedMatrix& m) { m.full[index] ^= 0x0001; }), e);
  const Divergence* d = r.first_divergence();
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->checkpoint, Checkpoint::streams);
  EXPECT_EQ(d->array, "full");
  EXPECT_EQ(d->index, index);
  EXPECT_EQ(d->bits, 16);
  EXPECT_EQ(d->expected, w.full[index]);
  EXPECT_EQ(d->actual, w.full[index] ^ 0x0001u);
  EXPECT_EQ(d->place.block_tile, t);
  EXPECT_EQ(d->place.fragtile, fragtile);
  EXPECT_EQ(d->place.bit, bit);
  EXPECT_EQ(d->place.row, o.row + bit / 8);
  EXPECT_EQ(d->place.col, o.col + bit % 8);
  EXPECT_EQ(d->place.warp, static_cast<int>((fragtile - t * 64) / 16));
  EXPECT_TRUE(d->note.empty()) << "an element's value, not padding: " << d->note;
  expect_later_not_reached(r, Checkpoint::streams);
}

TEST(OracleFaultInjection, OneWrongMedianOffsetIsLocatedAtItsBlockTileAndWarp) {
  const Expected& e = expectation_named("m_lt_128_k_gt_128");
  const int64_t t = 5;
  const int s = 3;
  for (int column : {0, 1}) {
    const int64_t index = 2 * (4 * t + s) + column;
    const Report r = check(DamagedArrayEngine([&](CompressedMatrix& m) { m.median_offsets[index] += 1; }), e);
    const Divergence* d = r.first_divergence();
    ASSERT_NE(d, nullptr);
    EXPECT_EQ(d->checkpoint, Checkpoint::streams);
    EXPECT_EQ(d->array, "median_offsets");
    EXPECT_EQ(d->index, index);
    EXPECT_EQ(d->bits, 32);
    EXPECT_EQ(d->actual, static_cast<uint32_t>(e.compressed.median_offsets[index] + 1));
    EXPECT_EQ(d->place.block_tile, t);
    EXPECT_EQ(d->place.warp, s);
    EXPECT_EQ(d->note, column ? "fallback count" : "high-frequency count");
    expect_later_not_reached(r, Checkpoint::streams);
  }
}

TEST(OracleFaultInjection, OneWrongGlobalOffsetIsLocatedAtItsBlockTile) {
  const Expected& e = expectation_named("m_lt_128_k_gt_128");
  const int64_t t = 2;
  for (int column : {0, 1}) {
    const int64_t index = 2 * t + column;
    const Report r = check(DamagedArrayEngine([&](CompressedMatrix& m) { m.global_offsets[index] += 16; }), e);
    const Divergence* d = r.first_divergence();
    ASSERT_NE(d, nullptr);
    EXPECT_EQ(d->checkpoint, Checkpoint::streams);
    EXPECT_EQ(d->array, "global_offsets");
    EXPECT_EQ(d->index, index);
    EXPECT_EQ(d->actual, static_cast<uint32_t>(e.compressed.global_offsets[index] + 16));
    EXPECT_EQ(d->place.block_tile, t);
    EXPECT_EQ(d->note, column ? "fallback offset" : "high-frequency offset");
    expect_later_not_reached(r, Checkpoint::streams);
  }
}

TEST(OracleFaultInjection, OffByOneWindowIsCaughtAtWindow) {
  const Expected& e = expectation_named("m_eq_64_k_eq_64");
  const Report r = check(OffByOneWindowEngine(), e);
  const Divergence* d = r.first_divergence();
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->checkpoint, Checkpoint::window);
  EXPECT_EQ(d->array, "start_exp");
  EXPECT_EQ(d->expected, e.compressed.start_exp);
  EXPECT_EQ(d->actual, static_cast<uint8_t>(e.compressed.start_exp + 1));
  expect_later_not_reached(r, Checkpoint::window);
}

TEST(OracleFaultInjection, OfficialSignBugIsCaughtOnTheWindowAtZero) {
  // Spec G.1: with the window touching exponent 0, start_exp is 255 and the unmasked sum sets
  // bit 15. The first victim is the first (row-major) high-frequency element with sign 0.
  for (const char* name : {"window_at_0_zeros_subnormals", "all_patterns_window_lo_0"}) {
    const Expected& e = expectation_named(name);
    ASSERT_EQ(e.compressed.start_exp, 255);
    int64_t victim = -1;
    for (int64_t i = 0; i < static_cast<int64_t>(e.decoded.size()) && victim < 0; ++i)
      if (element_code(e.decoded[i], 255) != 0 && !(e.decoded[i] & 0x8000)) victim = i;
    ASSERT_GE(victim, 0);
    const Report r = check(OfficialSignBugEngine(), e);
    const Divergence* d = r.first_divergence();
    ASSERT_NE(d, nullptr) << name;
    EXPECT_EQ(d->checkpoint, Checkpoint::decoded);
    EXPECT_EQ(d->index, victim);
    EXPECT_EQ(d->actual, d->expected | 0x8000u);
    // The same decoder is right wherever the window does not wrap.
    EXPECT_TRUE(check(OfficialSignBugEngine(), expectation_named("all_patterns_window_lo_1")).passed());
  }
}

}  // namespace
}  // namespace zipserv::oracle::test
