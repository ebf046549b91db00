// The "reference" engine: the reference functions behind the Engine interface. Checked against
// the oracle (which calls the same functions directly) it must pass everything: the self-test.
#include <memory>

#include "zipserv/reference/decode.h"
#include "zipserv/reference/encode.h"
#include "zipserv/reference/gemm.h"
#include "zipserv/oracle/builtin_engines.h"

namespace zipserv::oracle {
namespace {

class ReferenceEngine final : public Engine {
 public:
  std::string name() const override { return "reference"; }
  std::optional<CompressedMatrix> encode(const uint16_t* bf16, int64_t rows, int64_t cols,
                                         std::optional<uint8_t> start_exp) const override {
    return start_exp ? encode_with_start_exp(bf16, rows, cols, *start_exp) : zipserv::encode(bf16, rows, cols);
  }
  std::optional<std::vector<uint32_t>> lane_fragments(const CompressedMatrix& w) const override {
    return zipserv::lane_fragments(w);
  }
  std::optional<std::vector<uint16_t>> decode(const CompressedMatrix& w) const override { return zipserv::decode(w); }
  std::optional<std::vector<uint16_t>> gemm(const CompressedMatrix& w, const uint16_t* x, int64_t n) const override {
    std::vector<uint16_t> y(static_cast<size_t>(w.rows * n));
    zipserv::zipgemm(w, x, n, y.data());
    return y;
  }
  // gemm.h's order by definition.
  GemmContract gemm_contract() const override { return {SummationOrder::reference, 0}; }
};

}  // namespace

std::unique_ptr<Engine> make_reference_engine() { return std::make_unique<ReferenceEngine>(); }

}  // namespace zipserv::oracle
