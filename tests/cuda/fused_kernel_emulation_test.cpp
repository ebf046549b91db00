// Host emulation of the fused ZipGEMM kernel and of the decompression kernel (label `cuda`, no
// GPU): the kernels' own ZIPSERV_HD steps (block_tile_staging.h, fragment_loads.h,
// fragment_decode.h) run here for every thread of every block of the kernel's grid, inside the
// kernel's loop skeleton (two stages, prologue, issue of K step kb + 1 into the other stage,
// commit, wait_group 1, decode and MMA, epilogue), with cp.async emulated at both extremes of its
// timing (landing at issue, or poisoned until the covering wait), and mma.m16n8k16 emulated
// through the lane maps of fragment_layout.h. What is not emulated: the barriers themselves
// (threads between two barriers run one after the other) and the tensor core's internal
// summation order; the GPU tests and compute-sanitizer racecheck / synccheck cover those.
//
// On small-integer inputs every summation order is exact, so the emulated kernel must equal
// zipserv::gemm_dense bit for bit, for compressed and dense W, every N tile shape, split count,
// and K with and without 16-B aligned rows. The twin test checks, register by register, that
// ZipGEMM and the dense twin hand the MMAs identical A operands on real-valued weights.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
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

// cp.async emulated with its two legal extremes of timing. A copy issued by a thread may land
// at any moment between its issue and the cp.async.wait_group + __syncthreads() that covers its
// group, so the emulation runs the kernel's schedule both ways:
//   kLandAtIssue  every copy lands at once: a copy issued into a stage that is still being read
//                 (a missing WAR barrier, or the wrong buffer) corrupts the data read after it;
//   kLandAtWait   the 16 destination bytes are poisoned at issue and the copy lands only when
//                 a wait covering its group runs: a read before the wait (a missing RAW wait, a
//                 wrong wait count, a read of the wrong buffer) sees poison.
enum class Landing { kAtIssue, kAtWait };

class AsyncCopies {
 public:
  explicit AsyncCopies(Landing landing) : landing_(landing) {}
  // copy16 for the staging functions.
  void copy(void* dst, const void* src, int src_bytes) {
    Copy c{static_cast<unsigned char*>(dst), {}};
    std::memcpy(c.bytes.data(), src, static_cast<size_t>(src_bytes));  // the rest stays zero (zero fill)
    if (landing_ == Landing::kAtIssue) {
      std::memcpy(c.dst, c.bytes.data(), 16);
    } else {
      std::memset(c.dst, 0xCD, 16);
      open_.push_back(c);
    }
  }
  // cp.async.commit_group (for the whole block: every thread commits at the same point).
  void commit() {
    groups_.push_back(std::move(open_));
    open_.clear();
  }
  // cp.async.wait_group<pending> + __syncthreads(): every group but the newest `pending` lands.
  void wait(size_t pending) {
    while (groups_.size() > pending) {
      for (const Copy& c : groups_.front()) std::memcpy(c.dst, c.bytes.data(), 16);
      groups_.erase(groups_.begin());
    }
  }
  size_t in_flight() const { return groups_.size() + (open_.empty() ? 0 : 1); }

 private:
  struct Copy {
    unsigned char* dst;
    std::array<unsigned char, 16> bytes;
  };
  Landing landing_;
  std::vector<Copy> open_;
  std::vector<std::vector<Copy>> groups_;
};

