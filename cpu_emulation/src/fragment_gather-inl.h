/*! \file fragment_gather-inl.h
 *  \brief A warp's strip of A fragments: decoded from the compressed streams, loaded from
 *         uncompressed row-major weights, or written back out as rows.
 *
 *  Per-target code (see bitmap_decode-inl.h). A strip's register file holds, for each of its 4
 *  slices q and 4 registers i, the 32 lanes' values: regs[(4q + i) * 32 + lane]  // (Q4, R4, T32)
 *
 *  Why rows move as 16-byte blocks: register a_i of lane l = 4g + t holds row g, columns 2t and
 *  2t+1 of FragTile i (fragment_layout.h), so lanes 4g..4g+3 hold row g's 8 columns in order:
 *  one FragTile row is 4 consecutive uint32 = 16 contiguous bytes, in the register file and in a
 *  row-major matrix alike (the reason the kernel can use ldmatrix and 16-byte stores).
 */

// Per-target include guard: toggles each time foreach_target.h re-includes this file.
#if defined(ZIPSERV_EMU_FRAGMENT_GATHER_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef ZIPSERV_EMU_FRAGMENT_GATHER_INL_H_
#undef ZIPSERV_EMU_FRAGMENT_GATHER_INL_H_
#else
#define ZIPSERV_EMU_FRAGMENT_GATHER_INL_H_
#endif

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "bitmap_decode-inl.h"
#include "hwy/cache_control.h"
#include "hwy/highway.h"
#include "zipserv/reference/compressed_matrix.h"
#include "zipserv/emulation/decoder_faults.h"
#include "zipserv/reference/fragment_layout.h"
#include "zipserv/emulation/lane_decode.h"

