// The warp collective mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 of cuda-sim.
//
// The fragment layouts below are transcribed from the PTX ISA ("Matrix Fragments for
// mma.m16n8k16 with floating point type", section 9.7.14.5.8 in PTX ISA 8.x), NOT taken from
// zipserv/reference/fragment_layout.h: the simulator is a second, independent reading of the ISA, so a
// mistake in the project's lane map shows up as a wrong GEMM instead of being mirrored.
//
//   groupID = laneid >> 2,  threadID_in_group = laneid % 4
//   A (16x16, .bf16, 4 x .b32 = a0..a7):  row = groupID       for a0, a1, a4, a5
//                                               groupID + 8   for a2, a3, a6, a7
//                                         col = threadID_in_group * 2 + (i & 1)      for a0..a3
//                                               threadID_in_group * 2 + (i & 1) + 8  for a4..a7
//   B (16x8,  .bf16, 2 x .b32 = b0..b3):  row = threadID_in_group * 2 + (i & 1)      for b0, b1
//                                               threadID_in_group * 2 + (i & 1) + 8  for b2, b3
//                                         col = groupID
//   C, D (16x8, .f32, c0..c3):            row = groupID for c0, c1; groupID + 8 for c2, c3
//                                         col = threadID_in_group * 2 + (i & 1)
// Element a(2r) is the low half of register r, a(2r+1) the high half (likewise for b).
#include <cstdint>

#include "sim_state.h"
#include "zipserv/reference/mma_numerics.h"

namespace zipserv::cuda::sim::detail {
namespace {

struct RowCol {
  int row, col;
};

RowCol ptx_a_element(int lane, int i) {
  const int group = lane >> 2, in_group = lane % 4;
  const int row = (i < 2 || (i >= 4 && i < 6)) ? group : group + 8;
  const int col = i < 4 ? in_group * 2 + (i & 1) : in_group * 2 + (i & 1) + 8;
  return {row, col};
}

RowCol ptx_b_element(int lane, int i) {
  const int group = lane >> 2, in_group = lane % 4;
  const int row = i < 2 ? in_group * 2 + (i & 1) : in_group * 2 + (i & 1) + 8;
  return {row, group};
}

RowCol ptx_c_element(int lane, int i) {
  const int group = lane >> 2, in_group = lane % 4;
  return {i < 2 ? group : group + 8, in_group * 2 + (i & 1)};
}

uint16_t element_of(uint32_t reg, int i) { return static_cast<uint16_t>(reg >> (16 * (i & 1))); }

}  // namespace

void complete_mma(BlockState& b, int warp) {
  uint16_t a[16][16];   // (M16, K16) bf16
  uint16_t bt[8][16];   // (N8, K16) bf16: B transposed, so a column of B is a contiguous row
  float c[16][8];       // (M16, N8) fp32
  for (int lane = 0; lane < 32; ++lane) {
    const ThreadState& t = b.threads[static_cast<size_t>(warp * 32 + lane)];
    for (int i = 0; i < 8; ++i) {
      const RowCol rc = ptx_a_element(lane, i);
      a[rc.row][rc.col] = element_of((*t.mma_a)[i / 2], i);
    }
    for (int i = 0; i < 4; ++i) {
      const RowCol rc = ptx_b_element(lane, i);
      bt[rc.col][rc.row] = element_of((*t.mma_b)[i / 2], i);
    }
    for (int i = 0; i < 4; ++i) {
      const RowCol rc = ptx_c_element(lane, i);
      c[rc.row][rc.col] = (*t.mma_c)[i];
    }
  }
  for (int lane = 0; lane < 32; ++lane) {
    ThreadState& t = b.threads[static_cast<size_t>(warp * 32 + lane)];
    for (int i = 0; i < 4; ++i) {
      const RowCol rc = ptx_c_element(lane, i);
      (*t.mma_c)[i] = mma_dot16(b.options->numerics, a[rc.row], bt[rc.col], c[rc.row][rc.col]);
    }
  }
  ++b.stats.mma;
}

}  // namespace zipserv::cuda::sim::detail
