// Step 05: the tile hierarchy and the two offset arrays -- finding any weight's bytes.
//
// What this step adds
//   How FragTiles are ordered and how a decoder jumps into the streams (spec B.5-B.7).
//       FragTile     8 x 8    one word per bitmap
//       slice       16 x 16   2 x 2 FragTiles stored column-major = one mma A operand (a0 a1 a2 a3)
//       strip       16 x 64   4 slices left to right = what one warp decodes per K step
//       block tile  64 x 64   4 strips top to bottom = one thread block's K step
//   Block tiles are stored row-major over the matrix, padded to multiples of 64.
//   Two words first. A "high-frequency" (hf) element is one whose exponent lies in the window
//   (code != 0): it is stored as one byte in the sign_mantissa stream; every other element is a
//   fallback, stored in full. And the offsets come at two levels, named as in the official code:
//   a *global* offset per block tile and a *median* offset per strip (its "median tile", the
//   middle level between the global offsets and the popcounts a lane does inside a FragTile;
//   nothing to do with a statistical median). Each block tile's stream
//   segments are padded to 16 bytes (so a GPU can copy them with 16-byte cp.async), and:
//       global_offsets[t]       (hf, full) elements of all block tiles before t (padded)
//       median_offsets[4t + s]  (hf, full) elements of strips 0..s-1 inside block tile t
//   With them, any element is found with a few popcounts: decode_element()'s arithmetic, printed
//   here one step at a time for one real weight.
//
// How to run
//   build/walkthrough/05_tile_hierarchy_and_offsets [MODEL.safetensors [TENSOR]]
//   (defaults: data/stories260K.safetensors, layers.0.feed_forward.w1.weight)
//
// What to look for
//   - The FragTile index map: numbers go down-then-right inside a 16x16 slice (column-major),
//     left to right across a strip, strip after strip down the block tile.
//   - The offset tables: every global offset is a multiple of 16 bytes; the last one is the
//     stream length. The median offsets restart at 0 in each block tile.
//   - The walk to element (150, 45) (or the last row/column for a smaller tensor): block tile,
//     strip, slice, FragTile, bit, then "hf elements before it" = median offset + popcounts, and
//     the byte it reads.
//   - CHECK: the printed arithmetic equals decode_element(), which equals the original weight,
//     for this element and for every element of the matrix.
#include <algorithm>
#include <bit>
#include <cstdio>
#include <string>

#include "walkthrough.h"
#include "zipserv/reference/decode.h"
#include "zipserv/reference/element_code.h"
#include "zipserv/reference/encode.h"
#include "zipserv/reference/tile_layout.h"

using namespace zipserv;

namespace {

// Block tiles whose offsets are printed: all of a small matrix, else the first 3 and the last.
bool shown(int64_t t, int64_t count) { return count <= 6 || t < 3 || t >= count - 1; }

}  // namespace

