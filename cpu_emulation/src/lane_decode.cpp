// One lane's fragment decode in scalar C++, the warp loop around it, and the staging of a block
// tile's streams (see lane_decode.h).
#include "zipserv/emulation/lane_decode.h"

#include <algorithm>

#include "zipserv/reference/element_code.h"
#include "zipserv/emulation/warp_intrinsics.h"

namespace zipserv::emu {
namespace {

// The value element `bit` of a FragTile decodes to, given the FragTile's starting cursors: one
// popcount per element, as the CUDA kernel's decode_fragment_popcount() does for each half.
//! [decode_bit]
uint16_t decode_bit(const FragTileBitmaps& b, StreamCursors c, const StagedStreams& st, int bit) {
  const uint64_t indicator = b.b1 | b.b2 | b.b3;  // bit k set: element k is high-frequency
  const int before = popc(indicator & ((uint64_t{1} << bit) - 1));
  const uint32_t code = code_from_bitmaps(b.b1, b.b2, b.b3, bit);
  if (code != 0) return rebuild_bf16(code, st.sign_mantissa[c.hf + before], st.start_exp);
  return st.full[c.full + (bit - before)];
}
//! [decode_bit]

}  // namespace

void stage_block_tile(const CompressedMatrix& m, int64_t t, BlockTileStage& stage) {
  const int32_t hf_begin = m.global_offsets[2 * t], hf_end = m.global_offsets[2 * t + 2];
  const int32_t fb_begin = m.global_offsets[2 * t + 1], fb_end = m.global_offsets[2 * t + 3];
  stage.sign_mantissa.resize(static_cast<size_t>(hf_end - hf_begin + kStagingSlack));
  stage.full.resize(static_cast<size_t>(fb_end - fb_begin + kStagingSlack));
  std::copy(m.sign_mantissa.begin() + hf_begin, m.sign_mantissa.begin() + hf_end, stage.sign_mantissa.begin());
  std::fill(stage.sign_mantissa.end() - kStagingSlack, stage.sign_mantissa.end(), uint8_t{0});
  std::copy(m.full.begin() + fb_begin, m.full.begin() + fb_end, stage.full.begin());
  std::fill(stage.full.end() - kStagingSlack, stage.full.end(), uint16_t{0});
  stage.start_exp = m.start_exp;
}

StagedStreams block_tile_streams(const CompressedMatrix& m, int64_t t, BlockTileStage& stage) {
  const int64_t hf_end = m.global_offsets[2 * t + 2], fb_end = m.global_offsets[2 * t + 3];
  if (hf_end + kStagingSlack <= static_cast<int64_t>(m.sign_mantissa.size()) &&
      fb_end + kStagingSlack <= static_cast<int64_t>(m.full.size()))
    return {m.sign_mantissa.data() + m.global_offsets[2 * t], m.full.data() + m.global_offsets[2 * t + 1], m.start_exp};
  stage_block_tile(m, t, stage);
  return stage.view();
}

SliceBitmaps slice_bitmaps(const CompressedMatrix& m, int64_t t, int s, int q) {
  SliceBitmaps b;
  const int64_t f0 = (t * kStripsPerBlockTile + s) * kFragTilesPerStrip + q * kFragTilesPerSlice;
  for (int i = 0; i < kFragTilesPerSlice; ++i) b[i] = {m.bitmap1[f0 + i], m.bitmap2[f0 + i], m.bitmap3[f0 + i]};
  return b;
}

StreamCursors strip_cursors(const CompressedMatrix& m, int64_t t, int s) {
  const int64_t e = 2 * (t * kStripsPerBlockTile + s);
  return {m.median_offsets[e], m.median_offsets[e + 1]};
}

StreamCursors advance_cursors(const FragTileBitmaps& b, StreamCursors c) {
  const int n = popc(b.b1 | b.b2 | b.b3);
  return {c.hf + n, c.full + (kElementsPerFragTile - n)};
}

StreamCursors advance_cursors(const SliceBitmaps& b, StreamCursors c) {
  for (const FragTileBitmaps& f : b) c = advance_cursors(f, c);
  return c;
}

//! [decode_lane]
void decode_lane(const SliceBitmaps& bitmaps, StreamCursors cursors, const StagedStreams& streams,
                 int lane, uint32_t (&regs)[kARegsPerLane]) {
  for (int reg = 0; reg < kARegsPerLane; ++reg) {
    const FragTileBitmaps& b = bitmaps[a_frag_fragtile(reg)];
    const uint16_t lo = decode_bit(b, cursors, streams, a_frag_bit(lane, 0));
    const uint16_t hi = decode_bit(b, cursors, streams, a_frag_bit(lane, 1));
    regs[reg] = uint32_t{lo} | uint32_t{hi} << 16;  // bfloat162: lower column in the low half
    cursors = advance_cursors(b, cursors);            // every lane advances by the same count
  }
}
//! [decode_lane]

void decode_slice_lanes(const SliceBitmaps& bitmaps, StreamCursors cursors, const StagedStreams& streams,
                        uint32_t (&regs)[kARegsPerLane][kWarpLanes]) {
  WarpValues<StreamCursors> lane_cursors;  // (T32) every lane's own copy of the strip's cursors
  lane_cursors.fill(cursors);
  for (int reg = 0; reg < kARegsPerLane; ++reg) {
    const FragTileBitmaps& b = bitmaps[a_frag_fragtile(reg)];  // every lane reads the same three words
    for (int lane = 0; lane < kWarpLanes; ++lane) {
      const uint16_t lo = decode_bit(b, lane_cursors[lane], streams, a_frag_bit(lane, 0));
      const uint16_t hi = decode_bit(b, lane_cursors[lane], streams, a_frag_bit(lane, 1));
      regs[reg][lane] = uint32_t{lo} | uint32_t{hi} << 16;
      // Each lane counts the whole indicator itself, as the kernel's advance_past_fragtile()
      // does: the cursors stay equal across the warp without any value crossing lanes.
      lane_cursors[lane] = advance_cursors(b, lane_cursors[lane]);
    }
  }
}

}  // namespace zipserv::emu
