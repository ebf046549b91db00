/*! \file fragment_layout.h
 *  \brief The lane -> element map of `mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32`,
 *         written once and used by the reference, the CPU emulation and the CUDA kernels.
 *
 *  A warp has 32 lanes. For the A operand (16x16 BF16, row-major, the weights) each lane holds
 *  four 32-bit registers a0..a3, each packing two BF16 values; the value with the lower K index
 *  sits in the low 16 bits. With g = lane / 4 and t = lane % 4 (PTX ISA, "Matrix Fragments for
 *  mma.m16n8k16 with floating point type"):
 *
 *      // (T32, V8) -> (M16, K16),  value v = 2 * reg + half
 *      a0 = (row g,     cols 2t, 2t+1)        lane reg half -> (row, col)
 *      a1 = (row g + 8, cols 2t, 2t+1)          0    0   0  -> ( 0,  0)
 *      a2 = (row g,     cols 2t+8, 2t+9)        0    0   1  -> ( 0,  1)
 *      a3 = (row g + 8, cols 2t+8, 2t+9)        0    1   0  -> ( 8,  0)
 *                                               0    2   0  -> ( 0,  8)
 *                                               1    0   0  -> ( 0,  2)
 *                                               4    0   0  -> ( 1,  0)
 *                                              31    3   1  -> (15, 15)
 *
 *  Why TCA-TBE needs no coordinate transform: inside one 8x8 FragTile the element with row r and
 *  column c has bit index k = 8r + c. Lane l's two values of register a_i sit at row g = l/4,
 *  columns 2t and 2t+1, i.e. bits 8(l/4) + 2(l%4) = 2l and 2l + 1. So lane l always decodes bits
 *  2l and 2l+1 of whichever FragTile feeds the register, and the four FragTiles of a 16x16 slice
 *  are stored in register order a0, a1, a2, a3 (rows 0-7/cols 0-7, rows 8-15/cols 0-7,
 *  rows 0-7/cols 8-15, rows 8-15/cols 8-15).
 *
 *  The B operand (activations, 16x8, "col") and the C/D accumulators are mapped here too, so the
 *  emulated MMA and the kernel's epilogue read the same table.
 */
#pragma once

#include <cstdint>

#include "zipserv/reference/host_device.h"

namespace zipserv {

/// \defgroup stage_lane_fragments Lane fragments (mma.m16n8k16 register layout)
/// \{

/// Lanes in a warp.
inline constexpr int kWarpLanes = 32;
/// 32-bit registers of one lane's A fragment (m16n8k16, BF16): a0..a3.
inline constexpr int kARegsPerLane = 4;
/// 32-bit registers of one lane's B fragment (m16n8k16, BF16): b0, b1.
inline constexpr int kBRegsPerLane = 2;
/// FP32 accumulators of one lane's C/D fragment (m16n8): c0..c3.
inline constexpr int kCValuesPerLane = 4;

/// A (row, column) position inside a fragment-sized tile.
struct FragCoord {
  int row;  ///< M index for A and C, K index for B
  int col;  ///< K index for A, N index for B and C
};

/// A operand: (lane, reg, half) -> (row, col) in the 16x16 tile.  // (T32,V8) -> (M16,K16)
ZIPSERV_HD constexpr FragCoord a_frag_coord(int lane, int reg, int half) {
  return FragCoord{lane / 4 + 8 * (reg & 1), 2 * (lane % 4) + half + 8 * (reg >> 1)};
}

/// The FragTile (0..3, in storage order) of a 16x16 slice that register `reg` reads:
/// FragTile i + 2j covers rows 8i..8i+7 and columns 8j..8j+7, and a_i reads FragTile i.
ZIPSERV_HD constexpr int a_frag_fragtile(int reg) { return reg; }

/// The bit (element index k = 8r + c) inside that FragTile that lane `lane` decodes for `half`.
ZIPSERV_HD constexpr int a_frag_bit(int lane, int half) { return 2 * lane + half; }

/// B operand: (lane, reg, half) -> (k, n) in the 16x8 tile.  // (T32,V4) -> (K16,N8)
ZIPSERV_HD constexpr FragCoord b_frag_coord(int lane, int reg, int half) {
  return FragCoord{2 * (lane % 4) + half + 8 * reg, lane / 4};
}

/// C/D accumulators: (lane, value) -> (m, n) in the 16x8 tile.  // (T32,V4) -> (M16,N8)
ZIPSERV_HD constexpr FragCoord c_frag_coord(int lane, int value) {
  return FragCoord{lane / 4 + 8 * (value >> 1), 2 * (lane % 4) + (value & 1)};
}

/// Index of one A register in a whole matrix's register array (reference lane_fragments(), the
/// emulation and the CUDA trace build all use this order): block tile t, strip (warp) s,
/// slice q, lane, register a0..a3, innermost last.  // (T, S4, Q4, T32, R4) -> linear
ZIPSERV_HD constexpr int64_t lane_fragment_index(int64_t block_tile, int strip, int slice, int lane, int reg) {
  return (((block_tile * 4 + strip) * 4 + slice) * 32 + lane) * 4 + reg;
}

/// \}

}  // namespace zipserv
