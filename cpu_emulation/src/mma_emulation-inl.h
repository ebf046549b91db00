/*! \file mma_emulation-inl.h
 *  \brief The emulated mma.m16n8k16, vectorized across the 16 rows of a strip instead of across
 *         k, so that every output keeps the reference's k-ascending summation order.
 *
 *  Per-target code (see bitmap_decode-inl.h). Two steps per strip:
 *
 *   1. UnpackStripColumns: the register file (Q4, R4, T32) becomes FP32 columns
 *      a_cols[k * 16 + m] = float(A[m][k]), k = 0..63  // (K64, M16) f32
 *      Registers a0 and a1 of a slice, taken together, list rows m = 0..15 with 4 lanes each:
 *      entry 4m + t holds columns 2t, 2t+1. A stride-4 de-interleave (LoadInterleaved4) turns
 *      them into one vector per column pair; the low half is the even column, the high half the
 *      odd one, and a BF16 becomes an FP32 by moving it to the top 16 bits.
 *   2. MmaColumnsAcrossRows: for each activation column n, acc[n][m] += a_cols[k][m] * x[n][k] for
 *      k = 0..63 in order, one vector of rows at a time: a product rounded to FP32, then an add
 *      (Mul then Add, never MulAdd; the library is built with -ffp-contract=off).
 *
 *  The GEMV shortcut (MmaStripsFromRegisters, MmaBlockTileFromRegisters) runs the two steps
 *  fused: each column pair is de-interleaved from the registers right before its products and
 *  never stored, and the 4 strips of a block tile are summed in the same loop, so a single
 *  activation column still gives 4 independent add chains. Tested equal to step 1 + step 2.
 *
 *  Equivalence with the lane-by-lane mma_m16n8k16(): the hardware instruction computes each
 *  output (m, n) of a 16x8 tile from row m of A and column n of B; which lane holds it changes
 *  nothing. Running the four slices' MMAs one after another adds k = 0..63 to each output in
 *  ascending order, exactly the sequence step 2 performs.
 */

// Per-target include guard: toggles each time foreach_target.h re-includes this file.
#if defined(ZIPSERV_EMU_MMA_EMULATION_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef ZIPSERV_EMU_MMA_EMULATION_INL_H_
#undef ZIPSERV_EMU_MMA_EMULATION_INL_H_
#else
#define ZIPSERV_EMU_MMA_EMULATION_INL_H_
#endif

#include <cstdint>

#include "hwy/highway.h"
#include "zipserv/reference/fragment_layout.h"
#include "zipserv/reference/tile_layout.h"

HWY_BEFORE_NAMESPACE();  // why: compiles what follows with this target's instruction set
namespace zipserv::emu::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

/// Columns (k) of one strip.
inline constexpr int kStripCols = kSlicesPerStrip * kSliceDim;  // 64

/// returns true if step 1's index claim holds for the one lane map: register 2j + i, lane
/// 4g + t, half h holds A[8i + g][8j + 2t + h], so registers 2j and 2j+1 back to back list row m
/// at entry 4m + t. Checked at compile time.
constexpr bool PairedRegistersListRows() {
  for (int j = 0; j < 2; ++j)
    for (int e = 0; e < 2 * kWarpLanes; ++e)  // entry e of the 64-entry pair (a_2j, a_2j+1)
      for (int half = 0; half < 2; ++half) {
        const FragCoord at = a_frag_coord(e % kWarpLanes, 2 * j + e / kWarpLanes, half);
        if (at.row != e / 4 || at.col != 8 * j + 2 * (e % 4) + half) return false;
      }
  return true;
}
static_assert(PairedRegistersListRows(), "a_2j, a_2j+1 must list rows m = 0..15 with 4 lanes each");

/// returns a_cols[k * 16 + m] = float(A[m][k]) for the strip's 16 rows and 64 columns.
/// `regs` is (Q4, R4, T32) u32; `a_cols` is (K64, M16) f32.
HWY_INLINE void UnpackStripColumns(const uint32_t* HWY_RESTRICT regs, float* HWY_RESTRICT a_cols) {
  const hn::CappedTag<uint32_t, kStripRows> d;
  const hn::Rebind<float, decltype(d)> df;
  const size_t N = hn::Lanes(d);
  const auto high_half = hn::Set(d, 0xFFFF0000u);
  for (int q = 0; q < kSlicesPerStrip; ++q)
    for (int j = 0; j < 2; ++j) {
      const uint32_t* pair = regs + (q * kARegsPerLane + 2 * j) * kWarpLanes;  // (M16, T4) u32
      for (size_t m0 = 0; m0 < static_cast<size_t>(kStripRows); m0 += N) {
        hn::Vec<decltype(d)> v[4];  // v[t][r] = pair[4 (m0 + r) + t]: columns 2t, 2t+1 of rows m0..
        hn::LoadInterleaved4(d, pair + 4 * m0, v[0], v[1], v[2], v[3]);
        for (int t = 0; t < 4; ++t) {
          const int k = 16 * q + 8 * j + 2 * t;
          // REFERENCE: bf16_to_float(low half) and bf16_to_float(high half)
          hn::Store(hn::BitCast(df, hn::ShiftLeft<16>(v[t])), df, a_cols + k * kStripRows + m0);
          hn::Store(hn::BitCast(df, hn::And(v[t], high_half)), df, a_cols + (k + 1) * kStripRows + m0);
        }
      }
    }
}

