// Benchmarks of the Llama forward pass (llama/) on a synthetic model large enough to stream its
// weights from memory: TinyLlama-1.1B's shapes (dim 2048, hidden 5632, 32 heads, 4 KV heads,
// vocabulary 32000) with 4 layers, Gaussian sigma = 0.02 weights rounded to BF16, generated at
// run time (241 M weights: 482 MB as BF16). Every figure of docs/results/llama.md comes from
// one run of this program, so the ratios are measured side by side:
//
//   Decode/<form>/threads:N         one decoded token (N = 1 through every matrix) on the
//                                   emulation engine: compressed (fused ZipGEMM) against
//                                   original (the same Highway GEMM on BF16 weights)
//   Crossover/<path>/MxK/n/threads  one multiplication of n tokens through the emulation engine:
//                                   fused ZipGEMM against decompress + dense GEMM; where the
//                                   second overtakes the first is the stage rule's crossover
//                                   (MatmulEngine::decompress_from_n())
//
// Timers: "Time" is wall time, "CPU" the CPU time of all the process's threads. On a shared,
// oversubscribed machine the wall time includes waiting for a core; the CPU time is the work.
//
// Highway target: the best the CPU has, or the one named by --hwy_target=AVX2|SSE4|SSSE3|SCALAR
// (restricts dispatch for the whole run; each benchmark's label names the target that ran).
// Run by hand, never as a test:  ./bench_llama --benchmark_min_time=1
#include <benchmark/benchmark.h>
#include <hwy/targets.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "zipserv/reference/bf16.h"
#include "zipserv/emulation/emulation.h"
#include "zipserv/reference/encode.h"
#include "zipserv/llama/matmul_engine.h"
#include "zipserv/llama/stage_rule.h"
#include "zipserv/llama/transformer.h"
#include "zipserv/llama/weights.h"

namespace {

using namespace zipserv::llama;

LlamaConfig synthetic_config() {
  LlamaConfig c;
  c.dim = 2048;
  c.hidden_dim = 5632;
  c.n_layers = 4;
  c.n_heads = 32;
  c.n_kv_heads = 4;
  c.vocab_size = 32000;
  return c;
}

std::vector<uint16_t> gaussian_bf16(int64_t rows, int64_t cols, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 0.02f);
  std::vector<uint16_t> v(static_cast<size_t>(rows * cols));  // (rows, cols) bf16
  for (uint16_t& x : v) x = zipserv::float_to_bf16_rne(dist(rng));
  return v;
}

// Both forms of the same synthetic weights, built once.
struct SyntheticModel {
  LlamaWeights compressed;
  LlamaWeights original;
};

const SyntheticModel& model() {
  static const std::unique_ptr<SyntheticModel> m = [] {
    auto s = std::make_unique<SyntheticModel>();
    const LlamaConfig c = synthetic_config();
    uint32_t seed = 1;
    auto linear = [&](const std::string& name, int64_t rows, int64_t cols, LinearWeight& into_c, LinearWeight& into_o) {
      std::vector<uint16_t> values = gaussian_bf16(rows, cols, seed++);
      into_c = make_linear(name, rows, cols, values, WeightForm::compressed);
      into_o = make_linear(name, rows, cols, std::move(values), WeightForm::original);
    };
    for (LlamaWeights* w : {&s->compressed, &s->original}) {
      w->config = c;
      w->layers.resize(static_cast<size_t>(c.n_layers));
      w->norm.assign(static_cast<size_t>(c.dim), 1.0f);
      for (LayerWeights& l : w->layers) {
        l.attention_norm.assign(static_cast<size_t>(c.dim), 1.0f);
        l.ffn_norm.assign(static_cast<size_t>(c.dim), 1.0f);
      }
    }
    s->compressed.form = WeightForm::compressed;
    s->original.form = WeightForm::original;
    linear("tok_embeddings.weight", c.vocab_size, c.dim, s->compressed.tok_embeddings, s->original.tok_embeddings);
    for (size_t i = 0; i < s->compressed.layers.size(); ++i) {
      LayerWeights& a = s->compressed.layers[i];
      LayerWeights& b = s->original.layers[i];
      const std::string p = "layers." + std::to_string(i) + ".";
      linear(p + "wq", c.dim, c.dim, a.wq, b.wq);
      linear(p + "wk", c.kv_dim(), c.dim, a.wk, b.wk);
      linear(p + "wv", c.kv_dim(), c.dim, a.wv, b.wv);
      linear(p + "wo", c.dim, c.dim, a.wo, b.wo);
      linear(p + "w1", c.hidden_dim, c.dim, a.w1, b.w1);
      linear(p + "w2", c.dim, c.hidden_dim, a.w2, b.w2);
      linear(p + "w3", c.hidden_dim, c.dim, a.w3, b.w3);
    }
    return s;
  }();
  return *m;
}

int64_t bytes_per_token(const LlamaWeights& w) {
  int64_t b = 0;
  for (const LinearWeight* l : w.matmul_weights()) b += l->bytes_read();
  return b;
}

