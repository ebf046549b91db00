// mma.m16n8k16 emulated lane by lane through the fragment maps (see mma_emulation.h).
#include "zipserv/emulation/mma_emulation.h"


namespace zipserv::emu {
namespace {

// The BF16 value in half `half` of a packed register.
uint16_t half_of(uint32_t reg, int half) { return static_cast<uint16_t>(reg >> (16 * half)); }

}  // namespace

void mma_m16n8k16(const AFragment& a, const BFragment& b, CFragment& c, MmaNumerics numerics) {
  // Un-distribute A and B into plain tiles through the maps, so the sums read like the PTX text.
  uint16_t A[16][16];  // (M16, K16) bf16
  uint16_t B[16][8];   // (K16, N8) bf16
  for (int lane = 0; lane < kWarpLanes; ++lane)
    for (int half = 0; half < 2; ++half) {
      for (int reg = 0; reg < kARegsPerLane; ++reg) {
        const FragCoord at = a_frag_coord(lane, reg, half);
        A[at.row][at.col] = half_of(a[lane][reg], half);
      }
      for (int reg = 0; reg < kBRegsPerLane; ++reg) {
        const FragCoord at = b_frag_coord(lane, reg, half);
        B[at.row][at.col] = half_of(b[lane][reg], half);
      }
    }
  for (int lane = 0; lane < kWarpLanes; ++lane)
    for (int v = 0; v < kCValuesPerLane; ++v) {
      const FragCoord mn = c_frag_coord(lane, v);
      uint16_t column[16];  // B[0..15][n]
      for (int k = 0; k < 16; ++k) column[k] = B[k][mn.col];
      c[lane][v] = mma_dot16(numerics, A[mn.row], column, c[lane][v]);
    }
}

BFragment b_fragment_from_rows(const uint16_t* x, int64_t n, int64_t k, int64_t n0, int64_t k0) {
  BFragment b{};
  for (int lane = 0; lane < kWarpLanes; ++lane)
    for (int reg = 0; reg < kBRegsPerLane; ++reg) {
      uint32_t packed = 0;
      for (int half = 0; half < 2; ++half) {
        const FragCoord kn = b_frag_coord(lane, reg, half);
        const int64_t row = n0 + kn.col, col = k0 + kn.row;
        const uint16_t v = (row < n && col < k) ? x[row * k + col] : uint16_t{0};
        packed |= uint32_t{v} << (16 * half);
      }
      b[lane][reg] = packed;
    }
  return b;
}

}  // namespace zipserv::emu
