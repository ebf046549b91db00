/*! \file bf16.h
 *  \brief BF16 anatomy (sign, exponent, mantissa) and FP32 -> BF16 round-to-nearest-even.
 *
 *  A BF16 value is the top half of an IEEE-754 binary32:
 *
 *      bit 15      bits 14..7        bits 6..0
 *      sign        exponent (8)      mantissa (7)
 *
 *  TCA-TBE replaces the 8 exponent bits by a 3-bit code for the weights whose exponent lies in a
 *  window of 7 values, and keeps sign and mantissa in one byte. Everything here works on the raw
 *  16-bit pattern (`uint16_t`), never on a float, so no value is ever changed by the host's
 *  floating-point unit (NaN payloads, -0 and subnormals stay exactly as they were).
 */
#pragma once

#include <cstdint>
#include <cstring>

#include "zipserv/reference/host_device.h"

namespace zipserv {

/// \defgroup stage_bf16 BF16 anatomy
/// \{

/// Returns the sign bit (0 or 1) of a BF16 pattern.
ZIPSERV_HD constexpr uint32_t bf16_sign(uint16_t v) { return v >> 15; }
/// Returns the 8-bit biased exponent (0..255) of a BF16 pattern.
ZIPSERV_HD constexpr uint32_t bf16_exponent(uint16_t v) { return (v >> 7) & 0xFFu; }
/// Returns the 7-bit mantissa (fraction) of a BF16 pattern.
ZIPSERV_HD constexpr uint32_t bf16_mantissa(uint16_t v) { return v & 0x7Fu; }
/// Builds a BF16 pattern from its three fields (each masked to its width).
ZIPSERV_HD constexpr uint16_t bf16_from_fields(uint32_t sign, uint32_t exponent, uint32_t mantissa) {
  return static_cast<uint16_t>(((sign & 1u) << 15) | ((exponent & 0xFFu) << 7) | (mantissa & 0x7Fu));
}

/// Widens a BF16 pattern to the FP32 value it denotes (exact: BF16 is a truncated FP32).
inline float bf16_to_float(uint16_t v) {
  const uint32_t u = static_cast<uint32_t>(v) << 16;
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

/// Rounds an FP32 value to BF16, round-to-nearest-even, the rounding of mixed-precision training
/// and of CUDA's `__float2bfloat16_rn`. A NaN stays a NaN: its top payload bits are kept and the
/// quiet bit is set, so truncation can never turn it into an infinity.
inline uint16_t float_to_bf16_rne(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  if ((u & 0x7FFFFFFFu) > 0x7F800000u) return static_cast<uint16_t>((u >> 16) | 0x0040u);
  // Adding 0x7FFF plus the lowest kept bit rounds half-way cases to the even neighbour.
  u += 0x7FFFu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}

/// \}

}  // namespace zipserv
