/*! \file bitmap_decode-inl.h
 *  \brief Per-lane popcount-and-select: the 32 lanes of a warp decode one FragTile as SIMD lanes.
 *
 *  Per-target code: foreach_target.h includes this once for each SIMD target, inside that
 *  target's namespace.
 *
 *  Lane layout. Warp lane l is 32-bit SIMD lane l; the two BF16 values it decodes (bits 2l and
 *  2l+1 of the FragTile) are that lane's two 16-bit halves, computed side by side as 16-bit
 *  lanes 2l and 2l+1. So the vector of 16-bit results, read as 32-bit lanes, already is the
 *  warp's register file (bfloat162: the lower column in the low half), and 16-bit lane p is
 *  simply element p of the FragTile. Each lane reads its bit from the 16-bit chunk of the
 *  64-bit bitmap words that holds it (a 512-bit vector spans two chunks, one per half).
 */

// Per-target include guard: toggles each time foreach_target.h re-includes this file.
#if defined(ZIPSERV_EMU_BITMAP_DECODE_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef ZIPSERV_EMU_BITMAP_DECODE_INL_H_
#undef ZIPSERV_EMU_BITMAP_DECODE_INL_H_
#else
#define ZIPSERV_EMU_BITMAP_DECODE_INL_H_
#endif

#include <cstdint>

#include "hwy/highway.h"
#include "stream_expand-inl.h"
#include "zipserv/emulation/lane_decode.h"

HWY_BEFORE_NAMESPACE();  // why: compiles what follows with this target's instruction set
namespace zipserv::emu::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

/// 16-bit lanes, at most 32 per vector: element p of a FragTile (= half p % 2 of warp lane p / 2).
using ElementTag = hn::CappedTag<uint16_t, 32>;

/// 1 << (p % 16) for the elements of two 16-bit chunks of the bitmap words.
alignas(64) inline constexpr uint16_t kBitOfElement[32] = {
    1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768,
    1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768};

/// returns r[i] = 16-bit chunk (p0 + i) / 16 of `word`: the chunk holding element p0 + i's bit.
/// A vector of more than 16 lanes spans two chunks, one per half.
template <class D>
HWY_INLINE hn::Vec<D> ChunkOfElement(D d, uint64_t word, size_t p0) {
  if constexpr (hn::MaxLanes(D()) > 16) {
    const hn::Half<D> dh;
    // Unqualified (found by argument-dependent lookup) so that 1-lane targets never see it.
    return Combine(d, hn::Set(dh, static_cast<uint16_t>(word >> (p0 + 16))),
                   hn::Set(dh, static_cast<uint16_t>(word >> p0)));
  } else {
    return hn::Set(d, static_cast<uint16_t>(word >> (p0 / 16 * 16)));
  }
}

/// returns r[i] = popcount(word & ((1 << 16 * ((p0 + i) / 16)) - 1)): the set bits in the chunks
/// below element p0 + i's chunk.
template <class D>
HWY_INLINE hn::Vec<D> CountBelowChunk(D d, uint64_t word, size_t p0) {
  const auto below = [word](size_t p) {
    const size_t chunk_start = p / 16 * 16;
    return static_cast<uint16_t>(chunk_start ? hwy::PopCount(word & ((uint64_t{1} << chunk_start) - 1)) : 0);
  };
  if constexpr (hn::MaxLanes(D()) > 16) {
    const hn::Half<D> dh;
    return Combine(d, hn::Set(dh, below(p0 + 16)), hn::Set(dh, below(p0)));  // unqualified: see above
  } else {
    return hn::Set(d, below(p0));
  }
}