/// returns acc[c][m] = acc[c][m] + sum_{k=0..63, ascending} a_cols[k * 16 + m] * x_c[k] for the
/// kColumns (1, 2 or 4) columns c starting at `x` and `acc`, each product rounded before its add.
/// All rows and columns are summed in one loop over k, so the independent sums overlap in the
/// adder; the order within each sum stays k-ascending.
template <int kColumns>
HWY_INLINE void MmaColumnsTogether(const float* HWY_RESTRICT a_cols, const float* HWY_RESTRICT x,
                                   int64_t x_stride, float* HWY_RESTRICT acc) {
  const hn::CappedTag<float, kStripRows> df;
  using V = hn::Vec<decltype(df)>;
  constexpr size_t kMaxChunks = kStripRows;  // 16 rows; the HWY_SCALAR target has 1 lane
  const size_t N = hn::Lanes(df), chunks = kStripRows / N;
  V sums[kColumns][kMaxChunks];  // (kColumns, M16) f32, in registers
  for (int c = 0; c < kColumns; ++c)
    for (size_t r = 0; r < chunks; ++r) sums[c][r] = hn::LoadU(df, acc + c * kStripRows + r * N);
  for (int k = 0; k < kStripCols; ++k)
    for (int c = 0; c < kColumns; ++c) {
      const V xk = hn::Set(df, x[c * x_stride + k]);
      for (size_t r = 0; r < chunks; ++r) {
        const V a = hn::Load(df, a_cols + k * kStripRows + r * N);
        sums[c][r] = hn::Add(sums[c][r], hn::Mul(a, xk));  // REFERENCE: acc + float(W[m][k]) * float(X[n][k])
      }
    }
  for (int c = 0; c < kColumns; ++c)
    for (size_t r = 0; r < chunks; ++r) hn::StoreU(sums[c][r], df, acc + c * kStripRows + r * N);
}

