// Step 10: the model speaks -- the same story from the original and from the compressed weights.
//
// What this step adds
//   Everything before this step multiplied one matrix. Here the bundled model, a trained
//   TinyStories Llama (5 layers, dim 64, 512-token vocabulary), runs end to end: the prompt is
//   tokenized, prefilled in one forward pass (N = prompt length), and the story is decoded one
//   token per pass (N = 1). Each pass runs RMSNorm, RoPE, grouped-query attention and SwiGLU in
//   FP32 (llama2.c's forward pass, llama/src/transformer.cpp), and every linear layer goes
//   through one call site, where the stage rule sends a compressed matrix to the fused ZipGEMM
//   (llama/src/stage_rule.cpp). It runs twice on the same engine: from the compressed model file
//   and from the original BF16 weights. The two stories are the same, bit for bit, because
//   decoding is lossless and both GEMMs add in the same order.
//
// How to run
//   build/walkthrough/10_the_model_speaks [MODEL.safetensors [TENSOR]]
//   (defaults: data/stories260K.safetensors, layers.0.attention.wq.weight; MODEL must be a
//   llama2.c-style Llama using data/tok512.bin's vocabulary; the matrix table shows the layer
//   TENSOR belongs to, and the classifier)
//
// What to look for
//   - The prompt's tokens: BOS, then word pieces merged by score.
//   - The two stories, identical.
//   - The matrix table: which matrices of one layer ZipGEMM multiplied (the 32 x 64 wk / wv
//     stayed BF16: at that size TCA-TBE's padding to 64 x 64 costs more than it saves) and the
//     bytes each reads.
//   - Where ZipGEMM ran: every compressed multiplication of prefill and decode, N below the
//     emulation engine's crossover.
//   - The lockstep check: every layer's output and every logit, compared bit for bit.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>

#include "walkthrough.h"
#include "zipserv/container/compressed_model.h"
#include "zipserv/llama/generate.h"
#include "zipserv/llama/lockstep.h"
#include "zipserv/llama/matmul_engine.h"
#include "zipserv/llama/weights.h"

using namespace zipserv;

namespace {

const char* const kPrompt = "Once upon a time, there was a little dog";
constexpr int64_t kSteps = 80;

constexpr size_t kPaths = 3;  // llama::MatmulPath: fused ZipGEMM, decompress + dense, dense

void print_tally_header() {
  std::printf("  %-9s", "calls");
  for (size_t p = 0; p < kPaths; ++p) std::printf(" %24s", llama::path_name(static_cast<llama::MatmulPath>(p)));
  std::printf("\n");
}

void print_tally(const char* stage, const llama::MatmulTally& t) {
  std::printf("  %-9s", stage);
  for (size_t p = 0; p < kPaths; ++p) std::printf(" %24lld", static_cast<long long>(t.calls[p]));
  std::printf("\n");
}

}  // namespace

