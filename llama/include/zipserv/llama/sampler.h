/*! \file sampler.h
 *  \brief Picking the next token from the logits: greedy (temperature 0) or sampling from
 *         softmax(logits / T) with llama2.c's seeded xorshift generator.
 */
#pragma once

#include <cstdint>
#include <vector>

namespace zipserv::llama {

/// \addtogroup llama
/// \{

/// Chooses tokens; deterministic for a given seed.
class Sampler {
 public:
  /// `temperature` 0 is greedy; above 0, sampling. Throws LlamaError for a negative or
  /// non-finite temperature.
  Sampler(float temperature, uint64_t seed);
  /// The next token: the first index of the largest logit (greedy), or a draw from the softmax
  /// of logits / temperature (computed in FP32 as llama2.c does).
  int next(const std::vector<float>& logits);

 private:
  float random_unit();  // in [0, 1)
  float temperature_;
  uint64_t state_;
  std::vector<float> probabilities_;
};

/// The index of the first largest value.
int argmax(const std::vector<float>& values);

/// \}

}  // namespace zipserv::llama
