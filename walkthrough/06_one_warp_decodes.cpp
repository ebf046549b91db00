// Step 06: one warp decodes one slice -- 32 lanes, popcounts, four registers each.
//
// What this step adds
//   The GPU's point of view (spec C). A warp of 32 lanes decodes one 16x16 slice of its strip
//   straight into the registers the tensor-core instruction mma.m16n8k16 wants as its A operand:
//   lane l holds a0..a3, each two BF16 weights. The lane map (fragment_layout.h) says which:
//       g = l / 4, t = l % 4
//       a0 = W[g][2t, 2t+1]   a1 = W[g+8][2t, 2t+1]   a2 = W[g][2t+8, 2t+9]   a3 = W[g+8][2t+8, 2t+9]
//   and in FragTile terms that is simply bits 2l and 2l+1 of FragTile i for register a_i. So each
//   lane finds where its two weights sit in the streams by counting the indicator bits below each
//   of them: one popcount per weight, exactly what the CUDA kernel's decode_fragment_popcount()
//   (cuda/include/zipserv/cuda/fragment_decode.h) does. After each FragTile every lane moves the
//   two stream cursors on by the popcount of the whole indicator, which it also computes itself
//   (advance_past_fragtile()): no lane waits for another and no value crosses lanes.
//   The program decodes the slice by hand, then with the kernel's own function called on the
//   host for all 32 lanes, then with the CPU emulation's decoders.
//
// How to run
//   build/walkthrough/06_one_warp_decodes [MODEL.safetensors [TENSOR]]
//   (defaults: data/stories260K.safetensors, layers.0.feed_forward.w1.weight)
//
// What to look for
//   - The lane map table: lane 0 owns W[0][0..1], W[8][0..1], W[0][8..9], W[8][8..9]; lane 5
//     owns W[1][2..3], ...; the row advances every 4 lanes.
//   - Per lane: "before" grows by about 2 per lane (almost every weight is high-frequency), and
//     less after a fallback weight (code 0); a lane with a fallback weight reads the full stream.
//   - The registers: low 16 bits = the lower column. Compare with the weights of step 04 (the
//     same FragTile 0 = register a0 of slice 0, strip 0).
//   - CHECK: every register equals the original weights at a_frag_coord, the reference, the
//     kernel's decode_fragment_popcount() and the emulation.
#include <bit>
#include <cstdio>

#include "walkthrough.h"
#include "zipserv/cuda/fragment_decode.h"
#include "zipserv/reference/decode.h"
#include "zipserv/reference/element_code.h"
#include "zipserv/reference/encode.h"
#include "zipserv/reference/fragment_layout.h"
#include "zipserv/reference/tile_layout.h"
#include "zipserv/emulation/emulation.h"
#include "zipserv/emulation/lane_decode.h"

using namespace zipserv;

