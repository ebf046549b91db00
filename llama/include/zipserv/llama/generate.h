/*! \file generate.h
 *  \brief The generation loop: encode the prompt, prefill it in one forward pass, then decode
 *         token by token, streaming the text and timing both stages.
 */
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "zipserv/llama/stage_rule.h"
#include "zipserv/llama/tokenizer.h"
#include "zipserv/llama/transformer.h"

namespace zipserv::llama {

/// \addtogroup llama
/// \{

/// What to generate.
struct GenerateOptions {
  std::string prompt;        ///< text after BOS (may be empty)
  int64_t steps = 256;       ///< tokens to generate after the prompt
  float temperature = 0.0f;  ///< 0 = greedy
  uint64_t seed = 42;        ///< sampling seed (unused when greedy)
  bool stop_at_bos = true;   ///< stop when the model emits BOS (a new story), as llama2.c does
};

/// What a generation did.
struct GenerateResult {
  std::vector<int> prompt_tokens;  ///< BOS + the encoded prompt
  std::vector<int> generated;      ///< the tokens chosen, in order
  std::string text;                ///< prompt and generated text, decoded
  double prefill_seconds = 0;      ///< wall time of the prefill forward pass
  double decode_seconds = 0;       ///< wall time of the decode forward passes (and sampling)
  int64_t decode_passes = 0;       ///< forward passes of one token
  MatmulTally prefill_tally;       ///< matmul paths of the prefill
  MatmulTally decode_tally;        ///< matmul paths of the decode passes
};

/// Called with each piece of text as soon as it is known (the prompt's, then each new token's).
using TextCallback = std::function<void(std::string_view piece)>;
/// Called with the logits of every step (step 0: after the prefill) before the token is chosen.
using LogitsCallback = std::function<void(int64_t step, const std::vector<float>& logits)>;

/// Runs the loop on `weights` through `engine`. Throws LlamaError for a prompt the model cannot
/// take.
GenerateResult generate(const LlamaWeights& weights, const MatmulEngine& engine, const Tokenizer& tokenizer,
                        const GenerateOptions& options, const TextCallback& on_text = {},
                        const LogitsCallback& on_logits = {});

/// The text a token sequence decodes to (pieces after their predecessors, as generate() streams
/// them); control bytes other than whitespace are dropped, as llama2.c's safe_printf does.
std::string decode_text(const Tokenizer& tokenizer, const std::vector<int>& tokens);

/// \}

}  // namespace zipserv::llama