#if HWY_TARGET != HWY_SCALAR
/// returns r[i] = the kEntryBytes-byte little-endian value at window[offset[i]] for byte offsets
/// below `span`, 0 for larger ones: byte shuffles (pshufb) over 16-byte tables, in place of a
/// gather. Only lanes that read the window matter; the span counts just their entries.
/// Why: the indices of one vector of lanes are consecutive popcounts, so they fall in a window of
/// one entry per lane that starts at the first lane's index; x86 gathers are slow, 16-byte table
/// lookups are cheap.
template <int kEntryBytes, class D>
HWY_INLINE hn::Vec<D> LookupStagedWindow(D d, const uint8_t* HWY_RESTRICT window, hn::Vec<D> offset, size_t span) {
  const hn::Repartition<uint8_t, D> d8;
  using V = hn::Vec<D>;
  // Byte selectors per 16-bit lane: the entry's bytes read offset (and offset + 1); an unused
  // byte reads 0x80, which pshufb turns into a zero byte.
  const V unused = hn::Set(d, static_cast<uint16_t>(kEntryBytes == 1 ? 0x8000u : 0x0100u));
  const V out_of_table = hn::Set(d, static_cast<uint16_t>(0x8080u));
  const V low_bits = hn::Set(d, static_cast<uint16_t>(~15u));
  V r = hn::Zero(d);
  for (size_t table = 0; table * 16 < span; ++table) {
    const V rel = hn::Sub(offset, hn::Set(d, static_cast<uint16_t>(16 * table)));
    const auto in_table = hn::Eq(hn::And(rel, low_bits), hn::Zero(d));  // 0 <= rel < 16
    const V first_byte = kEntryBytes == 1 ? rel : hn::Or(rel, hn::ShiftLeft<8>(rel));  // offset, offset + 1
    const V selectors = hn::IfThenElse(in_table, hn::Add(first_byte, unused), out_of_table);
    const auto bytes = hn::LoadDup128(d8, window + 16 * table);  // the same 16 bytes in every block
    r = hn::Or(r, hn::BitCast(d, hn::TableLookupBytesOr0(bytes, hn::BitCast(d8, selectors))));
  }
  return r;
}
#endif

/// Decodes one FragTile for all 32 lanes: returns regs[l] = lo | hi << 16 with lo, hi the values
/// of bits 2l and 2l+1, given the FragTile's starting cursors.  `regs` is (T32) u32, written
/// as 64 16-bit elements.
/// REFERENCE: regs[l] equals decode_lane()'s register for this FragTile, lane l.
template <class D>
HWY_INLINE void DecodeFragTileBitmapPopcount(D d, const FragTileBitmaps& b, StreamCursors cursors,
                                             const StagedStreams& st, uint32_t* HWY_RESTRICT regs) {
  using V = hn::Vec<D>;
  const uint64_t indicator = b.b1 | b.b2 | b.b3;
  const V one = hn::Set(d, uint16_t{1});
  const V byte_mask = hn::Set(d, uint16_t{0xFF});
  const V sign_mask = hn::Set(d, uint16_t{0x80}), mantissa_mask = hn::Set(d, uint16_t{0x7F});
  const V start_exp = hn::Set(d, uint16_t{st.start_exp});
  uint16_t* HWY_RESTRICT values = reinterpret_cast<uint16_t*>(regs);  // (T32, 2) bf16: element p = 2l + half
  const size_t N = hn::Lanes(d);
  for (size_t p0 = 0; p0 < static_cast<size_t>(kElementsPerFragTile); p0 += N) {
    const V ind = ChunkOfElement(d, indicator, p0);
    const V w1 = ChunkOfElement(d, b.b1, p0), w2 = ChunkOfElement(d, b.b2, p0), w3 = ChunkOfElement(d, b.b3, p0);
    const V bit = hn::Load(d, kBitOfElement + p0 % 16);  // 1 << (p % 16)
    // REFERENCE: before = popc(indicator & ((1 << p) - 1))
    const V before = hn::Add(CountBelowChunk(d, indicator, p0), hn::PopulationCount(hn::And(ind, hn::Sub(bit, one))));
    const V is_hf = hn::Min(hn::And(ind, bit), one);  // REFERENCE: (indicator >> p) & 1
    // REFERENCE: code_from_bitmaps(b1, b2, b3, p)
    const V code = hn::Or(hn::Or(hn::ShiftLeft<2>(hn::Min(hn::And(w3, bit), one)),
                                 hn::ShiftLeft<1>(hn::Min(hn::And(w2, bit), one))),
                          hn::Min(hn::And(w1, bit), one));
    const V fb_before = hn::Sub(hn::Iota(d, static_cast<uint16_t>(p0)), before);  // p - before
    // How many of this vector's elements read each stream: the windows' spans, in entries.
    const uint64_t vector_bits = N >= 64 ? ~uint64_t{0} : (uint64_t{1} << N) - 1;
    const size_t hf_in_vector = hwy::PopCount((indicator >> p0) & vector_bits);
    const size_t fb_in_vector = N - hf_in_vector;
#if HWY_TARGET == HWY_SCALAR
    // One lane: a plain load. REFERENCE: sign_mantissa[hf + before]
    const V sm = hn::Set(d, uint16_t{st.sign_mantissa[cursors.hf + hn::GetLane(before)]});
#else
    // REFERENCE: sign_mantissa[hf + before]: a window that starts at the first lane's index
    const uint16_t before_first = hn::GetLane(before);
    const V sm = LookupStagedWindow<1>(d, st.sign_mantissa + cursors.hf + before_first,
                                       hn::Sub(before, hn::Set(d, before_first)), hf_in_vector);
#endif
    // REFERENCE: rebuild_bf16(code, sm, start_exp), the exponent summed modulo 256
    const V exponent = hn::And(hn::Add(start_exp, code), byte_mask);
    const V hf_value = hn::Or(hn::Or(hn::ShiftLeft<8>(hn::And(sm, sign_mask)), hn::ShiftLeft<7>(exponent)),
                              hn::And(sm, mantissa_mask));
    const auto hf_lanes = hn::Eq(is_hf, one);
    V value;
    if (fb_in_vector == 0) {
      value = hf_value;  // no fallback element: the kernel's other load is predicated off
    } else {
#if HWY_TARGET == HWY_SCALAR
      const V fb_value = hn::Set(d, st.full[cursors.full + hn::GetLane(fb_before)]);  // REFERENCE: full[fb + (p - before)]
#else
      // REFERENCE: full[fb + (p - before)], 2-byte entries in a window of the same kind
      const uint16_t fb_first = hn::GetLane(fb_before);
      const V fb_rel = hn::Sub(fb_before, hn::Set(d, fb_first));
      const V fb_value = LookupStagedWindow<2>(d, reinterpret_cast<const uint8_t*>(st.full + cursors.full + fb_first),
                                               hn::Add(fb_rel, fb_rel), 2 * fb_in_vector);
#endif
      value = hn::IfThenElse(hf_lanes, hf_value, fb_value);  // REFERENCE: code ? rebuilt : full
    }
    hn::StoreU(value, d, values + p0);  // 16-bit lanes 2l, 2l+1 = warp lane l's register (lo, hi)
  }
}

