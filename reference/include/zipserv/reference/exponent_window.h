/*! \file exponent_window.h
 *  \brief The exponent histogram of a matrix and the window of 7 consecutive exponents that
 *         covers the most of its weights (the paper's rule, Algorithm 1).
 *
 *  The official code picks the 7 most frequent exponents and then the first fully populated
 *  window above their minimum, which is not always the best window (spec section B.1). Here every
 *  one of the 250 windows [lo, lo+6], lo = 0..249, is scored by how many weights it covers and
 *  the best one wins. Ties go to the **lowest** lo, so the choice is deterministic and the same
 *  on every machine.
 */
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace zipserv {

/// \defgroup stage_window Exponent window
/// \{

/// How many weights carry each of the 256 BF16 exponent values.
using ExponentHistogram = std::array<uint64_t, 256>;

/// Counts the exponents of `count` BF16 patterns.
ExponentHistogram exponent_histogram(const uint16_t* bf16, size_t count);

/// A window of 7 consecutive exponents [lo, lo + 6].
struct ExponentWindow {
  int lo = 0;            ///< the smallest exponent in the window, 0..249
  uint64_t covered = 0;  ///< weights whose exponent lies inside it
  uint64_t total = 0;    ///< all weights counted

  /// The byte the format stores: lo - 1 modulo 256 (lo = 0 gives 255).
  uint8_t start_exp() const { return static_cast<uint8_t>((lo + 255) & 0xFF); }
  /// Share of weights inside the window, 0..1 (1 for an empty histogram).
  double coverage() const { return total ? static_cast<double>(covered) / total : 1.0; }
};

/// The window covering the most weights; ties go to the lowest `lo`.
ExponentWindow choose_window(const ExponentHistogram& histogram);

/// The window that starts at `lo` (0..249), scored against `histogram`.
ExponentWindow window_at(const ExponentHistogram& histogram, int lo);

/// \}

}  // namespace zipserv
