// The mma.m16n8k16 lane maps against the PTX ISA's fragment figures, written here as literal
// tables, and the TCA-TBE property that lane l decodes bits 2l and 2l+1 of a FragTile.
#include <gtest/gtest.h>

#include <set>
#include <utility>

#include "zipserv/reference/fragment_layout.h"

namespace zipserv {
namespace {

// Transcribed from PTX ISA, "Matrix Fragments for mma.m16n8k16" (floating point types: .f16 /
// .bf16 A and B, .f32 C/D). Each cell of a figure names the lane T that holds the element and
// the index i of the element in that lane's fragment (a0..a7, b0..b3, c0..c3); two 16-bit
// elements share a 32-bit register, register = i / 2, half = i % 2.

// Figure "MMA .m16n8k16 fragment layout for matrix A with .f16/.bf16 type": 16 rows x 16 cols.
constexpr int kALane[16][16] = {
    {0, 0, 1, 1, 2, 2, 3, 3, 0, 0, 1, 1, 2, 2, 3, 3},         {4, 4, 5, 5, 6, 6, 7, 7, 4, 4, 5, 5, 6, 6, 7, 7},
    {8, 8, 9, 9, 10, 10, 11, 11, 8, 8, 9, 9, 10, 10, 11, 11}, {12, 12, 13, 13, 14, 14, 15, 15, 12, 12, 13, 13, 14, 14, 15, 15},
    {16, 16, 17, 17, 18, 18, 19, 19, 16, 16, 17, 17, 18, 18, 19, 19}, {20, 20, 21, 21, 22, 22, 23, 23, 20, 20, 21, 21, 22, 22, 23, 23},
    {24, 24, 25, 25, 26, 26, 27, 27, 24, 24, 25, 25, 26, 26, 27, 27}, {28, 28, 29, 29, 30, 30, 31, 31, 28, 28, 29, 29, 30, 30, 31, 31},
    {0, 0, 1, 1, 2, 2, 3, 3, 0, 0, 1, 1, 2, 2, 3, 3},         {4, 4, 5, 5, 6, 6, 7, 7, 4, 4, 5, 5, 6, 6, 7, 7},
    {8, 8, 9, 9, 10, 10, 11, 11, 8, 8, 9, 9, 10, 10, 11, 11}, {12, 12, 13, 13, 14, 14, 15, 15, 12, 12, 13, 13, 14, 14, 15, 15},
    {16, 16, 17, 17, 18, 18, 19, 19, 16, 16, 17, 17, 18, 18, 19, 19}, {20, 20, 21, 21, 22, 22, 23, 23, 20, 20, 21, 21, 22, 22, 23, 23},
    {24, 24, 25, 25, 26, 26, 27, 27, 24, 24, 25, 25, 26, 26, 27, 27}, {28, 28, 29, 29, 30, 30, 31, 31, 28, 28, 29, 29, 30, 30, 31, 31}};
constexpr int kAElement[16][16] = {
    {0, 1, 0, 1, 0, 1, 0, 1, 4, 5, 4, 5, 4, 5, 4, 5}, {0, 1, 0, 1, 0, 1, 0, 1, 4, 5, 4, 5, 4, 5, 4, 5},
    {0, 1, 0, 1, 0, 1, 0, 1, 4, 5, 4, 5, 4, 5, 4, 5}, {0, 1, 0, 1, 0, 1, 0, 1, 4, 5, 4, 5, 4, 5, 4, 5},
    {0, 1, 0, 1, 0, 1, 0, 1, 4, 5, 4, 5, 4, 5, 4, 5}, {0, 1, 0, 1, 0, 1, 0, 1, 4, 5, 4, 5, 4, 5, 4, 5},
    {0, 1, 0, 1, 0, 1, 0, 1, 4, 5, 4, 5, 4, 5, 4, 5}, {0, 1, 0, 1, 0, 1, 0, 1, 4, 5, 4, 5, 4, 5, 4, 5},
    {2, 3, 2, 3, 2, 3, 2, 3, 6, 7, 6, 7, 6, 7, 6, 7}, {2, 3, 2, 3, 2, 3, 2, 3, 6, 7, 6, 7, 6, 7, 6, 7},
    {2, 3, 2, 3, 2, 3, 2, 3, 6, 7, 6, 7, 6, 7, 6, 7}, {2, 3, 2, 3, 2, 3, 2, 3, 6, 7, 6, 7, 6, 7, 6, 7},
    {2, 3, 2, 3, 2, 3, 2, 3, 6, 7, 6, 7, 6, 7, 6, 7}, {2, 3, 2, 3, 2, 3, 2, 3, 6, 7, 6, 7, 6, 7, 6, 7},
    {2, 3, 2, 3, 2, 3, 2, 3, 6, 7, 6, 7, 6, 7, 6, 7}, {2, 3, 2, 3, 2, 3, 2, 3, 6, 7, 6, 7, 6, 7, 6, 7}};

// Figure "MMA .m16n8k16 fragment layout for matrix B with .f16/.bf16 type": 16 rows (K) x 8 cols (N).
constexpr int kBLane[16][8] = {
    {0, 4, 8, 12, 16, 20, 24, 28}, {0, 4, 8, 12, 16, 20, 24, 28}, {1, 5, 9, 13, 17, 21, 25, 29}, {1, 5, 9, 13, 17, 21, 25, 29},
    {2, 6, 10, 14, 18, 22, 26, 30}, {2, 6, 10, 14, 18, 22, 26, 30}, {3, 7, 11, 15, 19, 23, 27, 31}, {3, 7, 11, 15, 19, 23, 27, 31},
    {0, 4, 8, 12, 16, 20, 24, 28}, {0, 4, 8, 12, 16, 20, 24, 28}, {1, 5, 9, 13, 17, 21, 25, 29}, {1, 5, 9, 13, 17, 21, 25, 29},
    {2, 6, 10, 14, 18, 22, 26, 30}, {2, 6, 10, 14, 18, 22, 26, 30}, {3, 7, 11, 15, 19, 23, 27, 31}, {3, 7, 11, 15, 19, 23, 27, 31}};
constexpr int kBElement[16][8] = {
    {0, 0, 0, 0, 0, 0, 0, 0}, {1, 1, 1, 1, 1, 1, 1, 1}, {0, 0, 0, 0, 0, 0, 0, 0}, {1, 1, 1, 1, 1, 1, 1, 1},
    {0, 0, 0, 0, 0, 0, 0, 0}, {1, 1, 1, 1, 1, 1, 1, 1}, {0, 0, 0, 0, 0, 0, 0, 0}, {1, 1, 1, 1, 1, 1, 1, 1},
    {2, 2, 2, 2, 2, 2, 2, 2}, {3, 3, 3, 3, 3, 3, 3, 3}, {2, 2, 2, 2, 2, 2, 2, 2}, {3, 3, 3, 3, 3, 3, 3, 3},
    {2, 2, 2, 2, 2, 2, 2, 2}, {3, 3, 3, 3, 3, 3, 3, 3}, {2, 2, 2, 2, 2, 2, 2, 2}, {3, 3, 3, 3, 3, 3, 3, 3}};

// Figure "MMA .m16n8k16 fragment layout for accumulator matrix C/D with .f32 type": 16 x 8.
constexpr int kCLane[16][8] = {
    {0, 0, 1, 1, 2, 2, 3, 3}, {4, 4, 5, 5, 6, 6, 7, 7}, {8, 8, 9, 9, 10, 10, 11, 11}, {12, 12, 13, 13, 14, 14, 15, 15},
    {16, 16, 17, 17, 18, 18, 19, 19}, {20, 20, 21, 21, 22, 22, 23, 23}, {24, 24, 25, 25, 26, 26, 27, 27}, {28, 28, 29, 29, 30, 30, 31, 31},
    {0, 0, 1, 1, 2, 2, 3, 3}, {4, 4, 5, 5, 6, 6, 7, 7}, {8, 8, 9, 9, 10, 10, 11, 11}, {12, 12, 13, 13, 14, 14, 15, 15},
    {16, 16, 17, 17, 18, 18, 19, 19}, {20, 20, 21, 21, 22, 22, 23, 23}, {24, 24, 25, 25, 26, 26, 27, 27}, {28, 28, 29, 29, 30, 30, 31, 31}};
constexpr int kCElement[16][8] = {
    {0, 1, 0, 1, 0, 1, 0, 1}, {0, 1, 0, 1, 0, 1, 0, 1}, {0, 1, 0, 1, 0, 1, 0, 1}, {0, 1, 0, 1, 0, 1, 0, 1},
    {0, 1, 0, 1, 0, 1, 0, 1}, {0, 1, 0, 1, 0, 1, 0, 1}, {0, 1, 0, 1, 0, 1, 0, 1}, {0, 1, 0, 1, 0, 1, 0, 1},
    {2, 3, 2, 3, 2, 3, 2, 3}, {2, 3, 2, 3, 2, 3, 2, 3}, {2, 3, 2, 3, 2, 3, 2, 3}, {2, 3, 2, 3, 2, 3, 2, 3},
    {2, 3, 2, 3, 2, 3, 2, 3}, {2, 3, 2, 3, 2, 3, 2, 3}, {2, 3, 2, 3, 2, 3, 2, 3}, {2, 3, 2, 3, 2, 3, 2, 3}};

TEST(FragmentLayout, a_map_matches_ptx_figure_and_is_a_bijection) {
  std::set<std::pair<int, int>> seen;
  for (int lane = 0; lane < kWarpLanes; ++lane)
    for (int reg = 0; reg < kARegsPerLane; ++reg)
      for (int half = 0; half < 2; ++half) {
        const FragCoord p = a_frag_coord(lane, reg, half);
        ASSERT_GE(p.row, 0);
        ASSERT_LT(p.row, 16);
        ASSERT_GE(p.col, 0);
        ASSERT_LT(p.col, 16);
        EXPECT_EQ(kALane[p.row][p.col], lane) << "(" << p.row << ", " << p.col << ")";
        EXPECT_EQ(kAElement[p.row][p.col], 2 * reg + half) << "(" << p.row << ", " << p.col << ")";
        seen.insert({p.row, p.col});
      }
  EXPECT_EQ(seen.size(), 256u);  // 32 x 4 x 2 distinct cells: onto the whole 16 x 16 tile
}

TEST(FragmentLayout, b_map_matches_ptx_figure_and_is_a_bijection) {
  std::set<std::pair<int, int>> seen;
  for (int lane = 0; lane < kWarpLanes; ++lane)
    for (int reg = 0; reg < kBRegsPerLane; ++reg)
      for (int half = 0; half < 2; ++half) {
        const FragCoord p = b_frag_coord(lane, reg, half);
        ASSERT_TRUE(p.row >= 0 && p.row < 16 && p.col >= 0 && p.col < 8);
        EXPECT_EQ(kBLane[p.row][p.col], lane);
        EXPECT_EQ(kBElement[p.row][p.col], 2 * reg + half);
        seen.insert({p.row, p.col});
      }
  EXPECT_EQ(seen.size(), 128u);
}

TEST(FragmentLayout, c_map_matches_ptx_figure_and_is_a_bijection) {
  std::set<std::pair<int, int>> seen;
  for (int lane = 0; lane < kWarpLanes; ++lane)
    for (int value = 0; value < kCValuesPerLane; ++value) {
      const FragCoord p = c_frag_coord(lane, value);
      ASSERT_TRUE(p.row >= 0 && p.row < 16 && p.col >= 0 && p.col < 8);
      EXPECT_EQ(kCLane[p.row][p.col], lane);
      EXPECT_EQ(kCElement[p.row][p.col], value);
      seen.insert({p.row, p.col});
    }
  EXPECT_EQ(seen.size(), 128u);
}

TEST(FragmentLayout, lane_decodes_bits_2l_and_2l_plus_1_of_the_register_fragtile) {
  for (int lane = 0; lane < kWarpLanes; ++lane)
    for (int reg = 0; reg < kARegsPerLane; ++reg)
      for (int half = 0; half < 2; ++half) {
        const FragCoord p = a_frag_coord(lane, reg, half);
        // Storage order of a slice's FragTiles is column-major: index = i + 2j with
        // i = row / 8 (M half) and j = col / 8 (K half).
        EXPECT_EQ(a_frag_fragtile(reg), p.row / 8 + 2 * (p.col / 8));
        EXPECT_EQ(a_frag_bit(lane, half), 8 * (p.row % 8) + (p.col % 8));
        EXPECT_EQ(a_frag_bit(lane, half), 2 * lane + half);
      }
}

// The CUDA kernels use the maps in constant expressions; a non-constexpr edit fails to compile here.
static_assert(a_frag_coord(31, 3, 1).row == 15 && a_frag_coord(31, 3, 1).col == 15);
static_assert(b_frag_coord(0, 1, 0).row == 8 && b_frag_coord(0, 1, 0).col == 0);
static_assert(c_frag_coord(5, 2).row == 9 && c_frag_coord(5, 2).col == 2);

}  // namespace
}  // namespace zipserv
