// The public entry points of zipserv::emulation and their per-target implementations.
//
// Layout of this file (Highway's skeleton): the per-target part between HWY_BEFORE_NAMESPACE and
// HWY_AFTER_NAMESPACE is compiled once per SIMD target; the HWY_ONCE part holds the dispatch
// tables and the public functions, compiled once.

#undef HWY_TARGET_INCLUDE                 // why: another file may have set it; we set our own
#define HWY_TARGET_INCLUDE "emulation.cc"  // why: foreach_target.h re-includes this file once per target
#include "hwy/foreach_target.h"  // why: must come before highway.h; drives the per-target re-inclusion
#include "hwy/highway.h"

#include <algorithm>

#include "hwy/aligned_allocator.h"
#include "hwy/cache_control.h"

#include "bitmap_decode-inl.h"
#include "fragment_gather-inl.h"
#include "gemm_tiles-inl.h"
#include "mma_emulation-inl.h"
#include "zipserv/reference/decode.h"

HWY_BEFORE_NAMESPACE();  // why: compiles what follows with this target's instruction set
namespace zipserv::emu::HWY_NAMESPACE {

/// returns the HWY_TARGET this copy was compiled for.
int64_t CompiledTarget() { return HWY_TARGET; }

/// returns out[lane_fragment_index(t, s, q, lane, reg)] = lane's a_reg of slice q, for all.
void LaneFragmentsAll(const CompressedMatrix& m, uint32_t* HWY_RESTRICT out) {
  alignas(64) uint32_t regs[kStripRegs];  // (Q4, R4, T32)
  BlockTileStage stage;
  for (int64_t t = 0; t < m.block_tiles(); ++t) {
    const StagedStreams streams = block_tile_streams(m, t, stage);
    for (int s = 0; s < kStripsPerBlockTile; ++s) {
      DecodeStripFragments(m, t, s, streams, regs);
      for (int q = 0; q < kSlicesPerStrip; ++q)
        for (int lane = 0; lane < kWarpLanes; ++lane)
          for (int reg = 0; reg < kARegsPerLane; ++reg)
            out[lane_fragment_index(t, s, q, lane, reg)] = regs[(q * kARegsPerLane + reg) * kWarpLanes + lane];
    }
  }
}

/// Decodes block-tile row `gm` into rows 64gm.. of `out` (m.rows x m.cols row-major). A large
/// output (kStreamingOutputBytes) is decoded kStreamingTiles block tiles at a time into one of two
/// buffers and leaves through StreamRow(): while a chunk decodes into one buffer, the previous
/// chunk's rows are streamed from the other, one row after each strip, so that the writes to
/// memory overlap the decode instead of following it. A small output is written strip by strip.
void DecodeBlockRow(const CompressedMatrix& m, int64_t gm, uint16_t* HWY_RESTRICT out) {
  alignas(64) uint32_t regs[kStripRegs];  // (Q4, R4, T32)
  BlockTileStage stage;
  const bool streaming = m.rows * m.cols * 2 >= kStreamingOutputBytes;
  constexpr int64_t kBufferCols = kStreamingTiles * kBlockTileDim;
  constexpr int64_t kBufferSize = kBlockTileDim * kBufferCols;
  thread_local hwy::AlignedFreeUniquePtr<uint16_t[]> buffers;  // (2, R64, C1024) bf16, per thread
  if (streaming && !buffers) buffers = hwy::AllocateAligned<uint16_t>(2 * kBufferSize);
  const int64_t row0 = gm * kBlockTileDim, rows = std::min<int64_t>(kBlockTileDim, m.rows - row0);
  // The chunk whose rows are being streamed out (-1: none yet) and its next row.
  int64_t sending_chunk = -1, sending_row = 0;
  const auto send_rows = [&](int64_t until) {
    if (sending_chunk < 0) return;
    const uint16_t* sending = buffers.get() + sending_chunk % 2 * kBufferSize;
    const int64_t col0 = sending_chunk * kBufferCols, width = std::min(kBufferCols, m.cols - col0);
    for (; sending_row < std::min(until, rows); ++sending_row)
      StreamRow(sending + sending_row * kBufferCols, width, out + (row0 + sending_row) * m.cols + col0);
  };
  for (int64_t gk = 0; gk < m.block_cols(); ++gk) {
    const int64_t t = gm * m.block_cols() + gk;
    const StagedStreams streams = block_tile_streams(m, t, stage);
    const int64_t chunk = gk / kStreamingTiles, buffer_col0 = gk % kStreamingTiles * kBlockTileDim;
    uint16_t* buffer = streaming ? buffers.get() + chunk % 2 * kBufferSize : nullptr;
    for (int s = 0; s < kStripsPerBlockTile; ++s) {
      // The same spread prefetch as the fused GEMM (RunGemmItem()): measured 4-6% faster here.
      if (gk + kPrefetchTiles < m.block_cols()) PrefetchCompressedTile(m, t + kPrefetchTiles, s, kStripsPerBlockTile);
      DecodeStripFragments(m, t, s, streams, regs);
      if (streaming) {
        StoreStripRows(regs, kBlockTileDim, kBufferCols, s * kStripRows, buffer_col0, buffer);
        send_rows(sending_row + 1);  // 64 strips a chunk, 64 rows a chunk
      } else {
        StoreStripRows(regs, m.rows, m.cols, row0 + s * kStripRows, gk * kBlockTileDim, out);
      }
    }
    if (streaming && (gk % kStreamingTiles == kStreamingTiles - 1 || gk + 1 == m.block_cols())) {
      send_rows(rows);  // the previous chunk, if a short chunk left rows of it
      sending_chunk = chunk;
      sending_row = 0;
    }
  }
  if (streaming) {
    send_rows(rows);
    hwy::FlushStream();  // why: the non-temporal stores must be visible before the caller's join
  }
}

/// The SIMD slice decode; regs is (R4, T32).
void DecodeSlice(const SliceBitmaps& bitmaps, StreamCursors cursors, const StagedStreams& streams,
                 uint32_t* HWY_RESTRICT regs) {
  DecodeSliceBitmapPopcount(bitmaps, cursors, streams, regs);
}

/// Unpacks a strip's registers and runs its MMAs (see mma_strip_rows()).
void MmaStripRows(const uint32_t* HWY_RESTRICT regs, const float* HWY_RESTRICT x, int64_t x_stride, int ncols,
                  float* HWY_RESTRICT acc) {
  alignas(64) float a_cols[kStripCols * kStripRows];  // (K64, M16) f32
  UnpackStripColumns(regs, a_cols);
  MmaColumnsAcrossRows(a_cols, x, x_stride, ncols, acc);
}

/// The GEMV-path MMA of a whole block tile (see mma_block_tile_rows()).
void MmaBlockTileRows(const uint32_t* HWY_RESTRICT regs, const float* HWY_RESTRICT x, int64_t x_stride, int ncols,
                      float* HWY_RESTRICT acc) {
  MmaBlockTileNarrow(regs, x, x_stride, ncols, acc);
}

/// One GEMM work item (see RunGemmItem()).
void GemmItemTarget(const GemmPlan& plan, int64_t index) { RunGemmItem(plan, index); }

}  // namespace zipserv::emu::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();  // why: restores the default instruction set for the code after it

