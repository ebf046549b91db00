// place_element / fragtile_origin against each other and against the spec's traversal order
// (section B.5), over every element of several padded shapes.
#include <gtest/gtest.h>

#include <vector>

#include "zipserv/reference/tile_layout.h"

namespace zipserv {
namespace {

struct PaddedShape {
  int64_t rows, cols;  // multiples of 64
};
const PaddedShape kShapes[] = {{64, 64}, {128, 64}, {64, 192}, {192, 128}, {256, 320}};

TEST(TileLayout, pad_to_block_tile_rounds_up_to_64) {
  EXPECT_EQ(pad_to_block_tile(1), 64);
  EXPECT_EQ(pad_to_block_tile(63), 64);
  EXPECT_EQ(pad_to_block_tile(64), 64);
  EXPECT_EQ(pad_to_block_tile(65), 128);
  EXPECT_EQ(pad_to_block_tile(172), 192);
  EXPECT_EQ(pad_to_block_tile(8002), 8064);
}

TEST(TileLayout, place_element_and_fragtile_origin_are_inverse) {
  for (const PaddedShape& s : kShapes) {
    const int64_t kb = s.cols / 64;
    std::vector<int> hits(static_cast<size_t>(s.rows * s.cols), 0);
    for (int64_t row = 0; row < s.rows; ++row)
      for (int64_t col = 0; col < s.cols; ++col) {
        const ElementPlace p = place_element(row, col, kb);
        ASSERT_GE(p.fragtile, 0);
        ASSERT_LT(p.fragtile, s.rows / 8 * (s.cols / 8));
        ASSERT_GE(p.bit, 0);
        ASSERT_LT(p.bit, 64);
        const TileOrigin o = fragtile_origin(p.fragtile, kb);
        ASSERT_EQ(o.row + p.bit / 8, row);
        ASSERT_EQ(o.col + p.bit % 8, col);
        ++hits[p.fragtile * 64 + p.bit];
        // The named parts agree with the FragTile index formula of spec B.5.
        ASSERT_EQ(p.fragtile, (p.block_tile * 4 + p.strip) * 16 + 4 * p.slice + p.fragtile_in_slice);
      }
    for (int h : hits) ASSERT_EQ(h, 1);  // (fragtile, bit) is a bijection onto the elements
  }
}

TEST(TileLayout, fragtile_index_follows_the_spec_traversal) {
  for (const PaddedShape& s : kShapes) {
    const int64_t kb = s.cols / 64;
    int64_t f = 0;
    // Spec section B.5, literally.
    for (int64_t gm = 0; gm < s.rows / 64; ++gm)
      for (int64_t gk = 0; gk < kb; ++gk)
        for (int st = 0; st < 4; ++st)
          for (int q = 0; q < 4; ++q)
            for (int j = 0; j < 2; ++j)
              for (int i = 0; i < 2; ++i, ++f) {
                const int64_t row0 = 64 * gm + 16 * st + 8 * i, col0 = 64 * gk + 16 * q + 8 * j;
                const TileOrigin o = fragtile_origin(f, kb);
                ASSERT_EQ(o.row, row0) << "f = " << f;
                ASSERT_EQ(o.col, col0) << "f = " << f;
                for (int r = 0; r < 8; ++r)
                  for (int c = 0; c < 8; ++c) {
                    const ElementPlace p = place_element(row0 + r, col0 + c, kb);
                    ASSERT_EQ(p.fragtile, f);
                    ASSERT_EQ(p.bit, 8 * r + c);
                    ASSERT_EQ(p.block_tile, gm * kb + gk);
                    ASSERT_EQ(p.strip, st);
                    ASSERT_EQ(p.slice, q);
                    ASSERT_EQ(p.fragtile_in_slice, 2 * j + i);  // the register a_(2j+i)
                  }
              }
    EXPECT_EQ(f, s.rows / 8 * (s.cols / 8));
  }
}

TEST(TileLayout, named_constants_are_consistent) {
  EXPECT_EQ(kFragTilesPerBlockTile * kElementsPerFragTile, kElementsPerBlockTile);
  EXPECT_EQ(kStripsPerBlockTile * kStripRows, kBlockTileDim);
  EXPECT_EQ(kSlicesPerStrip * kSliceDim, kBlockTileDim);
  EXPECT_EQ(kFragTilesPerSlice * kFragTileDim * kFragTileDim, kSliceDim * kSliceDim);
}

}  // namespace
}  // namespace zipserv
