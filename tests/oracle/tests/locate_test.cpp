// The inverse maps of locate.h agree with the forward maps of tile_layout.h and
// fragment_layout.h, exhaustively over the indices they translate.
#include <gtest/gtest.h>

#include <set>

#include "corpus_expectations.h"
#include "zipserv/reference/decode.h"
#include "zipserv/reference/element_code.h"
#include "zipserv/reference/fragment_layout.h"
#include "zipserv/oracle/locate.h"
#include "zipserv/reference/tile_layout.h"

namespace zipserv::oracle::test {
namespace {

TEST(OracleLocate, LaneRegisterIndexMapsBackToItsElements) {
  const CompressedMatrix& w = expectation_named("m_lt_128_k_gt_128").compressed;  // 2 x 3 block tiles
  for (int64_t i = 0; i < lane_fragment_count(w); ++i)
    for (bool high : {false, true}) {
      const Place p = locate_lane_register(w, i, high);
      ASSERT_EQ(lane_fragment_index(p.block_tile, p.warp, p.slice, p.lane, p.reg), i);
      // The forward map must put the named element back at the same place.
      const ElementPlace e = place_element(p.row, p.col, w.block_cols());
      ASSERT_EQ(e.block_tile, p.block_tile);
      ASSERT_EQ(e.strip, p.warp);
      ASSERT_EQ(e.slice, p.slice);
      ASSERT_EQ(e.fragtile_in_slice, p.reg);
      ASSERT_EQ(e.bit, a_frag_bit(p.lane, high ? 1 : 0));
      ASSERT_EQ(p.padding, p.row >= w.rows || p.col >= w.cols);
    }
}

TEST(OracleLocate, DecodedIndexAndFragtileBitAgree) {
  const CompressedMatrix& w = expectation_named("m_lt_64_k_gt_64").compressed;
  for (int64_t i = 0; i < w.rows * w.cols; ++i) {
    const Place p = locate_decoded(w, i);
    ASSERT_EQ(p.row * w.cols + p.col, i);
    const Place q = locate_fragtile_bit(w, p.fragtile, p.bit);
    ASSERT_EQ(q.row, p.row);
    ASSERT_EQ(q.col, p.col);
    ASSERT_EQ(q.lane, p.lane);
    ASSERT_EQ(q.reg, p.reg);
    ASSERT_EQ(q.warp, p.warp);
    ASSERT_EQ(q.slice, p.slice);
  }
}

TEST(OracleLocate, OutputIndexInvertsTheAccumulatorLayout) {
  const int64_t m_rows = 172;
  for (int64_t i = 0; i < m_rows * 13; ++i) {
    const Place p = locate_output(m_rows, i);
    ASSERT_EQ(p.col * m_rows + p.row, i);
    const FragCoord c = c_frag_coord(p.lane, p.reg);
    ASSERT_EQ(c.row, p.row % 16);
    ASSERT_EQ(c.col, p.col % 8);
    ASSERT_EQ(p.warp, p.row % 64 / 16);
  }
}

TEST(OracleLocate, EveryStreamEntryNamesTheElementStoredThere) {
  // Each entry of both streams maps to a distinct element of the right class, and the entry's
  // content is that element's byte (high-frequency) or pattern (fallback); the rest is padding.
  for (const char* name : {"m_lt_64_k_gt_64", "window_at_249_nan_inf"}) {
    const Expected& e = expectation_named(name);
    const CompressedMatrix& w = e.compressed;
    const std::vector<uint16_t> padded = decode_padded(w);
    for (bool hf : {true, false}) {
      std::set<std::pair<int64_t, int64_t>> seen;
      const int64_t n = hf ? static_cast<int64_t>(w.sign_mantissa.size()) : static_cast<int64_t>(w.full.size());
      int64_t located = 0;
      for (int64_t i = 0; i < n; ++i) {
        Place p;
        if (!locate_stream_entry(w, hf, i, p)) continue;  // alignment padding
        ++located;
        ASSERT_TRUE(seen.insert({p.row, p.col}).second) << name << " entry " << i;
        const uint16_t v = padded[p.row * w.padded_cols() + p.col];
        if (hf) {
          ASSERT_NE(element_code(v, w.start_exp), 0u);
          ASSERT_EQ(w.sign_mantissa[i], sign_mantissa_byte(v));
        } else {
          ASSERT_EQ(element_code(v, w.start_exp), 0u);
          ASSERT_EQ(w.full[i], v);
        }
      }
      // Every element of the class is reached: high-frequency + fallback = the padded matrix.
      int64_t expected = 0;
      for (uint16_t v : padded) expected += (element_code(v, w.start_exp) != 0) == hf;
      EXPECT_EQ(located, expected) << name << (hf ? " sign_mantissa" : " full");
    }
  }
}

}  // namespace
}  // namespace zipserv::oracle::test