#if HWY_ONCE  // why: the dispatch tables and public functions must be compiled only once

#include <stdexcept>
#include <string>

#include "zipserv/reference/bf16.h"
#include "zipserv/reference/parallel_for.h"
#include "zipserv/emulation/emulation.h"

namespace zipserv::emu {

HWY_EXPORT(CompiledTarget);    // why: a table of every target's copy, indexed by the chosen target
HWY_EXPORT(LaneFragmentsAll);  // why: same, for each function called through HWY_DYNAMIC_DISPATCH
HWY_EXPORT(DecodeBlockRow);    // why: per-target copies of the block-row decoder
HWY_EXPORT(DecodeSlice);       // why: per-target copies of the one-slice decoder (tests)
HWY_EXPORT(MmaStripRows);      // why: per-target copies of the strip MMA (tests)
HWY_EXPORT(MmaBlockTileRows);  // why: per-target copies of the block-tile MMA (tests)
HWY_EXPORT(GemmItemTarget);    // why: per-target copies of the GEMM work item

namespace {

// Resolves the dispatch once in the calling thread, so worker threads only read the choice.
using GemmItemFn = void (*)(const GemmPlan&, int64_t);
GemmItemFn chosen_gemm_item() {
  (void)HWY_DYNAMIC_DISPATCH(CompiledTarget)();  // why: the first dispatched call picks the target
  return HWY_DYNAMIC_DISPATCH(GemmItemTarget);   // why: the chosen target's copy, as a pointer
}

// Fills plan's shape fields, converts X to FP32 (zero beyond k), runs every item, then adds the
// splits' partials in split order and rounds each output to BF16.
void run_gemm(GemmPlan& plan, const uint16_t* x, uint16_t* y, int threads) {
  if (plan.m == 0 || plan.n == 0) return;
  plan.block_rows = pad_to_block_tile(plan.m) / kBlockTileDim;
  plan.block_cols = pad_to_block_tile(plan.k) / kBlockTileDim;
  plan.splits = std::clamp<int64_t>(plan.splits, 1, std::max<int64_t>(1, plan.block_cols));
  plan.tile_n = std::min(plan.n, kGemmTileN);
  plan.n_tiles = (plan.n + plan.tile_n - 1) / plan.tile_n;
  plan.x_stride = plan.block_cols * kBlockTileDim;
  std::vector<float> xf(static_cast<size_t>(plan.n * plan.x_stride), 0.0f);  // (n, Kp) f32
  for (int64_t j = 0; j < plan.n; ++j)
    for (int64_t i = 0; i < plan.k; ++i) xf[j * plan.x_stride + i] = bf16_to_float(x[j * plan.k + i]);
  std::vector<float> partial(static_cast<size_t>(plan.splits * plan.n * plan.m));  // (splits, n, m) f32
  plan.x = xf.data();
  plan.partial = partial.data();
  const GemmItemFn item_fn = chosen_gemm_item();
  parallel_for(plan.items(), threads, [&](int64_t i) { item_fn(plan, i); });
  const int64_t outputs = plan.n * plan.m;
  for (int64_t o = 0; o < outputs; ++o) {
    float sum = partial[o];
    for (int64_t b = 1; b < plan.splits; ++b) sum = sum + partial[b * outputs + o];  // split order
    y[o] = float_to_bf16_rne(sum);
  }
}

}  // namespace

std::vector<uint32_t> lane_fragments(const CompressedMatrix& m) {
  validate(m);
  std::vector<uint32_t> out(static_cast<size_t>(lane_fragment_count(m)));
  HWY_DYNAMIC_DISPATCH(LaneFragmentsAll)(m, out.data());  // why: runs the chosen target's copy
  return out;
}

void decode_slice(const SliceBitmaps& bitmaps, StreamCursors cursors, const StagedStreams& streams,
                  uint32_t (&regs)[kARegsPerLane][kWarpLanes]) {
  HWY_DYNAMIC_DISPATCH(DecodeSlice)(bitmaps, cursors, streams, &regs[0][0]);  // why: chosen target's copy
}

void decode_into(const CompressedMatrix& m, uint16_t* out, const DecodeOptions& options) {
  validate(m);
  (void)HWY_DYNAMIC_DISPATCH(CompiledTarget)();  // why: picks the target before threads read it
  const auto decode_row = HWY_DYNAMIC_DISPATCH(DecodeBlockRow);  // why: chosen target's copy
  parallel_for(m.block_rows(), options.threads, [&](int64_t gm) { decode_row(m, gm, out); });
}

void decode_into(const CompressedMatrix& m, uint16_t* out) { emu::decode_into(m, out, DecodeOptions{}); }

std::vector<uint16_t> decode(const CompressedMatrix& m) { return emu::decode(m, DecodeOptions{}); }

std::vector<uint16_t> decode(const CompressedMatrix& m, const DecodeOptions& options) {
  validate(m);  // before sizing the output from the shape it checks
  std::vector<uint16_t> out(static_cast<size_t>(m.rows * m.cols));
  emu::decode_into(m, out.data(), options);  // qualified: ADL would also find zipserv::decode_into
  return out;
}

namespace {

// GemmOptions::split_k as the CPU GEMMs run it: 0 chooses 1, the reference's order.
int64_t cpu_split_count(const char* who, const GemmOptions& options) {
  if (options.split_k < 0)
    throw std::invalid_argument(std::string(who) + ": split_k = " + std::to_string(options.split_k) +
                                " is negative (0 chooses, 1 or more is a split count)");
  return options.split_k == 0 ? 1 : options.split_k;
}

}  // namespace

void zipgemm(const CompressedMatrix& w, const uint16_t* x, int64_t n, uint16_t* y, const GemmOptions& options) {
  zipgemm(ValidatedWeights(w), x, n, y, options);
}

void zipgemm(const ValidatedWeights& weights, const uint16_t* x, int64_t n, uint16_t* y,
             const GemmOptions& options) {
  const CompressedMatrix& w = weights.matrix();
  if (n < 0) throw std::invalid_argument("zipgemm: n = " + std::to_string(n) + " is negative");
  GemmPlan plan;
  plan.compressed = &w;
  plan.m = w.rows;
  plan.k = w.cols;
  plan.n = n;
  plan.splits = cpu_split_count("zipgemm", options);
  run_gemm(plan, x, y, options.threads);
}

void gemm_dense(const uint16_t* w, int64_t m, int64_t k, const uint16_t* x, int64_t n, uint16_t* y,
                const GemmOptions& options) {
  if (m < 0 || k < 0 || n < 0)
    throw std::invalid_argument("gemm_dense: shape " + std::to_string(m) + "x" + std::to_string(k) + " times " +
                                std::to_string(n) + " columns has a negative dimension");
  GemmPlan plan;
  plan.dense = w;
  plan.m = m;
  plan.k = k;
  plan.n = n;
  plan.splits = cpu_split_count("gemm_dense", options);
  run_gemm(plan, x, y, options.threads);
}

void mma_strip_rows(const uint32_t* regs, const float* x, int64_t x_stride, int ncols, float* acc) {
  HWY_DYNAMIC_DISPATCH(MmaStripRows)(regs, x, x_stride, ncols, acc);  // why: chosen target's copy
}

void mma_block_tile_rows(const uint32_t* regs, const float* x, int64_t x_stride, int ncols, float* acc) {
  HWY_DYNAMIC_DISPATCH(MmaBlockTileRows)(regs, x, x_stride, ncols, acc);  // why: chosen target's copy
}

const char* active_target() {
  return hwy::TargetName(HWY_DYNAMIC_DISPATCH(CompiledTarget)());  // why: asks the chosen copy
}

}  // namespace zipserv::emu

#endif  // HWY_ONCE
