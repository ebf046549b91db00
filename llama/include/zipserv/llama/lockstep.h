/*! \file lockstep.h
 *  \brief Two runs of the same model in lockstep (compressed against original weights, or one
 *         engine against another), compared bit for bit after every layer of every step and on
 *         every logit; the first difference is named by step, layer and element.
 */
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "zipserv/llama/generate.h"

namespace zipserv::llama {

/// \addtogroup llama
/// \{

/// One side of the comparison.
struct LockstepSide {
  const LlamaWeights* weights = nullptr;  ///< its weights
  const MatmulEngine* engine = nullptr;   ///< its engine
  std::string label;                      ///< how reports name it ("compressed")
};

/// Where the two runs first differ.
struct Divergence {
  int64_t step = 0;        ///< 0 = the prefill
  int layer = -1;          ///< decoder layer whose output differs; -1 = the logits
  int64_t token_row = 0;   ///< which of the step's tokens (the prefill has several)
  int64_t index = 0;       ///< element of the residual stream, or the logit's token id
  float first = 0;         ///< the first side's value
  float second = 0;        ///< the second side's value
};

/// The outcome.
struct LockstepReport {
  int64_t steps = 0;                     ///< steps compared (identical ones, plus the differing one)
  std::vector<int> tokens;               ///< tokens chosen (by the first side)
  std::optional<Divergence> divergence;  ///< empty: every bit was identical
  /// One line: "identical: 200 steps, ..." or "first difference: step 3, layer 2, element 17: ...".
  std::string describe(const LockstepSide& first, const LockstepSide& second) const;
};

/// Runs both sides on the same tokens (prompt, then the first side's choices) and compares every
/// layer output and the logits, bit for bit, stopping at the first difference.
LockstepReport run_lockstep(const LockstepSide& first, const LockstepSide& second, const Tokenizer& tokenizer,
                            const GenerateOptions& options);

/// \}

}  // namespace zipserv::llama
