// Step 04: encoding one 8x8 FragTile -- three bitmaps and two streams.
//
// What this step adds
//   Where the codes of step 03 go (spec B.3, B.4). The matrix is cut into 8x8 FragTiles. For each
//   FragTile the 64 codes are stored *bit-sliced*, as three 64-bit words:
//       bitmap1 bit k = bit 0 of element k's code, bitmap2 = bit 1, bitmap3 = bit 2,
//   with element (r, c) of the FragTile at bit k = 8r + c (row-major). The values go to two
//   byte streams, in that same element order:
//       sign_mantissa  one byte per element with code != 0   (sign << 7 | mantissa)
//       full           the raw 16 bits of every code-0 element
//   The OR of the three bitmaps ("spatial indicator") says which stream holds element k, and the
//   number of set bits below k says where in that stream it is. That popcount is the whole
//   decoder, and it is why a GPU lane can find its element without reading anyone else's.
//
// How to run
//   build/walkthrough/04_encode_one_tile [MODEL.safetensors [TENSOR]]
//   (defaults: data/stories260K.safetensors, layers.0.feed_forward.w1.weight)
//
// What to look for
//   - The three 8x8 bit grids read like the code grid above them, one bit plane each.
//   - Each row of the indicator grid: 1 where the weight went to the sign_mantissa stream.
//   - The byte count: 24 bytes of bitmaps + one byte per covered weight + two per fallback,
//     against 128 bytes of BF16.
//   - Where the bits of a weight go, over the whole matrix: 3 bits of bitmaps, 8 bits of
//     sign_mantissa byte for each covered weight (about 7.8 per weight without padding), about
//     0.5 of fallback values, a little for the offsets; padding adds to the first two. The byte
//     of sign and mantissa is most of the cost, not the bitmaps.
//   - CHECK: the 64 weights come back bit for bit from the bitmaps and the two streams alone.
#include <bit>
#include <cmath>
#include <cstdio>

#include "walkthrough.h"
#include "zipserv/reference/decode.h"
#include "zipserv/reference/element_code.h"
#include "zipserv/reference/encode.h"
#include "zipserv/reference/tile_layout.h"

using namespace zipserv;

namespace {

constexpr int kDim = kFragTileDim;             // 8: a FragTile is kDim x kDim
constexpr int kElems = kElementsPerFragTile;    // 64 = one bit per element in each bitmap word

// Prints a bitmap word as an 8x8 grid laid out like the FragTile: bit 8r + c at row r, column c.
void print_bit_grid(const char* name, uint64_t word) {
  std::printf("  %s = 0x%016llx\n", name, static_cast<unsigned long long>(word));
  for (int r = 0; r < kDim; ++r) {
    std::printf("    row %d:", r);
    for (int c = 0; c < kDim; ++c)
      std::printf(" %llu", static_cast<unsigned long long>((word >> (kDim * r + c)) & 1));
    std::printf("      bits %2d..%2d\n", kDim * r, kDim * r + kDim - 1);
  }
}

}  // namespace

