/*! \file mma_probe_kernel.cuh
 *  \brief A kernel that runs one `mma.sync.m16n8k16` BF16 -> FP32 per warp on tiles read from
 *         global memory and writes D back: the probe that compares a GPU's tensor cores, and
 *         cuda-sim under a numerics model, with zipserv::mma_dot16 output by output.
 *
 *  Problem p: A (16, 16) bf16 row-major at a + 256 p, B (16, 8) bf16 row-major (k, n) at
 *  b + 128 p, C and D (16, 8) fp32 row-major at c + 128 p and d + 128 p. Warp w of block blk takes
 *  problem blk * warps + w (when it exists). Registers are filled through fragment_layout.h.
 */
#pragma once

#include <cstdint>

#include "zipserv/cuda/primitives.h"
#include "zipserv/reference/fragment_layout.h"

namespace zipserv::cuda {
inline namespace ZIPSERV_CUDA_TARGET {  // on_gpu or on_sim: see primitives.h

/// Block of 128 threads = 4 warps, 4 problems per block.
__global__ void mma_probe_kernel(const uint16_t* a, const uint16_t* b, const float* c, float* d, int64_t problems) {
  const int lane = static_cast<int>(threadIdx.x) % 32;
  const int64_t p = static_cast<int64_t>(blockIdx.x) * (blockDim.x / 32) + threadIdx.x / 32;
  if (p >= problems) return;  // whole warps only: problem p belongs to one warp
  uint32_t ra[kARegsPerLane], rb[kBRegsPerLane];
  float rc[kCValuesPerLane];
  for (int reg = 0; reg < kARegsPerLane; ++reg) {
    const FragCoord lo = a_frag_coord(lane, reg, 0), hi = a_frag_coord(lane, reg, 1);
    ra[reg] = dev::ld_global(a + 256 * p + 16 * lo.row + lo.col) |
              uint32_t{dev::ld_global(a + 256 * p + 16 * hi.row + hi.col)} << 16;
  }
  for (int reg = 0; reg < kBRegsPerLane; ++reg) {
    const FragCoord lo = b_frag_coord(lane, reg, 0), hi = b_frag_coord(lane, reg, 1);  // row = k, col = n
    rb[reg] = dev::ld_global(b + 128 * p + 8 * lo.row + lo.col) |
              uint32_t{dev::ld_global(b + 128 * p + 8 * hi.row + hi.col)} << 16;
  }
  for (int v = 0; v < kCValuesPerLane; ++v) {
    const FragCoord mn = c_frag_coord(lane, v);
    rc[v] = dev::ld_global(c + 128 * p + 8 * mn.row + mn.col);
  }
  dev::mma_m16n8k16_bf16_f32(rc, ra, rb);
  for (int v = 0; v < kCValuesPerLane; ++v) {
    const FragCoord mn = c_frag_coord(lane, v);
    dev::st_global(d + 128 * p + 8 * mn.row + mn.col, rc[v]);
  }
}

}  // namespace ZIPSERV_CUDA_TARGET
}  // namespace zipserv::cuda
