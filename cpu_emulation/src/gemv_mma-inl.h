/*! \file gemv_mma-inl.h
 *  \brief The MMA of narrow N tiles (the GEMV): a block tile's 4 register files multiplied
 *         straight from the registers, transposed inside 128-bit blocks only.
 *
 *  Per-target code (see bitmap_decode-inl.h); every SIMD target (HWY_SCALAR keeps
 *  MmaBlockTileFromRegisters() of mma_emulation-inl.h). Same sums as MmaStripsFromRegisters():
 *  each output row m of each column sums k = 0..63 ascending, a product rounded to FP32, then
 *  an add (Mul then Add, never MulAdd). What changes is how a vector of rows is formed.
 *
 *  A "chunk" is N consecutive rows m0..m0+N-1 of one strip (N = u32 lanes of a vector: 4, 8 or
 *  16). For register pair (a_2j, a_2j+1) of slice q its data is 4N consecutive u32: row m of
 *  the strip holds columns 2t, 2t+1 (a BF16 pair) at entry 4m + t (see
 *  PairedRegistersListRows()). Four vector loads V_0..V_3 therefore hold, in 128-bit block b,
 *  lane t: row m0 + i*B + b, pair t of V_i (B = N / 4 blocks). Two rounds of interleaves inside
 *  each block (32-bit, then 64-bit: the SSE unpack family, no lane-crossing shuffle) give four
 *  vectors v_t whose lane 4b + i is pair t of row m0 + i*B + b:
 *
 *      lane:  0      1      2      3    | 4      5      6      7      (AVX2, B = 2)
 *      row:   m0     m0+2   m0+4   m0+6 | m0+1   m0+3   m0+5   m0+7
 *
 *  The rows are permuted, but the same way for every pair and every k, so each lane still owns
 *  one output row; the accumulators are loaded and stored through that permutation
 *  (TableLookupLanes), once per block tile. Step by step, for each slice q and pair j (k
 *  ascending) and each chunk of the block tile:
 *   1. load 4 vectors, interleave them into v_0..v_3;
 *   2. for t = 0..3: the low halves are column k = 16q + 8j + 2t, the high halves k + 1:
 *      acc = acc + float(low) * x[k], then acc = acc + float(high) * x[k + 1].
 *  All the block tile's chunks run in the same pass over k: 64 / N independent add chains per
 *  activation column, so the adders are never waiting on one chain.
 */

// Per-target include guard: toggles each time foreach_target.h re-includes this file.
#if defined(ZIPSERV_EMU_GEMV_MMA_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef ZIPSERV_EMU_GEMV_MMA_INL_H_
#undef ZIPSERV_EMU_GEMV_MMA_INL_H_
#else
#define ZIPSERV_EMU_GEMV_MMA_INL_H_
#endif

#include <cstdint>

#include "hwy/highway.h"
#include "mma_emulation-inl.h"
#include "zipserv/reference/fragment_layout.h"
#include "zipserv/reference/tile_layout.h"

HWY_BEFORE_NAMESPACE();  // why: compiles what follows with this target's instruction set
namespace zipserv::emu::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

#if HWY_TARGET != HWY_SCALAR
/// Rows of a strip per vector of u32 lanes on this target (4, 8 or 16).
using ChunkTag = hn::CappedTag<uint32_t, kStripRows>;

/// returns the row (relative to the chunk's first) that lane `lane` of an interleaved vector
/// holds: lane 4b + i holds row i * B + b, B = lanes / 4.
constexpr int ChunkLaneRow(int lane, int lanes) { return (lane % 4) * (lanes / 4) + lane / 4; }

/// returns (for lanes = Lanes(ChunkTag)) v with v[lane] = mem[ChunkLaneRow(lane)]: a chunk's
/// accumulators, in natural row order in memory, into the interleaved lane order.
template <class D>
HWY_INLINE hn::Vec<D> LoadRowsPermuted(D d, const float* HWY_RESTRICT mem) {
  constexpr size_t kLanes = hn::MaxLanes(D());
  if constexpr (kLanes <= 4) {
    return hn::LoadU(d, mem);  // one block: the interleave keeps the row order
  } else {
    alignas(64) int32_t index[kLanes];
    for (size_t l = 0; l < kLanes; ++l) index[l] = ChunkLaneRow(static_cast<int>(l), static_cast<int>(kLanes));
    return hn::TableLookupLanes(hn::LoadU(d, mem), hn::SetTableIndices(d, index));
  }
}

