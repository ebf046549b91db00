// The emulated mma.m16n8k16: the lane-by-lane version (mma_m16n8k16) equals the reference GEMM's
// summation, and the SIMD version across rows (mma_strip_rows) equals four lane-by-lane MMAs in
// a row, bit for bit, on every Highway target.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include "target_record.h"
#include "test_matrices.h"
#include "zipserv/reference/bf16.h"
#include "zipserv/emulation/emulation.h"
#include "zipserv/reference/fragment_layout.h"
#include "zipserv/reference/gemm.h"
#include "zipserv/emulation/mma_emulation.h"
#include "zipserv/reference/mma_numerics.h"

namespace zipserv::emu::test {
namespace {

class MmaTargets : public EmulationTargets {};
HWY_TARGET_INSTANTIATE_TEST_SUITE_P(MmaTargets);
ZIPSERV_RECORD_TARGETS(MmaTargets)

// Packs the 16 x 16 slice at column k0 of a 16 x K row-major BF16 strip into an A fragment,
// through the one lane map.
AFragment a_fragment(const std::vector<uint16_t>& w, int64_t k, int64_t k0) {
  AFragment a{};
  for (int lane = 0; lane < kWarpLanes; ++lane)
    for (int reg = 0; reg < kARegsPerLane; ++reg) {
      const FragCoord lo = a_frag_coord(lane, reg, 0), hi = a_frag_coord(lane, reg, 1);
      a[lane][reg] = uint32_t{w[lo.row * k + k0 + lo.col]} | uint32_t{w[hi.row * k + k0 + hi.col]} << 16;
    }
  return a;
}

// One mma with C = 0, rounded to BF16, equals the reference GEMM of the same 16x16 by 16x8.
TEST(Mma, LaneByLaneEqualsReferenceGemm) {
  for (uint32_t seed = 0; seed < 20; ++seed) {
    const std::vector<uint16_t> w = seed % 2 ? gaussian_bf16(16, 16, 1.0f, seed) : any_bits_bf16(16, 16, seed);
    const std::vector<uint16_t> x = gaussian_bf16(8, 16, 1.0f, seed + 100);  // (N8, K16) bf16
    std::vector<uint16_t> y(16 * 8);  // (N8, M16) bf16, column-major Y
    gemm_dense(w.data(), 16, 16, x.data(), 8, y.data());
    CFragment c{};
    mma_m16n8k16(a_fragment(w, 16, 0), b_fragment_from_rows(x.data(), 8, 16, 0, 0), c);
    for (int lane = 0; lane < kWarpLanes; ++lane)
      for (int v = 0; v < kCValuesPerLane; ++v) {
        const FragCoord mn = c_frag_coord(lane, v);
        ASSERT_EQ(float_to_bf16_rne(c[lane][v]), y[mn.col * 16 + mn.row]) << "seed " << seed << " lane " << lane;
      }
  }
}

// Under every numerics, each accumulator of the lane-by-lane mma is mma_dot16() of row m of A,
// column n of B and its own C, with (m, n) = c_frag_coord(lane, v): the fragment maps do not
// change the arithmetic. Non-zero starting accumulators; Gaussian and any-bit-pattern A.
TEST(Mma, LaneByLaneEachNumericsIsMmaDot16PerOutput) {
  for (const MmaNumerics numerics : kAllMmaNumerics)
    for (uint32_t seed = 0; seed < 6; ++seed) {
      const std::vector<uint16_t> w = seed % 2 ? gaussian_bf16(16, 16, 1.0f, seed) : any_bits_bf16(16, 16, seed);
      const std::vector<uint16_t> x = gaussian_bf16(8, 16, 1.0f, seed + 100);  // (N8, K16) bf16
      std::mt19937 rng(seed);
      std::normal_distribution<float> dist(0.0f, 3.0f);
      CFragment c{};
      for (auto& lane : c)
        for (float& v : lane) v = dist(rng);
      const CFragment c0 = c;
      mma_m16n8k16(a_fragment(w, 16, 0), b_fragment_from_rows(x.data(), 8, 16, 0, 0), c, numerics);
      for (int lane = 0; lane < kWarpLanes; ++lane)
        for (int v = 0; v < kCValuesPerLane; ++v) {
          const FragCoord mn = c_frag_coord(lane, v);
          uint16_t row[16], column[16];
          for (int k = 0; k < 16; ++k) {
            row[k] = w[mn.row * 16 + k];
            column[k] = x[mn.col * 16 + k];
          }
          const float expected = mma_dot16(numerics, row, column, c0[lane][v]);
          ASSERT_EQ(std::memcmp(&c[lane][v], &expected, sizeof expected), 0)
              << numerics_name(numerics) << " seed " << seed << " lane " << lane << " v " << v;
        }
    }
}

// A strip's register file (Q4, R4, T32) from a 16 x 64 row-major strip, through the lane map.
std::vector<uint32_t> strip_registers(const std::vector<uint16_t>& w) {
  std::vector<uint32_t> regs(kSlicesPerStrip * kARegsPerLane * kWarpLanes);
  for (int q = 0; q < kSlicesPerStrip; ++q) {
    const AFragment a = a_fragment(w, 64, 16 * q);
    for (int lane = 0; lane < kWarpLanes; ++lane)
      for (int reg = 0; reg < kARegsPerLane; ++reg) regs[(q * kARegsPerLane + reg) * kWarpLanes + lane] = a[lane][reg];
  }
  return regs;
}

TEST_P(MmaTargets, AcrossRowsEqualsFourLaneByLaneMmas) {
  for (int ncols : {1, 2, 3, 8, 13}) {
    const std::vector<uint16_t> w = gaussian_bf16(16, 64, 0.5f, ncols);          // (M16, K64) bf16
    const std::vector<uint16_t> x = gaussian_bf16(ncols, 64, 2.0f, ncols + 50);  // (N, K64) bf16
    std::vector<float> xf(x.size());
    for (size_t i = 0; i < x.size(); ++i) xf[i] = bf16_to_float(x[i]);
    // Starting accumulators: arbitrary FP32 values, so the additions round.
    std::mt19937 rng(ncols);
    std::normal_distribution<float> dist(0.0f, 3.0f);
    std::vector<float> acc(static_cast<size_t>(ncols) * 16);  // (N, M16) f32
    for (float& a : acc) a = dist(rng);
    std::vector<float> expected = acc;
    for (int n0 = 0; n0 < ncols; n0 += 8) {
      CFragment c{};
      for (int lane = 0; lane < kWarpLanes; ++lane)
        for (int v = 0; v < kCValuesPerLane; ++v) {
          const FragCoord mn = c_frag_coord(lane, v);
          c[lane][v] = n0 + mn.col < ncols ? expected[(n0 + mn.col) * 16 + mn.row] : 0.0f;
        }
      for (int q = 0; q < kSlicesPerStrip; ++q)
        mma_m16n8k16(a_fragment(w, 64, 16 * q), b_fragment_from_rows(x.data(), ncols, 64, n0, 16 * q), c);
      for (int lane = 0; lane < kWarpLanes; ++lane)
        for (int v = 0; v < kCValuesPerLane; ++v) {
          const FragCoord mn = c_frag_coord(lane, v);
          if (n0 + mn.col < ncols) expected[(n0 + mn.col) * 16 + mn.row] = c[lane][v];
        }
    }
    const std::vector<uint32_t> regs = strip_registers(w);
    mma_strip_rows(regs.data(), xf.data(), 64, ncols, acc.data());
    ASSERT_EQ(std::memcmp(acc.data(), expected.data(), acc.size() * sizeof(float)), 0) << ncols << " columns";
  }
  expect_target_used();
}

// The GEMV path's shortcut: the block-tile MMA (columns unpacked on the fly, 4 strips' sums
// interleaved) equals mma_strip_rows() on each strip, which equals four lane-by-lane MMAs above.
// Any-bit-pattern weights and activations (Inf, NaN, subnormals) and non-zero accumulators;
// 1, 2 and 3 columns (the widths the GEMM sends it) and 5.
TEST_P(MmaTargets, BlockTileEqualsFourStrips) {
  for (int ncols : {1, 2, 3, 5}) {
    std::vector<uint32_t> regs;  // (S4, Q4, R4, T32)
    for (int s = 0; s < kStripsPerBlockTile; ++s) {
      const std::vector<uint16_t> w = s % 2 ? any_bits_bf16(16, 64, 10 * ncols + s) : gaussian_bf16(16, 64, 0.5f, s);
      const std::vector<uint32_t> strip = strip_registers(w);
      regs.insert(regs.end(), strip.begin(), strip.end());
    }
    const std::vector<uint16_t> x = ncols % 2 ? any_bits_bf16(ncols, 64, ncols + 70) : gaussian_bf16(ncols, 64, 2.0f, ncols);
    std::vector<float> xf(x.size());  // (N, K64) f32
    for (size_t i = 0; i < x.size(); ++i) xf[i] = bf16_to_float(x[i]);
    std::mt19937 rng(ncols);
    std::normal_distribution<float> dist(0.0f, 3.0f);
    std::vector<float> acc(static_cast<size_t>(kStripsPerBlockTile * ncols * 16));  // (S4, N, M16) f32
    for (float& a : acc) a = dist(rng);
    std::vector<float> expected = acc;
    const size_t strip_regs = regs.size() / kStripsPerBlockTile;
    for (int s = 0; s < kStripsPerBlockTile; ++s)
      mma_strip_rows(regs.data() + s * strip_regs, xf.data(), 64, ncols, expected.data() + s * ncols * 16);
    mma_block_tile_rows(regs.data(), xf.data(), 64, ncols, acc.data());
    ASSERT_EQ(std::memcmp(acc.data(), expected.data(), acc.size() * sizeof(float)), 0) << ncols << " columns";
  }
  expect_target_used();
}

}  // namespace
}  // namespace zipserv::emu::test
