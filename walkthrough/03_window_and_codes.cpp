// Step 03: the exponent window and the 3-bit codes -- 16 bits become 3 + 8.
//
// What this step adds
//   The first half of TCA-TBE (spec B.1, B.2). For one whole weight matrix, choose_window()
//   scores every window of 7 consecutive exponents [lo, lo+6] and keeps the one covering the most
//   weights; the format stores one byte for it, start_exp = lo - 1. Every weight then gets a code:
//       code c = e - start_exp   if the exponent e is inside the window (c = 1..7)
//       code 0                   otherwise ("fallback": the weight will be stored in full)
//   A weight with c != 0 is rebuilt from its code and one byte holding sign and mantissa:
//       bf16 = sign << 15 | (start_exp + c) << 7 | mantissa
//   so it costs 3 + 8 = 11 bits instead of 16; a fallback weight costs 3 + 16 = 19.
//
// How to run
//   build/walkthrough/03_window_and_codes
//
// What to look for
//   - The code table: codes 1..7 are seven octaves of magnitude, in increasing order (not in
//     frequency order: spec B.2); code 0 collects the rare tiny and huge weights.
//   - The neighbouring windows: sliding the window one step either way loses coverage.
//   - The 8 example weights: the stored byte is the weight with its exponent cut out.
//   - CHECK: the coverage counted from the histogram equals the coverage counted code by code.
#include <cstdio>

#include "walkthrough.h"
#include "zipserv/reference/bf16.h"
#include "zipserv/reference/element_code.h"
#include "zipserv/reference/exponent_window.h"

using namespace zipserv;

int main() {
  const auto layer = walkthrough::load_layer("layers.0.feed_forward.w1.weight");
  const size_t n = layer.values.size();
  std::printf("layer layers.0.feed_forward.w1.weight: %lld x %lld = %zu weights\n", static_cast<long long>(layer.rows),
              static_cast<long long>(layer.cols), n);

  //! [window]
  const ExponentHistogram histogram = exponent_histogram(layer.values.data(), n);
  const ExponentWindow window = choose_window(histogram);  // max coverage over all 250 windows
  const uint8_t start_exp = window.start_exp();              // the one byte the format stores
  //! [window]
  std::printf("best window: exponents %d..%d, start_exp = %u, covers %llu of %llu weights (%.2f%%)\n", window.lo,
              window.lo + 6, start_exp, static_cast<unsigned long long>(window.covered),
              static_cast<unsigned long long>(window.total), 100 * window.coverage());

  walkthrough::heading("the neighbouring windows cover less");
  for (int lo = window.lo - 2; lo <= window.lo + 2; ++lo)
    std::printf("  window %3d..%3d covers %6.2f%%%s\n", lo, lo + 6, 100 * window_at(histogram, lo).coverage(),
                lo == window.lo ? "   <- chosen" : "");

  walkthrough::heading("what each code means, and how many weights carry it");
  //! [codes]
  uint64_t per_code[8] = {};
  for (const uint16_t v : layer.values) ++per_code[element_code(v, start_exp)];
  //! [codes]
  for (uint32_t c = 0; c < 8; ++c) {
    if (c == 0)
      std::printf("  code 0 = %s  fallback: exponent outside the window, stored as all 16 bits", "000");
    else
      std::printf("  code %u = %s  exponent %3u  |w| in [2^%d, 2^%d)                       ", c,
                  walkthrough::binary(c, 3).c_str(), start_exp + c, static_cast<int>(start_exp + c) - 127,
                  static_cast<int>(start_exp + c) - 126);
    std::printf(" %6llu  %5.2f%%\n", static_cast<unsigned long long>(per_code[c]), 100.0 * per_code[c] / n);
  }

  walkthrough::heading("the first 8 weights of row 0, encoded");
  std::printf("  weight  exponent  code  stored byte (sign|mantissa)  rebuilt\n");
  for (int col = 0; col < 8; ++col) {
    const uint16_t v = layer.values[col];
    const uint32_t code = element_code(v, start_exp);
    if (code)
      std::printf("  0x%04x  %8u  %s   0x%02x = %s           0x%04x\n", v, bf16_exponent(v),
                  walkthrough::binary(code, 3).c_str(), sign_mantissa_byte(v),
                  walkthrough::binary(sign_mantissa_byte(v), 8).c_str(),
                  rebuild_bf16(code, sign_mantissa_byte(v), start_exp));
    else
      std::printf("  0x%04x  %8u  000   (fallback: all 16 bits kept)     0x%04x\n", v, bf16_exponent(v), v);
  }

  // The checks: coverage two ways, the window is the best of all 250, the rule is lossless.
  bool best = true;
  for (int lo = 0; lo <= 249; ++lo) best = best && window_at(histogram, lo).covered <= window.covered;
  bool lossless = true;
  for (const uint16_t v : layer.values) {
    const uint32_t code = element_code(v, start_exp);
    if (code) lossless = lossless && rebuild_bf16(code, sign_mantissa_byte(v), start_exp) == v;
  }
  const double bits = (window.covered * 11.0 + (n - window.covered) * 19.0) / n;
  std::printf("\ncost before tile overhead: %.3f x 11 + %.3f x 19 = %.2f bits per weight (BF16: 16)\n",
              window.coverage(), 1 - window.coverage(), bits);
  return walkthrough::check(n - per_code[0] == window.covered,
                            "coverage from the histogram == weights with a non-zero code") &&
                 walkthrough::check(best, "no other window of 7 consecutive exponents covers more") &&
                 walkthrough::check(lossless, "code + sign/mantissa byte rebuild every in-window weight exactly")
             ? 0
             : 1;
}
