// The exponent histogram and the max-coverage window (see exponent_window.h).
#include "zipserv/reference/exponent_window.h"

#include <stdexcept>
#include <string>

#include "zipserv/reference/bf16.h"
#include "zipserv/reference/element_code.h"

namespace zipserv {

ExponentHistogram exponent_histogram(const uint16_t* bf16, size_t count) {
  // Four partial histograms: real weights put most elements into a handful of bins, and
  // consecutive increments of one counter would wait on each other. REFERENCE: equals
  // `for each i: ++h[bf16_exponent(bf16[i])]`.
  uint64_t partial[4][256] = {};
  size_t i = 0;
  for (; i + 4 <= count; i += 4)
    for (int lane = 0; lane < 4; ++lane) ++partial[lane][bf16_exponent(bf16[i + lane])];
  for (; i < count; ++i) ++partial[0][bf16_exponent(bf16[i])];
  ExponentHistogram h{};
  for (int e = 0; e < 256; ++e) h[e] = partial[0][e] + partial[1][e] + partial[2][e] + partial[3][e];
  return h;
}

ExponentWindow window_at(const ExponentHistogram& histogram, int lo) {
  if (lo < 0 || lo > 256 - kWindowSize)
    throw std::invalid_argument("window start " + std::to_string(lo) + " out of range 0.." +
                                std::to_string(256 - kWindowSize));
  ExponentWindow w;
  w.lo = lo;
  for (uint64_t c : histogram) w.total += c;
  for (int e = lo; e < lo + kWindowSize; ++e) w.covered += histogram[e];
  return w;
}

ExponentWindow choose_window(const ExponentHistogram& histogram) {
  ExponentWindow best = window_at(histogram, 0);
  // Slide the window one exponent at a time; strictly-greater keeps the lowest lo on ties.
  uint64_t covered = best.covered;
  for (int lo = 1; lo <= 256 - kWindowSize; ++lo) {
    covered += histogram[lo + kWindowSize - 1];
    covered -= histogram[lo - 1];
    if (covered > best.covered) {
      best.lo = lo;
      best.covered = covered;
    }
  }
  return best;
}

}  // namespace zipserv