/// The inverse of LoadRowsPermuted(): mem[ChunkLaneRow(lane)] = v[lane].
template <class D>
HWY_INLINE void StoreRowsPermuted(D d, hn::Vec<D> v, float* HWY_RESTRICT mem) {
  constexpr size_t kLanes = hn::MaxLanes(D());
  if constexpr (kLanes <= 4) {
    hn::StoreU(v, d, mem);
  } else {
    alignas(64) int32_t index[kLanes];  // index[row] = the lane holding it
    for (size_t l = 0; l < kLanes; ++l) index[ChunkLaneRow(static_cast<int>(l), static_cast<int>(kLanes))] = static_cast<int32_t>(l);
    hn::StoreU(hn::TableLookupLanes(v, hn::SetTableIndices(d, index)), d, mem);
  }
}

/// returns acc[(s * ncols + c) * 16 + m] += sum_{k=0..63, ascending} float(A_s[m][k]) *
/// x[c * x_stride + k] for the 4 strips s, the kColumns columns c starting at `x` and `acc`
/// (ncols = the accumulator row length in columns), each product rounded before its add.
/// `regs` is (S4, Q4, R4, T32) u32; `acc` is (S4, ncols, M16) f32.
/// REFERENCE: MmaStripsFromRegisters<4, kColumns>(), bit for bit.
template <int kColumns>
HWY_INLINE void MmaBlockTileInterleaved(const uint32_t* HWY_RESTRICT regs, const float* HWY_RESTRICT x,
                                        int64_t x_stride, int ncols, float* HWY_RESTRICT acc) {
  const ChunkTag d;
  const hn::Repartition<uint64_t, decltype(d)> d64;
  const hn::Rebind<float, decltype(d)> df;
  using VU = hn::Vec<decltype(d)>;
  using VF = hn::Vec<decltype(df)>;
  constexpr size_t kLanes = hn::MaxLanes(d);
  static_assert(kLanes % 4 == 0 && kStripRows % kLanes == 0, "a chunk is whole 128-bit blocks of one strip");
  constexpr int kChunksPerStrip = static_cast<int>(kStripRows / kLanes);
  constexpr int kChunks = kStripsPerBlockTile * kChunksPerStrip;  // 16, 8 or 4
  constexpr int kRegsPerStrip = kSlicesPerStrip * kARegsPerLane * kWarpLanes;
  const VU high_half = hn::Set(d, 0xFFFF0000u);
  // x[c][k] broadcast once per block tile: the products then read them as memory operands.
  alignas(64) float x_lanes[kColumns][kStripCols][kLanes];  // (kColumns, K64, N) f32
  for (int c = 0; c < kColumns; ++c)
    for (int k = 0; k < kStripCols; ++k) hn::Store(hn::Set(df, x[c * x_stride + k]), df, x_lanes[c][k]);
  VF sums[kChunks][kColumns];  // (chunks, kColumns, N) f32, rows permuted
  for (int h = 0; h < kChunks; ++h)
    for (int c = 0; c < kColumns; ++c) {
      const int s = h / kChunksPerStrip, m0 = (h % kChunksPerStrip) * static_cast<int>(kLanes);
      sums[h][c] = LoadRowsPermuted(df, acc + (s * ncols + c) * kStripRows + m0);
    }
  for (int q = 0; q < kSlicesPerStrip; ++q)
    for (int j = 0; j < 2; ++j) {
      const int k0 = 16 * q + 8 * j;  // ascending: q, j, then t and the odd column
      // Unrolled, so that the sums stay in registers and the chunks' chains interleave.
#pragma GCC unroll 16
      for (int h = 0; h < kChunks; ++h) {
        const int s = h / kChunksPerStrip, m0 = (h % kChunksPerStrip) * static_cast<int>(kLanes);
        const uint32_t* pair = regs + s * kRegsPerStrip + (q * kARegsPerLane + 2 * j) * kWarpLanes + 4 * m0;
        // Step 1: V_i block b lane t = pair t of row m0 + i*B + b
        const VU v0 = hn::LoadU(d, pair), v1 = hn::LoadU(d, pair + kLanes);
        const VU v2 = hn::LoadU(d, pair + 2 * kLanes), v3 = hn::LoadU(d, pair + 3 * kLanes);
        const auto lo01 = hn::BitCast(d64, hn::InterleaveLower(d, v0, v1));  // pairs 0, 1 of rows i = 0, 1
        const auto lo23 = hn::BitCast(d64, hn::InterleaveLower(d, v2, v3));  // pairs 0, 1 of rows i = 2, 3
        const auto hi01 = hn::BitCast(d64, hn::InterleaveUpper(d, v0, v1));  // pairs 2, 3 of rows i = 0, 1
        const auto hi23 = hn::BitCast(d64, hn::InterleaveUpper(d, v2, v3));  // pairs 2, 3 of rows i = 2, 3
        const VU pairs[4] = {hn::BitCast(d, hn::InterleaveLower(d64, lo01, lo23)),
                             hn::BitCast(d, hn::InterleaveUpper(d64, lo01, lo23)),
                             hn::BitCast(d, hn::InterleaveLower(d64, hi01, hi23)),
                             hn::BitCast(d, hn::InterleaveUpper(d64, hi01, hi23))};  // pairs[t]: lane 4b+i = row i*B+b
        // Step 2
#pragma GCC unroll 4
        for (int t = 0; t < 4; ++t) {
          const int k = k0 + 2 * t;
          const VF lo = hn::BitCast(df, hn::ShiftLeft<16>(pairs[t]));  // REFERENCE: bf16_to_float(low half)
          const VF hi = hn::BitCast(df, hn::And(pairs[t], high_half));  // REFERENCE: bf16_to_float(high half)
          for (int c = 0; c < kColumns; ++c) {
            // REFERENCE: acc + float(W[m][k]) * float(X[n][k]), then the same for k + 1
            sums[h][c] = hn::Add(sums[h][c], hn::Mul(lo, hn::Load(df, x_lanes[c][k])));
            sums[h][c] = hn::Add(sums[h][c], hn::Mul(hi, hn::Load(df, x_lanes[c][k + 1])));
          }
        }
      }
    }
  for (int h = 0; h < kChunks; ++h)
    for (int c = 0; c < kColumns; ++c) {
      const int s = h / kChunksPerStrip, m0 = (h % kChunksPerStrip) * static_cast<int>(kLanes);
      StoreRowsPermuted(df, sums[h][c], acc + (s * ncols + c) * kStripRows + m0);
    }
}
#endif  // HWY_TARGET != HWY_SCALAR

