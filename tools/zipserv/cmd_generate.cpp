// `zipserv generate MODEL [--prompt TEXT] [--steps N] [--temperature T] [--seed S] [--engine E]
// [--threads N] [--weights compressed|original] [--tokenizer FILE] [--compare] [--original FILE]`:
// runs the Llama-2 forward pass of llama/ on a plain or compressed model, streams the text and
// reports the speed of prefill and decode and the weight bytes each token read.
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "commands.h"
#include "zipserv/llama/generate.h"
#include "zipserv/llama/lockstep.h"
#include "zipserv/llama/matmul_engine.h"
#include "zipserv/llama/weights.h"
#include "zipserv/container/bundled_data.h"
#include "zipserv/container/safetensors.h"

namespace zipserv::cli {
namespace {

const char* const kUsage =
    "usage: zipserv generate MODEL [--prompt TEXT] [--steps N] [--temperature T] [--seed S]\n"
    "                              [--engine E] [--threads N] [--weights compressed|original]\n"
    "                              [--tokenizer FILE] [--compare] [--original FILE]\n"
    "  Runs the Llama-2 decoder (llama2.c architecture) in MODEL, a plain or compressed\n"
    "  safetensors file whose metadata holds dim, hidden_dim, n_layers, n_heads, n_kv_heads and\n"
    "  vocab_size. Every linear layer runs through the engine straight from the compressed\n"
    "  weights (a plain MODEL is compressed in memory at load). Streams the text on stdout; then\n"
    "  prints on stderr tokens/s of prefill and decode, the matmul paths taken, and the weight\n"
    "  bytes read per token, compressed against uncompressed.\n"
    "  --prompt TEXT     text to continue (default: none, the story starts from BOS)\n"
    "  --steps N         tokens to generate after the prompt (default 256; stops early at BOS)\n"
    "  --temperature T   0 = greedy (default); above 0 samples from softmax(logits / T)\n"
    "  --seed S          seed of the sampler (default 42)\n"
    "  --engine E        matmul engine (default emulation); see the list below\n"
    "  --threads N       worker threads of the engine (default: all)\n"
    "  --weights FORM    compressed (default) or original: the BF16 weights, for comparison\n"
    "  --tokenizer FILE  llama2.c tokenizer.bin (default: tok<vocab_size>.bin or tokenizer.bin\n"
    "                    beside MODEL, then the bundled data folder)\n"
    "  --compare         run the compressed and the original weights in lockstep and report the\n"
    "                    first step, layer and logit whose bits differ (exit status 1 if any);\n"
    "                    the original is MODEL's own BF16 weights (a compressed MODEL is decoded\n"
    "                    in memory, checksums checked) unless --original FILE names another file\n";

struct Args {
  std::string model;
  std::string prompt;
  int64_t steps = 256;
  float temperature = 0.0f;
  uint64_t seed = 42;
  std::string engine = llama::kDefaultEngine;
  int threads = 0;
  llama::WeightForm form = llama::WeightForm::compressed;
  std::string tokenizer;
  bool compare = false;
  std::string original;
  bool help = false;
};

long long whole_number(const std::string& flag, const std::string& value, long long lo, long long hi) {
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(value.c_str(), &end, 10);
  if (value.empty() || *end != '\0' || errno != 0 || v < lo || v > hi)
    throw UsageError{flag + " needs a whole number from " + std::to_string(lo) + " to " + std::to_string(hi) +
                     ", not \"" + value + "\""};
  return v;
}

Args parse(int argc, char** argv) {
  Args a;
  auto value = [&](int& i, const std::string& flag) -> std::string {
    if (i + 1 >= argc) throw UsageError{flag + " needs a value"};
    return argv[++i];
  };
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") a.help = true;
    else if (arg == "--prompt") a.prompt = value(i, arg);
    else if (arg == "--steps") a.steps = whole_number(arg, value(i, arg), 0, 1 << 20);
    else if (arg == "--seed") a.seed = static_cast<uint64_t>(whole_number(arg, value(i, arg), 0, (1LL << 62)));
    else if (arg == "--threads") a.threads = static_cast<int>(whole_number(arg, value(i, arg), 1, 1024));
    else if (arg == "--engine") a.engine = value(i, arg);
    else if (arg == "--tokenizer") a.tokenizer = value(i, arg);
    else if (arg == "--original") a.original = value(i, arg);
    else if (arg == "--compare") a.compare = true;
    else if (arg == "--temperature") {
      const std::string v = value(i, arg);
      char* end = nullptr;
      const float t = std::strtof(v.c_str(), &end);
      if (v.empty() || *end != '\0' || !std::isfinite(t) || t < 0.0f)
        throw UsageError{"--temperature needs a number >= 0, not \"" + v + "\""};
      a.temperature = t;
    } else if (arg == "--weights") {
      const std::string v = value(i, arg);
      if (v == "compressed") a.form = llama::WeightForm::compressed;
      else if (v == "original") a.form = llama::WeightForm::original;
      else throw UsageError{"--weights is compressed or original, not \"" + v + "\""};
    } else if (arg.size() > 1 && arg[0] == '-') {
      throw UsageError{"unknown option " + arg};
    } else if (a.model.empty()) {
      a.model = arg;
    } else {
      throw UsageError{"generate takes one MODEL"};
    }
  }
  if (!a.help && a.model.empty()) throw UsageError{"generate needs a MODEL"};
  if (!a.original.empty() && !a.compare) throw UsageError{"--original is used with --compare"};
  return a;
}

// --tokenizer, or tok<vocab>.bin / tokenizer.bin beside the model, or the bundled one (in the
// source tree or the installation: st::bundled_data_dirs()).
std::string find_tokenizer(const Args& a, int vocab_size) {
  if (!a.tokenizer.empty()) return a.tokenizer;
  const std::filesystem::path dir = std::filesystem::path(a.model).parent_path();
  const std::string own = "tok" + std::to_string(vocab_size) + ".bin";
  std::vector<std::filesystem::path> candidates = {dir / own, dir / "tokenizer.bin"};
  for (const std::filesystem::path& bundled : st::bundled_data_dirs()) candidates.push_back(bundled / own);
  std::string looked;
  for (const auto& c : candidates) {
    if (std::filesystem::is_regular_file(c)) return c.string();
    looked += (looked.empty() ? "" : ", ") + c.string();
  }
  throw llama::LlamaError("no tokenizer found (looked for " + looked + "): pass --tokenizer FILE");
}

std::string with_commas(int64_t v) {
  const std::string digits = std::to_string(v);
  std::string s;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) s += ',';
    s += digits[i];
  }
  return s;
}

