// The "emulation" engines: zipserv::emu (Highway SIMD warp emulation and CPU ZipGEMM) behind the
// Engine interface.
#include <memory>
#include <string>

#include "zipserv/emulation/emulation.h"
#include "zipserv/oracle/builtin_engines.h"

namespace zipserv::oracle {

namespace {

class EmulationEngine final : public Engine {
 public:
  explicit EmulationEngine(int split_k) : split_k_(split_k) {}
  std::string name() const override {
    return split_k_ == 1 ? "emulation" : "emulation-split-k" + std::to_string(split_k_);
  }
  std::optional<std::vector<uint32_t>> lane_fragments(const CompressedMatrix& w) const override {
    return emu::lane_fragments(w);
  }
  std::optional<std::vector<uint16_t>> decode(const CompressedMatrix& w) const override { return emu::decode(w); }
  std::optional<std::vector<uint16_t>> gemm(const CompressedMatrix& w, const uint16_t* x, int64_t n) const override {
    std::vector<uint16_t> y(static_cast<size_t>(w.rows * n));
    GemmOptions options;
    options.split_k = split_k_;
    emu::zipgemm(w, x, n, y.data(), options);
    return y;
  }
  // split_k = 1 keeps gemm.h's order (one FP32 accumulator over k = 0..K-1): bit for bit on
  // any input, except which NaN payload survives when the inputs carry several (emulation.h).
  // Split-K adds the K ranges separately, then the partials: another order.
  GemmContract gemm_contract() const override {
    GemmContract c{split_k_ == 1 ? SummationOrder::reference : SummationOrder::other, 0};
    c.nan_payload_of_fp_unit = true;
    return c;
  }

 private:
  int split_k_;
};

}  // namespace

std::unique_ptr<Engine> make_emulation_engine(int split_k) { return std::make_unique<EmulationEngine>(split_k); }

}  // namespace zipserv::oracle
