/*! \file mma_emulation.h
 *  \brief `mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32` emulated lane by lane through the
 *         A, B and C maps of fragment_layout.h: the definition the SIMD MMA is tested against.
 *
 *  D = A B + C for a 16x16 BF16 A (weights), a 16x8 BF16 B (activations, k x n) and a 16x8 FP32
 *  C, each spread over the warp's 32 lanes in PTX's fragment layout. Each output (m, n) is
 *  mma_dot16(numerics, A[m][0..15], B[0..15][n], C[m][n]) (mma_numerics.h). Under the default
 *  numerics, ieee_sequential, the summation order per output makes this emulation equal the
 *  reference GEMM bit for bit:
 *
 *      acc = c[m][n];  for k = 0, 1, ..., 15:  acc = acc + float(A[m][k]) * float(B[k][n])
 *
 *  with the product rounded to FP32 before the addition (not fused). A BF16 x BF16 product is
 *  exact in FP32 unless it underflows, and then both sides round it the same way. The hardware
 *  adds the 16 products in a way PTX does not specify; the numerics sm80, sm89 and sm90 are
 *  models of how A100, L40S and H100 do it (tensor_core_model.h), proven on real GPU outputs.
 *
 *  The SIMD MMA of the CPU ZipGEMM (emulation.h: mma_strip_rows(), mma_block_tile_rows()) has
 *  ieee_sequential numerics only; the tensor-core numerics are scalar (this function).
 */
#pragma once

#include <array>
#include <cstdint>

#include "zipserv/reference/fragment_layout.h"
#include "zipserv/reference/mma_numerics.h"

namespace zipserv::emu {

/// \addtogroup stage_gemm
/// \{

/// One warp's A operand: two BF16 per register, lower K index in the low half.  // (T32, V8) bf16
using AFragment = std::array<std::array<uint32_t, kARegsPerLane>, kWarpLanes>;
/// One warp's B operand: two BF16 per register, lower K index in the low half.  // (T32, V4) bf16
using BFragment = std::array<std::array<uint32_t, kBRegsPerLane>, kWarpLanes>;
/// One warp's FP32 accumulators.  // (T32, V4) f32
using CFragment = std::array<std::array<float, kCValuesPerLane>, kWarpLanes>;

/// returns c[l][v] = mma_dot16(numerics, A[m][0..15], B[0..15][n], c[l][v]), where (m, n) =
/// c_frag_coord(l, v) and A, B are read through a_frag_coord and b_frag_coord; under the default
/// ieee_sequential that is c[l][v] + sum_{k=0..15, ascending} float(A[m][k]) * float(B[k][n]).
void mma_m16n8k16(const AFragment& a, const BFragment& b, CFragment& c,
                  MmaNumerics numerics = MmaNumerics::ieee_sequential);

/// returns the B fragment of columns n0..n0+7 and rows k0..k0+15 of X (N x K row-major, BF16),
/// reading zero beyond `n` or `k`: b[l][r] = X[n0 + col][k0 + row] | X[..][.. + 1] << 16 with
/// (row, col) = b_frag_coord(l, r, 0).
BFragment b_fragment_from_rows(const uint16_t* x, int64_t n, int64_t k, int64_t n0, int64_t k0);

/// \}

}  // namespace zipserv::emu