/// returns the cursors after FragTile `b`: hf + popcount(indicator), full + the rest of 64.
/// REFERENCE: equals advance_cursors(b, cursors), inlined here (it runs once per FragTile).
HWY_INLINE StreamCursors AdvanceCursorsInline(const FragTileBitmaps& b, StreamCursors cursors) {
  const int32_t n = static_cast<int32_t>(hwy::PopCount(b.b1 | b.b2 | b.b3));
  return {cursors.hf + n, cursors.full + (kElementsPerFragTile - n)};
}

/// Decodes one slice for all lanes: returns regs[i * 32 + l] = decode_lane()'s regs[i] of lane l.
/// `regs` is (R4, T32) u32. Cursors advance by the indicator's popcount after each FragTile
/// (REFERENCE: advance_cursors(); in the kernel every lane counts it, advance_past_fragtile()).
/// The same values come from a stream expand (stream_expand-inl.h): on AVX3_DL two vpexpandw
/// per 32 elements (DecodeFragTileExpand()), on every other SIMD target table-driven byte
/// shuffles per 8 elements (DecodeFragTileTableExpand()); the HWY_SCALAR target runs the
/// per-lane popcount-and-select above.
HWY_INLINE StreamCursors DecodeSliceBitmapPopcount(const SliceBitmaps& bitmaps, StreamCursors cursors,
                                                   const StagedStreams& st, uint32_t* HWY_RESTRICT regs) {
  [[maybe_unused]] const ElementTag d;
#if HWY_TARGET != HWY_SCALAR && HWY_TARGET != HWY_AVX3_DL
  const auto exponent_bytes = ExponentFieldBytes(st.start_exp);
#endif
  for (int i = 0; i < kFragTilesPerSlice; ++i) {
#if HWY_TARGET == HWY_AVX3_DL
    DecodeFragTileExpand(bitmaps[i], cursors, st, regs + i * kWarpLanes);
#elif HWY_TARGET != HWY_SCALAR
    DecodeFragTileTableExpand(bitmaps[i], cursors, st, exponent_bytes, regs + i * kWarpLanes);
#else
    DecodeFragTileBitmapPopcount(d, bitmaps[i], cursors, st, regs + i * kWarpLanes);
#endif
    cursors = AdvanceCursorsInline(bitmaps[i], cursors);
  }
  return cursors;
}

}  // namespace zipserv::emu::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();  // why: restores the default instruction set for the code after it

#endif  // per-target include guard
