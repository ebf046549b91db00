/*! \file fragment_decode.h
 *  \brief One lane's decode of one A-fragment register from a FragTile's three bitmap words and
 *         the block tile's two stream segments: the inner step of the fused ZipGEMM kernel and
 *         of the decode kernel (spec section C).
 *
 *  The functions are ZIPSERV_HD and take `lane` as an argument (only the kernel entry reads
 *  threadIdx), so the host tests call exactly the code the GPU runs, for all 32 lanes, and
 *  compare with zipserv::lane_fragments().
 *
 *  Example: lane 19 decodes bits 38 and 39 of each FragTile (a_frag_bit(19, 0/1)). If bit 38 is
 *  set in bitmap3 and bitmap1 only, its code is 101b = 5; with 20 set bits of M = b1|b2|b3 below
 *  bit 38 and the strip's cursor at hf = 300, its byte is sign_mantissa[320] and its value
 *  rebuild_bf16(5, sign_mantissa[320], start_exp).
 */
#pragma once

#include <cstdint>

#include "zipserv/cuda/primitives.h"
#include "zipserv/reference/element_code.h"
#include "zipserv/reference/fragment_layout.h"
#include "zipserv/reference/host_device.h"

namespace zipserv::cuda {
inline namespace ZIPSERV_CUDA_TARGET {  // on_gpu or on_sim: see primitives.h

/// \addtogroup stage_lane_fragments
/// \{

/// Where a strip's decode stands inside its block tile's segments: how many high-frequency and
/// fallback elements the FragTiles already decoded used. Starts at the strip's median offsets.
struct StripCursor {
  int hf;    ///< index into the block tile's sign+mantissa segment
  int full;  ///< index into the block tile's fallback segment
};

// [decode_fragment_popcount] (a \snippet marker for the walkthrough, step 06)
/// Decodes the A-fragment register that lane `lane` holds for one FragTile: the two BF16 values
/// at bits a_frag_bit(lane, 0) and a_frag_bit(lane, 1), packed low | high << 16.
///
/// `sign_mantissa` / `full` point at the block tile's segments; `cursor` is the strip's cursor
/// before this FragTile. Only the one stream element each half needs is read (the other index
/// may lie one past the segment, so it is never dereferenced).
ZIPSERV_HD inline uint32_t decode_fragment_popcount(uint64_t b1, uint64_t b2, uint64_t b3, int lane,
                                                    StripCursor cursor, const uint8_t* sign_mantissa,
                                                    const uint16_t* full, uint8_t start_exp) {
  const uint64_t high_freq = b1 | b2 | b3;  // spatial indicator: bit k set <=> code(k) != 0
  uint32_t packed = 0;
  for (int half = 0; half < 2; ++half) {
    const int bit = a_frag_bit(lane, half);                                          // 2 lane + half
    const int hf_before = dev::popc64(high_freq & ((uint64_t{1} << bit) - 1));        // set bits below
    const uint32_t code = code_from_bitmaps(b1, b2, b3, bit);
    const uint16_t value = code != 0
        ? rebuild_bf16(code, dev::ld_shared<uint8_t>(sign_mantissa + cursor.hf + hf_before), start_exp)
        : dev::ld_shared<uint16_t>(full + cursor.full + (bit - hf_before));  // zeros below = fallbacks below
    // REFERENCE: the code != 0 branch equals zipserv::rebuild_bf16(code, sign_mantissa[...], start_exp)
    packed |= uint32_t{value} << (16 * half);
  }
  return packed;
}
// [decode_fragment_popcount]

// [advance_past_fragtile]
/// Moves a strip's cursor past one FragTile: its set bits were high-frequency elements, the
/// other 64 - n were fallbacks. REFERENCE: the per-stream ++ of zipserv's reference decoder.
ZIPSERV_HD inline StripCursor advance_past_fragtile(StripCursor cursor, uint64_t b1, uint64_t b2, uint64_t b3) {
  const int n = dev::popc64(b1 | b2 | b3);
  return StripCursor{cursor.hf + n, cursor.full + 64 - n};
}
// [advance_past_fragtile]

/// \}

}  // namespace ZIPSERV_CUDA_TARGET
}  // namespace zipserv::cuda
