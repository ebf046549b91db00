/*! \file zipgemm_kernel.cuh
 *  \brief The fused ZipGEMM kernel: Y = W X with W decoded from TCA-TBE straight into mma A
 *         registers (spec D), plus its dense twin (same kernel, W tile read from shared memory)
 *         and its trace build (also writes every lane's A registers to a debug buffer).
 *
 *  Block = 4 warps; block tile 64 (M) x 64 (K) per K step; warp s owns strip s (rows 16s..16s+15)
 *  for all TILE_N columns. Per K step each warp runs 4 slices (k16) x TILE_N/8 mma.m16n8k16.
 *
 *  The kernel is a loop skeleton (pipeline, barriers, epilogue) around ZIPSERV_HD steps: staging
 *  (block_tile_staging.h), A decode and B loads (fragment_loads.h, fragment_decode.h). B fragments
 *  come from plain 32-bit shared loads, not ldmatrix; fragment_loads.h says why. Every
 *  device-specific operation is a primitive of zipserv/cuda/primitives.h, so this same source
 *  compiles with nvcc for the GPU and with the host compiler for the cuda-sim simulator.
 */
#pragma once

#include <cstdint>

#include "zipserv/cuda/block_tile_staging.h"
#include "zipserv/cuda/device_matrix.h"
#include "zipserv/cuda/fragment_decode.h"
#include "zipserv/cuda/fragment_loads.h"
#include "zipserv/cuda/launch_plan.h"
#include "zipserv/cuda/primitives.h"
#include "zipserv/reference/fragment_layout.h"