int run(const walkthrough::Args& args) {
  const auto layer = walkthrough::load_layer(args, kDim, kDim);  // FragTile 0 must be real weights
  const CompressedMatrix cm = encode(layer.values.data(), layer.rows, layer.cols);
  std::printf("layer %s\n  of %s:\n  %lld x %lld, encoded with start_exp = %u\n", args.tensor_label(70).c_str(),
              args.model_label().c_str(), static_cast<long long>(layer.rows), static_cast<long long>(layer.cols),
              cm.start_exp);
  std::printf("FragTile 0 = rows 0..%d, cols 0..%d (the first FragTile in storage order, so its\n"
              "elements start at position 0 of both streams)\n", kDim - 1, kDim - 1);

  walkthrough::heading("the 64 weights (hex) and their codes");
  for (int r = 0; r < kDim; ++r) {
    std::printf("  ");
    for (int c = 0; c < kDim; ++c) std::printf(" %04x", layer.values[r * layer.cols + c]);
    std::printf("    codes:");
    for (int c = 0; c < kDim; ++c) std::printf(" %u", element_code(layer.values[r * layer.cols + c], cm.start_exp));
    std::printf("\n");
  }

  walkthrough::heading("the three bitmap words of FragTile 0, laid out 8x8");
  //! [bitmaps]
  const uint64_t b1 = cm.bitmap1[0], b2 = cm.bitmap2[0], b3 = cm.bitmap3[0];
  const uint64_t indicator = b1 | b2 | b3;  // bit k set <=> element k is in the sign_mantissa stream
  const int covered = std::popcount(indicator);
  //! [bitmaps]
  print_bit_grid("bitmap1 (code bit 0)", b1);
  print_bit_grid("bitmap2 (code bit 1)", b2);
  print_bit_grid("bitmap3 (code bit 2)", b3);
  print_bit_grid("indicator = b1|b2|b3", indicator);

  walkthrough::heading("the two streams this FragTile appends");
  std::printf("  sign_mantissa[0..%d] (%d bytes):", covered - 1, covered);
  for (int j = 0; j < covered; ++j) std::printf("%s%02x", j % 16 ? " " : "\n    ", cm.sign_mantissa[j]);
  std::printf("\n  full[0..%d] (%d x 16 bits):", kElems - covered - 1, kElems - covered);
  for (int j = 0; j < kElems - covered; ++j) std::printf("%s%04x", j % 16 ? " " : "\n    ", cm.full[j]);
  constexpr int kBitmapBytes = walkthrough::kCodeBits * kElems / 8;  // 3 words of 64 bits
  std::printf("\n  bytes: %d x %d (bitmaps) + %d + 2 x %d = %d, against %d x 2 = %d as BF16\n",
              walkthrough::kCodeBits, kElems / 8, covered, kElems - covered,
              kBitmapBytes + covered + 2 * (kElems - covered), kElems, 2 * kElems);

  // Where the bits of one weight go, over the whole matrix: each part of the payload divided by
  // the logical weights (padding elements cost bitmap bits and one byte each, so they show here).
  walkthrough::heading("where the bits of a weight go (whole matrix)");
  const double weights = static_cast<double>(layer.rows * layer.cols);
  const double padded = static_cast<double>(cm.padded_rows() * cm.padded_cols());
  const double parts[4] = {
      8.0 * sizeof(uint64_t) * (cm.bitmap1.size() + cm.bitmap2.size() + cm.bitmap3.size()) / weights,
      8.0 * cm.sign_mantissa.size() / weights, 16.0 * cm.full.size() / weights,
      32.0 * (cm.median_offsets.size() + cm.global_offsets.size()) / weights};
  const char* names[4] = {"bitmaps (3 bit planes)", "sign_mantissa bytes", "full values", "offset arrays"};
  for (int i = 0; i < 4; ++i)
    std::printf("  %-24s %6.2f bits  %5.1f%%\n", names[i], parts[i], 100 * parts[i] / cm.bits_per_weight());
  std::printf("  %-24s %6.2f bits  (BF16: 16; padding to %lld x %lld adds %.1f%% elements)\n", "total",
              cm.bits_per_weight(), static_cast<long long>(cm.padded_rows()), static_cast<long long>(cm.padded_cols()),
              100 * (padded / weights - 1));

  // Rebuild the 64 weights from nothing but the three words and the two streams.
  //! [rebuild]
  bool exact = true;
  for (int k = 0; k < kElems; ++k) {
    const int before = std::popcount(indicator & ((uint64_t{1} << k) - 1));  // covered elements before k
    const uint32_t code = code_from_bitmaps(b1, b2, b3, k);
    const uint16_t v = code ? rebuild_bf16(code, cm.sign_mantissa[before], cm.start_exp)
                            : cm.full[k - before];  // k - before = fallback elements before k
    exact = exact && v == layer.values[(k / kDim) * layer.cols + k % kDim];
  }
  //! [rebuild]
  bool codes_match = true;
  for (int k = 0; k < kElems; ++k)
    codes_match = codes_match && code_from_bitmaps(b1, b2, b3, k) ==
                                     element_code(layer.values[(k / kDim) * layer.cols + k % kDim], cm.start_exp);
  const double sum = parts[0] + parts[1] + parts[2] + parts[3];
  return walkthrough::check(codes_match, "the three bit planes hold each element's 3-bit code") &&
                 walkthrough::check(exact, "bitmaps + the two streams give back all 64 weights bit for bit") &&
                 walkthrough::check(std::abs(sum - cm.bits_per_weight()) < 1e-9,
                                    "the four parts add up to the matrix's bits per weight")
             ? 0
             : 1;
}

int main(int argc, char** argv) {
  return walkthrough::run_step(argc, argv, "layers.0.feed_forward.w1.weight", run);
}
