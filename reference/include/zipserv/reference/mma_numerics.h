/*! \file mma_numerics.h
 *  \brief The arithmetic of one `mma.m16n8k16` BF16 x BF16 -> FP32 output, as a named choice:
 *         every emulated MMA (the Highway emulation, the cuda-sim engine) computes each output
 *         element through mma_dot16() under one of these numerics.
 *
 *  One output of `mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32` is
 *
 *      d = c + sum_{k=0..15} a[k] * b[k]      (a: one row of A, b: one column of B)
 *
 *  and the hardware is free to add those 17 terms in any order and precision PTX does not pin
 *  down. `ieee_sequential` is the reference GEMM's order (zipserv/reference/gemm.h); the others are models
 *  of real tensor cores.
 */
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace zipserv {

/// \addtogroup stage_gemm
/// \{

/// How the 16 products of one mma.m16n8k16 output and its accumulator are added.
enum class MmaNumerics : uint8_t {
  /// acc = c; for k = 0..15: acc = fl(acc + fl(a[k] b[k])): IEEE FP32, round to nearest even,
  /// one product and one addition at a time (the reference GEMM's order).
  ieee_sequential,
  sm80,  ///< A100 tensor core
  sm89,  ///< L40S / RTX 4090 tensor core
  sm90,  ///< H100 / H200 tensor core
};

/// Every value of MmaNumerics, in declaration order.
inline constexpr MmaNumerics kAllMmaNumerics[] = {MmaNumerics::ieee_sequential, MmaNumerics::sm80,
                                                  MmaNumerics::sm89, MmaNumerics::sm90};

/// The name used on the command line and in reports ("ieee_sequential", "sm80", "sm89", "sm90").
std::string_view numerics_name(MmaNumerics numerics);

/// The numerics called `name`, or std::nullopt.
std::optional<MmaNumerics> parse_numerics(std::string_view name);

/// returns d = c + sum_{k=0..15} a[k] * b[k] computed under `numerics`; a and b are BF16 bit
/// patterns, c and d FP32.
float mma_dot16(MmaNumerics numerics, const uint16_t (&a)[16], const uint16_t (&b)[16], float c);

/// \}

}  // namespace zipserv