int run(const walkthrough::Args& args) {
  // The compressed model file, as `zipserv compress` writes it.
  std::string dir_name = (std::filesystem::temp_directory_path() / "zipserv_step10_XXXXXX").string();
  if (!mkdtemp(dir_name.data())) throw std::runtime_error("cannot create a temporary folder");
  const std::filesystem::path dir = dir_name;
  struct RemoveOnExit {  // the folder goes on every way out, errors included
    std::filesystem::path path;
    ~RemoveOnExit() { std::filesystem::remove_all(path); }
  } remove_on_exit{dir};
  const std::string packed = (dir / "model.zipserv.safetensors").string();
  st::ConvertOptions convert;
  convert.force = true;
  st::compress_file(args.model, packed, convert);

  const llama::LlamaWeights compressed = llama::load_weights(packed, llama::WeightForm::compressed);
  const llama::LlamaWeights original = llama::load_weights(args.model, llama::WeightForm::original);
  const llama::Tokenizer tokenizer =
      llama::Tokenizer::load(std::string(ZIPSERV_DATA_DIR) + "/tok512.bin", compressed.config.vocab_size);
  llama::EngineOptions engine_options;
  engine_options.threads = 1;
  const auto engine = llama::make_engine("emulation", engine_options);
  const llama::LlamaConfig& c = compressed.config;
  std::printf("model %s:\n  dim %d, hidden %d, %d layers, %d heads / %d KV heads, vocabulary %d\nengine %s\n",
              args.model_label().c_str(), c.dim, c.hidden_dim, c.n_layers, c.n_heads, c.n_kv_heads, c.vocab_size,
              engine->description().c_str());

  walkthrough::heading("the prompt, tokenized (BOS, dummy-prefix space, merges by score)");
  const std::vector<int> prompt = tokenizer.encode(kPrompt, true);
  for (const int t : prompt) {
    std::string piece = tokenizer.piece(t);
    for (char& ch : piece)
      if (ch == '\n') ch = '|';
    std::printf("  %3d \"%s\"\n", t, piece.c_str());
  }

  walkthrough::heading("the same prompt through both models, greedy");
  //! [generate]
  llama::GenerateOptions options;
  options.prompt = kPrompt;
  options.steps = kSteps;  // greedy: temperature 0
  const llama::GenerateResult from_compressed = llama::generate(compressed, *engine, tokenizer, options);
  const llama::GenerateResult from_original = llama::generate(original, *engine, tokenizer, options);
  //! [generate]
  std::printf("compressed weights:\n%s\noriginal weights:\n%s",
              walkthrough::wrap(from_compressed.text, walkthrough::kMaxColumns).c_str(),
              walkthrough::wrap(from_original.text, walkthrough::kMaxColumns).c_str());

  // The layer TENSOR belongs to ("layers.N."), whose matrices the table shows with the classifier.
  const std::string layer = args.tensor.starts_with("layers.")
                                ? args.tensor.substr(0, args.tensor.find('.', std::string("layers.").size()) + 1)
                                : std::string("layers.0.");
  bool found = false;
  for (const llama::LinearWeight* w : compressed.matmul_weights()) found = found || w->name == args.tensor;
  if (!found) throw std::runtime_error("\"" + args.tensor + "\" is not a matrix the forward pass multiplies");
  walkthrough::heading("the matrices one decoded token multiplies (" + layer.substr(0, layer.size() - 1) +
                       ", then the classifier)");
  std::printf("  %-32s %-9s %-26s %9s %9s\n", "matrix", "M x K", "path at N = 1", "bytes", "as BF16");
  int64_t read = 0, bf16 = 0;
  for (const llama::LinearWeight* w : compressed.matmul_weights()) {
    read += w->bytes_read();
    bf16 += w->bf16_bytes();
    if (w->name.starts_with("layers.") && !w->name.starts_with(layer)) continue;
    const std::string shape = std::to_string(w->rows) + "x" + std::to_string(w->cols);
    std::printf("  %-32s %-9s %-26s %9lld %9lld\n", walkthrough::short_name(w->name, 32).c_str(), shape.c_str(),
                llama::path_name(llama::choose_path(*engine, *w, 1)), static_cast<long long>(w->bytes_read()),
                static_cast<long long>(w->bf16_bytes()));
  }
  std::printf("  all %zu matrices: %lld bytes read per token compressed, %lld as BF16 (%.2fx fewer)\n",
              compressed.matmul_weights().size(), static_cast<long long>(read), static_cast<long long>(bf16),
              static_cast<double>(bf16) / static_cast<double>(read));

  walkthrough::heading("where ZipGEMM ran (compressed model)");
  std::printf("  prefill N = %zu tokens; decode N = 1; the emulation engine decompresses from N = %lld on\n",
              from_compressed.prompt_tokens.size(), static_cast<long long>(engine->decompress_from_n()));
  print_tally_header();
  print_tally("prefill", from_compressed.prefill_tally);
  print_tally("decode", from_compressed.decode_tally);
  std::printf("  original model, for contrast:\n");
  print_tally("prefill", from_original.prefill_tally);
  print_tally("decode", from_original.decode_tally);

  walkthrough::heading("lockstep: every layer output and every logit, bit for bit");
  const llama::LockstepSide a{&compressed, engine.get(), "compressed"};
  const llama::LockstepSide b{&original, engine.get(), "original"};
  const llama::LockstepReport report = llama::run_lockstep(a, b, tokenizer, options);
  std::printf("  %s\n", report.describe(a, b).c_str());

  const auto fused = static_cast<size_t>(llama::MatmulPath::fused_zipgemm);
  const bool same_story = from_compressed.text == from_original.text && from_compressed.generated == from_original.generated;
  return walkthrough::check(same_story && from_compressed.generated.size() > 20, "both models tell the same story") &&
                 walkthrough::check(!report.divergence, "no bit of any layer output or logit differs") &&
                 walkthrough::check(from_compressed.decode_tally.calls[fused] > 0 && from_original.decode_tally.calls[fused] == 0,
                                    "the compressed model's decode multiplied through the fused ZipGEMM") &&
                 walkthrough::check(read < bf16, "a compressed token reads fewer weight bytes")
             ? 0
             : 1;
}

int main(int argc, char** argv) {
  return walkthrough::run_step(argc, argv, "layers.0.attention.wq.weight", run);
}
