// The oracle's corpus: named weight matrices that together reach every path of the format and
// every tile edge (see corpus.h for the list and the naming scheme).
#include "zipserv/oracle/corpus.h"

#include <numeric>
#include <random>

#include "zipserv/reference/bf16.h"

#include "zipserv/container/bundled_data.h"
#include "zipserv/container/safetensors.h"

namespace zipserv::oracle {
namespace {

Case gaussian_case(std::string name, int64_t rows, int64_t cols, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> dist(0.0f, 0.02f);  // the scale of trained LLM weights
  Case c{std::move(name), rows, cols, std::vector<uint16_t>(static_cast<size_t>(rows * cols)), std::nullopt};
  for (auto& v : c.weights) v = float_to_bf16_rne(dist(rng));
  return c;
}

// A case whose every element is drawn by `draw(rng)`.
template <typename Draw>
Case drawn_case(std::string name, int64_t rows, int64_t cols, uint64_t seed, std::optional<uint8_t> start_exp, Draw draw) {
  std::mt19937_64 rng(seed);
  Case c{std::move(name), rows, cols, std::vector<uint16_t>(static_cast<size_t>(rows * cols)), start_exp};
  for (auto& v : c.weights) v = draw(rng);
  return c;
}

uint16_t random_pattern(std::mt19937_64& rng, uint32_t exponent) {
  return bf16_from_fields(static_cast<uint32_t>(rng() & 1), exponent, static_cast<uint32_t>(rng() & 0x7F));
}

std::string stem_of(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  std::string file = slash == std::string::npos ? path : path.substr(slash + 1);
  const size_t dot = file.find('.');
  return dot == std::string::npos ? file : file.substr(0, dot);
}

}  // namespace

std::vector<Case> exhaustive_cases() {
  Case all{"all_patterns", 256, 256, std::vector<uint16_t>(65536), std::nullopt};
  std::iota(all.weights.begin(), all.weights.end(), uint16_t{0});
  std::vector<Case> out;
  // lo = 0 stores start_exp 255 (the window wraps: the official kernels' sign bug, spec G.1).
  for (auto [suffix, start] : {std::pair<const char*, std::optional<uint8_t>>{"_window_lo_0", uint8_t{255}},
                               {"_window_lo_1", uint8_t{0}},
                               {"_window_best", std::nullopt},
                               {"_window_lo_249", uint8_t{248}}}) {
    Case c = all;
    c.name += suffix;
    c.start_exp = start;
    out.push_back(std::move(c));
  }
  return out;
}

std::vector<Case> shape_cases() {
  struct Shape {
    const char* name;
    int64_t m, k;
  };
  // Named for where M and K sit relative to the FragTile (8), slice (16) and block tile (64).
  static const Shape shapes[] = {
      {"m_eq_1_k_eq_1", 1, 1},          {"m_lt_8_k_gt_8", 7, 9},
      {"m_eq_8_k_eq_8", 8, 8},          {"m_lt_16_k_gt_16", 15, 17},
      {"m_eq_16_k_eq_16", 16, 16},      {"m_lt_64_k_gt_64", 63, 65},
      {"m_eq_64_k_eq_64", 64, 64},      {"m_gt_64_k_eq_64", 65, 64},
      {"m_eq_64_k_gt_64", 64, 65},      {"m_lt_128_k_gt_128", 127, 129},
      {"m_172_k_eq_64", 172, 64},       {"m_eq_16_k_4096", 16, 4096},
      {"m_4096_k_eq_16", 4096, 16},
  };
  std::vector<Case> out;
  uint64_t seed = 100;
  for (const Shape& s : shapes) out.push_back(gaussian_case(s.name, s.m, s.k, seed++));
  return out;
}

std::vector<Case> adversarial_cases() {
  std::vector<Case> out;
  // Window [200, 206]: no Gaussian weight comes near, so every element takes the fallback path
  // and every bitmap word is zero.
  Case fallback = gaussian_case("all_fallback", 64, 128, 7);
  fallback.start_exp = 199;
  out.push_back(std::move(fallback));
  // Exponents only in [120, 126]: the best window covers everything, the fallback stream is
  // alignment padding only.
  out.push_back(drawn_case("all_inside", 128, 64, 8, std::nullopt,
                           [](std::mt19937_64& rng) { return random_pattern(rng, 120 + rng() % 7); }));
  // Zeros (both signs) and subnormals dominate, so the window is [0, 6] and start_exp wraps to
  // 255; 5 % of the weights (exponents 7..20) fall back.
  out.push_back(drawn_case("window_at_0_zeros_subnormals", 64, 128, 9, uint8_t{255}, [](std::mt19937_64& rng) {
    const uint64_t kind = rng() % 100;
    if (kind < 60) return static_cast<uint16_t>((rng() & 1) << 15);             // +0 / -0
    if (kind < 85) return random_pattern(rng, 0);                                // subnormal
    if (kind < 95) return random_pattern(rng, 1 + static_cast<uint32_t>(rng() % 6));
    return random_pattern(rng, 7 + static_cast<uint32_t>(rng() % 14));
  }));
  // Window [249, 255]: Inf and NaN payloads are high-frequency, stored as one byte each.
  out.push_back(drawn_case("window_at_249_nan_inf", 64, 128, 10, uint8_t{248}, [](std::mt19937_64& rng) {
    const uint64_t kind = rng() % 100;
    if (kind < 30) return bf16_from_fields(static_cast<uint32_t>(rng() & 1), 255, 0);  // +-Inf
    if (kind < 60) return bf16_from_fields(static_cast<uint32_t>(rng() & 1), 255, 1 + static_cast<uint32_t>(rng() % 127));
    if (kind < 90) return random_pattern(rng, 249 + static_cast<uint32_t>(rng() % 6));
    return random_pattern(rng, 120 + static_cast<uint32_t>(rng() % 8));              // fallback
  }));
  // Integers in [-8, 8]: every GEMM partial sum is exact, so even tensor cores must match the
  // reference bit for bit (gemm_rule.h, rule 2).
  out.push_back(drawn_case("small_integer_weights", 96, 200, 11, std::nullopt, [](std::mt19937_64& rng) {
    return float_to_bf16_rne(static_cast<float>(static_cast<int>(rng() % 17) - 8));
  }));
  return out;
}

std::vector<Case> fixture_cases(const std::string& path) {
  std::vector<Case> out;
  const std::string stem = stem_of(path);
  for (st::Bf16Matrix& m : st::load_bf16_matrices(path))
    out.push_back(Case{stem + "/" + m.name, m.rows, m.cols, std::move(m.values), std::nullopt});
  return out;
}

std::vector<Case> bundled_fixture_cases() {
  std::vector<Case> out = fixture_cases(st::bundled_data_file("stories260K.safetensors"));
  for (Case& c : fixture_cases(st::bundled_data_file("use-lite-en.safetensors"))) out.push_back(std::move(c));
  return out;
}

std::vector<Case> corpus(const CorpusOptions& options) {
  std::vector<Case> out;
  auto append = [&](std::vector<Case> part) {
    for (Case& c : part) out.push_back(std::move(c));
  };
  if (options.exhaustive) append(exhaustive_cases());
  if (options.shapes) append(shape_cases());
  if (options.adversarial) append(adversarial_cases());
  if (options.fixtures) append(bundled_fixture_cases());
  return out;
}

}  // namespace zipserv::oracle
