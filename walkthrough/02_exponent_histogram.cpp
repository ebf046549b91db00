// Step 02: the exponent histogram -- why 7 consecutive exponents cover almost every weight.
// (7 is zipserv::kWindowSize; the program prints whatever it is set to.)
//
// What this step adds
//   The statistical observation ZipServ is built on (paper section 3.1). It counts the 8-bit
//   exponents of a whole real layer, draws the histogram as a text bar chart, and measures:
//     - how much of the layer the 1, 3 and 7 most frequent exponents cover,
//     - whether those top 7 are consecutive numbers (they are, in 99.6 % of the 3,875 matrices
//       the paper examined),
//     - the entropy of the exponent field (the paper: 2.57-2.74 bits of the 8 stored), and
//     - the paper's cost model AverageBits(n) = r_n (n + 8) + (1 - r_n)(n + 16) for an n-bit code
//       whose 2^n - 1 values name the top exponents (r_n = their coverage) and whose last value
//       means "stored in full".
//   Why the histogram has this shape: a trained layer's weights are roughly N(0, sigma^2). One
//   exponent value is one octave of magnitude, [2^e, 2^(e+1)). Above a few sigma a Gaussian has
//   almost no mass; far below sigma the octaves get narrower and narrower, so they hold less and
//   less. What is left is a single hump a few octaves wide (the paper proves it is unimodal, so
//   its top-K values are always consecutive: App. A).
//
// How to run
//   build/walkthrough/02_exponent_histogram [MODEL.safetensors [TENSOR]]
//   (defaults: data/stories260K.safetensors, tok_embeddings.weight)
//
// What to look for
//   - The hump: almost every '#' sits in 7 neighbouring rows, marked 'W' (the window).
//   - "top 7 ... consecutive: yes" and a top-7 coverage in the mid-90s.
//   - AverageBits(3) near the paper's 11.3 bits: 3 bits is the sweet spot, 2 and 4 cost more.
//   - The summary at the end: the same holds for every weight matrix of the model (the lowest
//     coverage is named, so you can run this step on it).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <string>
#include <vector>

#include "walkthrough.h"
#include "zipserv/reference/bf16.h"
#include "zipserv/reference/exponent_window.h"

using namespace zipserv;

namespace {

// Exponent values sorted by how many weights carry them, most frequent first (ties: lower first).
std::vector<int> by_frequency(const ExponentHistogram& h) {
  std::vector<int> e(256);
  std::iota(e.begin(), e.end(), 0);
  std::stable_sort(e.begin(), e.end(), [&](int a, int b) { return h[a] > h[b]; });
  return e;
}

// Share of all weights carried by the `n` most frequent exponents.
double top_coverage(const ExponentHistogram& h, int n) {
  const std::vector<int> e = by_frequency(h);
  uint64_t covered = 0, total = 0;
  for (int i = 0; i < 256; ++i) total += h[i];
  for (int i = 0; i < n; ++i) covered += h[e[i]];
  return static_cast<double>(covered) / total;
}

// True if the `n` most frequent exponents are n consecutive integers.
bool top_consecutive(const ExponentHistogram& h, int n) {
  std::vector<int> e = by_frequency(h);
  e.resize(n);
  return *std::max_element(e.begin(), e.end()) - *std::min_element(e.begin(), e.end()) == n - 1;
}

}  // namespace

