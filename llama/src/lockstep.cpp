// Two runs compared after every layer of every step (see lockstep.h).
#include "zipserv/llama/lockstep.h"

#include <cstring>

#include "zipserv/llama/sampler.h"

namespace zipserv::llama {
namespace {

bool same_bits(float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; }

// One side's state: its transformer and the residual stream it reported after each layer.
struct Side {
  Side(const LockstepSide& s, int64_t positions) : model(*s.weights, *s.engine, positions) {
    layers.resize(static_cast<size_t>(s.weights->config.n_layers));
    model.set_layer_observer([this](int layer, int64_t n, const float* x) {
      const int dim = model.weights().config.dim;
      layers[static_cast<size_t>(layer)].assign(x, x + n * dim);
    });
  }
  Transformer model;
  std::vector<std::vector<float>> layers;  // (layer) -> (n, dim) f32 of the last step
};

// The first differing element of the step just run, if any.
std::optional<Divergence> compare_step(const Side& a, const Side& b, const std::vector<float>& la,
                                       const std::vector<float>& lb, int64_t step) {
  const int dim = a.model.weights().config.dim;
  for (size_t l = 0; l < a.layers.size(); ++l)
    for (size_t i = 0; i < a.layers[l].size(); ++i)
      if (!same_bits(a.layers[l][i], b.layers[l][i]))
        return Divergence{step, static_cast<int>(l), static_cast<int64_t>(i) / dim, static_cast<int64_t>(i) % dim,
                          a.layers[l][i], b.layers[l][i]};
  for (size_t i = 0; i < la.size(); ++i)
    if (!same_bits(la[i], lb[i])) return Divergence{step, -1, 0, static_cast<int64_t>(i), la[i], lb[i]};
  return std::nullopt;
}

}  // namespace

std::string LockstepReport::describe(const LockstepSide& first, const LockstepSide& second) const {
  if (!divergence)
    return "identical: " + std::to_string(steps) + " steps, every layer output and every logit bit for bit (" +
           first.label + " vs " + second.label + ")";
  const Divergence& d = *divergence;
  char values[96];
  std::snprintf(values, sizeof values, "%.9g vs %.9g", static_cast<double>(d.first), static_cast<double>(d.second));
  std::string where = "step " + std::to_string(d.step) + (d.step == 0 ? " (prefill)" : "") + ", ";
  if (d.layer >= 0)
    where += "layer " + std::to_string(d.layer) + " output, token " + std::to_string(d.token_row) + ", element " +
             std::to_string(d.index);
  else
    where += "logit of token " + std::to_string(d.index);
  return "first difference: " + where + ": " + first.label + " " + values + " " + second.label;
}

LockstepReport run_lockstep(const LockstepSide& first, const LockstepSide& second, const Tokenizer& tokenizer,
                            const GenerateOptions& options) {
  if (first.weights->config.dim != second.weights->config.dim ||
      first.weights->config.n_layers != second.weights->config.n_layers ||
      first.weights->config.vocab_size != second.weights->config.vocab_size)
    throw LlamaError("lockstep needs two models of the same shape");
  LockstepReport report;
  const std::vector<int> prompt = tokenizer.encode(options.prompt, true);
  const int64_t positions = static_cast<int64_t>(prompt.size()) + options.steps;
  Side a(first, positions), b(second, positions);
  Sampler sampler(options.temperature, options.seed);

  std::vector<int> input = prompt;
  int64_t pos = 0;
  for (int64_t step = 0; step < options.steps; ++step) {
    const std::vector<float>& la = a.model.forward(input.data(), static_cast<int64_t>(input.size()), pos);
    const std::vector<float>& lb = b.model.forward(input.data(), static_cast<int64_t>(input.size()), pos);
    report.steps = step + 1;
    report.divergence = compare_step(a, b, la, lb, step);
    if (report.divergence) break;
    pos += static_cast<int64_t>(input.size());
    const int token = sampler.next(la);
    report.tokens.push_back(token);
    if (options.stop_at_bos && token == kBosToken) break;
    input.assign(1, token);
  }
  return report;
}

}  // namespace zipserv::llama
