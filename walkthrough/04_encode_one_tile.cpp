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
//   build/walkthrough/04_encode_one_tile
//
// What to look for
//   - The three 8x8 bit grids read like the code grid above them, one bit plane each.
//   - Each row of the indicator grid: 1 where the weight went to the sign_mantissa stream.
//   - The byte count: 24 bytes of bitmaps + one byte per covered weight + two per fallback,
//     against 128 bytes of BF16.
//   - CHECK: the 64 weights come back bit for bit from the bitmaps and the two streams alone.
#include <bit>
#include <cstdio>

#include "walkthrough.h"
#include "zipserv/reference/decode.h"
#include "zipserv/reference/element_code.h"
#include "zipserv/reference/encode.h"

using namespace zipserv;

namespace {

// Prints a bitmap word as an 8x8 grid laid out like the FragTile: bit 8r + c at row r, column c.
void print_bit_grid(const char* name, uint64_t word) {
  std::printf("  %s = 0x%016llx\n", name, static_cast<unsigned long long>(word));
  for (int r = 0; r < 8; ++r) {
    std::printf("    row %d:", r);
    for (int c = 0; c < 8; ++c) std::printf(" %llu", static_cast<unsigned long long>((word >> (8 * r + c)) & 1));
    std::printf("      bits %2d..%2d\n", 8 * r, 8 * r + 7);
  }
}

}  // namespace

int main() {
  const auto layer = walkthrough::load_layer("layers.0.feed_forward.w1.weight");
  const CompressedMatrix cm = encode(layer.values.data(), layer.rows, layer.cols);
  std::printf("layer layers.0.feed_forward.w1.weight (%lld x %lld) encoded with start_exp = %u\n",
              static_cast<long long>(layer.rows), static_cast<long long>(layer.cols), cm.start_exp);
  std::printf("FragTile 0 = rows 0..7, cols 0..7 (the first FragTile in storage order, so its\n"
              "elements start at position 0 of both streams)\n");

  walkthrough::heading("the 64 weights (hex) and their codes");
  for (int r = 0; r < 8; ++r) {
    std::printf("  ");
    for (int c = 0; c < 8; ++c) std::printf(" %04x", layer.values[r * layer.cols + c]);
    std::printf("    codes:");
    for (int c = 0; c < 8; ++c) std::printf(" %u", element_code(layer.values[r * layer.cols + c], cm.start_exp));
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
  std::printf("\n  full[0..%d] (%d x 16 bits):", 64 - covered - 1, 64 - covered);
  for (int j = 0; j < 64 - covered; ++j) std::printf(" %04x", cm.full[j]);
  std::printf("\n  bytes: 3 x 8 (bitmaps) + %d + 2 x %d = %d, against 64 x 2 = 128 as BF16\n", covered,
              64 - covered, 24 + covered + 2 * (64 - covered));

  // Rebuild the 64 weights from nothing but the three words and the two streams.
  //! [rebuild]
  bool exact = true;
  for (int k = 0; k < 64; ++k) {
    const int before = std::popcount(indicator & ((uint64_t{1} << k) - 1));  // covered elements before k
    const uint32_t code = code_from_bitmaps(b1, b2, b3, k);
    const uint16_t v = code ? rebuild_bf16(code, cm.sign_mantissa[before], cm.start_exp)
                            : cm.full[k - before];  // k - before = fallback elements before k
    exact = exact && v == layer.values[(k / 8) * layer.cols + k % 8];
  }
  //! [rebuild]
  bool codes_match = true;
  for (int k = 0; k < 64; ++k)
    codes_match = codes_match && code_from_bitmaps(b1, b2, b3, k) ==
                                     element_code(layer.values[(k / 8) * layer.cols + k % 8], cm.start_exp);
  return walkthrough::check(codes_match, "the three bit planes hold each element's 3-bit code") &&
                 walkthrough::check(exact, "bitmaps + the two streams give back all 64 weights bit for bit")
             ? 0
             : 1;
}
