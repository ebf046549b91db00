// Host emulation of the fused ZipGEMM kernel and of the decompression kernel (label `cuda`, no
// GPU): the kernels' own ZIPSERV_HD steps (block_tile_staging.h, fragment_loads.h,
// fragment_decode.h) run here for every thread of every block, with memcpy in place of cp.async,
// a shared-memory stage poisoned before each K step (a read of an unstaged byte shows), and
// mma.m16n8k16 emulated through the lane maps of fragment_layout.h. What is not emulated: the
// double buffer's timing and the barriers (the GPU tests and racecheck cover those).
//
// On small-integer inputs every summation order is exact, so the emulated kernel must equal
// zipserv::gemm_dense bit for bit, for compressed and dense W, every N tile shape, split count,
// and K with and without 16-B aligned rows.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "cuda_test_inputs.h"
#include "zipserv/bf16.h"
#include "zipserv/cuda/block_tile_staging.h"
#include "zipserv/cuda/fragment_loads.h"
#include "zipserv/cuda/launch_plan.h"
#include "zipserv/decode.h"
#include "zipserv/encode.h"
#include "zipserv/gemm.h"

namespace zipserv::cuda {
namespace {

// cp.async emulated: src_bytes bytes copied, the rest of the 16 zero-filled.
struct MemcpyCopy16 {
  void operator()(void* dst, const void* src, int src_bytes) const {
    std::memcpy(dst, src, static_cast<size_t>(src_bytes));
    std::memset(static_cast<unsigned char*>(dst) + src_bytes, 0, static_cast<size_t>(16 - src_bytes));
  }
};

// A CompressedView over a host CompressedMatrix's arrays.
CompressedView host_view(const CompressedMatrix& m) {
  CompressedView v;
  v.rows = m.rows;
  v.cols = m.cols;
  v.start_exp = m.start_exp;
  v.max_hf = m.max_hf_per_block_tile();
  v.max_full = m.max_full_per_block_tile();
  v.bitmap1 = m.bitmap1.data();
  v.bitmap2 = m.bitmap2.data();
  v.bitmap3 = m.bitmap3.data();
  v.sign_mantissa = m.sign_mantissa.data();
  v.full = m.full.data();
  v.median_offsets = m.median_offsets.data();
  v.global_offsets = m.global_offsets.data();
  return v;
}

// A stage buffer, 16-B aligned, filled with a poison byte.
struct Stage {
  explicit Stage(int bytes) : words(static_cast<size_t>(bytes) / 8 + 2) {}
  unsigned char* data() { return reinterpret_cast<unsigned char*>(words.data()); }
  void poison() { std::memset(words.data(), 0xCD, words.size() * 8); }
  std::vector<uint64_t> words;
};

// mma.m16n8k16 for one warp: c[lane][v] += sum_k A[row][k] B[k][col], A and B gathered from the
// lanes' registers through a_frag_coord / b_frag_coord, (row, col) = c_frag_coord(lane, v).
void emulate_mma(const uint32_t (&a)[32][4], const uint32_t (&b)[32][2], float (&c)[32][4]) {
  float A[16][16], B[16][8];
  for (int lane = 0; lane < 32; ++lane)
    for (int half = 0; half < 2; ++half) {
      for (int reg = 0; reg < 4; ++reg) {
        const FragCoord p = a_frag_coord(lane, reg, half);
        A[p.row][p.col] = bf16_to_float(static_cast<uint16_t>(a[lane][reg] >> (16 * half)));
      }
      for (int reg = 0; reg < 2; ++reg) {
        const FragCoord p = b_frag_coord(lane, reg, half);
        B[p.row][p.col] = bf16_to_float(static_cast<uint16_t>(b[lane][reg] >> (16 * half)));
      }
    }
  for (int lane = 0; lane < 32; ++lane)
    for (int v = 0; v < 4; ++v) {
      const FragCoord p = c_frag_coord(lane, v);
      for (int k = 0; k < 16; ++k) c[lane][v] += A[p.row][k] * B[k][p.col];
    }
}

// The fused kernel, every block of the grid, sequentially; then the split-K reduction.
template <WeightFormat kFormat>
std::vector<uint16_t> emulate_fused_gemm(const CompressedView& w, const DenseView& dense, int64_t m, int64_t k,
                                         const std::vector<uint16_t>& x, int64_t n, int split_k) {
  const int tile_n = choose_tile_n(n);
  const SharedLayout l = kFormat == WeightFormat::kCompressed ? compressed_gemm_layout(tile_n, w.max_hf, w.max_full)
                                                              : dense_gemm_layout(tile_n);
  const int64_t block_rows = (m + 63) / 64, block_cols = (k + 63) / 64;
  const bool aligned = k % 8 == 0 && reinterpret_cast<uintptr_t>(x.data()) % 16 == 0;
  std::vector<float> partials(static_cast<size_t>(split_k * n * m), -1.0f);
  std::vector<uint16_t> y(static_cast<size_t>(m * n), 0xFFFF);
  Stage stage(l.stage_bytes);
  const int n8_count = tile_n / 8;
  for (int split = 0; split < split_k; ++split) {
    const SplitRange range = split_range(block_cols, split_k, split);
    for (int64_t gm = 0; gm < block_rows; ++gm)
      for (int64_t n0 = 0; n0 < n; n0 += tile_n) {
        std::vector<float> acc(static_cast<size_t>(4 * n8_count * 32 * 4), 0.0f);  // (warp, n8, lane, v)
        for (int64_t kb = range.begin; kb < range.end; ++kb) {
          stage.poison();
          for (int tid = 0; tid < kThreadsPerBlock; ++tid) {
            if constexpr (kFormat == WeightFormat::kCompressed)
              stage_compressed_block_tile(w, gm * block_cols + kb, stage.data(), l, tid, MemcpyCopy16{});
            else
              stage_dense_block_tile(dense, gm, kb, stage.data(), l, tid, MemcpyCopy16{});
            stage_activation_tile(x.data(), n, k, aligned, tile_n, n0, kb * 64, stage.data(), l, tid, MemcpyCopy16{});
          }
          const auto* x_tile = reinterpret_cast<const uint16_t*>(stage.data() + l.x_offset);
          for (int strip = 0; strip < 4; ++strip) {
            uint32_t a[4][32][4];  // (slice, lane, reg)
            for (int lane = 0; lane < 32; ++lane) {
              StripCursor cursor{0, 0};
              if constexpr (kFormat == WeightFormat::kCompressed) cursor = strip_cursor_from_stage(stage.data(), l, strip);
              for (int slice = 0; slice < 4; ++slice)
                load_a_slice<kFormat>(stage.data(), l, w.start_exp, strip, slice, lane, cursor, a[slice][lane]);
            }
            for (int slice = 0; slice < 4; ++slice)
              for (int j = 0; j < n8_count; ++j) {
                uint32_t b[32][2];
                for (int lane = 0; lane < 32; ++lane) load_b_fragment(x_tile, slice, j, lane, b[lane]);
                float c[32][4];
                for (int lane = 0; lane < 32; ++lane)
                  for (int v = 0; v < 4; ++v) c[lane][v] = acc[((strip * n8_count + j) * 32 + lane) * 4 + v];
                emulate_mma(a[slice], b, c);
                for (int lane = 0; lane < 32; ++lane)
                  for (int v = 0; v < 4; ++v) acc[((strip * n8_count + j) * 32 + lane) * 4 + v] = c[lane][v];
              }
          }
        }
        // Epilogue (as in the kernel's Step 8).
        for (int strip = 0; strip < 4; ++strip)
          for (int j = 0; j < n8_count; ++j)
            for (int lane = 0; lane < 32; ++lane)
              for (int v = 0; v < 4; ++v) {
                const FragCoord mn = c_frag_coord(lane, v);
                const int64_t row = gm * 64 + 16 * strip + mn.row, col = n0 + 8 * j + mn.col;
                if (row >= m || col >= n) continue;
                const float value = acc[((strip * n8_count + j) * 32 + lane) * 4 + v];
                if (split_k == 1) y[col * m + row] = float_to_bf16_rne(value);
                else partials[(split * n + col) * m + row] = value;
              }
      }
  }
  if (split_k > 1)  // the reduction kernel: split order 0..S-1
    for (int64_t e = 0; e < m * n; ++e) {
      float sum = partials[e];
      for (int s = 1; s < split_k; ++s) sum += partials[s * m * n + e];
      y[e] = float_to_bf16_rne(sum);
    }
  return y;
}

struct Case {
  int64_t m, k;
};

TEST(FusedKernelEmulation, ExactOnSmallIntegersEveryTileNAndSplit) {
  for (const Case c : {Case{1, 1}, Case{7, 9}, Case{63, 65}, Case{64, 64}, Case{172, 203}, Case{130, 320}}) {
    const auto w = test::small_integer_values(c.m * c.k, 8, 31 + c.m);
    const CompressedMatrix cm = encode(w.data(), c.m, c.k);
    const CompressedView view = host_view(cm);
    // The dense twin reads a zero-padded (Mp, Kp) copy, as DeviceDenseMatrix uploads it.
    const int64_t mp = pad_to_block_tile(c.m), kp = pad_to_block_tile(c.k);
    std::vector<uint16_t> padded(static_cast<size_t>(mp * kp), 0);
    for (int64_t r = 0; r < c.m; ++r) std::memcpy(&padded[r * kp], &w[r * c.k], static_cast<size_t>(c.k) * 2);
    const DenseView dense{c.m, c.k, padded.data()};
    for (int64_t n : {1, 8, 9, 17, 40, 130}) {
      const auto x = test::small_integer_values(n * c.k, 8, 41 + n);
      std::vector<uint16_t> ref(static_cast<size_t>(c.m * n));
      gemm_dense(w.data(), c.m, c.k, x.data(), n, ref.data());
      for (int split = 1; split <= std::min<int64_t>(cm.block_cols(), 3); ++split) {
        const std::string what = std::to_string(c.m) + "x" + std::to_string(c.k) + " n " + std::to_string(n) +
                                 " split " + std::to_string(split);
        EXPECT_EQ((emulate_fused_gemm<WeightFormat::kCompressed>(view, dense, c.m, c.k, x, n, split)), ref) << what;
        EXPECT_EQ((emulate_fused_gemm<WeightFormat::kDense>(view, dense, c.m, c.k, x, n, split)), ref) << "dense " << what;
      }
    }
  }
}

// The decompression kernel: stage, decode_strip_into_tile for every warp and lane, copy out.
TEST(FusedKernelEmulation, DecompressKernelStepsEqualReferenceDecode) {
  const auto w = test::all_patterns();
  for (int start : {255, 0, 120, 248}) {
    const CompressedMatrix m = encode_with_start_exp(w.data(), 256, 256, static_cast<uint8_t>(start));
    const CompressedView view = host_view(m);
    const SharedLayout l = decompress_layout(view.max_hf, view.max_full);
    Stage smem(l.total_bytes);
    std::vector<uint16_t> out(w.size(), 0);
    for (int64_t t = 0; t < m.block_tiles(); ++t) {
      smem.poison();
      for (int tid = 0; tid < kThreadsPerBlock; ++tid)
        stage_compressed_block_tile(view, t, smem.data(), l, tid, MemcpyCopy16{});
      auto* tile = reinterpret_cast<uint16_t*>(smem.data() + l.x_offset);
      for (int strip = 0; strip < 4; ++strip)
        for (int lane = 0; lane < 32; ++lane) decode_strip_into_tile(smem.data(), l, view.start_exp, strip, lane, tile);
      const int64_t row0 = t / m.block_cols() * 64, col0 = t % m.block_cols() * 64;
      for (int r = 0; r < 64; ++r)
        for (int c = 0; c < 64; ++c) out[(row0 + r) * 256 + col0 + c] = tile[r * kDecompressTileStride + c];
    }
    EXPECT_EQ(out, w) << "start_exp " << start;
  }
}

}  // namespace
}  // namespace zipserv::cuda