/// returns acc[(s * ncols + n) * 16 + m] += sum_{k=0..63, ascending} float(A_s[m][k]) *
/// x[n * x_stride + k] for the 4 strips s of a block tile and n < ncols: on SIMD targets
/// MmaBlockTileInterleaved(), 2 columns at a time, then the odd column; on HWY_SCALAR
/// MmaBlockTileFromRegisters(). `regs` is (S4, Q4, R4, T32) u32, `acc` is (S4, ncols, M16) f32.
HWY_INLINE void MmaBlockTileNarrow(const uint32_t* HWY_RESTRICT regs, const float* HWY_RESTRICT x, int64_t x_stride,
                                   int ncols, float* HWY_RESTRICT acc) {
#if HWY_TARGET != HWY_SCALAR
  int n = 0;
  for (; n + 2 <= ncols; n += 2)
    MmaBlockTileInterleaved<2>(regs, x + n * x_stride, x_stride, ncols, acc + n * kStripRows);
  if (n < ncols) MmaBlockTileInterleaved<1>(regs, x + n * x_stride, x_stride, ncols, acc + n * kStripRows);
#else
  MmaBlockTileFromRegisters(regs, x, x_stride, ncols, acc);
#endif
}

}  // namespace zipserv::emu::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();  // why: restores the default instruction set for the code after it

#endif  // per-target include guard