// The fused kernel (zipgemm_kernel.cuh), every block of the grid one after the other, written as
// the kernel's Steps 1..8 with the same two-stage schedule, buffer choice, commit/wait counts and
// barriers; then the split-K reduction. Threads and warps between two barriers run one after the
// other (the kernel's result must not depend on their order).
template <WeightFormat kFormat>
std::vector<uint16_t> emulate_fused_gemm(const CompressedView& w, const DenseView& dense, int64_t m, int64_t k,
                                         const std::vector<uint16_t>& x, int64_t n, int split_k,
                                         Landing landing = Landing::kAtWait) {
  const int tile_n = choose_tile_n(n);
  const SharedLayout l = kFormat == WeightFormat::kCompressed ? compressed_gemm_layout(tile_n, w.max_hf, w.max_full)
                                                              : dense_gemm_layout(tile_n);
  const int64_t block_rows = (m + 63) / 64, block_cols = (k + 63) / 64;
  const bool aligned = k % 8 == 0 && reinterpret_cast<uintptr_t>(x.data()) % 16 == 0;
  std::vector<float> partials(static_cast<size_t>(split_k * n * m), -1.0f);
  std::vector<uint16_t> y(static_cast<size_t>(m * n), 0xFFFF);
  Stage smem(l.total_bytes);  // (2, stage_bytes), like the kernel's dynamic shared memory
  smem.poison();
  const int n8_count = tile_n / 8;
  const GridShape grid = gemm_grid(m, n, split_k);
  EXPECT_EQ(grid.z, split_k);
  for (int split = 0; split < split_k; ++split)                               // blockIdx.z
    for (int64_t by = 0; by < grid.y; ++by)                                   // blockIdx.y
      for (int64_t bx = 0; bx < grid.x; ++bx) {                               // blockIdx.x
        // Step 1.
        const int64_t n0 = bx * tile_n;
        const SplitRange range = split_range(block_cols, split_k, split);
        AsyncCopies copies(landing);
        auto copy16 = [&copies](void* dst, const void* src, int bytes) { copies.copy(dst, src, bytes); };
        // Step 2.
        for (int64_t gm = by; gm < block_rows; gm += grid.y) {
          std::vector<float> acc(static_cast<size_t>(4 * n8_count * 32 * 4), 0.0f);  // (warp, n8, lane, v)
          auto issue_stage = [&](int64_t kb, int buffer) {
            unsigned char* stage = smem.data() + buffer * l.stage_bytes;
            for (int tid = 0; tid < kThreadsPerBlock; ++tid) {
              if constexpr (kFormat == WeightFormat::kCompressed)
                stage_compressed_block_tile(w, gm * block_cols + kb, stage, l, tid, copy16);
              else
                stage_dense_block_tile(dense, gm, kb, stage, l, tid, copy16);
              stage_activation_tile(x.data(), n, k, aligned, tile_n, n0, kb * 64, stage, l, tid, copy16);
            }
          };
          // Step 3.
          if (range.begin < range.end) issue_stage(range.begin, 0);
          copies.commit();
          for (int64_t kb = range.begin; kb < range.end; ++kb) {
            const int buffer = static_cast<int>((kb - range.begin) & 1);
            // Step 4.
            if (kb + 1 < range.end) issue_stage(kb + 1, buffer ^ 1);
            copies.commit();
            // Step 5: cp.async.wait_group 1, __syncthreads().
            copies.wait(1);
            // Step 6.
            const unsigned char* stage = smem.data() + buffer * l.stage_bytes;
            const auto* x_tile = reinterpret_cast<const uint16_t*>(stage + l.x_offset);
            const int k_valid = static_cast<int>(std::min<int64_t>(k - kb * 64, 64));
            for (int strip = 0; strip < 4; ++strip) {
              uint32_t a[4][32][4];  // (slice, lane, reg)
              for (int lane = 0; lane < 32; ++lane) {
                StripCursor cursor{0, 0};
                if constexpr (kFormat == WeightFormat::kCompressed) {
                  cursor = strip_cursor_from_stage(stage, l, strip);
                  // Poisoned (unlanded or overwritten) median offsets would send the decode far
                  // outside the stage: report instead of reading there.
                  if (cursor.hf < 0 || cursor.hf > 4096 || cursor.full < 0 || cursor.full > 4096) {
                    ADD_FAILURE() << "K step " << kb << " read median offsets (" << cursor.hf << ", " << cursor.full
                                  << ") that were not (yet) staged";
                    return y;
                  }
                }
                for (int slice = 0; slice < 4; ++slice) {
                  load_a_slice<kFormat>(stage, l, w.start_exp, strip, slice, lane, cursor, a[slice][lane]);
                  if (k_valid < 64) zero_a_beyond_k(slice, lane, k_valid, a[slice][lane]);
                }
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
            // Step 7: __syncthreads().
          }
          EXPECT_LE(copies.in_flight(), 1u) << "only the final empty group may still be open";
          // Step 8.
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

// The zero-padded copy of W that DeviceDenseMatrix uploads, for the dense twin.
std::vector<uint16_t> zero_padded(const std::vector<uint16_t>& w, int64_t m, int64_t k) {
  const int64_t mp = pad_to_block_tile(m), kp = pad_to_block_tile(k);
  std::vector<uint16_t> padded(static_cast<size_t>(mp * kp), 0);
  for (int64_t r = 0; r < m; ++r) std::memcpy(&padded[r * kp], &w[r * k], static_cast<size_t>(k) * 2);
  return padded;
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
    const auto padded = zero_padded(w, c.m, c.k);
    const DenseView dense{c.m, c.k, padded.data()};
    for (int64_t n : {1, 8, 9, 17, 40, 130}) {
      const auto x = test::small_integer_values(n * c.k, 8, 41 + n);
      std::vector<uint16_t> ref(static_cast<size_t>(c.m * n));
      gemm_dense(w.data(), c.m, c.k, x.data(), n, ref.data());
      for (int split = 1; split <= std::min<int64_t>(cm.block_cols(), 3); ++split) {
        const std::string what = std::to_string(c.m) + "x" + std::to_string(c.k) + " n " + std::to_string(n) +
                                 " split " + std::to_string(split);
        for (Landing landing : {Landing::kAtWait, Landing::kAtIssue}) {
          const char* when = landing == Landing::kAtWait ? " (copies land at the wait)" : " (copies land at issue)";
          EXPECT_EQ((emulate_fused_gemm<WeightFormat::kCompressed>(view, dense, c.m, c.k, x, n, split, landing)), ref)
              << what << when;
          EXPECT_EQ((emulate_fused_gemm<WeightFormat::kDense>(view, dense, c.m, c.k, x, n, split, landing)), ref)
              << "dense " << what << when;
        }
      }
    }
  }
}

// A window at start_exp = 254 ([255, 5] modulo 256) is valid, and its padding element (code 1,
// byte 0) decodes to exponent 255, mantissa 0: +Inf. The padding columns of a K that is not a
// multiple of 64 meet X = 0 there, and +Inf x 0 = NaN would reach every output unless the kernel
// zeroes A beyond K (zero_a_beyond_k). Windows 253 (padding 2^127) and 255 (padding +0) too.
TEST(FusedKernelEmulation, PaddingColumnsNeverReachTheAccumulators) {
  for (const Case c : {Case{7, 9}, Case{63, 65}, Case{70, 130}, Case{64, 127}}) {
    const auto w = test::small_integer_values(c.m * c.k, 8, 7 + c.k);
    const auto padded = zero_padded(w, c.m, c.k);
    const DenseView dense{c.m, c.k, padded.data()};
    for (int start : {254, 253, 255, 126}) {
      const CompressedMatrix cm = encode_with_start_exp(w.data(), c.m, c.k, static_cast<uint8_t>(start));
      ASSERT_NO_THROW(validate(cm));
      const CompressedView view = host_view(cm);
      for (int64_t n : {1, 9}) {
        const auto x = test::small_integer_values(n * c.k, 8, 3 + n);
        std::vector<uint16_t> ref(static_cast<size_t>(c.m * n));
        gemm_dense(w.data(), c.m, c.k, x.data(), n, ref.data());
        for (int split = 1; split <= std::min<int64_t>(cm.block_cols(), 2); ++split)
          EXPECT_EQ((emulate_fused_gemm<WeightFormat::kCompressed>(view, dense, c.m, c.k, x, n, split)), ref)
              << c.m << "x" << c.k << " start_exp " << start << " n " << n << " split " << split;
      }
    }
  }
}

// ZipGEMM and its dense twin are bit-identical because the MMAs receive bit-identical A registers
// (B, C and the instruction order are shared code): for every block tile, strip, slice, lane and
// register, the compressed decode (then zero_a_beyond_k) equals the dense read of the
// zero-padded W, on real-valued weights, at every window edge, in every row below M. (Rows at or
// beyond M hold padding in the compressed form only; their outputs are never written.)
TEST(FusedKernelEmulation, TwinsFeedTheMmasIdenticalARegisters) {
  for (const Case c : {Case{172, 203}, Case{63, 65}, Case{64, 64}, Case{130, 320}}) {
    const auto w = test::gaussian_values(c.m * c.k, 0.02, 5 + c.m);
    const auto padded = zero_padded(w, c.m, c.k);
    const DenseView dense{c.m, c.k, padded.data()};
    for (int start : {-1, 254, 255, 0}) {
      const CompressedMatrix cm = start < 0 ? encode(w.data(), c.m, c.k)
                                            : encode_with_start_exp(w.data(), c.m, c.k, static_cast<uint8_t>(start));
      const CompressedView view = host_view(cm);
      const SharedLayout lc = compressed_gemm_layout(8, view.max_hf, view.max_full), ld = dense_gemm_layout(8);
      Stage sc(lc.stage_bytes), sd(ld.stage_bytes);
      int64_t compared = 0;
      for (int64_t gm = 0; gm < cm.block_rows(); ++gm)
        for (int64_t kb = 0; kb < cm.block_cols(); ++kb) {
          sc.poison();
          sd.poison();
          for (int tid = 0; tid < kThreadsPerBlock; ++tid) {
            stage_compressed_block_tile(view, gm * cm.block_cols() + kb, sc.data(), lc, tid, MemcpyCopy16{});
            stage_dense_block_tile(dense, gm, kb, sd.data(), ld, tid, MemcpyCopy16{});
          }
          const int k_valid = static_cast<int>(std::min<int64_t>(c.k - kb * 64, 64));
          for (int strip = 0; strip < 4; ++strip)
            for (int lane = 0; lane < 32; ++lane) {
              StripCursor cursor = strip_cursor_from_stage(sc.data(), lc, strip), unused{0, 0};
              for (int slice = 0; slice < 4; ++slice) {
                uint32_t az[4], ad[4];
                load_a_slice<WeightFormat::kCompressed>(sc.data(), lc, view.start_exp, strip, slice, lane, cursor, az);
                load_a_slice<WeightFormat::kDense>(sd.data(), ld, 0, strip, slice, lane, unused, ad);
                if (k_valid < 64) {
                  zero_a_beyond_k(slice, lane, k_valid, az);
                  zero_a_beyond_k(slice, lane, k_valid, ad);
                }
                for (int reg = 0; reg < 4; ++reg) {
                  const int64_t row = gm * 64 + 16 * strip + a_frag_coord(lane, reg, 0).row;
                  if (row >= c.m) continue;
                  ASSERT_EQ(az[reg], ad[reg]) << c.m << "x" << c.k << " start " << start << " block tile (" << gm
                                              << ", " << kb << ") strip " << strip << " slice " << slice << " lane "
                                              << lane << " reg " << reg;
                  ++compared;
                }
              }
            }
        }
      EXPECT_EQ(compared, c.m * cm.block_cols() * 64 / 2) << "every (row < M, column pair) compared once";
    }
  }
}

// The decompression kernel (decompress_kernel.cuh), every block of its grid: stage (copies land at
// the wait, as the kernel's wait_group 0 allows), decode_strip_into_tile for every warp and lane,
// store_decoded_tile for every thread into an output with 64 guard elements on both sides.
std::vector<uint16_t> emulate_decompress(const CompressedMatrix& m, bool force_unaligned) {
  const CompressedView view = host_view(m);
  const SharedLayout l = decompress_layout(view.max_hf, view.max_full);
  Stage smem(l.total_bytes);
  constexpr int64_t kGuard = 64;
  constexpr uint16_t kSentinel = 0xA5A5, kUnwritten = 0xFFFF;
  std::vector<uint16_t> buffer(static_cast<size_t>(m.rows * m.cols + 2 * kGuard), kSentinel);
  std::fill(buffer.begin() + kGuard, buffer.end() - kGuard, kUnwritten);
  uint16_t* out = buffer.data() + kGuard;
  const bool aligned = !force_unaligned && m.cols % 8 == 0 && reinterpret_cast<uintptr_t>(out) % 16 == 0;
  const GridShape grid = decompress_grid(m.rows, m.cols);
  for (int64_t by = 0; by < grid.y; ++by)
    for (int64_t bx = 0; bx < grid.x; ++bx)
      for (int64_t gm = by; gm < m.block_rows(); gm += grid.y)
        for (int64_t gk = bx; gk < m.block_cols(); gk += grid.x) {
          smem.poison();
          AsyncCopies copies(Landing::kAtWait);
          for (int tid = 0; tid < kThreadsPerBlock; ++tid)
            stage_compressed_block_tile(view, gm * m.block_cols() + gk, smem.data(), l, tid,
                                        [&copies](void* d, const void* s, int b) { copies.copy(d, s, b); });
          copies.commit();
          copies.wait(0);
          auto* tile = reinterpret_cast<uint16_t*>(smem.data() + l.x_offset);
          for (int strip = 0; strip < 4; ++strip)
            for (int lane = 0; lane < 32; ++lane) decode_strip_into_tile(smem.data(), l, view.start_exp, strip, lane, tile);
          for (int tid = 0; tid < kThreadsPerBlock; ++tid)
            store_decoded_tile(tile, out, m.rows, m.cols, gm * 64, gk * 64, aligned, tid);
        }
  for (int64_t g = 0; g < kGuard; ++g) {
    EXPECT_EQ(buffer[g], kSentinel) << "write before the output at " << g - kGuard;
    EXPECT_EQ(buffer[kGuard + m.rows * m.cols + g], kSentinel) << "write past the output at +" << g;
  }
  return std::vector<uint16_t>(buffer.begin() + kGuard, buffer.end() - kGuard);
}

TEST(FusedKernelEmulation, DecompressKernelStepsEqualReferenceDecode) {
  const auto w = test::all_patterns();
  for (int start : {255, 0, 120, 248, 254})
    EXPECT_EQ(emulate_decompress(encode_with_start_exp(w.data(), 256, 256, static_cast<uint8_t>(start)), false), w)
        << "start_exp " << start;
}

// Tile-edge shapes: rows and columns cut at M and K, 16-B row stores (K % 8 == 0) and element
// stores (K % 8 != 0, or forced), nothing written outside the M x K output.
TEST(FusedKernelEmulation, DecompressKernelEdgeShapesAndGuards) {
  for (const Case c : {Case{1, 1}, Case{7, 9}, Case{63, 65}, Case{64, 64}, Case{172, 203}, Case{130, 200}, Case{65, 8}}) {
    for (const auto& values : {test::gaussian_values(c.m * c.k, 0.02, 3 + c.k), test::random_bit_patterns(c.m * c.k, 9 + c.m)}) {
      const CompressedMatrix cm = encode(values.data(), c.m, c.k);
      for (bool force_unaligned : {false, true})
        EXPECT_EQ(emulate_decompress(cm, force_unaligned), values)
            << c.m << "x" << c.k << (force_unaligned ? " element stores" : "");
    }
  }
}

}  // namespace
}  // namespace zipserv::cuda