namespace zipserv::cuda {
inline namespace ZIPSERV_CUDA_TARGET {  // on_gpu or on_sim: see primitives.h

/// Everything one launch of the fused kernel reads (passed by value: lives in constant bank).
struct FusedGemmParams {
  CompressedView w;          ///< compressed W (kCompressed)
  DenseView dense;           ///< padded dense W (kDense)
  int64_t m, k, n;           ///< logical shape
  int64_t block_rows;        ///< Mp / 64
  int64_t block_cols;        ///< Kp / 64
  const uint16_t* x;         ///< (N, K) row-major bf16
  bool x_rows_16b_aligned;   ///< K % 8 == 0 and x 16-B aligned: X staged with cp.async
  uint16_t* y;               ///< (M x N) column-major bf16, written when split_k == 1
  float* partials;           ///< (split_k, N, M) fp32, written when split_k > 1
  int split_k;
  uint32_t* trace;           ///< (lane_fragment_count) uint32, trace build only
  SharedLayout smem;
};

/// The fused kernel. Grid (N tiles, min(Mp/64, 65535), split_k), block 128 threads, dynamic
/// shared memory p.smem.total_bytes. kKTail: K is not a multiple of 64, so the last K step holds
/// padding columns whose A values are set to +0 (see Step 6); a separate instantiation so that
/// the common case (every LLM shape: K % 64 == 0) carries no trace of it: with the mask in the
/// loop nvcc 13.0 allocates the TILE_N = 8 build 178 registers instead of 128 on sm_80.
/// kStages: shared-memory stages of the cp.async pipeline, K steps in flight while one computes
/// (kStages - 1 of them); 2 is the double buffer every launch uses, 3 a variant to measure.
template <int kTileN, WeightFormat kFormat, bool kTrace, bool kKTail, int kStages = kPipelineStages>
__global__ void __launch_bounds__(kThreadsPerBlock) zipgemm_kernel(const FusedGemmParams p) {
  static_assert(kStages >= 2, "a pipeline needs a stage to compute in and one to load into");
  // Steps:
  //  1. Identify this thread's work: warp s = strip s, lane; N tile n0; the split's K range.
  //  2. Loop over the block rows gm this block owns (gm = blockIdx.y, + gridDim.y, ...).
  //  3.   Prologue: stage the first S - 1 K steps (W tile + X tile; S = kStages) into stages
  //       0 .. S-2 with cp.async, one commit group each, and load the segment bounds of step
  //       S - 1 (compressed W: global_offsets, one step ahead of their use).
  //  4.   Main loop, K step kb in stage kb % S: issue the cp.async of step kb + S - 1 into the
  //       stage computed last (those bytes travel while S - 1 steps compute) with the bounds
  //       loaded one step earlier, then load the bounds of step kb + S,
  //  5.   wait for step kb's group and barrier (all threads' chunks visible),
  //  6.   decode slice 0, then per slice q: decode slice q + 1 into the other A register set
  //       (register double buffer) and run slice q's TILE_N/8 MMAs, so decode and MMA overlap;
  //       in the last K step A columns beyond K are set to +0 (zero_a_beyond_k),
  //  7.   barrier: stage kb % S may be overwritten by the next issue.
  //  8.   Epilogue: accumulators -> Y (bf16, split_k == 1) or FP32 partials (split_k > 1), only
  //       rows < M and columns < N.
  unsigned char* const smem = dev::dynamic_shared_memory();  // (kStages, stage_bytes) smem

  // Step 1.
  const int tid = static_cast<int>(threadIdx.x);
  const int strip = tid / 32, lane = tid % 32;
  const int64_t n0 = static_cast<int64_t>(blockIdx.x) * kTileN;
  const int split = static_cast<int>(blockIdx.z);
  const SplitRange range = split_range(p.block_cols, p.split_k, split);
  const SharedLayout l = p.smem;  // a copy: taking a kernel parameter's address would move it to local memory
  constexpr int kN8 = kTileN / 8;  // m16n8k16 MMAs per slice per warp

  // Step 2.
  for (int64_t gm = blockIdx.y; gm < p.block_rows; gm += gridDim.y) {
    float acc[kN8][kCValuesPerLane];  // (N8 groups, V4) regs, fp32
#pragma unroll
    for (int j = 0; j < kN8; ++j)
#pragma unroll
      for (int v = 0; v < kCValuesPerLane; ++v) acc[j][v] = 0.0f;

    // Segment bounds of the compressed block tile of K step kb (unused for a dense W).
    auto segment_bounds = [&](int64_t kb) {
      if constexpr (kFormat == WeightFormat::kCompressed) return load_segment_bounds(p.w, gm * p.block_cols + kb);
      else return SegmentBounds{0, 0, 0, 0};
    };
    auto issue_stage = [&](int64_t kb, int buffer, const SegmentBounds& seg) {
      unsigned char* stage = smem + buffer * l.stage_bytes;
      if constexpr (kFormat == WeightFormat::kCompressed)
        stage_compressed_block_tile(p.w, gm * p.block_cols + kb, seg, stage, l, tid, dev::CpAsyncCopy16{});
      else
        stage_dense_block_tile(p.dense, gm, kb, stage, l, tid, dev::CpAsyncCopy16{});
      stage_activation_tile(p.x, p.n, p.k, p.x_rows_16b_aligned, kTileN, n0, kb * kTileK, stage, l, tid,
                            dev::CpAsyncCopy16{});
    };

    //! [main loop]
    // Step 3.
    for (int s = 0; s < kStages - 1; ++s) {
      if (range.begin + s < range.end) issue_stage(range.begin + s, s, segment_bounds(range.begin + s));
      dev::cp_async_commit();  // one group per K step, possibly empty
    }
    SegmentBounds next_bounds{0, 0, 0, 0};  // bounds of K step kb + S - 1, loaded a step ahead (regs)
    if (range.begin + kStages - 1 < range.end) next_bounds = segment_bounds(range.begin + kStages - 1);

    for (int64_t kb = range.begin; kb < range.end; ++kb) {
      const int buffer = static_cast<int>(static_cast<uint64_t>(kb - range.begin) % kStages);  // S = 2: & 1
      // Step 4.
      if (kb + kStages - 1 < range.end) issue_stage(kb + kStages - 1, (buffer + kStages - 1) % kStages, next_bounds);
      dev::cp_async_commit();  // possibly empty, so that "all but the newest S - 1 groups" is always step kb
      if (kb + kStages < range.end) next_bounds = segment_bounds(kb + kStages);
      // Step 5.
      dev::cp_async_wait_group<kStages - 1>();
      __syncthreads();

      // Step 6.
      const unsigned char* stage = smem + buffer * l.stage_bytes;
      const uint16_t* x_tile = reinterpret_cast<const uint16_t*>(stage + l.x_offset);  // (TILE_N, 64) smem
      StripCursor cursor{0, 0};
      if constexpr (kFormat == WeightFormat::kCompressed) cursor = strip_cursor_from_stage(stage, l, strip);
      const int64_t block_tile = gm * p.block_cols + kb;
      // Columns of this K step inside the logical K: 64 except in the last step of a K that is
      // not a multiple of 64 (the same value for the whole block, so the branch below is uniform).
      const int k_valid = kKTail ? static_cast<int>(p.k - kb * kTileK < kTileK ? p.k - kb * kTileK : kTileK) : kTileK;
      auto decode_slice = [&](int slice, uint32_t(&a)[kARegsPerLane]) {
        load_a_slice<kFormat>(stage, l, p.w.start_exp, strip, slice, lane, cursor, a);
        if constexpr (kTrace) {  // the trace records the decoded registers, padding included
          if (blockIdx.x == 0)
#pragma unroll
            for (int reg = 0; reg < kARegsPerLane; ++reg)
              dev::st_global(p.trace + lane_fragment_index(block_tile, strip, slice, lane, reg), a[reg]);
        }
        // Padding columns (K <= k < Kp) -> +0 in A, in both weight formats (kKTail build only:
        // with K % 64 == 0 there are none). Why ZipGEMM and its dense twin are bit-identical:
        //  - Without the mask: compressed padding decodes to +2^(start_exp + 1 - 127) (code 1,
        //    byte 0), the dense twin's padding is +0, and X is +0 there in both (zero-filled
        //    beyond K). A product is -0 only when one factor is negative and the other zero; here
        //    both are non-negative, so both kernels add +0 products, acc starts at +0, and
        //    x + (+0) = x for every x (including x = -0: -0 + +0 = +0 in both). Two holes remain:
        //    start_exp = 254 makes the padding +Inf and +Inf x 0 = NaN (every output NaN), and
        //    PTX does not specify how a tensor core aligns a zero product of a large A value.
        //  - With the mask both kernels feed the MMAs bit-identical A, B and C registers in the
        //    same instruction order (slices 0..3, 8-column groups 0..TILE_N/8-1, K steps in
        //    order, the same split ranges), so equal output bits follow from the MMA being a
        //    deterministic function of its registers, whatever its internal summation order.
        //  - Rows beyond M hold padding too; an MMA row's result depends only on that row of A,
        //    and those rows are never written (Step 8), so they are left as decoded.
        if constexpr (kKTail) {
          if (k_valid < kTileK) zero_a_beyond_k(slice, lane, k_valid, a);
        }
      };
      auto mma_slice = [&](int slice, const uint32_t(&a)[kARegsPerLane]) {
#pragma unroll
        for (int j = 0; j < kN8; ++j) {
          uint32_t b[kBRegsPerLane];  // (T32, V4) regs, bf16
          load_b_fragment(x_tile, slice, j, lane, b);
          dev::mma_m16n8k16_bf16_f32(acc[j], a, b);
        }
      };
      // Register double buffer, written out: slice q + 1 is decoded into one set while slice q's
      // MMAs read the other, so the decode's integer work and the tensor cores overlap.
      uint32_t a_even[kARegsPerLane], a_odd[kARegsPerLane];  // (T32, V8) regs each, bf16
      decode_slice(0, a_even);
      decode_slice(1, a_odd);
      mma_slice(0, a_even);
      decode_slice(2, a_even);
      mma_slice(1, a_odd);
      decode_slice(3, a_odd);
      mma_slice(2, a_even);
      mma_slice(3, a_odd);
      // Step 7.
      __syncthreads();
    }
    //! [main loop]

    // Step 8.
#pragma unroll
    for (int j = 0; j < kN8; ++j)
#pragma unroll
      for (int v = 0; v < kCValuesPerLane; ++v) {
        const FragCoord mn = c_frag_coord(lane, v);
        const int64_t m = gm * kTileM + 16 * strip + mn.row, n = n0 + 8 * j + mn.col;
        if (m >= p.m || n >= p.n) continue;  // padding rows / columns are never written
        if (p.split_k == 1)
          // REFERENCE: float_to_bf16_rne, equal for every non-NaN value; a NaN leaves cvt.rn.bf16.f32
          // as some NaN whose payload may differ from the reference's (compare NaN-ness only).
          dev::st_global(p.y + n * p.m + m, dev::float_to_bf16_rn(acc[j][v]));
        else
          dev::st_global(p.partials + (static_cast<int64_t>(split) * p.n + n) * p.m + m, acc[j][v]);
      }
  }
}

}  // namespace ZIPSERV_CUDA_TARGET
}  // namespace zipserv::cuda
