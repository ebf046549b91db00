/*! \file element_code.h
 *  \brief The 3-bit code of one weight and the rule that rebuilds a BF16 value from it.
 *
 *  Per matrix one window of 7 consecutive exponents [lo, lo+6] is chosen and
 *  `start_exp = lo - 1` is stored as a byte (so lo = 0 stores 255). A weight whose exponent e is
 *  inside the window gets code c = e - start_exp in 1..7 and keeps one sign+mantissa byte; any
 *  other weight gets code 0 ("fallback") and keeps its full 16 bits.
 *
 *  All arithmetic on exponents is done modulo 256. That is what makes a window touching
 *  exponent 0 work: the official kernels compute `(start_exp + code) << 7` in `int`, so with
 *  start_exp = 255 the carry lands in bit 15 and flips the sign of every decoded weight
 *  (spec sections F and G.1). Here the sum is masked to 8 bits first.
 */
#pragma once

#include <cstdint>

#include "zipserv/reference/bf16.h"
#include "zipserv/reference/host_device.h"

namespace zipserv {

/// \defgroup stage_codes Exponent codes
/// \{

/// Number of exponents in the window (codes 1..7; code 0 is the fallback).
inline constexpr int kWindowSize = 7;

/// Returns the 3-bit code of BF16 pattern `v`: e - start_exp (mod 256) if that is in 1..7, else 0.
ZIPSERV_HD constexpr uint32_t element_code(uint16_t v, uint8_t start_exp) {
  const uint32_t c = (bf16_exponent(v) - start_exp) & 0xFFu;
  return (c >= 1 && c <= kWindowSize) ? c : 0u;
}

/// Returns the byte stored for a high-frequency weight: sign in bit 7, mantissa in bits 6..0.
ZIPSERV_HD constexpr uint8_t sign_mantissa_byte(uint16_t v) {
  return static_cast<uint8_t>(((v >> 8) & 0x80u) | (v & 0x7Fu));
}

/// Rebuilds the BF16 pattern of a high-frequency weight from its code (1..7) and its byte.
/// REFERENCE for every decoder: the emulation and the CUDA kernels call exactly this.
ZIPSERV_HD constexpr uint16_t rebuild_bf16(uint32_t code, uint8_t sign_mantissa, uint8_t start_exp) {
  return static_cast<uint16_t>((static_cast<uint32_t>(sign_mantissa & 0x80u) << 8) |
                               (((start_exp + code) & 0xFFu) << 7) | (sign_mantissa & 0x7Fu));
}

/// Reads the 3-bit code of bit `bit` (0..63) from a FragTile's three bitmap words.
ZIPSERV_HD constexpr uint32_t code_from_bitmaps(uint64_t b1, uint64_t b2, uint64_t b3, int bit) {
  return static_cast<uint32_t>(((b3 >> bit) & 1u) << 2 | ((b2 >> bit) & 1u) << 1 | ((b1 >> bit) & 1u));
}

/// \}

}  // namespace zipserv