// One decoded token through the whole model. The position cycles through a 64-entry KV cache,
// so attention stays a negligible, constant share of the time.
void decode(benchmark::State& state, bool compressed) {
  const LlamaWeights& w = compressed ? model().compressed : model().original;
  EngineOptions options;
  options.threads = static_cast<int>(state.range(0));
  const auto engine = make_engine("emulation", options);
  Transformer t(w, *engine, 64);
  int token = 1;
  int64_t pos = 0;
  for (auto _ : state) {
    const std::vector<float>& logits = t.forward(&token, 1, pos);
    benchmark::DoNotOptimize(logits.data());
    pos = (pos + 1) % 64;
  }
  state.SetItemsProcessed(state.iterations());  // tokens
  state.SetBytesProcessed(state.iterations() * bytes_per_token(w));
  state.counters["MB_per_token"] = static_cast<double>(bytes_per_token(w)) / 1e6;
  state.SetLabel(zipserv::emu::active_target());
}

// One multiplication of n tokens by a synthetic matrix of the model's shapes, on one path.
void crossover(benchmark::State& state, MatmulPath path, int64_t m, int64_t k) {
  const int64_t n = state.range(0);
  EngineOptions options;
  options.threads = static_cast<int>(state.range(1));
  const auto engine = make_engine("emulation", options);
  static std::map<std::pair<int64_t, int64_t>, LinearWeight> weights;
  LinearWeight& w = weights[{m, k}];
  if (w.rows == 0) w = make_linear("w", m, k, gaussian_bf16(m, k, static_cast<uint32_t>(m + k)), WeightForm::compressed);
  const BoundLinear bound = bind(*engine, w);
  std::vector<uint16_t> x = gaussian_bf16(n, k, 7);  // (n, K) bf16 (sigma does not matter here)
  std::vector<uint16_t> y(static_cast<size_t>(m * n));  // (M, n) bf16
  for (auto _ : state) {
    if (path == MatmulPath::fused_zipgemm) engine->zipgemm(*bound.prepared, x.data(), n, y.data());
    else engine->decompress_gemm(*bound.prepared, x.data(), n, y.data());
    benchmark::DoNotOptimize(y.data());
  }
  state.SetItemsProcessed(state.iterations() * n);  // tokens
  state.SetLabel(zipserv::emu::active_target());
}

void register_all() {
  const int all = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  for (const int threads : {1, all}) {
    benchmark::RegisterBenchmark("Decode/compressed", decode, true)->Arg(threads)->ArgName("threads")->MeasureProcessCPUTime()->UseRealTime();
    benchmark::RegisterBenchmark("Decode/original", decode, false)->Arg(threads)->ArgName("threads")->MeasureProcessCPUTime()->UseRealTime();
  }
  for (const auto& [m, k] : {std::pair<int64_t, int64_t>{5632, 2048}, {2048, 2048}}) {
    const std::string shape = std::to_string(m) + "x" + std::to_string(k);
    for (const auto path : {MatmulPath::fused_zipgemm, MatmulPath::decompress_dense}) {
      const std::string name = std::string("Crossover/") +
                               (path == MatmulPath::fused_zipgemm ? "zipgemm" : "decompress_dense") + "/" + shape;
      auto* b = benchmark::RegisterBenchmark(name.c_str(), crossover, path, m, k)->MeasureProcessCPUTime()->UseRealTime();
      b->ArgNames({"n", "threads"});
      for (const int64_t n : {1, 16, 64, 96, 128, 192, 256, 512, 1024}) b->Args({n, all});
    }
  }
}

// --hwy_target=NAME: restrict Highway's dynamic dispatch to one target for the whole run.
bool restrict_target(const std::string& name) {
  for (const int64_t t : {HWY_AVX3_DL, HWY_AVX3, HWY_AVX2, HWY_SSE4, HWY_SSSE3, HWY_SCALAR})
    if (name == hwy::TargetName(t)) {
      if ((hwy::SupportedTargets() & t) == 0) {
        std::fprintf(stderr, "bench_llama: this CPU does not support %s\n", name.c_str());
        return false;
      }
      hwy::SetSupportedTargetsForTest(t);
      return true;
    }
  std::fprintf(stderr, "bench_llama: unknown Highway target \"%s\"\n", name.c_str());
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<char*> rest;
  for (int i = 0; i < argc; ++i) {
    if (std::strncmp(argv[i], "--hwy_target=", 13) == 0) {
      if (!restrict_target(argv[i] + 13)) return 2;
    } else {
      rest.push_back(argv[i]);
    }
  }
  int rest_argc = static_cast<int>(rest.size());
  benchmark::Initialize(&rest_argc, rest.data());
  if (benchmark::ReportUnrecognizedArguments(rest_argc, rest.data())) return 2;
  register_all();
  benchmark::AddCustomContext("highway_target", zipserv::emu::active_target());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