int run(const walkthrough::Args& args) {
  constexpr int kStrips = kStripsPerBlockTile;                            // 4 strips (warps)
  constexpr int kPerStrip = kStripRows * kBlockTileDim;                   // 1024 elements in a strip
  const auto layer = walkthrough::load_layer(args);
  const CompressedMatrix cm = encode(layer.values.data(), layer.rows, layer.cols);
  std::printf("layer %s\n  of %s:\n  %lld x %lld, padded to %lld x %lld\n", args.tensor_label(70).c_str(),
              args.model_label().c_str(), static_cast<long long>(cm.rows), static_cast<long long>(cm.cols),
              static_cast<long long>(cm.padded_rows()), static_cast<long long>(cm.padded_cols()));
  std::printf("%lld block tiles (%lld x %lld), %lld FragTiles, %zu sign_mantissa bytes, %zu full values\n",
              static_cast<long long>(cm.block_tiles()), static_cast<long long>(cm.block_rows()),
              static_cast<long long>(cm.block_cols()), static_cast<long long>(cm.fragtiles()),
              cm.sign_mantissa.size(), cm.full.size());
  std::printf("high-frequency (hf) element: code != 0, one byte in sign_mantissa; else full (16 bits)\n");

  walkthrough::heading("storage order of the " + std::to_string(kFragTilesPerBlockTile) +
                       " FragTiles inside one 64x64 block tile");
  std::printf("  (each number is a FragTile's index within the block tile; one column = 8 weights)\n");
  constexpr int kF = kFragTileDim, kPerSide = kBlockTileDim / kFragTileDim;  // 8 x 8 FragTiles a side
  for (int fr = 0; fr < kPerSide; ++fr) {
    std::printf("  rows %2d..%2d  ", kF * fr, kF * fr + kF - 1);
    if (fr % 2 == 0) std::printf("strip %d ", fr / 2); else std::printf("        ");
    for (int fc = 0; fc < kPerSide; ++fc)
      std::printf("%s%3lld", fc % 2 == 0 ? "  " : "", static_cast<long long>(place_element(kF * fr, kF * fc, 1).fragtile));
    std::printf("\n");
  }
  std::printf("  slices: columns");
  for (int q = 0; q < kSlicesPerStrip; ++q)
    std::printf("%s %d..%d", q ? " |" : "", q * kSliceDim, q * kSliceDim + kSliceDim - 1);
  std::printf(" (pairs of FragTile columns above)\n");

  walkthrough::heading("global offsets: where each block tile's segments start (padded)");
  for (int64_t t = 0; t <= cm.block_tiles(); ++t) {
    if (!shown(t, cm.block_tiles() + 1)) {
      if (t == 3) std::printf("  ...\n");
      continue;
    }
    std::printf("  block tile %3lld: sign_mantissa from %7d (%s16-B aligned), full from %6d (byte %7d)%s\n",
                static_cast<long long>(t), cm.global_offsets[2 * t], cm.global_offsets[2 * t] % 16 ? "NOT " : "",
                cm.global_offsets[2 * t + 1], 2 * cm.global_offsets[2 * t + 1], t == cm.block_tiles() ? " <- end" : "");
  }
  std::printf("  (the entry after the last block tile is the end: the two streams' lengths)\n");
  walkthrough::heading("median offsets: (hf, full) before each strip inside its block tile (unpadded)");
  for (int64_t t = 0; t < cm.block_tiles(); ++t) {
    if (!shown(t, cm.block_tiles())) {
      if (t == 3) std::printf("  ...\n");
      continue;
    }
    std::printf("  tile %3lld:", static_cast<long long>(t));
    for (int s = 0; s < kStrips; ++s)
      std::printf("  strip %d (%4d,%4d)", s, cm.median_offsets[2 * (kStrips * t + s)],
                  cm.median_offsets[2 * (kStrips * t + s) + 1]);
    std::printf("\n");
  }

  // Element (150, 45) of the default layer; the last row or column of a smaller tensor.
  const int64_t row = std::min<int64_t>(150, cm.rows - 1), col = std::min<int64_t>(45, cm.cols - 1);
  walkthrough::heading("where do the bytes of element (" + std::to_string(row) + ", " + std::to_string(col) +
                       ") live?");
  //! [locate]
  const ElementPlace p = place_element(row, col, cm.block_cols());
  std::printf("  1. block tile t = (%lld / 64) * %lld + %lld / 64 = %lld\n", static_cast<long long>(row),
              static_cast<long long>(cm.block_cols()), static_cast<long long>(col), static_cast<long long>(p.block_tile));
  std::printf("  2. strip s = (%lld %% 64) / 16 = %d, slice q = (%lld %% 64) / 16 = %d, FragTile in slice 2j+i = %d\n",
              static_cast<long long>(row), p.strip, static_cast<long long>(col), p.slice, p.fragtile_in_slice);
  std::printf("  3. FragTile f = ((t * 4) + s) * 16 + 4q + 2j + i = %lld, bit = 8 * (%lld %% 8) + %lld %% 8 = %d\n",
              static_cast<long long>(p.fragtile), static_cast<long long>(row), static_cast<long long>(col), p.bit);
  const uint64_t b1 = cm.bitmap1[p.fragtile], b2 = cm.bitmap2[p.fragtile], b3 = cm.bitmap3[p.fragtile];
  const uint32_t code = code_from_bitmaps(b1, b2, b3, p.bit);
  std::printf("  4. code = bits %d of bitmap3,2,1 = %s = %u (%s)\n", p.bit,
              walkthrough::binary(code, walkthrough::kCodeBits).c_str(), code,
              code ? "hf: read one sign_mantissa byte" : "fallback: read one full value");
  // High-frequency elements stored before it inside its block tile:
  const int64_t strip_first = (kStrips * p.block_tile + p.strip) * kFragTilesPerStrip;
  const int64_t median_hf = cm.median_offsets[2 * (kStrips * p.block_tile + p.strip)];
  int64_t earlier_fragtiles = 0;
  for (int64_t f = strip_first; f < p.fragtile; ++f)
    earlier_fragtiles += std::popcount(cm.bitmap1[f] | cm.bitmap2[f] | cm.bitmap3[f]);
  const int64_t in_fragtile = std::popcount((b1 | b2 | b3) & ((uint64_t{1} << p.bit) - 1));
  const int64_t hf_before = median_hf + earlier_fragtiles + in_fragtile;
  std::printf("  5. hf before it = median offset %lld\n"
              "                 + popcounts of FragTiles %lld..%lld (%lld)\n"
              "                 + popcount below bit %d (%lld) = %lld\n",
              static_cast<long long>(median_hf), static_cast<long long>(strip_first),
              static_cast<long long>(p.fragtile - 1), static_cast<long long>(earlier_fragtiles), p.bit,
              static_cast<long long>(in_fragtile), static_cast<long long>(hf_before));
  // Everything else before it in the block tile went to the full stream.
  const int64_t position = p.strip * kPerStrip + (p.fragtile - strip_first) * kElementsPerFragTile + p.bit;
  const int64_t fb_before = position - hf_before;
  std::printf("  6. position in block tile = %d * %d + %lld * %d + %d = %lld, so full before it = %lld\n", p.strip,
              kPerStrip, static_cast<long long>(p.fragtile - strip_first), kElementsPerFragTile, p.bit,
              static_cast<long long>(position), static_cast<long long>(fb_before));
  uint16_t by_hand;
  if (code) {
    const int64_t at = cm.global_offsets[2 * p.block_tile] + hf_before;
    by_hand = rebuild_bf16(code, cm.sign_mantissa[at], cm.start_exp);
    std::printf("  7. sign_mantissa[global %d + %lld = %lld] = 0x%02x\n"
                "     -> (sign, exponent start_exp + code = %u, mantissa) = 0x%04x\n",
                cm.global_offsets[2 * p.block_tile], static_cast<long long>(hf_before), static_cast<long long>(at),
                cm.sign_mantissa[at], (cm.start_exp + code) & 0xFF, by_hand);
  } else {
    const int64_t at = cm.global_offsets[2 * p.block_tile + 1] + fb_before;
    by_hand = cm.full[at];
    std::printf("  7. full[global %d + %lld = %lld] = 0x%04x\n", cm.global_offsets[2 * p.block_tile + 1],
                static_cast<long long>(fb_before), static_cast<long long>(at), by_hand);
  }
  //! [locate]
  const uint16_t original = layer.values[row * layer.cols + col];
  std::printf("  decode_element(%lld, %lld) = 0x%04x, original weight = 0x%04x (%+.6f)\n",
              static_cast<long long>(row), static_cast<long long>(col), decode_element(cm, row, col), original,
              bf16_to_float(original));

  walkthrough::heading("what it costs");
  std::printf("  payload %lld bytes for %lld weights = %.2f bits per weight (BF16: 16; ratio %.3fx)\n",
              static_cast<long long>(cm.payload_bytes()), static_cast<long long>(cm.rows * cm.cols),
              cm.bits_per_weight(), 16 / cm.bits_per_weight());
  // Padding is what makes a small layer dear: 172 rows pad to 192. A 64-multiple layer pays none.
  const double padded = static_cast<double>(cm.padded_rows() * cm.padded_cols());
  std::printf("  padding: %lld x %lld stored as %lld x %lld, %.1f%% more elements;\n"
              "  per stored element (padding included) %.2f bits\n",
              static_cast<long long>(cm.rows), static_cast<long long>(cm.cols), static_cast<long long>(cm.padded_rows()),
              static_cast<long long>(cm.padded_cols()), 100 * (padded / (cm.rows * cm.cols) - 1),
              8.0 * cm.payload_bytes() / padded);

  bool all_random_access = true;
  for (int64_t r = 0; r < cm.rows; ++r)
    for (int64_t c = 0; c < cm.cols; ++c)
      all_random_access = all_random_access && decode_element(cm, r, c) == layer.values[r * cm.cols + c];
  bool strips_add_up = true;  // median offset of strip s+1 - strip s == popcounts of strip s
  for (int64_t t = 0; t < cm.block_tiles(); ++t)
    for (int s = 0; s + 1 < kStrips; ++s) {
      int64_t hf = 0;
      for (int64_t f = (kStrips * t + s) * kFragTilesPerStrip; f < (kStrips * t + s + 1) * kFragTilesPerStrip; ++f)
        hf += std::popcount(cm.bitmap1[f] | cm.bitmap2[f] | cm.bitmap3[f]);
      strips_add_up = strips_add_up &&
                      cm.median_offsets[2 * (kStrips * t + s + 1)] - cm.median_offsets[2 * (kStrips * t + s)] == hf;
    }
  return walkthrough::check(by_hand == decode_element(cm, row, col) && by_hand == original,
                            "the printed arithmetic == decode_element(" + std::to_string(row) + ", " +
                                std::to_string(col) + ") == the original weight") &&
                 walkthrough::check(all_random_access, "decode_element == original for every one of the " +
                                                           std::to_string(cm.rows * cm.cols) + " weights") &&
                 walkthrough::check(strips_add_up, "median offsets step by exactly the popcounts of each strip") &&
                 walkthrough::check(cm.global_offsets[2 * cm.block_tiles()] == static_cast<int32_t>(cm.sign_mantissa.size()),
                                    "the last global offset is the sign_mantissa stream's length")
             ? 0
             : 1;
}

int main(int argc, char** argv) {
  return walkthrough::run_step(argc, argv, "layers.0.feed_forward.w1.weight", run);
}
