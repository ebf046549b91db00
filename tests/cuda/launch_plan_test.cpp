// Host-only tests of the CUDA kernels' launch decisions (launch_plan.h): N tile, split-K count
// and ranges, shared-memory layouts, swizzle bank behaviour, grid limits, argument checks.
// No GPU and no driver needed: label `cuda` only.
#include "zipserv/cuda/launch_plan.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "zipserv/reference/fragment_layout.h"

namespace zipserv::cuda {
namespace {

TEST(ChooseTileN, SmallestPowerOfTwoFrom8To128ThatHoldsN) {
  for (int64_t n = 1; n <= 300; ++n) {
    const int t = choose_tile_n(n);
    EXPECT_TRUE(t == 8 || t == 16 || t == 32 || t == 64 || t == 128) << n;
    if (n <= 128) {
      EXPECT_GE(t, n);
      EXPECT_TRUE(t == 8 || t / 2 < n) << "tile " << t << " is not the smallest for n = " << n;
    } else {
      EXPECT_EQ(t, 128);
    }
  }
  EXPECT_EQ(choose_tile_n(1), 8);
  EXPECT_EQ(choose_tile_n(8), 8);
  EXPECT_EQ(choose_tile_n(9), 16);
  EXPECT_EQ(choose_tile_n(65), 128);
}

// Every split of every K has a non-empty range, the ranges tile [0, KB) in order, and their
// sizes differ by at most one (spec G.3: no split may reach into the next row of block tiles).
TEST(SplitRange, NonEmptyContiguousAndInsideTheRowForEveryKAndSplit) {
  for (int64_t kb = 1; kb <= 300; ++kb)
    for (int s = 1; s <= std::min<int64_t>(kb, kMaxSplitK); ++s) {
      int64_t expected_begin = 0, smallest = kb, largest = 0;
      for (int b = 0; b < s; ++b) {
        const SplitRange r = split_range(kb, s, b);
        ASSERT_EQ(r.begin, expected_begin) << "kb " << kb << " splits " << s << " split " << b;
        ASSERT_LT(r.begin, r.end) << "empty split: kb " << kb << " splits " << s << " split " << b;
        ASSERT_LE(r.end, kb);
        smallest = std::min(smallest, r.end - r.begin);
        largest = std::max(largest, r.end - r.begin);
        expected_begin = r.end;
      }
      EXPECT_EQ(expected_begin, kb);
      EXPECT_LE(largest - smallest, 1);
    }
}

// The official code's failing case (spec G.3): K = 4096, Split_K = 48 gives ceil(64/48) = 2 steps
// per split, so splits 32..47 would start at or past K. Here all 48 are non-empty.
TEST(SplitRange, OfficialCeilCounterExampleIsCovered) {
  const int64_t kb = 4096 / 64;
  for (int b = 0; b < 48; ++b) {
    const SplitRange r = split_range(kb, 48, b);
    EXPECT_LT(r.begin, r.end) << b;
    EXPECT_LE(r.end, kb) << b;
  }
}

TEST(ChooseSplitK, StaysInRangeAndEverySplitIsNonEmpty) {
  const std::vector<int64_t> ms = {1, 64, 172, 4096, 6144, 28672, 57344, int64_t{1} << 22};
  const std::vector<int64_t> ks = {1, 63, 64, 65, 256, 640, 4096, 8192, 14336};
  const std::vector<int64_t> ns = {1, 8, 9, 16, 32, 64, 128, 129, 256, 4096};
  for (int sms : {1, 46, 108, 132})
    for (int64_t m : ms)
      for (int64_t k : ks)
        for (int64_t n : ns) {
          const int s = choose_split_k(m, k, n, sms);
          const int64_t kb = (k + 63) / 64;
          ASSERT_GE(s, 1);
          ASSERT_LE(s, std::min<int64_t>(kb, kMaxSplitK)) << m << "x" << k << " n " << n << " sms " << sms;
          for (int b = 0; b < s; ++b) ASSERT_LT(split_range(kb, s, b).begin, split_range(kb, s, b).end);
          const int64_t blocks = (m + 63) / 64 * ((n + choose_tile_n(n) - 1) / choose_tile_n(n));
          if (blocks >= sms) {
            EXPECT_EQ(s, 1) << "enough blocks without splitting: " << m << "x" << k << " n " << n;
          }
          const int64_t mp = (m + 63) / 64 * 64, kp = kb * 64;
          if (mp * kp < (int64_t{1} << 31)) {
            EXPECT_NO_THROW(validate_gemm_launch(m, k, &s, n, s));
          }
        }
}

TEST(ChooseSplitK, SplitsTheSmallMLargeKShapes) {
  // Llama-3.1-8B Down (4096 x 14336) and O (4096 x 4096) at N = 8 on an H100 (132 SMs): only
  // 64 blocks without splitting, so split-K must engage; GateUp (28672 rows) fills the device.
  EXPECT_GT(choose_split_k(4096, 14336, 8, 132), 1);
  EXPECT_GT(choose_split_k(4096, 4096, 8, 132), 1);
  EXPECT_EQ(choose_split_k(28672, 4096, 8, 132), 1);
  EXPECT_EQ(choose_split_k(64, 64, 1, 132), 1);  // a single K step cannot be split
  EXPECT_THROW(choose_split_k(0, 64, 1, 132), std::invalid_argument);
}

// Region [offset, offset + bytes) of a layout, for the overlap checks.
struct Region {
  const char* name;
  int begin;
  int bytes;
};

void expect_layout_sane(const SharedLayout& l, const std::vector<Region>& regions) {
  for (const Region& r : regions) {
    EXPECT_EQ(r.begin % kCpAsyncBytes, 0) << r.name << " is not 16-B aligned";
    EXPECT_LE(r.begin + r.bytes, l.stage_bytes) << r.name << " overruns the stage";
  }
  for (size_t i = 0; i < regions.size(); ++i)
    for (size_t j = i + 1; j < regions.size(); ++j) {
      const Region &a = regions[i], &b = regions[j];
      const bool disjoint = a.begin + a.bytes <= b.begin || b.begin + b.bytes <= a.begin;
      EXPECT_TRUE(disjoint || a.bytes == 0 || b.bytes == 0) << a.name << " overlaps " << b.name;
    }
  EXPECT_EQ(l.stage_bytes % 128, 0);
}

TEST(SharedLayout, CompressedStagesAreAlignedDisjointAndSizedPerCall) {
  for (int tile_n : {8, 16, 32, 64, 128})
    for (int max_hf = 0; max_hf <= 4096; max_hf += 16 * 37)
      for (int max_full = 0; max_full <= 4096; max_full += 8 * 53) {
        const SharedLayout l = compressed_gemm_layout(tile_n, max_hf, max_full);
        expect_layout_sane(l, {{"x", l.x_offset, tile_n * 64 * 2},
                               {"bitmaps", l.bitmap_offset, 3 * 64 * 8},
                               {"median", l.median_offset, 32},
                               {"sign_mantissa", l.hf_offset, max_hf},
                               {"full", l.full_offset, 2 * max_full}});
        EXPECT_EQ(l.total_bytes, kPipelineStages * l.stage_bytes);
      }
  // A typical Gaussian matrix (~97 % in the window) stays under the 48 KB default at every TILE_N;
  // the worst case (max segments of both kinds) needs the opt-in but fits sm_80's 163 KB.
  EXPECT_LE(compressed_gemm_layout(128, 4096, 256).total_bytes, static_cast<int>(kDefaultDynamicSmemLimit));
  const int worst = compressed_gemm_layout(128, 4096, 4096).total_bytes;
  EXPECT_GT(worst, static_cast<int>(kDefaultDynamicSmemLimit));
  EXPECT_LE(worst, 163 * 1024);
  // Two matrices, two sizes: nothing is cached between calls (spec G.2).
  EXPECT_LT(compressed_gemm_layout(8, 3968, 128).total_bytes, compressed_gemm_layout(8, 3968, 4096).total_bytes);
}

TEST(SharedLayout, DenseAndDecompressLayouts) {
  for (int tile_n : {8, 16, 32, 64, 128}) {
    const SharedLayout l = dense_gemm_layout(tile_n);
    expect_layout_sane(l, {{"x", l.x_offset, tile_n * 128}, {"w", l.dense_offset, 64 * 64 * 2}});
    EXPECT_EQ(l.total_bytes, 2 * l.stage_bytes);
  }
  const SharedLayout d = decode_layout(4096, 4096);
  expect_layout_sane(d, {{"tile", d.x_offset, 64 * kDecodeTileStride * 2},
                         {"bitmaps", d.bitmap_offset, 1536},
                         {"median", d.median_offset, 32},
                         {"sign_mantissa", d.hf_offset, 4096},
                         {"full", d.full_offset, 8192}});
  EXPECT_EQ(d.total_bytes, d.stage_bytes);
  EXPECT_EQ(kDecodeTileStride * 2 % 16, 0) << "decoded rows must stay 16-B aligned for the vector stores";
}

// The swizzle permutes each row's 64 elements and keeps every even/odd pair (one 32-bit word)
// together, so a fragment register is still one aligned 32-bit load.
TEST(Swizzle, PermutesEachRowAndKeepsWordPairs) {
  for (int row = 0; row < 128; ++row) {
    std::set<int> seen;
    for (int col = 0; col < 64; ++col) {
      const int off = swizzled_offset(row, col);
      EXPECT_GE(off, row * 64);
      EXPECT_LT(off, row * 64 + 64);
      seen.insert(off);
      if (col % 2 == 0) {
        EXPECT_EQ(swizzled_offset(row, col + 1), off + 1);
      }
      if (col % 8 == 0) {
        EXPECT_EQ(off % 8, 0) << "16-B chunks stay whole (cp.async destinations)";
      }
    }
    EXPECT_EQ(seen.size(), 64u);
  }
}

int bank_of_element(int element_offset) { return (element_offset * 2 / 4) % 32; }

// B-fragment loads (load_b_fragment): for every slice, 8-column group and register, the 32 lanes
// read 32 different banks, i.e. one shared-memory wavefront per load.
TEST(Swizzle, BFragmentLoadsAreBankConflictFree) {
  for (int slice = 0; slice < 4; ++slice)
    for (int n8 = 0; n8 < 16; ++n8)
      for (int reg = 0; reg < kBRegsPerLane; ++reg) {
        std::set<int> banks;
        for (int lane = 0; lane < 32; ++lane) {
          const FragCoord kn = b_frag_coord(lane, reg, 0);
          banks.insert(bank_of_element(swizzled_offset(8 * n8 + kn.col, 16 * slice + kn.row)));
        }
        EXPECT_EQ(banks.size(), 32u) << "slice " << slice << " n8 " << n8 << " reg " << reg;
      }
}

// Dense A-fragment loads of the uncompressed twin, and the decode kernel's register
// stores into its (64, 72) tile: also 32 banks per warp access.
TEST(Swizzle, DenseAFragmentLoadsAndDecompressStoresAreBankConflictFree) {
  for (int strip = 0; strip < 4; ++strip)
    for (int slice = 0; slice < 4; ++slice)
      for (int reg = 0; reg < kARegsPerLane; ++reg) {
        std::set<int> load_banks, store_banks;
        for (int lane = 0; lane < 32; ++lane) {
          const FragCoord lo = a_frag_coord(lane, reg, 0);
          load_banks.insert(bank_of_element(swizzled_offset(16 * strip + lo.row, 16 * slice + lo.col)));
          store_banks.insert(bank_of_element((16 * strip + lo.row) * kDecodeTileStride + 16 * slice + lo.col));
        }
        EXPECT_EQ(load_banks.size(), 32u);
        EXPECT_EQ(store_banks.size(), 32u);
      }
}

TEST(Grid, RespectsTheGridYLimitAndCoversN) {
  const GridShape small = gemm_grid(172, 130, 3);
  EXPECT_EQ(small.x, 2);  // TILE_N = 128
  EXPECT_EQ(small.y, 3);
  EXPECT_EQ(small.z, 3);
  const GridShape tall = gemm_grid(int64_t{70000} * 64, 1, 1);  // 70,000 block rows
  EXPECT_EQ(tall.y, kMaxGridY) << "blocks loop over the rows beyond gridDim.y";
  const GridShape d = decode_grid(int64_t{70000} * 64, 64 * 70000);
  EXPECT_EQ(d.x, kMaxGridY);
  EXPECT_EQ(d.y, kMaxGridY);
}

void expect_rejected(int64_t m, int64_t k, const void* x, int64_t n, int split, const std::string& needle) {
  try {
    validate_gemm_launch(m, k, x, n, split);
    ADD_FAILURE() << "accepted m " << m << " k " << k << " n " << n << " split " << split;
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

TEST(ValidateGemmLaunch, RejectsBadShapesPointersAndSplits) {
  const uint16_t x = 0;
  EXPECT_NO_THROW(validate_gemm_launch(172, 200, &x, 1, 4));
  expect_rejected(172, 200, &x, 0, 1, "n (columns of X");
  expect_rejected(172, 200, &x, -5, 1, "n (columns of X");
  expect_rejected(172, 200, nullptr, 1, 1, "null pointer");
  expect_rejected(0, 200, &x, 1, 1, "not positive");
  expect_rejected(172, -1, &x, 1, 1, "not positive");
  expect_rejected(172, 200, &x, 1, 0, "split_k = 0");
  expect_rejected(172, 200, &x, 1, 5, "split_k = 5");   // K/64 = 4 block tiles
  expect_rejected(64, 64 * 100, &x, 1, kMaxSplitK + 1, "split_k");
  expect_rejected(int64_t{1} << 20, int64_t{1} << 20, &x, 1, 1, "2^31");
  expect_rejected(64, 64, &x, int64_t{1} << 31, 1, "2^31 - 1");
}

TEST(WorkspaceBytes, FP32PartialsPerSplit) {
  EXPECT_EQ(split_k_workspace_bytes(100, 3, 1), 0u);
  EXPECT_EQ(split_k_workspace_bytes(100, 3, 4), 4u * 3 * 100 * sizeof(float));
  EXPECT_EQ(split_k_workspace_bytes(57344, 128, 64), size_t{64} * 128 * 57344 * 4) << "64-bit size arithmetic";
}

}  // namespace
}  // namespace zipserv::cuda
