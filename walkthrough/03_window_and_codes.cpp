// Step 03: the exponent window and the 3-bit codes -- 16 bits become 3 + 8.
//
// What this step adds
//   The first half of TCA-TBE (spec B.1, B.2). For one whole weight matrix, choose_window()
//   scores every window of W = kWindowSize (7) consecutive exponents [lo, lo+W-1] and keeps the one
//   covering the most weights; the format stores one byte for it, start_exp = lo - 1. Every
//   weight then gets a 3-bit code:
//       code c = e - start_exp   if the exponent e is inside the window (c = 1..W)
//       code 0                   otherwise ("fallback": the weight will be stored in full)
//   A weight with c != 0 ("high-frequency": its exponent is one of the frequent ones) is rebuilt
//   from its code and one byte holding sign and mantissa:
//       bf16 = sign << 15 | (start_exp + c) << 7 | mantissa
//   so it costs 3 + 8 = 11 bits instead of 16; a fallback weight costs 3 + 16 = 19.
//
// How to run
//   build/walkthrough/03_window_and_codes [MODEL.safetensors [TENSOR]]
//   (defaults: data/stories260K.safetensors, layers.0.feed_forward.w1.weight)
//
// What to look for
//   - The code table: codes 1..W are W octaves of magnitude, in increasing order (not in
//     frequency order: spec B.2); code 0 collects the rare tiny and huge weights.
//   - The neighbouring windows: sliding the window one step either way loses coverage.
//   - The 8 example weights: the stored byte is the weight with its exponent cut out.
//   - CHECK: the coverage counted from the histogram equals the coverage counted code by code.
#include <algorithm>
#include <cstdio>
#include <string>

#include "walkthrough.h"
#include "zipserv/reference/bf16.h"
#include "zipserv/reference/element_code.h"
#include "zipserv/reference/exponent_window.h"

using namespace zipserv;

int run(const walkthrough::Args& args) {
  constexpr int kW = kWindowSize;
  constexpr int kLastLo = 256 - kW;  // windows [lo, lo + kW - 1] for lo = 0 .. kLastLo
  const auto layer = walkthrough::load_layer(args);
  const size_t n = layer.values.size();
  std::printf("layer %s\n  of %s:\n  %lld x %lld = %zu weights\n", args.tensor_label(70).c_str(),
              args.model_label().c_str(), static_cast<long long>(layer.rows), static_cast<long long>(layer.cols), n);

  //! [window]
  const ExponentHistogram histogram = exponent_histogram(layer.values.data(), n);
  const ExponentWindow window = choose_window(histogram);  // max coverage over all 257 - kW windows
  const uint8_t start_exp = window.start_exp();              // the one byte the format stores
  //! [window]
  std::printf("best window of %d: exponents %d..%d, start_exp = %u, covers %llu of %llu weights (%.2f%%)\n", kW,
              window.lo, window.lo + kW - 1, start_exp, static_cast<unsigned long long>(window.covered),
              static_cast<unsigned long long>(window.total), 100 * window.coverage());

  walkthrough::heading("the neighbouring windows cover less");
  for (int lo = std::max(0, window.lo - 2); lo <= std::min(kLastLo, window.lo + 2); ++lo)
    std::printf("  window %3d..%3d covers %6.2f%%%s\n", lo, lo + kW - 1, 100 * window_at(histogram, lo).coverage(),
                lo == window.lo ? "   <- chosen" : "");

  walkthrough::heading("what each code means, and how many weights carry it");
  //! [codes]
  uint64_t per_code[1 << walkthrough::kCodeBits] = {};
  for (const uint16_t v : layer.values) ++per_code[element_code(v, start_exp)];
  //! [codes]
  for (uint32_t c = 0; c < (1u << walkthrough::kCodeBits); ++c) {
    const std::string bits = walkthrough::binary(c, walkthrough::kCodeBits);
    if (c == 0)
      std::printf("  code 0 = %s  fallback: exponent outside the window, all 16 bits kept", bits.c_str());
    else if (c > static_cast<uint32_t>(kW))
      std::printf("  code %u = %s  unused: the window has only %d exponents                 ", c, bits.c_str(), kW);
    else
      std::printf("  code %u = %s  exponent %3u  |w| in [2^%d, 2^%d)                      ", c, bits.c_str(),
                  start_exp + c, static_cast<int>(start_exp + c) - 127, static_cast<int>(start_exp + c) - 126);
    std::printf(" %7llu  %5.2f%%\n", static_cast<unsigned long long>(per_code[c]), 100.0 * per_code[c] / n);
  }

  const int shown = static_cast<int>(std::min<size_t>(8, n));
  walkthrough::heading("the first " + std::to_string(shown) + " weights, encoded");
  std::printf("  weight  exponent  code  stored byte (sign|mantissa)  rebuilt\n");
  for (int col = 0; col < shown; ++col) {
    const uint16_t v = layer.values[col];
    const uint32_t code = element_code(v, start_exp);
    if (code)
      std::printf("  0x%04x  %8u  %s   0x%02x = %s           0x%04x\n", v, bf16_exponent(v),
                  walkthrough::binary(code, walkthrough::kCodeBits).c_str(), sign_mantissa_byte(v),
                  walkthrough::binary(sign_mantissa_byte(v), 8).c_str(),
                  rebuild_bf16(code, sign_mantissa_byte(v), start_exp));
    else
      std::printf("  0x%04x  %8u  000   (fallback: all 16 bits kept)     0x%04x\n", v, bf16_exponent(v), v);
  }

  // The checks: coverage two ways, the window is the best of all, the rule is lossless.
  bool best = true;
  for (int lo = 0; lo <= kLastLo; ++lo) best = best && window_at(histogram, lo).covered <= window.covered;
  bool lossless = true;
  for (const uint16_t v : layer.values) {
    const uint32_t code = element_code(v, start_exp);
    if (code) lossless = lossless && rebuild_bf16(code, sign_mantissa_byte(v), start_exp) == v;
  }
  constexpr int kHf = walkthrough::kCoveredBits, kFb = walkthrough::kFallbackBits;  // 3 + 8, 3 + 16
  const double bits = (window.covered * double{kHf} + (n - window.covered) * double{kFb}) / n;
  std::printf("\ncost before tile overhead: %.3f x %d + %.3f x %d = %.2f bits per weight (BF16: 16)\n",
              window.coverage(), kHf, 1 - window.coverage(), kFb, bits);
  return walkthrough::check(n - per_code[0] == window.covered,
                            "coverage from the histogram == weights with a non-zero code") &&
                 walkthrough::check(best, "no other window of " + std::to_string(kW) +
                                              " consecutive exponents covers more") &&
                 walkthrough::check(lossless, "code + sign/mantissa byte rebuild every in-window weight exactly")
             ? 0
             : 1;
}

int main(int argc, char** argv) {
  return walkthrough::run_step(argc, argv, "layers.0.feed_forward.w1.weight", run);
}
