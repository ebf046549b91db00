// Bands of block-tile rows (block_tile_band.h): the encoding of a band's rows is exactly the
// band's slice of the whole matrix's arrays, bands decode to the whole matrix's rows, and a
// damaged band is rejected with the very message validate() gives for the whole matrix.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <string>
#include <vector>

#include "test_inputs.h"
#include "zipserv/reference/block_tile_band.h"
#include "zipserv/reference/decode.h"
#include "zipserv/reference/encode.h"

namespace zipserv {
namespace {

// The slice of `m` covering block-tile rows [g0, g1), cut as a file reader cuts it: global
// offsets counted from the band's first pair.
CompressedMatrix slice(const CompressedMatrix& m, int64_t g0, int64_t g1) {
  const int64_t KB = m.block_cols(), t0 = g0 * KB, t1 = g1 * KB;
  CompressedMatrix b;
  b.rows = std::min(m.rows, g1 * 64) - g0 * 64;
  b.cols = m.cols;
  b.start_exp = m.start_exp;
  b.bitmap1.assign(m.bitmap1.begin() + t0 * 64, m.bitmap1.begin() + t1 * 64);
  b.bitmap2.assign(m.bitmap2.begin() + t0 * 64, m.bitmap2.begin() + t1 * 64);
  b.bitmap3.assign(m.bitmap3.begin() + t0 * 64, m.bitmap3.begin() + t1 * 64);
  b.median_offsets.assign(m.median_offsets.begin() + 8 * t0, m.median_offsets.begin() + 8 * t1);
  const int32_t hf0 = m.global_offsets[2 * t0], fb0 = m.global_offsets[2 * t0 + 1];
  for (int64_t t = t0; t <= t1; ++t) {
    b.global_offsets.push_back(m.global_offsets[2 * t] - hf0);
    b.global_offsets.push_back(m.global_offsets[2 * t + 1] - fb0);
  }
  b.sign_mantissa.assign(m.sign_mantissa.begin() + hf0, m.sign_mantissa.begin() + m.global_offsets[2 * t1]);
  b.full.assign(m.full.begin() + fb0, m.full.begin() + m.global_offsets[2 * t1 + 1]);
  return b;
}

void expect_same_arrays(const CompressedMatrix& a, const CompressedMatrix& b, const std::string& where) {
  EXPECT_EQ(a.rows, b.rows) << where;
  EXPECT_EQ(a.start_exp, b.start_exp) << where;
  EXPECT_EQ(a.bitmap1, b.bitmap1) << where;
  EXPECT_EQ(a.bitmap2, b.bitmap2) << where;
  EXPECT_EQ(a.bitmap3, b.bitmap3) << where;
  EXPECT_EQ(a.median_offsets, b.median_offsets) << where;
  EXPECT_EQ(a.global_offsets, b.global_offsets) << where;
  EXPECT_EQ(a.sign_mantissa, b.sign_mantissa) << where;
  EXPECT_EQ(a.full, b.full) << where;
}

struct Shape {
  int64_t rows, cols;
};

TEST(BlockTileBand, band_rows_are_whole_block_tile_rows_within_the_budget) {
  EXPECT_EQ(band_rows(4096, 1 << 18), 64);         // one block-tile row: exactly the budget
  EXPECT_EQ(band_rows(4097, 1 << 18), 64);         // over budget: still one block-tile row
  EXPECT_EQ(band_rows(64, 1 << 18), 64 * 64);      // narrow: 64 block-tile rows
  EXPECT_EQ(band_rows(100, 1 << 18), 64 * 32);     // 100 pads to 128 columns
  EXPECT_EQ(band_rows(1 << 20, 1 << 18), 64);
}

TEST(BlockTileBand, encoding_a_bands_rows_gives_its_slice_of_the_whole_encoding) {
  // Edge shapes (one element, padding in both directions, exact multiples), every band height.
  for (const Shape s : {Shape{1, 1}, Shape{64, 64}, Shape{200, 130}, Shape{300, 64}, Shape{129, 4100}}) {
    const test::Matrix w = test::mixed_matrix(s.rows, s.cols, static_cast<uint64_t>(s.rows * 7 + s.cols));
    for (const uint8_t start_exp : {uint8_t{117}, uint8_t{254}}) {  // 254: padding is code 2
      const CompressedMatrix whole = encode_with_start_exp(w.values.data(), s.rows, s.cols, start_exp);
      for (int64_t height = 1; height <= 3; ++height)
        for (int64_t g0 = 0; g0 < whole.block_rows(); g0 += height) {
          const int64_t g1 = std::min(g0 + height, whole.block_rows());
          const int64_t r0 = g0 * 64, r1 = std::min(s.rows, g1 * 64);
          const CompressedMatrix band = encode_with_start_exp(w.values.data() + r0 * s.cols, r1 - r0, s.cols, start_exp);
          const std::string where = std::to_string(s.rows) + "x" + std::to_string(s.cols) + " start_exp " +
                                    std::to_string(start_exp) + " rows " + std::to_string(r0) + ".." + std::to_string(r1);
          expect_same_arrays(band, slice(whole, g0, g1), where);
          std::vector<uint16_t> out(static_cast<size_t>((r1 - r0) * s.cols));
          decode_band_into(band, g0, out.data());
          EXPECT_TRUE(std::equal(out.begin(), out.end(), w.values.begin() + r0 * s.cols)) << where;
        }
    }
  }
}

// validate() of the whole and validate_band() of the damaged band must say the same thing.
void expect_same_rejection(const CompressedMatrix& whole, int64_t g0, int64_t g1, const std::string& fragment) {
  std::string whole_message, band_message;
  try {
    validate(whole);
  } catch (const FormatError& e) {
    whole_message = e.what();
  }
  const CompressedMatrix band = slice(whole, g0, g1);
  try {
    validate_band(band, g0);
  } catch (const FormatError& e) {
    band_message = e.what();
  }
  EXPECT_NE(whole_message.find(fragment), std::string::npos) << whole_message;
  EXPECT_EQ(band_message, whole_message);
  std::vector<uint16_t> out(static_cast<size_t>(band.rows * band.cols));
  EXPECT_THROW(decode_band_into(band, g0, out.data()), FormatError);
}

TEST(BlockTileBand, a_damaged_band_reports_what_validate_reports_for_the_whole) {
  // 200 x 130: 4 x 3 block tiles, edge tiles in the last row and column. Band = block rows 2..3.
  const test::Matrix w = test::mixed_matrix(200, 130, 5);
  const CompressedMatrix m = encode_with_start_exp(w.values.data(), 200, 130, 117);
  const int64_t t = 2 * 3 + 1;  // block tile (2, 1)
  {
    CompressedMatrix d = m;  // one fallback element becomes high-frequency: segments disagree
    for (int64_t f = t * 64;; ++f)
      if (const uint64_t fallback = ~(d.bitmap1[f] | d.bitmap2[f] | d.bitmap3[f]); fallback != 0) {
        d.bitmap1[f] |= uint64_t{1} << std::countr_zero(fallback);  // code 0 -> 1
        break;
      }
    expect_same_rejection(d, 2, 4, "in block tile 7");
  }
  {
    CompressedMatrix d = m;
    d.median_offsets[2 * (4 * t + 2)] += 1;
    expect_same_rejection(d, 2, 4, "median offsets of strip 2 in block tile 7");
  }
  {
    CompressedMatrix d = m;  // last stream padding byte of tile 7, if it has padding
    const int32_t end = d.global_offsets[2 * t + 2];
    int64_t hf = 0;
    for (int64_t f = t * 64; f < (t + 1) * 64; ++f) hf += std::popcount(d.bitmap1[f] | d.bitmap2[f] | d.bitmap3[f]);
    ASSERT_LT(d.global_offsets[2 * t] + hf, end) << "pick a tile whose segment is padded";
    d.sign_mantissa[end - 1] = 1;
    expect_same_rejection(d, 2, 4, "non-zero stream padding in sign_mantissa in block tile 7");
  }
  {
    CompressedMatrix d = m;  // a padding element (row 199 is the last; column 130.. is padding)
    const int64_t last = 3 * 3 + 2;  // block tile (3, 2): rows 192..255, columns 128..191
    d.bitmap3[last * 64] ^= uint64_t{1} << 7;  // FragTile (192, 128), element (192, 135): padding
    expect_same_rejection(d, 2, 4, "padding element (192, 135)");
  }
}

TEST(BlockTileBand, offsets_that_rise_past_the_streams_are_rejected_before_any_read) {
  // Two block tiles, one per block-tile row. The stream is cut short inside tile 0's segment and
  // tile 1's end offset follows it down, so the totals still match: tile 0's segments agree with
  // its bitmaps but end past the stream, and its padding must not be read. The whole matrix is
  // rejected where the offsets fall (tile 1); band 0 alone, whose stream a reader cuts at the
  // whole stream's end, cannot see tile 1 and names tile 0.
  const test::Matrix w = test::gaussian_matrix(128, 64, 0.02, 3);
  CompressedMatrix m = encode_with_start_exp(w.values.data(), 128, 64, 117);
  m.sign_mantissa.resize(static_cast<size_t>(m.global_offsets[2] - 16));
  m.global_offsets[4] = static_cast<int32_t>(m.sign_mantissa.size());
  try {
    validate(m);
    ADD_FAILURE() << "accepted";
  } catch (const FormatError& e) {
    EXPECT_EQ(std::string(e.what()), "global offsets decrease in block tile 1");
  }
  CompressedMatrix band = slice(m, 0, 0);  // empty arrays, then tile 0 as a reader copies it
  band.rows = 64;
  band.bitmap1.assign(m.bitmap1.begin(), m.bitmap1.begin() + 64);
  band.bitmap2.assign(m.bitmap2.begin(), m.bitmap2.begin() + 64);
  band.bitmap3.assign(m.bitmap3.begin(), m.bitmap3.begin() + 64);
  band.median_offsets.assign(m.median_offsets.begin(), m.median_offsets.begin() + 8);
  band.global_offsets = {0, 0, m.global_offsets[2], m.global_offsets[3]};
  band.sign_mantissa = m.sign_mantissa;  // all the whole matrix holds: short of tile 0's end
  band.full.assign(m.full.begin(), m.full.begin() + m.global_offsets[3]);
  try {
    validate_band(band, 0);
    ADD_FAILURE() << "accepted";
  } catch (const FormatError& e) {
    EXPECT_EQ(std::string(e.what()), "global offsets run past the end of the streams in block tile 0");
  }
}

}  // namespace
}  // namespace zipserv