int run(const walkthrough::Args& args) {
  const auto layer = walkthrough::load_layer(args, kSliceDim, kSliceDim);  // slice 0 must be real weights
  const CompressedMatrix cm = encode(layer.values.data(), layer.rows, layer.cols);
  const int64_t t = 0;  // block tile 0
  const int s = 0, q = 0;  // warp (strip) 0, slice 0: rows 0..15, columns 0..15
  std::printf("layer %s\n  of %s:\n  block tile %lld, strip (warp) %d, slice %d = rows 0..15, cols 0..15\n",
              args.tensor_label(70).c_str(), args.model_label().c_str(), static_cast<long long>(t), s, q);

  walkthrough::heading("the lane map of mma.m16n8k16's A operand (a_frag_coord)");
  std::printf("  lane  g  t   a0 (row,cols)   a1 (row,cols)   a2 (row,cols)   a3 (row,cols)   FragTile bits\n");
  for (int lane : {0, 1, 2, 3, 4, 5, 31}) {
    std::printf("  %4d %2d %2d ", lane, lane / 4, lane % 4);
    for (int reg = 0; reg < kARegsPerLane; ++reg) {
      const FragCoord lo = a_frag_coord(lane, reg, 0), hi = a_frag_coord(lane, reg, 1);
      std::printf("  (%2d, %2d..%2d)  ", lo.row, lo.col, hi.col);
    }
    std::printf(" %d, %d\n", a_frag_bit(lane, 0), a_frag_bit(lane, 1));
  }

  // The slice's four FragTiles, in register order a0..a3, and where the strip's streams start.
  const int64_t f0 = (t * kStripsPerBlockTile + s) * kFragTilesPerStrip + q * kFragTilesPerSlice;
  const int64_t hf0 = cm.global_offsets[2 * t] + cm.median_offsets[2 * (kStripsPerBlockTile * t + s)];
  const int64_t fb0 = cm.global_offsets[2 * t + 1] + cm.median_offsets[2 * (kStripsPerBlockTile * t + s) + 1];

  walkthrough::heading("each lane decodes bits 2l and 2l+1 of FragTiles a0..a3");
  std::printf("  each column: 'before' = popcount(indicator below bit 2l): the codes of bits 2l, 2l+1\n");
  std::printf("  lane | a0 before | a1 before | a2 before | a3 before | registers a0..a3\n");
  uint32_t shown[kWarpLanes][kARegsPerLane];
  for (int lane = 0; lane < kWarpLanes; ++lane) {
    std::printf("  %4d |", lane);
    int64_t hf = hf0, fb = fb0;  // cursors at FragTile a0; advanced by whole FragTiles below
    for (int reg = 0; reg < kARegsPerLane; ++reg) {
      const int64_t f = f0 + a_frag_fragtile(reg);
      const uint64_t b1 = cm.bitmap1[f], b2 = cm.bitmap2[f], b3 = cm.bitmap3[f], indicator = b1 | b2 | b3;
      //! [lane_decode]
      uint32_t reg_value = 0;
      for (int half = 0; half < 2; ++half) {
        const int p = a_frag_bit(lane, half);                                     // = 2 * lane + half
        const int before = std::popcount(indicator & ((uint64_t{1} << p) - 1));  // hf elements below p
        const uint32_t code = code_from_bitmaps(b1, b2, b3, p);
        const uint16_t v = code ? rebuild_bf16(code, cm.sign_mantissa[hf + before], cm.start_exp)
                                : cm.full[fb + (p - before)];                    // p - before = fallbacks below p
        reg_value |= uint32_t{v} << (16 * half);                                 // lower column in the low half
      }
      //! [lane_decode]
      const int p0 = a_frag_bit(lane, 0);
      std::printf(" %4d: %u,%u |", std::popcount(indicator & ((uint64_t{1} << p0) - 1)),
                  code_from_bitmaps(b1, b2, b3, p0), code_from_bitmaps(b1, b2, b3, p0 + 1));
      shown[lane][reg] = reg_value;
      //! [advance]
      const int n = std::popcount(indicator);  // every lane counts the whole FragTile itself
      hf += n;                                 // so every lane's cursors stay equal, with no shuffle
      fb += kElementsPerFragTile - n;
      //! [advance]
    }
    for (int reg = 0; reg < kARegsPerLane; ++reg) std::printf(" %08x", shown[lane][reg]);
    std::printf("\n");
  }

  // The CUDA kernel's own per-lane decode, called on the host: fragment_decode.h is plain C++
  // with the lane passed in, so this is the code the GPU runs (cuda-sim's build of it).
  //! [kernel]
  const uint8_t* hf_segment = cm.sign_mantissa.data() + cm.global_offsets[2 * t];   // the block tile's
  const uint16_t* full_segment = cm.full.data() + cm.global_offsets[2 * t + 1];     // two segments
  bool equals_kernel = true;
  for (int lane = 0; lane < kWarpLanes; ++lane) {
    cuda::StripCursor cursor{cm.median_offsets[2 * (kStripsPerBlockTile * t + s)],
                             cm.median_offsets[2 * (kStripsPerBlockTile * t + s) + 1]};
    for (int reg = 0; reg < kARegsPerLane; ++reg) {
      const int64_t f = f0 + a_frag_fragtile(reg);
      const uint32_t a = cuda::decode_fragment_popcount(cm.bitmap1[f], cm.bitmap2[f], cm.bitmap3[f], lane, cursor,
                                                        hf_segment, full_segment, cm.start_exp);
      cursor = cuda::advance_past_fragtile(cursor, cm.bitmap1[f], cm.bitmap2[f], cm.bitmap3[f]);
      equals_kernel = equals_kernel && a == shown[lane][reg];
    }
  }
  //! [kernel]

  // Who else computes these registers: the emulation's per-lane decode (when built), and the
  // reference, which gathers them from the decoded matrix through the lane map.
  const std::vector<uint32_t> reference = lane_fragments(cm);
  bool equals_reference = true, equals_weights = true;
  for (int lane = 0; lane < kWarpLanes; ++lane)
    for (int reg = 0; reg < kARegsPerLane; ++reg) {
      equals_reference = equals_reference && shown[lane][reg] == reference[lane_fragment_index(t, s, q, lane, reg)];
      const FragCoord lo = a_frag_coord(lane, reg, 0), hi = a_frag_coord(lane, reg, 1);
      const uint32_t expected = uint32_t{layer.values[lo.row * layer.cols + lo.col]} |
                                uint32_t{layer.values[hi.row * layer.cols + hi.col]} << 16;
      equals_weights = equals_weights && shown[lane][reg] == expected;
    }
  bool ok = walkthrough::check(equals_weights, "every lane's a0..a3 == the original weights at a_frag_coord") &&
            walkthrough::check(equals_reference, "every register == zipserv::lane_fragments (the reference)") &&
            walkthrough::check(equals_kernel, "every register == the kernel's decode_fragment_popcount, all 32 lanes");
  //! [emulation]
  emu::BlockTileStage stage;
  emu::stage_block_tile(cm, t, stage);                                 // the kernel's copy to shared memory
  const emu::SliceBitmaps bitmaps = emu::slice_bitmaps(cm, t, s, q);
  const emu::StreamCursors cursors = emu::strip_cursors(cm, t, s);     // slice 0: the strip's start
  bool equals_emulation = true;
  for (int lane = 0; lane < kWarpLanes; ++lane) {
    uint32_t regs[kARegsPerLane];
    emu::decode_lane(bitmaps, cursors, stage.view(), lane, regs);      // one lane, lane id passed in
    for (int reg = 0; reg < kARegsPerLane; ++reg) equals_emulation = equals_emulation && regs[reg] == shown[lane][reg];
  }
  //! [emulation]
  uint32_t simd[kARegsPerLane][kWarpLanes];
  emu::decode_slice(bitmaps, cursors, stage.view(), simd);  // all 32 lanes at once, SIMD lanes = warp lanes
  bool equals_simd = true;
  for (int lane = 0; lane < kWarpLanes; ++lane)
    for (int reg = 0; reg < kARegsPerLane; ++reg) equals_simd = equals_simd && simd[reg][lane] == shown[lane][reg];
  std::printf("(the emulation runs on SIMD target %s)\n", emu::active_target());
  ok = ok && walkthrough::check(equals_emulation, "emu::decode_lane gives the same registers for all 32 lanes") &&
       walkthrough::check(equals_simd, "emu::decode_slice (32 lanes as SIMD lanes) gives the same registers");
  return ok ? 0 : 1;
}

int main(int argc, char** argv) {
  return walkthrough::run_step(argc, argv, "layers.0.feed_forward.w1.weight", run);
}