std::string tally_text(const llama::MatmulTally& t) {
  std::string s;
  for (size_t p = 0; p < 3; ++p)
    if (t.calls[p] > 0)
      s += (s.empty() ? "" : ", ") + std::to_string(t.calls[p]) + " " + llama::path_name(static_cast<llama::MatmulPath>(p));
  return s.empty() ? "no matmuls" : s;
}

int run_compare(const Args& a, const llama::MatmulEngine& engine, const llama::LlamaWeights& compressed,
                const llama::Tokenizer& tokenizer) {
  const std::string original_path = a.original.empty() ? a.model : a.original;
  const llama::LlamaWeights original = llama::load_weights(original_path, llama::WeightForm::original);
  if (original.config.vocab_size != compressed.config.vocab_size || original.config.dim != compressed.config.dim ||
      original.config.n_layers != compressed.config.n_layers || original.config.hidden_dim != compressed.config.hidden_dim)
    throw llama::LlamaError(original_path + " is not the same model shape as " + a.model);
  llama::GenerateOptions options{a.prompt, a.steps, a.temperature, a.seed, true};
  const llama::LockstepSide first{&compressed, &engine, "compressed"};
  const llama::LockstepSide second{&original, &engine, "original"};
  const llama::LockstepReport report = llama::run_lockstep(first, second, tokenizer, options);
  std::vector<int> tokens = tokenizer.encode(a.prompt, true);
  tokens.insert(tokens.end(), report.tokens.begin(), report.tokens.end());
  if (!tokens.empty() && tokens.back() == llama::kBosToken) tokens.pop_back();
  std::printf("%s\n", llama::decode_text(tokenizer, tokens).c_str());
  std::printf("%s, engine %s\n", report.describe(first, second).c_str(), engine.description().c_str());
  return report.divergence ? 1 : 0;
}

