// The generation loop: prefill the prompt in one forward pass, then decode token by token (see generate.h).
#include "zipserv/llama/generate.h"

#include <cctype>
#include <chrono>

#include "zipserv/llama/sampler.h"

namespace zipserv::llama {
namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// llama2.c's safe_printf(): a lone byte that is a control character (other than whitespace)
// is not text and is dropped.
std::string printable(std::string piece) {
  if (piece.size() == 1) {
    const auto b = static_cast<unsigned char>(piece[0]);
    if (b < 0x80 && !std::isprint(b) && !std::isspace(b)) return "";
  }
  return piece;
}

}  // namespace

std::string decode_text(const Tokenizer& tokenizer, const std::vector<int>& tokens) {
  std::string text;
  for (size_t i = 1; i < tokens.size(); ++i) text += printable(tokenizer.decode(tokens[i - 1], tokens[i]));
  return text;
}

GenerateResult generate(const LlamaWeights& weights, const MatmulEngine& engine, const Tokenizer& tokenizer,
                        const GenerateOptions& options, const TextCallback& on_text, const LogitsCallback& on_logits) {
  if (options.steps < 0) throw LlamaError("steps must be >= 0");
  GenerateResult result;
  result.prompt_tokens = tokenizer.encode(options.prompt, true);
  const auto& prompt = result.prompt_tokens;
  const int64_t positions = static_cast<int64_t>(prompt.size()) + options.steps;
  Transformer model(weights, engine, positions);
  Sampler sampler(options.temperature, options.seed);

  auto emit = [&](int previous, int token) {
    const std::string piece = printable(tokenizer.decode(previous, token));
    result.text += piece;
    if (on_text) on_text(piece);
  };
  for (size_t i = 1; i < prompt.size(); ++i) emit(prompt[i - 1], prompt[i]);
  if (options.steps == 0) return result;

  // Prefill: the whole prompt in one pass (N = prompt length).
  auto start = std::chrono::steady_clock::now();
  const std::vector<float>* logits = &model.forward(prompt.data(), static_cast<int64_t>(prompt.size()), 0);
  result.prefill_seconds = seconds_since(start);
  result.prefill_tally = model.tally();

  // Decode: one token per pass (N = 1).
  start = std::chrono::steady_clock::now();
  int previous = prompt.back();
  int64_t pos = static_cast<int64_t>(prompt.size());
  for (int64_t step = 0; step < options.steps; ++step) {
    if (on_logits) on_logits(step, *logits);
    const int token = sampler.next(*logits);
    if (options.stop_at_bos && token == kBosToken) break;
    result.generated.push_back(token);
    emit(previous, token);
    previous = token;
    if (step + 1 == options.steps) break;  // the last token needs no logits after it
    logits = &model.forward(&token, 1, pos++);
    ++result.decode_passes;
  }
  result.decode_seconds = seconds_since(start);
  for (size_t p = 0; p < 3; ++p) {
    result.decode_tally.calls[p] = model.tally().calls[p] - result.prefill_tally.calls[p];
    result.decode_tally.bytes_read[p] = model.tally().bytes_read[p] - result.prefill_tally.bytes_read[p];
  }
  return result;
}

}  // namespace zipserv::llama
