// choose_window against a brute-force maximum over all 250 windows (lowest lo wins ties), on
// random and adversarial histograms; window_at's scoring and bounds.
#include <gtest/gtest.h>

#include <cstdlib>
#include <random>
#include <stdexcept>
#include <vector>

#include "zipserv/reference/exponent_window.h"

namespace zipserv {
namespace {

// Brute force: score every window from scratch, keep the first strictly better one.
ExponentWindow brute_force(const ExponentHistogram& h) {
  ExponentWindow best;
  best.lo = -1;
  uint64_t total = 0;
  for (uint64_t c : h) total += c;
  for (int lo = 0; lo <= 249; ++lo) {
    uint64_t covered = 0;
    for (int e = lo; e <= lo + 6; ++e) covered += h[e];
    if (best.lo < 0 || covered > best.covered) {
      best.lo = lo;
      best.covered = covered;
    }
  }
  best.total = total;
  return best;
}

void expect_brute_force(const ExponentHistogram& h, const char* what) {
  const ExponentWindow got = choose_window(h), want = brute_force(h);
  EXPECT_EQ(got.lo, want.lo) << what;
  EXPECT_EQ(got.covered, want.covered) << what;
  EXPECT_EQ(got.total, want.total) << what;
}

TEST(ChooseWindow, equals_brute_force_on_random_histograms) {
  std::mt19937_64 rng(42);
  for (int n = 0; n < 2000; ++n) {
    ExponentHistogram h{};
    // Small counts make equal-coverage windows (ties) frequent; sparse ones leave gaps.
    const int max_count = n % 3 == 0 ? 2 : (n % 3 == 1 ? 50 : 1'000'000);
    const int density = 1 + n % 7;
    for (auto& c : h) c = rng() % density == 0 ? rng() % (max_count + 1) : 0;
    expect_brute_force(h, "random");
  }
}

TEST(ChooseWindow, equals_brute_force_on_gaussian_like_histograms) {
  // Unimodal around exponent 120 like real weights, with a few far outliers.
  std::mt19937_64 rng(1);
  for (int n = 0; n < 200; ++n) {
    ExponentHistogram h{};
    const int peak = 100 + n % 40;
    for (int d = -10; d <= 3; ++d) h[peak + d] = (1000 >> std::abs(d)) + rng() % 5;
    h[rng() % 256] += 1;
    expect_brute_force(h, "gaussian-like");
  }
}

TEST(ChooseWindow, empty_histogram_gives_lo_0_and_full_coverage) {
  const ExponentWindow w = choose_window(ExponentHistogram{});
  EXPECT_EQ(w.lo, 0);
  EXPECT_EQ(w.covered, 0u);
  EXPECT_EQ(w.total, 0u);
  EXPECT_EQ(w.coverage(), 1.0);
  EXPECT_EQ(w.start_exp(), 255);  // lo - 1 modulo 256
}

TEST(ChooseWindow, all_mass_at_exponent_0) {
  ExponentHistogram h{};
  h[0] = 12345;
  const ExponentWindow w = choose_window(h);
  EXPECT_EQ(w.lo, 0);
  EXPECT_EQ(w.covered, 12345u);
  EXPECT_EQ(w.start_exp(), 255);
}

TEST(ChooseWindow, all_mass_at_exponent_255) {
  ExponentHistogram h{};
  h[255] = 7;
  const ExponentWindow w = choose_window(h);
  EXPECT_EQ(w.lo, 249);  // the only window reaching 255
  EXPECT_EQ(w.covered, 7u);
  EXPECT_EQ(w.start_exp(), 248);
}

TEST(ChooseWindow, two_equal_peaks_far_apart_pick_the_lower) {
  ExponentHistogram h{};
  h[30] = 500;
  h[200] = 500;
  const ExponentWindow w = choose_window(h);
  EXPECT_EQ(w.lo, 24);  // lowest window containing 30: [24, 30]
  EXPECT_EQ(w.covered, 500u);
}

TEST(ChooseWindow, plateau_picks_lowest_lo) {
  // Exponents 100..109 all equal: windows lo = 100..103 cover 7 bins each; lo = 100 wins.
  ExponentHistogram h{};
  for (int e = 100; e <= 109; ++e) h[e] = 3;
  EXPECT_EQ(choose_window(h).lo, 100);
}

TEST(ChooseWindow, prefers_more_coverage_over_top7_heuristic) {
  // The official heuristic takes the 7 most frequent exponents (here 50 and 60..65, not
  // contiguous) and starts at their minimum; the best window is [59, 65].
  ExponentHistogram h{};
  h[50] = 100;
  for (int e = 59; e <= 65; ++e) h[e] = 90 + (e == 59 ? -89 : 0);
  const ExponentWindow w = choose_window(h);
  expect_brute_force(h, "non-contiguous top-7");
  EXPECT_EQ(w.lo, 59);
}

TEST(WindowAt, scores_the_seven_bins_and_counts_all) {
  ExponentHistogram h{};
  for (int e = 0; e < 256; ++e) h[e] = static_cast<uint64_t>(e);
  const ExponentWindow w = window_at(h, 10);
  EXPECT_EQ(w.lo, 10);
  EXPECT_EQ(w.covered, 10u + 11 + 12 + 13 + 14 + 15 + 16);
  EXPECT_EQ(w.total, 255u * 256 / 2);
  EXPECT_EQ(w.start_exp(), 9);
  EXPECT_EQ(window_at(h, 249).covered, 249u + 250 + 251 + 252 + 253 + 254 + 255);
}

TEST(WindowAt, rejects_starts_outside_0_to_249) {
  const ExponentHistogram h{};
  EXPECT_THROW(window_at(h, -1), std::invalid_argument);
  EXPECT_THROW(window_at(h, 250), std::invalid_argument);
  EXPECT_THROW(window_at(h, 1000), std::invalid_argument);
  EXPECT_NO_THROW(window_at(h, 0));
  EXPECT_NO_THROW(window_at(h, 249));
}

TEST(ExponentHistogram, counts_every_pattern_once_per_exponent) {
  std::vector<uint16_t> all(65536);
  for (uint32_t p = 0; p < 65536; ++p) all[p] = static_cast<uint16_t>(p);
  const ExponentHistogram h = exponent_histogram(all.data(), all.size());
  for (int e = 0; e < 256; ++e) EXPECT_EQ(h[e], 256u) << e;  // 2 signs x 128 mantissas
  // Odd lengths exercise the tail after the 4-way unrolled part.
  const ExponentHistogram h3 = exponent_histogram(all.data() + 0x3F80, 3);
  EXPECT_EQ(h3[127], 3u);
}

}  // namespace
}  // namespace zipserv
