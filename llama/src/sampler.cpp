// Greedy and temperature sampling with llama2.c's generator (see sampler.h).
#include "zipserv/llama/sampler.h"

#include <cmath>
#include <string>

#include "zipserv/llama/config.h"

namespace zipserv::llama {

int argmax(const std::vector<float>& values) {
  int best = 0;
  for (size_t i = 1; i < values.size(); ++i)
    if (values[i] > values[static_cast<size_t>(best)]) best = static_cast<int>(i);
  return best;
}

Sampler::Sampler(float temperature, uint64_t seed) : temperature_(temperature), state_(seed) {
  if (!std::isfinite(temperature) || temperature < 0.0f)
    throw LlamaError("temperature must be a finite number >= 0, not " + std::to_string(temperature));
  if (state_ == 0) state_ = 0x9E3779B97F4A7C15ull;  // xorshift never leaves state 0
}

// llama2.c's random_f32(): xorshift64*, top 24 bits as a float in [0, 1).
float Sampler::random_unit() {
  state_ ^= state_ >> 12;
  state_ ^= state_ << 25;
  state_ ^= state_ >> 27;
  const auto bits = static_cast<uint32_t>((state_ * 0x2545F4914F6CDD1Dull) >> 32);
  return static_cast<float>(bits >> 8) / 16777216.0f;
}

int Sampler::next(const std::vector<float>& logits) {
  if (temperature_ == 0.0f) return argmax(logits);
  probabilities_.resize(logits.size());
  float max_val = logits[0] / temperature_;
  for (size_t i = 0; i < logits.size(); ++i) {
    probabilities_[i] = logits[i] / temperature_;
    if (probabilities_[i] > max_val) max_val = probabilities_[i];
  }
  float sum = 0.0f;
  for (float& p : probabilities_) {
    p = std::exp(p - max_val);
    sum += p;
  }
  for (float& p : probabilities_) p /= sum;
  // Inverse-CDF draw, as llama2.c's sample_mult().
  const float coin = random_unit();
  float cdf = 0.0f;
  for (size_t i = 0; i < probabilities_.size(); ++i) {
    cdf += probabilities_[i];
    if (coin < cdf) return static_cast<int>(i);
  }
  return static_cast<int>(probabilities_.size()) - 1;  // rounding left the CDF short of 1
}

}  // namespace zipserv::llama