/// returns acc[s][c][m] = acc[s][c][m] + sum_{k=0..63, ascending} float(A_s[m][k]) * x_c[k] for
/// kStrips strips s (register files back to back in `regs`, (S, Q4, R4, T32) u32) and kColumns
/// columns c starting at `x` (x_c[k] = x[c * x_stride + k]); acc[s][c][m] = acc[s *
/// acc_strip_stride + c * 16 + m]. Each product is rounded before its add.
/// Step 1 fused into step 2: the columns are unpacked from the registers (the same stride-4
/// de-interleave as UnpackStripColumns()) right before they are used and never stored, and the
/// kStrips x kColumns sums are independent chains that overlap in the adder. For a GEMV (one
/// column) this is what keeps the adders busy: 4 strips = 4 chains instead of 1.
template <int kStrips, int kColumns>
HWY_INLINE void MmaStripsFromRegisters(const uint32_t* HWY_RESTRICT regs, const float* HWY_RESTRICT x,
                                       int64_t x_stride, float* HWY_RESTRICT acc, int64_t acc_strip_stride) {
  const hn::CappedTag<uint32_t, kStripRows> d;
  const hn::Rebind<float, decltype(d)> df;
  using VF = hn::Vec<decltype(df)>;
  constexpr int kRegsPerStrip = kSlicesPerStrip * kARegsPerLane * kWarpLanes;  // (Q4, R4, T32)
  const size_t N = hn::Lanes(d);
  const auto high_half = hn::Set(d, 0xFFFF0000u);
  for (size_t m0 = 0; m0 < static_cast<size_t>(kStripRows); m0 += N) {  // rows m0..m0+N-1: own sums
    VF sums[kStrips][kColumns];  // (kStrips, kColumns, N) f32, in registers
    for (int s = 0; s < kStrips; ++s)
      for (int c = 0; c < kColumns; ++c) sums[s][c] = hn::LoadU(df, acc + s * acc_strip_stride + c * kStripRows + m0);
    for (int q = 0; q < kSlicesPerStrip; ++q)
      for (int j = 0; j < 2; ++j) {
        hn::Vec<decltype(d)> v[kStrips][4];  // v[s][t][r] = pair[4 (m0 + r) + t]: columns 2t, 2t+1
        for (int s = 0; s < kStrips; ++s)
          hn::LoadInterleaved4(d, regs + s * kRegsPerStrip + (q * kARegsPerLane + 2 * j) * kWarpLanes + 4 * m0,
                               v[s][0], v[s][1], v[s][2], v[s][3]);
        for (int t = 0; t < 4; ++t) {
          const int k = 16 * q + 8 * j + 2 * t;  // ascending: q, j, t, then the odd column
          VF lo[kStrips], hi[kStrips];
          for (int s = 0; s < kStrips; ++s) {
            lo[s] = hn::BitCast(df, hn::ShiftLeft<16>(v[s][t]));     // REFERENCE: bf16_to_float(low half)
            hi[s] = hn::BitCast(df, hn::And(v[s][t], high_half));    // REFERENCE: bf16_to_float(high half)
          }
          for (int c = 0; c < kColumns; ++c) {
            const VF xk = hn::Set(df, x[c * x_stride + k]);
            for (int s = 0; s < kStrips; ++s)
              sums[s][c] = hn::Add(sums[s][c], hn::Mul(lo[s], xk));  // REFERENCE: acc + float(W[m][k]) * float(X[n][k])
          }
          for (int c = 0; c < kColumns; ++c) {
            const VF xk1 = hn::Set(df, x[c * x_stride + k + 1]);
            for (int s = 0; s < kStrips; ++s)
              sums[s][c] = hn::Add(sums[s][c], hn::Mul(hi[s], xk1));  // REFERENCE: the same for k + 1
          }
        }
      }
    for (int s = 0; s < kStrips; ++s)
      for (int c = 0; c < kColumns; ++c) hn::StoreU(sums[s][c], df, acc + s * acc_strip_stride + c * kStripRows + m0);
  }
}

/// returns acc[(s * ncols + n) * 16 + m] += sum_{k=0..63, ascending} float(A_s[m][k]) *
/// x[n * x_stride + k] for the 4 strips s of a block tile and n < ncols: MmaStripsFromRegisters()
/// on all 4 strips, 2 columns at a time (8 chains), then the odd column (4 chains).
/// `regs` is (S4, Q4, R4, T32) u32, `acc` is (S4, ncols, M16) f32.
HWY_INLINE void MmaBlockTileFromRegisters(const uint32_t* HWY_RESTRICT regs, const float* HWY_RESTRICT x,
                                          int64_t x_stride, int ncols, float* HWY_RESTRICT acc) {
  int n = 0;
  for (; n + 2 <= ncols; n += 2)
    MmaStripsFromRegisters<kStripsPerBlockTile, 2>(regs, x + n * x_stride, x_stride, acc + n * kStripRows,
                                                   ncols * kStripRows);
  if (n < ncols)
    MmaStripsFromRegisters<kStripsPerBlockTile, 1>(regs, x + n * x_stride, x_stride, acc + n * kStripRows,
                                                   ncols * kStripRows);
}

/// returns acc[n * 16 + m] = acc[n * 16 + m] + sum_{k=0..63, ascending} a_cols[k * 16 + m] *
/// x[n * x_stride + k] for n < ncols, each product rounded before its add.
/// `a_cols` is (K64, M16) f32 and 64-byte aligned, `acc` is (ncols, M16) f32.
HWY_INLINE void MmaColumnsAcrossRows(const float* HWY_RESTRICT a_cols, const float* HWY_RESTRICT x,
                                     int64_t x_stride, int ncols, float* HWY_RESTRICT acc) {
  int n = 0;
  // Up to 4 columns per pass: each sum is a chain of 64 dependent adds, so independent columns
  // are what keeps the adders busy (the order inside every sum stays k-ascending).
  for (; n + 4 <= ncols; n += 4) MmaColumnsTogether<4>(a_cols, x + n * x_stride, x_stride, acc + n * kStripRows);
  for (; n + 2 <= ncols; n += 2) MmaColumnsTogether<2>(a_cols, x + n * x_stride, x_stride, acc + n * kStripRows);
  if (n < ncols) MmaColumnsTogether<1>(a_cols, x + n * x_stride, x_stride, acc + n * kStripRows);
}

}  // namespace zipserv::emu::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();  // why: restores the default instruction set for the code after it

#endif  // per-target include guard