int run(const Args& a) {
  llama::EngineOptions engine_options;
  engine_options.threads = a.threads;
  const auto engine = llama::make_engine(a.engine, engine_options);  // an unknown name fails before loading
  const llama::LlamaWeights weights =
      llama::load_weights(a.model, a.compare ? llama::WeightForm::compressed : a.form);
  const llama::Tokenizer tokenizer =
      llama::Tokenizer::load(find_tokenizer(a, weights.config.vocab_size), weights.config.vocab_size);
  if (a.compare) return run_compare(a, *engine, weights, tokenizer);

  llama::GenerateOptions options{a.prompt, a.steps, a.temperature, a.seed, true};
  const llama::GenerateResult r = llama::generate(weights, *engine, tokenizer, options, [](std::string_view piece) {
    std::fwrite(piece.data(), 1, piece.size(), stdout);
    std::fflush(stdout);
  });
  std::printf("\n");
  std::fflush(stdout);

  int64_t read = 0, bf16 = 0;
  for (const llama::LinearWeight* w : weights.matmul_weights()) {
    read += w->bytes_read();
    bf16 += w->bf16_bytes();
  }
  const auto prompt_tokens = static_cast<int64_t>(r.prompt_tokens.size());
  std::fprintf(stderr, "engine %s, %s weights\n", engine->description().c_str(),
               weights.form == llama::WeightForm::compressed ? "compressed (TCA-TBE)" : "original BF16");
  if (r.prefill_seconds > 0)
    std::fprintf(stderr, "prefill: %lld tokens in %.3f ms, %.1f tokens/s (%s)\n", static_cast<long long>(prompt_tokens),
                 r.prefill_seconds * 1e3, static_cast<double>(prompt_tokens) / r.prefill_seconds,
                 tally_text(r.prefill_tally).c_str());
  if (r.decode_passes > 0)
    std::fprintf(stderr, "decode: %lld tokens in %.3f ms, %.1f tokens/s (%s)\n", static_cast<long long>(r.decode_passes),
                 r.decode_seconds * 1e3, static_cast<double>(r.decode_passes) / r.decode_seconds,
                 tally_text(r.decode_tally).c_str());
  std::fprintf(stderr, "weights read per token by the matmuls: %s bytes %s, %s bytes uncompressed BF16 (%.2fx fewer)\n",
               with_commas(read).c_str(), weights.form == llama::WeightForm::compressed ? "compressed" : "read",
               with_commas(bf16).c_str(), static_cast<double>(bf16) / static_cast<double>(read));
  return 0;
}

}  // namespace

int cmd_generate(int argc, char** argv) {
  // The usage lists the engines this build registered.
  static std::string usage = [] {
    std::string u = kUsage;
    u += "  engines:\n";
    for (const std::string& name : llama::engine_names()) u += "    " + name + ": " + llama::engine_summary(name) + "\n";
    return u;
  }();
  return report_exceptions(usage, [&] {
    const Args a = parse(argc, argv);
    if (a.help) {
      std::fputs(usage.c_str(), stdout);
      return 0;
    }
    return run(a);
  });
}

}  // namespace zipserv::cli
