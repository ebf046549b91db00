/*! \file stream_expand-inl.h
 *  \brief The AVX3_DL shortcut of the per-lane popcount-and-select: one vector instruction
 *         (vpexpandw) places a run of consecutive stream entries into the lanes a mask selects.
 *
 *  Per-target code (see bitmap_decode-inl.h); the function exists only on the AVX3_DL target
 *  (AVX-512 VBMI2), which every Zen 4 and Ice Lake or later core supports.
 *
 *  Why it computes the same thing. Lane p of the popcount-and-select rule reads
 *  sign_mantissa[hf + popc(indicator & ((1 << p) - 1))] when indicator bit p is set, and
 *  full[fb + p - popc(...)] when it is clear: the set lanes, in ascending p, read consecutive
 *  sign_mantissa entries starting at hf, and the clear lanes read consecutive full entries
 *  starting at fb. That is exactly what expand does: `expand(mask, v)` gives lane p the element
 *  v[popc(mask & ((1 << p) - 1))] where mask bit p is set. So the per-lane popcounts, the
 *  windowed byte shuffles and the final select of DecodeFragTileBitmapPopcount() collapse into
 *  two expands; the rebuild of the high-frequency value (spec C) is unchanged. The lane decode
 *  tests run decode_slice() on every target, this one included, against decode_lane().
 *
 *  Steps for each half (32 elements, one 512-bit vector of 16-bit lanes) of a FragTile:
 *   1. masks of the half: indicator (high-frequency lanes) and the three code bitmaps;
 *   2. code = b1 + 2 b2 + 4 b3 per lane, exponent = (start_exp + code) mod 256;
 *   3. expand the next sign_mantissa bytes into the high-frequency lanes, rebuild the BF16;
 *   4. expand the next full entries into the other lanes, merged over step 3's values;
 *   5. advance both stream pointers by the half's counts.
 */

// Per-target include guard: toggles each time foreach_target.h re-includes this file.
#if defined(ZIPSERV_EMU_STREAM_EXPAND_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef ZIPSERV_EMU_STREAM_EXPAND_INL_H_
#undef ZIPSERV_EMU_STREAM_EXPAND_INL_H_
#else
#define ZIPSERV_EMU_STREAM_EXPAND_INL_H_
#endif

#include <cstdint>

#include "hwy/highway.h"
#include "zipserv/lane_decode.h"

#if HWY_TARGET == HWY_AVX3_DL
#include <immintrin.h>
#endif

HWY_BEFORE_NAMESPACE();  // why: compiles what follows with this target's instruction set
namespace zipserv::emu::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

#if HWY_TARGET == HWY_AVX3_DL
/// Decodes one FragTile for all 32 lanes like DecodeFragTileBitmapPopcount(), with vpexpandw:
/// returns regs[l] = lo | hi << 16 with lo, hi the values of bits 2l and 2l+1.
/// `regs` is (T32) u32, written as 64 16-bit elements. Reads at most 32 entries of each stream
/// from its cursor (within kStagingSlack past the segment end).
/// REFERENCE: regs[l] equals decode_lane()'s register for this FragTile, lane l.
HWY_INLINE void DecodeFragTileExpand(const FragTileBitmaps& b, StreamCursors cursors, const StagedStreams& st,
                                     uint32_t* HWY_RESTRICT regs) {
  const hn::Full512<uint16_t> d;  // 32 16-bit lanes: element p0 + i of the FragTile
  using V = hn::Vec<decltype(d)>;
  const uint64_t indicator = b.b1 | b.b2 | b.b3;
  const V start_exp_at_7 = hn::Set(d, static_cast<uint16_t>(st.start_exp << 7));  // exponent field position
  const V sign_and_mantissa = hn::Set(d, uint16_t{0x807F});  // bit 15 of sm << 8, bits 0..6 of sm
  const uint8_t* HWY_RESTRICT sm_next = st.sign_mantissa + cursors.hf;
  const uint16_t* HWY_RESTRICT full_next = st.full + cursors.full;
  uint16_t* HWY_RESTRICT values = reinterpret_cast<uint16_t*>(regs);  // (T32, 2) bf16
  for (int p0 = 0; p0 < kElementsPerFragTile; p0 += 32) {
    // Step 1: bit i of each mask = bit p0 + i of its bitmap word
    const __mmask32 hf = static_cast<__mmask32>(indicator >> p0);
    const __mmask32 c1 = static_cast<__mmask32>(b.b1 >> p0), c2 = static_cast<__mmask32>(b.b2 >> p0),
                    c3 = static_cast<__mmask32>(b.b3 >> p0);
    // Step 2: REFERENCE: code_from_bitmaps(b1, b2, b3, p), added to start_exp in the exponent
    // field (bits 7..14): (start_exp + code) << 7; a carry out of bit 14 is dropped in step 3,
    // which is the reference's sum modulo 256
    V exponent = V{_mm512_mask_add_epi16(start_exp_at_7.raw, c1, start_exp_at_7.raw, _mm512_set1_epi16(1 << 7))};
    exponent = V{_mm512_mask_add_epi16(exponent.raw, c2, exponent.raw, _mm512_set1_epi16(2 << 7))};
    exponent = V{_mm512_mask_add_epi16(exponent.raw, c3, exponent.raw, _mm512_set1_epi16(4 << 7))};
    // Step 3: REFERENCE: sign_mantissa[hf + before] for the set lanes, then rebuild_bf16()
    const V sm_bytes = hn::PromoteTo(d, hn::LoadU(hn::Full256<uint8_t>(), sm_next));  // next 32 bytes
    const V sm = V{_mm512_maskz_expand_epi16(hf, sm_bytes.raw)};
    // sign and mantissa from sm << 8 | sm, bits 7..14 from the exponent sum (one bit select)
    const V hf_value = hn::IfVecThenElse(sign_and_mantissa, hn::Or(hn::ShiftLeft<8>(sm), sm), exponent);
    // Step 4: REFERENCE: code ? rebuilt : full[fb + (p - before)]
    const V full_entries = hn::LoadU(d, full_next);  // next 32 fallback values
    const V value = V{_mm512_mask_expand_epi16(hf_value.raw, static_cast<__mmask32>(~hf), full_entries.raw)};
    hn::StoreU(value, d, values + p0);  // 16-bit lanes 2l, 2l+1 = warp lane l's register (lo, hi)
    // Step 5: the half's high-frequency lanes consumed that many bytes, the others full entries
    const int hf_count = static_cast<int>(hwy::PopCount(static_cast<uint64_t>(hf)));
    sm_next += hf_count;
    full_next += 32 - hf_count;
  }
}
#endif  // HWY_TARGET == HWY_AVX3_DL

}  // namespace zipserv::emu::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();  // why: restores the default instruction set for the code after it

#endif  // per-target include guard