HWY_BEFORE_NAMESPACE();  // why: compiles what follows with this target's instruction set
namespace zipserv::emu::HWY_NAMESPACE {

/// Registers in one strip's register file: 4 slices x 4 registers x 32 lanes.
inline constexpr int kStripRegs = kSlicesPerStrip * kARegsPerLane * kWarpLanes;

/// returns true if the 16-byte row claim above holds for every lane, register and half of the
/// one lane map (a_frag_coord); checked at compile time.
constexpr bool RowsAreFourConsecutiveLanes() {
  for (int lane = 0; lane < kWarpLanes; ++lane)
    for (int reg = 0; reg < kARegsPerLane; ++reg)
      for (int half = 0; half < 2; ++half) {
        const FragCoord at = a_frag_coord(lane, reg, half);
        const int fragtile_row = at.row % 8, fragtile_col = at.col % 8;
        if (a_frag_fragtile(reg) != (at.row / 8) + 2 * (at.col / 8)) return false;
        if (lane != 4 * fragtile_row + fragtile_col / 2 || half != fragtile_col % 2) return false;
      }
  return true;
}
static_assert(RowsAreFourConsecutiveLanes(), "FragTile row g must be lanes 4g..4g+3 of one register");

/// Decodes strip `s` of block tile `t` (its streams already staged): returns the strip's
/// register file, regs[(4q + i) * 32 + l] = lane l's a_i of slice q.  `regs` is (Q4, R4, T32).
HWY_INLINE void DecodeStripFragments(const CompressedMatrix& m, int64_t t, int s, const StagedStreams& st,
                                     uint32_t* HWY_RESTRICT regs) {
  const int64_t e = 2 * (t * kStripsPerBlockTile + s);
  StreamCursors cursors{m.median_offsets[e], m.median_offsets[e + 1]};  // REFERENCE: strip_cursors(m, t, s)
  const int64_t f0 = (t * kStripsPerBlockTile + s) * kFragTilesPerStrip;  // the strip's first FragTile
  const DecoderFault* fault = armed_decoder_fault();  // nullptr unless a test injects a decoder bug
#if HWY_TARGET != HWY_SCALAR && HWY_TARGET != HWY_AVX3_DL
  if (HWY_LIKELY(fault == nullptr)) {  // an injected fault runs the slice-by-slice decode below
    // The table-driven expand runs the strip's 16 FragTiles as 128 consecutive rows: the same
    // cursor advance as slice by slice, FragTile by FragTile (REFERENCE: advance_cursors()).
    const auto row_bytes = [&](const std::vector<uint64_t>& bitmap) {
      return reinterpret_cast<const uint8_t*>(bitmap.data() + f0);
    };
    (void)DecodeRowsTableExpand(row_bytes(m.bitmap1), row_bytes(m.bitmap2), row_bytes(m.bitmap3),
                                kFragTilesPerStrip * 8, cursors, st, ExponentFieldBytes(st.start_exp),
                                reinterpret_cast<uint16_t*>(regs));
    return;
  }
#endif
  for (int q = 0; q < kSlicesPerStrip; ++q) {
    SliceBitmaps bitmaps;  // REFERENCE: slice_bitmaps(m, t, s, q)
    for (int i = 0; i < kFragTilesPerSlice; ++i) {
      const int64_t f = f0 + q * kFragTilesPerSlice + i;
      bitmaps[i] = {m.bitmap1[f], m.bitmap2[f], m.bitmap3[f]};
    }
    uint32_t* slice_regs = regs + q * kARegsPerLane * kWarpLanes;  // (R4, T32)
    if (HWY_UNLIKELY(fault != nullptr)) {
      const StreamCursors start = faulty_slice_cursors(*fault, t, s, q, cursors);
      cursors = DecodeSliceBitmapPopcount(bitmaps, start, st, slice_regs);
      apply_register_fault(*fault, t, s, q, bitmaps, start, st, slice_regs);
      continue;
    }
    cursors = DecodeSliceBitmapPopcount(bitmaps, cursors, st, slice_regs);
  }
}

/// Loads the register file of the 16 x 64 strip at (row0, col0) of an uncompressed row-major
/// m x k BF16 matrix, zero beyond m or k: 16-byte row copies, the CPU's ldmatrix.
/// REFERENCE: regs[(4q + i) * 32 + l] = w[a_frag_coord(l, i, 0) + (row0, col0 + 16q)] | ...
HWY_INLINE void LoadDenseStripFragments(const uint16_t* HWY_RESTRICT w, int64_t m, int64_t k, int64_t row0,
                                        int64_t col0, uint32_t* HWY_RESTRICT regs) {
  if (row0 + kStripRows <= m && col0 + kSlicesPerStrip * kSliceDim <= k) {  // inside: no edge tests
    for (int q = 0; q < kSlicesPerStrip; ++q)
      for (int i = 0; i < kARegsPerLane; ++i)
        for (int g = 0; g < 8; ++g)
          std::memcpy(regs + (q * kARegsPerLane + i) * kWarpLanes + 4 * g,
                      w + (row0 + 8 * (i & 1) + g) * k + col0 + 16 * q + 8 * (i >> 1), 16);
    return;
  }
  for (int q = 0; q < kSlicesPerStrip; ++q)
    for (int i = 0; i < kARegsPerLane; ++i)
      for (int g = 0; g < 8; ++g) {
        uint32_t* row_regs = regs + (q * kARegsPerLane + i) * kWarpLanes + 4 * g;  // (T4) one row
        const int64_t row = row0 + 8 * (i & 1) + g, col = col0 + 16 * q + 8 * (i >> 1);
        if (row < m && col + 8 <= k) {
          std::memcpy(row_regs, w + row * k + col, 16);
        } else {
          uint16_t vals[8] = {};  // (8) bf16, zero beyond the matrix
          for (int c = 0; c < 8; ++c)
            if (row < m && col + c < k) vals[c] = w[row * k + col + c];
          std::memcpy(row_regs, vals, 16);
        }
      }
}

/// Block tiles ahead of the one being loaded or decoded that the GEMM prefetches (both GEMMs:
/// PrefetchDenseStrip(), PrefetchCompressedTile()); 4 measured best of 2, 4 and 8 for gemm_dense.
inline constexpr int kPrefetchTiles = 4;

/// Asks the caches for the 16 rows x 64 columns at (row0, col0) of the row-major m x k BF16
/// matrix (2 cache lines per row), if the strip lies inside it. Why: a strip reads 16 rows that
/// are k * 2 bytes apart, and a block-tile row 64 of them at once, more concurrent streams than
/// the hardware prefetcher follows (without it gemm_dense ran at half the speed).
HWY_INLINE void PrefetchDenseStrip(const uint16_t* HWY_RESTRICT w, int64_t m, int64_t k, int64_t row0, int64_t col0) {
  if (row0 + kStripRows > m || col0 + kSlicesPerStrip * kSliceDim > k) return;
  for (int r = 0; r < kStripRows; ++r) {
    const uint16_t* row = w + (row0 + r) * k + col0;  // (64) bf16 = 128 bytes
    __builtin_prefetch(row, 0, 2);       // into L2 (prefetcht1): measured 5-8% faster than into L1 here
    __builtin_prefetch(row + 32, 0, 2);
  }
}

/// Asks the caches for the bytes [begin, end) (one request per 64-byte line).
HWY_INLINE void PrefetchBytes(const void* begin, const void* end) {
  for (const char* p = static_cast<const char*>(begin); p < static_cast<const char*>(end); p += 64) hwy::Prefetch(p);
}

/// Asks the caches for part `part` of `parts` equal parts of everything block tile `t` of `m`
/// is decoded from: its bitmaps (three arrays) and its two stream segments. The fused GEMM's
/// twin of PrefetchDenseStrip(): its five arrays are read front to back, but the hardware prefetcher alone left it waiting for memory
/// (this prefetch measured 6-9% faster on a 4096 x 14336 GEMV; into L1, since into L2 as for
/// the dense rows measured 20% slower).
HWY_INLINE void PrefetchCompressedTile(const CompressedMatrix& m, int64_t t, int part, int parts) {
  const auto range = [&](const auto* begin, const auto* end) {
    const char* b = reinterpret_cast<const char*>(begin);
    const int64_t len = reinterpret_cast<const char*>(end) - b;
    PrefetchBytes(b + len * part / parts, b + len * (part + 1) / parts);
  };
  const int64_t f0 = t * kFragTilesPerBlockTile, f1 = f0 + kFragTilesPerBlockTile;
  range(m.bitmap1.data() + f0, m.bitmap1.data() + f1);
  range(m.bitmap2.data() + f0, m.bitmap2.data() + f1);
  range(m.bitmap3.data() + f0, m.bitmap3.data() + f1);
  range(m.sign_mantissa.data() + m.global_offsets[2 * t], m.sign_mantissa.data() + m.global_offsets[2 * t + 2]);
  range(m.full.data() + m.global_offsets[2 * t + 1], m.full.data() + m.global_offsets[2 * t + 3]);
}

/// Writes the strip's register file back as rows of a rows x cols row-major matrix, cropping at
/// its edges: the inverse of LoadDenseStripFragments().  `regs` is (Q4, R4, T32).
HWY_INLINE void StoreStripRows(const uint32_t* HWY_RESTRICT regs, int64_t rows, int64_t cols, int64_t row0,
                               int64_t col0, uint16_t* HWY_RESTRICT out) {
  for (int q = 0; q < kSlicesPerStrip; ++q)
    for (int i = 0; i < kARegsPerLane; ++i)
      for (int g = 0; g < 8; ++g) {
        const uint32_t* row_regs = regs + (q * kARegsPerLane + i) * kWarpLanes + 4 * g;  // (T4) one row
        const int64_t row = row0 + 8 * (i & 1) + g, col = col0 + 16 * q + 8 * (i >> 1);
        if (row >= rows || col >= cols) continue;
        if (col + 8 <= cols) {
          std::memcpy(out + row * cols + col, row_regs, 16);
        } else {
          uint16_t vals[8];  // (8) bf16
          std::memcpy(vals, row_regs, 16);
          for (int c = 0; col + c < cols; ++c) out[row * cols + col + c] = vals[c];
        }
      }
}

/// Outputs at least this large are written by decode_into() through row buffers and
/// non-temporal stores (StreamRow()): they do not stay in a core's caches anyway, and a normal
/// store first reads the line it writes, so every decoded byte cost two bytes of memory traffic.
/// Measured on 4096 x 4096 (32 MiB, AVX2, one thread, best of 20): 12.0-12.4 ms with normal
/// stores, 8.6-8.9 ms through one buffer, 6.9-7.5 ms through two (DecodeBlockRow()).
inline constexpr int64_t kStreamingOutputBytes = int64_t{8} << 20;

/// Block tiles of a block-tile row that decode_into() gathers in one buffer before streaming them
/// out: 64 rows x 1024 columns = 128 KiB, so two buffers stay in the L2 cache; a row's 2 KiB then
/// go out as whole cache lines (only the lines at a chunk's two ends can be partial, when `out`
/// is not aligned).
inline constexpr int64_t kStreamingTiles = 16;

/// Copies n BF16 values from src to dst: normal stores up to dst's first 64-byte boundary and
/// after its last, non-temporal vector stores (whole cache lines) in between. The caller ends
/// with hwy::FlushStream() before another thread reads dst.
/// REFERENCE: std::memcpy(dst, src, 2 n).
HWY_INLINE void StreamRow(const uint16_t* HWY_RESTRICT src, int64_t n, uint16_t* HWY_RESTRICT dst) {
  const hwy::HWY_NAMESPACE::ScalableTag<uint16_t> d;
  const int64_t lanes = static_cast<int64_t>(hwy::HWY_NAMESPACE::Lanes(d));
  const int64_t misaligned = static_cast<int64_t>(reinterpret_cast<uintptr_t>(dst) % 64);  // even: dst is uint16_t*
  const int64_t head = std::min(n, (64 - misaligned) % 64 / 2);
  std::memcpy(dst, src, static_cast<size_t>(head) * 2);
  int64_t i = head;
  for (; i + lanes <= n && (64 / 2) % lanes == 0; i += lanes)
    hwy::HWY_NAMESPACE::Stream(hwy::HWY_NAMESPACE::LoadU(d, src + i), d, dst + i);
  std::memcpy(dst + i, src + i, static_cast<size_t>(n - i) * 2);
}

}  // namespace zipserv::emu::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();  // why: restores the default instruction set for the code after it

#endif  // per-target include guard
