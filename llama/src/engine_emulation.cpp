// The "emulation" matmul engine: the Highway CPU ZipGEMM (zipserv::emu), the default.
//
//   zipgemm          emu::zipgemm on weights validated once at load (emu::ValidatedWeights)
//   decompress_gemm  emu::decode_into a scratch matrix, then emu::gemm_dense
//   gemm_dense       emu::gemm_dense: the same Highway GEMM code on BF16 weights
//
// All three equal zipserv::zipgemm bit for bit (split_k = 1), so the stage rule changes the speed,
// never the result.
#include <string>
#include <string_view>
#include <vector>

#include "builtin_engines.h"
#include "engine_weights.h"
#include "zipserv/emulation/emulation.h"

namespace zipserv::llama {
namespace {

// The crossover of the stage rule per Highway target, measured with bench_llama on the synthetic
// Llama's layer shapes (docs/results/llama.md): from this many tokens on, decompressing once and
// running the dense GEMM beats decoding every block tile once per 64-token column tile. Since the
// row-pair decode, the fused path stays ahead at every n measured (up to 1024) on AVX2 and SSE4:
// the decode is a few percent of a 64-column tile's MMA, and both paths read the weights once per
// column tile, the fused one fewer bytes and in sequence.
int64_t decompress_from_n_for(std::string_view target) {
  if (target == "AVX2" || target == "SSE4") return 2048;  // fused ahead up to 1024, the largest n measured
  return 256;  // other targets: not measured; the rule AVX2 had before the row-pair decode
}

struct EmulationWeights : HostWeights {
  std::unique_ptr<emu::ValidatedWeights> validated;  // the CPU's "upload": validate() once
};

class EmulationEngine final : public MatmulEngine {
 public:
  explicit EmulationEngine(const EngineOptions& options)
      : threads_(options.threads), decompress_from_n_(decompress_from_n_for(emu::active_target())) {}

  std::string name() const override { return "emulation"; }
  std::string description() const override { return std::string("emulation (Highway ") + emu::active_target() + ")"; }

  std::unique_ptr<EngineWeights> prepare(const CompressedMatrix& w) const override {
    auto h = host_weights<EmulationWeights>(w);
    h->validated = std::make_unique<emu::ValidatedWeights>(w);
    return h;
  }
  std::unique_ptr<EngineWeights> prepare_dense(const uint16_t* w, int64_t m, int64_t k) const override {
    return host_weights<EmulationWeights>(w, m, k);
  }
  void zipgemm(const EngineWeights& w, const uint16_t* x, int64_t n, uint16_t* y) const override {
    const auto& h = static_cast<const EmulationWeights&>(w);
    emu::zipgemm(*h.validated, x, n, y, {.threads = threads_});
  }
  void decompress_gemm(const EngineWeights& w, const uint16_t* x, int64_t n, uint16_t* y) const override {
    const auto& h = static_cast<const EmulationWeights&>(w);
    std::vector<uint16_t> dense(static_cast<size_t>(h.rows * h.cols));  // (M, K) bf16, this call only
    emu::decode_into(h.matrix(), dense.data(), {.threads = threads_});
    emu::gemm_dense(dense.data(), h.rows, h.cols, x, n, y, {.threads = threads_});
  }
  void gemm_dense(const EngineWeights& w, const uint16_t* x, int64_t n, uint16_t* y) const override {
    const auto& h = static_cast<const EmulationWeights&>(w);
    emu::gemm_dense(h.dense, h.rows, h.cols, x, n, y, {.threads = threads_});
  }
  int64_t decompress_from_n() const override { return decompress_from_n_; }

 private:
  int threads_;
  int64_t decompress_from_n_;
};

}  // namespace

std::unique_ptr<MatmulEngine> make_emulation_engine(const EngineOptions& options) {
  return std::make_unique<EmulationEngine>(options);
}

}  // namespace zipserv::llama
