// The "reference" matmul engine: zipserv::zipgemm / zipserv::gemm_dense, the scalar definition of
// Y = W X that every other engine must equal bit for bit.
//
// The reference has no fused kernel: its zipgemm() on a compressed matrix *is* decompress + dense GEMM
// (that is what defines the result). So both compressed paths do the same work here and the
// stage rule never needs to switch (decompress_from_n() is never reached); the engine is for
// checking, not for speed.
#include <limits>
#include <vector>

#include "builtin_engines.h"
#include "engine_weights.h"
#include "zipserv/reference/decode.h"
#include "zipserv/reference/gemm.h"

namespace zipserv::llama {
namespace {

class ReferenceEngine final : public MatmulEngine {
 public:
  std::string name() const override { return "reference"; }
  std::string description() const override { return "reference (scalar zipserv::zipgemm)"; }

  std::unique_ptr<EngineWeights> prepare(const CompressedMatrix& w) const override { return host_weights(w); }
  std::unique_ptr<EngineWeights> prepare_dense(const uint16_t* w, int64_t m, int64_t k) const override {
    return host_weights(w, m, k);
  }
  void zipgemm(const EngineWeights& w, const uint16_t* x, int64_t n, uint16_t* y) const override {
    zipserv::zipgemm(static_cast<const HostWeights&>(w).matrix(), x, n, y);
  }
  void decompress_gemm(const EngineWeights& w, const uint16_t* x, int64_t n, uint16_t* y) const override {
    const CompressedMatrix& m = static_cast<const HostWeights&>(w).matrix();
    const std::vector<uint16_t> dense = decode(m);  // (M, K) bf16
    zipserv::gemm_dense(dense.data(), m.rows, m.cols, x, n, y);
  }
  void gemm_dense(const EngineWeights& w, const uint16_t* x, int64_t n, uint16_t* y) const override {
    const auto& h = static_cast<const HostWeights&>(w);
    zipserv::gemm_dense(h.dense, h.rows, h.cols, x, n, y);
  }
  int64_t decompress_from_n() const override { return std::numeric_limits<int64_t>::max(); }
};

}  // namespace

std::unique_ptr<MatmulEngine> make_reference_engine(const EngineOptions&) {
  return std::make_unique<ReferenceEngine>();
}

}  // namespace zipserv::llama