int run(const walkthrough::Args& args) {
  constexpr int kW = kWindowSize;  // the window: kW consecutive exponents
  const auto layer = walkthrough::load_layer(args);
  std::printf("layer %s\n  of %s:\n  %lld x %lld = %zu BF16 weights\n", args.tensor_label(70).c_str(),
              args.model_label().c_str(), static_cast<long long>(layer.rows), static_cast<long long>(layer.cols),
              layer.values.size());

  //! [histogram]
  const ExponentHistogram h = exponent_histogram(layer.values.data(), layer.values.size());
  const ExponentWindow window = choose_window(h);  // the kWindowSize consecutive exponents covering most
  //! [histogram]

  const uint64_t total = std::accumulate(h.begin(), h.end(), uint64_t{0});
  // One '#' is 0.5 % of the layer, or more if the tallest bar would not fit 60 columns.
  const double per_hash = std::max(0.005, static_cast<double>(*std::max_element(h.begin(), h.end())) / total / 60);
  char title[120];
  std::snprintf(title, sizeof title, "exponent histogram (one '#' = %.1f%% of the layer; W = in the best window)",
                100 * per_hash);
  walkthrough::heading(title);
  int first = 255, last = 0;
  for (int e = 0; e < 256; ++e)
    if (h[e]) first = std::min(first, e), last = std::max(last, e);
  for (int e = first; e <= last; ++e) {
    const bool in_window = e >= window.lo && e < window.lo + kW;
    const int bar = static_cast<int>(std::lround(static_cast<double>(h[e]) / total / per_hash));
    std::printf("  e=%3d  2^%-4d %c %6llu %5.1f%% %s\n", e, e - 127, in_window ? 'W' : ' ',
                static_cast<unsigned long long>(h[e]), 100.0 * h[e] / total, std::string(bar, '#').c_str());
  }

  walkthrough::heading("how skewed is it?");
  double entropy = 0;
  for (const uint64_t n : h)
    if (n) entropy -= static_cast<double>(n) / total * std::log2(static_cast<double>(n) / total);
  for (const int n : {1, 3, kW})
    std::printf("  top %d exponents cover %5.1f%%  (consecutive: %s)\n", n, 100 * top_coverage(h, n),
                top_consecutive(h, n) ? "yes" : "no");
  std::printf("  entropy of the exponent field: %.2f bits (8 are stored) -> ideal %.2f bits per weight\n", entropy,
              8 + entropy);
  //! [average_bits]
  for (const int n : {2, 3, 4}) {
    const double r = top_coverage(h, (1 << n) - 1);  // coverage of the 2^n - 1 codable exponents
    std::printf("  AverageBits(%d) = r(%d+8) + (1-r)(%d+16) = %.3f (%d+8) + %.3f (%d+16) = %.2f bits\n", n, n, n, r,
                n, 1 - r, n, r * (n + 8) + (1 - r) * (n + 16));
  }
  //! [average_bits]

  // The same measurements for every weight matrix of the model, summarised: the spread of the
  // top-kW coverage over the matrices, and how many have their top kW exponents consecutive.
  struct Tally {
    std::string name;
    double coverage;
  };
  std::vector<Tally> per_matrix;
  ExponentHistogram all{};
  int consecutive = 0;
  for (const auto& m : st::load_bf16_matrices(args.model)) {
    const ExponentHistogram hm = exponent_histogram(m.values.data(), m.values.size());
    for (int e = 0; e < 256; ++e) all[e] += hm[e];
    consecutive += top_consecutive(hm, kW);
    per_matrix.push_back({m.name, top_coverage(hm, kW)});
  }
  std::sort(per_matrix.begin(), per_matrix.end(), [](const Tally& a, const Tally& b) { return a.coverage < b.coverage; });
  const uint64_t all_weights = std::accumulate(all.begin(), all.end(), uint64_t{0});
  walkthrough::heading("every 2-D BF16 matrix of the model: " + std::to_string(per_matrix.size()) + " matrices, " +
                       std::to_string(all_weights) + " weights");
  std::printf("  top-%d coverage  lowest %5.1f%%  %s\n", kW, 100 * per_matrix.front().coverage,
              walkthrough::short_name(per_matrix.front().name, 60).c_str());
  std::printf("                  median %5.1f%%\n", 100 * per_matrix[per_matrix.size() / 2].coverage);
  std::printf("                  highest %4.1f%%  %s\n", 100 * per_matrix.back().coverage,
              walkthrough::short_name(per_matrix.back().name, 60).c_str());
  std::printf("                  one window for all the model's weights: %.1f%%\n", 100 * top_coverage(all, kW));
  std::printf("  top %d exponents consecutive in %d of %zu matrices\n", kW, consecutive, per_matrix.size());

  uint64_t counted_by_hand = 0;
  for (const uint16_t v : layer.values) counted_by_hand += bf16_exponent(v) == static_cast<uint32_t>(window.lo);
  return walkthrough::check(total == layer.values.size() && counted_by_hand == h[window.lo],
                            "the histogram counts every weight once (and bin lo by hand agrees)") &&
                 walkthrough::check(top_consecutive(h, kW) && window.covered == static_cast<uint64_t>(std::llround(
                                                                                    top_coverage(h, kW) * total)),
                                    "the top " + std::to_string(kW) +
                                        " exponents are consecutive, so the best window covers exactly them") &&
                 walkthrough::check(window.coverage() > 0.9, "the window covers more than 90 % of the layer")
             ? 0
             : 1;
}

int main(int argc, char** argv) { return walkthrough::run_step(argc, argv, "tok_embeddings.weight", run); }
